#!/usr/bin/env bash
# Puts Debian's nginx, configured by ops/nginx/install-on-linode.conf inside Debian's own
# /etc/nginx/nginx.conf, with a throwaway certificate in front of the release binary on loopback,
# and checks what the site promises behind a TLS proxy (proxy_check.py says what), ending with one
# Playwright deploy journey through it. Everything runs as the current user on free high ports of
# 127.0.0.1, in one temporary directory that is removed at the end with nginx and the server
# stopped. Ends with "proxy-check: N passed, M failed"; exits non-zero if any check failed.
#
# The binary: $SERVER_BIN, else the release build (`cargo leptos build --release --precompress
# --split`, which scripts/test.sh runs just before) under $CARGO_TARGET_DIR or target/.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
here=scripts/proxy-check
# PROXY_SITE_CONF: another site file, to see the checks catch a broken one.
site_conf=${PROXY_SITE_CONF:-ops/nginx/install-on-linode.conf}

give_up() {
  echo "proxy-check: $1"
  echo "proxy-check: 0 passed, 1 failed"
  exit 1
}

apt_get() { if [[ $(id -u) -eq 0 ]]; then apt-get "$@"; else sudo apt-get "$@"; fi; }
nginx=$(command -v nginx || echo /usr/sbin/nginx)
if [[ ! -x "$nginx" ]]; then
  printf '\033[1m==> %s\033[0m\n' "installing Debian's nginx"
  apt_get update -qq
  DEBIAN_FRONTEND=noninteractive apt_get install -y -qq nginx
  nginx=$(command -v nginx || echo /usr/sbin/nginx)
fi
[[ -x "$nginx" ]] || give_up "no nginx"
[[ -f /etc/nginx/nginx.conf ]] || give_up "no /etc/nginx/nginx.conf (Debian's nginx-common)"

