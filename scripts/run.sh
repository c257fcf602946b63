#!/usr/bin/env bash
# Installs whatever is missing, builds the release app (assets hashed and precompressed) and serves it at http://127.0.0.1:3000.
# With no LINODE_CLIENT_ID configured (environment or .env) it runs on the embedded Linode sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
cargo leptos build --release --precompress --split
export LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
exec target/release/server
