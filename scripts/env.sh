# Sourced by the other scripts: puts the npm-installed wasm-opt on PATH and names the build.
export PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/end2end/node_modules/.bin:${HOME}/.cargo/bin:${PATH}"
export LEPTOS_OUTPUT_NAME=install-on-linode
export LEPTOS_SITE_ROOT=target/site
export LEPTOS_SITE_PKG_DIR=pkg
export LEPTOS_ENV="${LEPTOS_ENV:-PROD}"