server_bin=${SERVER_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/server}
[[ -x "$server_bin" ]] || give_up "no release binary at $server_bin (cargo leptos build --release --precompress --split)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/iol-proxy-check-XXXXXX")
server_pid=""
nginx_pid=""
cleanup() {
  # nginx first (it fronts the server), then the server: a graceful stop revokes what it holds.
  for pid in $nginx_pid $server_pid; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$tmp/tls" "$tmp/logs" "$tmp/bin" "$tmp/data" "$tmp/home"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
http_port=$(free_port)
tls_port=$(free_port)
app_port=$(free_port)
admin_port=$(free_port)
base="https://localhost:${tls_port}"

# A throwaway CA, and a certificate for localhost and 127.0.0.1 signed by it (one day).
(
  cd "$tmp/tls"
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 1 \
    -subj "/CN=Install on Linode proxy-check CA" -keyout ca.key -out ca.pem 2>/dev/null
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -subj "/CN=localhost" -keyout privkey.pem -out leaf.csr 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >leaf.ext
  openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile leaf.ext \
    -out cert.pem 2>/dev/null
  cat cert.pem ca.pem >fullchain.pem
  rm -f ca.key leaf.csr
) || give_up "openssl could not make the test certificate"
# What Chromium is told to trust (the certificate's public key), instead of ignoring every error.
spki=$(openssl x509 -in "$tmp/tls/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der |
  openssl dgst -sha256 -binary | base64)

# The site file as shipped, with only its ports, name, certificate, logs and upstream replaced.
sed -e "s#listen 80\b#listen 127.0.0.1:${http_port}#" \
  -e "s#listen 443\b#listen 127.0.0.1:${tls_port}#" \
  -e '/listen \[::\]:/d' \
  -e "s#/etc/letsencrypt/live/deploy.example.com/#${tmp}/tls/#" \
  -e "s#https://deploy.example.com#${base}#" \
  -e "s#deploy.example.com#localhost#" \
  -e "s#/var/log/nginx/#${tmp}/logs/#" \
  -e "s#server 127.0.0.1:3000;#server 127.0.0.1:${app_port};#" \
  -e "s#root /var/www/letsencrypt;#root ${tmp}/acme;#" \
  "$site_conf" >"$tmp/site.conf"
# Fail loudly if the shipped file changed shape and a substitution no longer applies.
if grep -v '^\s*#' "$tmp/site.conf" |
  grep -E 'deploy\.example\.com|listen (80|443)\b|/etc/letsencrypt|/var/log/|127\.0\.0\.1:3000|\[::\]'; then
  give_up "$site_conf has lines the substitutions above do not cover"
fi
# Debian's nginx.conf around it (gzip on, its ssl_protocols, its mime types and modules), running
# as this user with its pid, logs and temporary files in $tmp.
{
  sed -e '/^user /d' \
    -e "s#^pid .*#pid ${tmp}/nginx.pid;#" \
    -e "s#/var/log/nginx/#${tmp}/logs/#" \
    -e "s#include /etc/nginx/sites-enabled/\*;#include ${tmp}/site.conf;#" \
    -e '\#include /etc/nginx/conf.d/\*.conf;#d' \
    -e "s#^http {#http {\n\tclient_body_temp_path ${tmp}/body; proxy_temp_path ${tmp}/proxy; fastcgi_temp_path ${tmp}/fastcgi; uwsgi_temp_path ${tmp}/uwsgi; scgi_temp_path ${tmp}/scgi;#" \
    /etc/nginx/nginx.conf
  # As root the workers would switch to www-data, which cannot read $tmp.
  if [[ $(id -u) -eq 0 ]]; then echo "user root;"; fi
} >"$tmp/nginx.conf"
grep -q "include ${tmp}/site.conf;" "$tmp/nginx.conf" || give_up "/etc/nginx/nginx.conf does not include sites-enabled"
nginx_cmd=("$nginx" -p "$tmp" -e "$tmp/logs/error.log" -c "$tmp/nginx.conf")
if ! "${nginx_cmd[@]}" -t 2>"$tmp/nginx-t.log"; then
  cat "$tmp/nginx-t.log"
  give_up "nginx -t refused the configuration"
fi

# The release server alone in an empty directory (no .env, no site on disk), on its embedded
# sandbox, with the environment a production site behind nginx has.
cp "$server_bin" "$tmp/bin/server"
(
  cd "$tmp/bin"
  exec env -i PATH="$PATH" HOME="$tmp/home" \
    LEPTOS_SITE_ADDR="127.0.0.1:${app_port}" \
    SANDBOX_ADMIN_ADDR="127.0.0.1:${admin_port}" \
    DATA_DIR="$tmp/data" \
    LEPTOS_ENV=PROD \
    APP_NAME="Demo App" \
    SESSION_KEY="$(openssl rand -hex 32)" \
    PUBLIC_BASE_URL="$base" \
    TRUSTED_PROXY_HOPS=1 \
    RATE_LIMIT_DEPLOYS_PER_MINUTE=2 \
    RATE_LIMIT_CALLBACKS_PER_MINUTE=3 \
    SANDBOX_PROVISIONING_SECS=1 \
    SANDBOX_BOOTING_SECS=1 \
    SANDBOX_APP_READY_SECS=2 \
    FOLLOW_IDLE_SECS=3 \
    RUST_LOG=info \
    ./server
) >"$tmp/logs/server.log" 2>&1 &
server_pid=$!
"${nginx_cmd[@]}" -g 'daemon off;' >"$tmp/logs/nginx.out" 2>&1 &
nginx_pid=$!

ready() { curl -sf -o /dev/null --max-time 2 "$@"; }
for _ in $(seq 1 100); do
  if ready "http://127.0.0.1:${app_port}/healthz" && ready --cacert "$tmp/tls/ca.pem" "$base/healthz"; then
    break
  fi
  for pid in $server_pid $nginx_pid; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$tmp/logs/server.log" "$tmp/logs/error.log" "$tmp/logs/nginx.out" 2>/dev/null || true
      give_up "the server or nginx did not start"
    fi
  done
  sleep 0.2
done
ready --cacert "$tmp/tls/ca.pem" "$base/healthz" || give_up "https://localhost:${tls_port}/healthz never answered"

status=0
PROXY_TLS_PORT=$tls_port PROXY_HTTP_PORT=$http_port PROXY_APP_PORT=$app_port PROXY_BASE_URL=$base \
  PROXY_CA="$tmp/tls/ca.pem" PROXY_CERT_SPKI="$spki" \
  PROXY_SANDBOX_ADMIN="http://127.0.0.1:${admin_port}" \
  PROXY_ACCESS_LOG="$tmp/logs/install-on-linode.access.log" PROXY_ERROR_LOG="$tmp/logs/install-on-linode.error.log" \
  PROXY_SERVER_LOG="$tmp/logs/server.log" PROXY_DEPLOYS_PER_MINUTE=2 PROXY_CALLBACKS_PER_MINUTE=3 \
  python3 "$here/proxy_check.py" | tee "$tmp/check.out" || status=1
# A checker that died before its closing line still counts as a failure in the test command's.
grep -q '^proxy-check: [0-9]* passed' "$tmp/check.out" || echo "proxy-check: 0 passed, 1 failed (the checker stopped)"
if [[ $status -ne 0 && -n "${PROXY_CHECK_VERBOSE:-}" ]]; then
  tail -n 50 "$tmp/logs/"*.log
fi
exit "$status"
