#!/usr/bin/env bash
# Installs whatever this project needs and is missing; every step is skipped when its tool is
# already there. Usage: scripts/setup.sh [--browser] [--postgres]   (--browser also installs
# Chromium for tests, --postgres Debian's PostgreSQL server for the replica and durability tests)
# The versions and traps are explained in docs/TOOLCHAIN.md.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
want_browser=false
want_postgres=false
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=true ;;
    --postgres) want_postgres=true ;;
  esac
done

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Rust's WASM target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# cargo-leptos: 0.3.11 needs a newer rustc than this machine has.
if ! cargo leptos --version 2>/dev/null | grep -q " ${CARGO_LEPTOS_VERSION}\$"; then
  step "installing cargo-leptos ${CARGO_LEPTOS_VERSION} (about 10 minutes, once)"
  cargo install --locked "cargo-leptos@${CARGO_LEPTOS_VERSION}"
fi

# cargo-machete: the test command's check for unused dependencies (about a minute, once).
CARGO_MACHETE_VERSION=0.9.2
if ! cargo machete --version 2>/dev/null | grep -q "${CARGO_MACHETE_VERSION}"; then
  step "installing cargo-machete ${CARGO_MACHETE_VERSION}"
  cargo install --locked "cargo-machete@${CARGO_MACHETE_VERSION}"
fi

# wasm-bindgen CLI: must be exactly the wasm-bindgen version in Cargo.lock.
if [[ ! -f Cargo.lock ]]; then
  cargo generate-lockfile
fi
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " ${bindgen_version}\$"; then
  step "installing wasm-bindgen-cli ${bindgen_version}"
  # Not --locked: its lockfile names a yanked crate.
  cargo install wasm-bindgen-cli --version "${bindgen_version}"
fi

# Node packages: Playwright and binaryen's wasm-opt (Debian's binaryen 108 breaks hydration).
if [[ ! -x end2end/node_modules/.bin/wasm-opt || end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]]; then
  step "installing end2end's npm packages"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

apt_get() { if [[ $(id -u) -eq 0 ]]; then apt-get "$@"; else sudo apt-get "$@"; fi; }

# PostgreSQL's server from Debian, for the tests that run the flow on several replicas.
if $want_postgres && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  step "installing Debian's PostgreSQL server"
  apt_get update -qq
  DEBIAN_FRONTEND=noninteractive apt_get install -y -qq postgresql
fi

# Chromium from Debian (Playwright's own browser download cannot work here).
if $want_browser && [[ ! -x /usr/bin/chromium ]]; then
  step "installing Debian's Chromium"
  apt_get update -qq
  DEBIAN_FRONTEND=noninteractive apt_get install -y -qq chromium
fi
