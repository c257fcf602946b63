#!/usr/bin/env bash
# The crate graph is the architecture (ARCHITECTURE.md); this keeps it so:
# - `deploy` (the engine) has no Leptos and no axum in its dependency tree;
# - `domain` (what the WASM and the server share) has no I/O, no secret-holding crate, no Leptos;
# - no module of our crates imports one that imports it back (scripts/module_cycles.py).
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
refuse() { # <crate> <pattern of crates it must not depend on>
  local found
  found=$(cargo tree --locked -p "$1" -e normal --prefix none --format '{p}' | awk '{print $1}' | sort -u |
    grep -E "^($2)$" || true)
  if [[ -n $found ]]; then
    echo "crate-graph: $1 must not depend on: $(echo $found)" >&2
    fail=1
  fi
}
refuse deploy 'leptos.*|axum.*|tachys|server_fn|reactive_graph'
refuse domain 'leptos.*|tokio|sqlx.*|reqwest|secrecy|linode|deploy|axum'
python3 scripts/module_cycles.py app/src domain/src deploy/src server/src linode/src sandbox/src bench/src || fail=1
if [[ $fail -eq 0 ]]; then echo "crate-graph: deploy and domain keep to their edges; no module cycles"; fi
exit $fail
