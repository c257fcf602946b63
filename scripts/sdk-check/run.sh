#!/usr/bin/env bash
# Runs the official, unmodified Linode clients from PyPI against one standalone Linode sandbox:
#   1. sdk_check.py  — linode_api4 5.48: OAuth exchange, catalog, StackScript, create, status
#      polling, revoke; then account settings, default firewalls, a Cloud Firewall, a Linode with
#      Linode interfaces behind it, its firewalls and interfaces, deletes, a restricted IAM user.
#   2. cli_check.py  — linode-cli 5.69 (its baked spec 4.229.1) on the same flow, configured
#      only through its environment with a throw-away HOME.
#   3. spec_check.py — every reply (and every request we send) validated against Linode's spec
#      4.234.0 (sandbox/spec/), known disagreements listed in spec_known_disagreements.json.
# The sandbox's state is reset (admin endpoint) before the second and third checks. Each check
# ends with "<name>: N passed, M failed"; exits non-zero if any check failed.
# SANDBOX_BIN=/path/to/sandbox skips the cargo build (useful when the workspace is busy).
set -euo pipefail
cd "$(dirname "$0")/../.."

here=scripts/sdk-check
venv=.venv-sdk

if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
# Install the pinned requirements only when something is missing or at another version.
if ! "$venv/bin/python" - "$here/requirements.txt" <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, want = line.split("==")
    try:
        if version(name) != want:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
EOF
then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
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
admin="http://127.0.0.1:${admin_port}"
for _ in $(seq 1 100); do
  if "$venv/bin/python" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1])" "$root/v4/regions" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$sandbox_pid" 2>/dev/null; then
    cat "$log"
    for name in sdk-check cli-check spec-check; do echo "$name: 0 passed, 1 failed (the sandbox did not start)"; done
    exit 1
  fi
  sleep 0.1
done

export SANDBOX_ROOT="$root"
export SANDBOX_ADMIN_ROOT="$admin"
SANDBOX_CLIENT_ID=$(awk '/client id/ {print $NF}' "$log")
SANDBOX_CLIENT_SECRET=$(awk '/client secret/ {print $NF}' "$log")
export SANDBOX_CLIENT_ID SANDBOX_CLIENT_SECRET

reset() { "$venv/bin/python" -c "import urllib.request,sys; urllib.request.urlopen(urllib.request.Request(sys.argv[1], method='POST'))" "$admin/__sandbox/reset"; }

status=0
"$venv/bin/python" "$here/sdk_check.py" || status=1
reset
"$venv/bin/python" "$here/cli_check.py" || status=1
reset
"$venv/bin/python" "$here/spec_check.py" || status=1
exit "$status"
