#!/usr/bin/env bash
# Installs whatever is missing, then runs every test: Rust unit and integration tests (sandbox,
# Linode client, app, server), the official Python SDK against the standalone sandbox, a release
# build, the Playwright end-to-end tests in Debian's Chromium, and the same build behind Debian's
# nginx over TLS. Exits non-zero on any failure and ends with one "N passed, N failed" line for
# the whole run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser --postgres
source scripts/env.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() { printf '\033[1m==> %s\033[0m\n' "$*"; "$@" 2>&1 | tee -a "$log"; }

# Formatting, lints and unused dependencies first: fast, so a slip fails early.
run cargo fmt --all -- --check
run cargo clippy --locked --workspace --all-targets -- -D warnings
# The browser half as cargo-leptos builds it (the islands' fetches, the copy button), and the
# crate the browser and the server share, which must stay free of anything that cannot run there.
run cargo clippy --locked -p app --no-default-features --features hydrate --target wasm32-unknown-unknown -- -D warnings
run cargo check --locked -p domain --target wasm32-unknown-unknown
run scripts/check-crate-graph.sh
run cargo machete
# SQLite (the default store) for every suite; the durability and replica suites start their own
# PostgreSQL clusters.
run cargo test --locked -p sandbox -p linode -p domain -p deploy -p server -p testkit
# The flow, replay, resilience, hostile-input and load suites again, on PostgreSQL.
run scripts/with-postgres.sh cargo test --locked -p server --test it -- deploy_flow:: resilience:: \
  load:: hostile_input:: hardening:: today::
run scripts/with-postgres.sh cargo test --locked -p server --test logs
run cargo test --locked -p app --features ssr --lib
run scripts/sdk-check/run.sh
run cargo leptos build --release --precompress --split
run bash -c 'cd end2end && npx playwright test'
# The same binary behind Debian's nginx (ops/nginx/) with a throwaway certificate.
run scripts/proxy-check/run.sh

# One closing line for the whole run, summed over every runner above.
awk '
  /^test result: / { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
  /^(sdk-check|cli-check|spec-check|playwright|proxy-check): [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 }
  END { printf "all: %d passed, %d failed\n", p, f }
' "$log"
