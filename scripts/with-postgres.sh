#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster: Debian's server binaries (scripts/setup.sh
# installs them when missing), initdb in a temp dir as the postgres user, a free loopback port.
# The command sees TEST_POSTGRES_PORT; the cluster is stopped and removed when it ends.
# Usage: scripts/with-postgres.sh <command> [args…]
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x "$bin/initdb" ]] || { echo "PostgreSQL's server is missing: run scripts/setup.sh --postgres" >&2; exit 1; }
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
dir=$(mktemp -d /tmp/iol-pg.XXXXXX)
[[ $(id -u) -eq 0 ]] && chown postgres:postgres "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() { as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >/dev/null
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
export TEST_POSTGRES_PORT=$port
"$@"
