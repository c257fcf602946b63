#!/usr/bin/env bash
# Runs the official, unmodified Python SDK (linode_api4 from PyPI) against the standalone
# Linode sandbox: OAuth exchange, catalog, StackScript, create, status polling, revoke.
# Exits non-zero on any failure; the last line is "sdk-check: N passed, M failed".
# SANDBOX_BIN=/path/to/sandbox skips the cargo build (useful when the workspace is busy).
set -euo pipefail
cd "$(dirname "$0")/../.."

LINODE_API4_VERSION=5.43.0
venv=.venv-sdk

if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import linode_api4, requests" 2>/dev/null; then
  "$venv/bin/pip" install --quiet "linode_api4==${LINODE_API4_VERSION}" requests
fi

if [[ -z "${SANDBOX_BIN:-}" ]]; then
  cargo build --quiet -p sandbox --bin sandbox
  SANDBOX_BIN=target/debug/sandbox
fi

free_port() { "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
port=$(free_port)
admin_port=$(free_port)
log=$(mktemp)
"$SANDBOX_BIN" --port "$port" --admin-port "$admin_port" --provisioning-secs 1 --booting-secs 1 >"$log" 2>&1 &
sandbox_pid=$!
cleanup() { kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT

root="http://127.0.0.1:${port}"
for _ in $(seq 1 100); do
  if "$venv/bin/python" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1])" "$root/v4/regions" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$sandbox_pid" 2>/dev/null; then
    cat "$log"; echo "sdk-check: 0 passed, 1 failed (the sandbox did not start)"; exit 1
  fi
  sleep 0.1
done

SANDBOX_ROOT="$root" \
SANDBOX_ADMIN_ROOT="http://127.0.0.1:${admin_port}" \
SANDBOX_CLIENT_ID=$(awk '/client id/ {print $NF}' "$log") \
SANDBOX_CLIENT_SECRET=$(awk '/client secret/ {print $NF}' "$log") \
  "$venv/bin/python" scripts/sdk-check/sdk_check.py
