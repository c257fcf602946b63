#!/usr/bin/env bash
# Benchmarks the release server against the Linode sandbox with 50 ms added to every Linode call:
# page views (cold and warm catalog), `/` under load (wrk), the deploy critical path, the first
# page's asset sizes and the server's memory. Prints a Markdown report and writes it to
# bench/results/<date>-<machine>.md. Not part of scripts/test.sh: it measures, it does not judge.
# Usage: scripts/bench.sh [--no-build] [bench options, see `cargo run -p bench -- --help`]
set -euo pipefail
cd "$(dirname "$0")/.."

build=true
if [[ "${1:-}" == "--no-build" ]]; then
  build=false
  shift
fi

scripts/setup.sh --postgres
source scripts/env.sh

# The load tool: Debian's wrk.
if ! command -v wrk >/dev/null; then
  printf '\033[1m==> %s\033[0m\n' "installing Debian's wrk"
  apt_get() { if [[ $(id -u) -eq 0 ]]; then apt-get "$@"; else sudo apt-get "$@"; fi; }
  apt_get update -qq
  DEBIAN_FRONTEND=noninteractive apt_get install -y -qq wrk
fi

if $build; then
  cargo leptos build --release --precompress --split
fi
# The deployments are measured on SQLite (the default store) and on a throwaway PostgreSQL.
cargo build --release --locked -p bench
scripts/with-postgres.sh target/release/bench "$@"
