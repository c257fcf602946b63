#!/usr/bin/env python3
"""What the site promises behind nginx, checked through nginx (started by run.sh).

The visitor connects to nginx on 127.0.0.1 from other loopback addresses (127.0.0.2, .3, ...),
so the address nginx sees differs from the one the server sees (nginx's own, 127.0.0.1): the
rate-limit checks can tell which one is counted. TLS is verified against the test CA.
Each check prints "ok - name" or "FAIL - name: why"; the last line is
"proxy-check: N passed, M failed", the Playwright journey (run at the end) included.
Standard library only.
"""

import base64
import hashlib
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
import urllib.request

TLS_PORT = int(os.environ["PROXY_TLS_PORT"])
HTTP_PORT = int(os.environ["PROXY_HTTP_PORT"])
APP_PORT = int(os.environ["PROXY_APP_PORT"])
BASE = os.environ["PROXY_BASE_URL"]
HOST = f"localhost:{TLS_PORT}"
CA = os.environ["PROXY_CA"]
ADMIN = os.environ["PROXY_SANDBOX_ADMIN"]
ACCESS_LOG = os.environ["PROXY_ACCESS_LOG"]
ERROR_LOG = os.environ["PROXY_ERROR_LOG"]
SERVER_LOG = os.environ["PROXY_SERVER_LOG"]
DEPLOYS = int(os.environ["PROXY_DEPLOYS_PER_MINUTE"])
CALLBACKS = int(os.environ["PROXY_CALLBACKS_PER_MINUTE"])
HERE = os.path.dirname(os.path.abspath(__file__))
END2END = os.path.join(HERE, "..", "..", "end2end")

# What the app itself sends on every response (server/src/security_headers.rs).
HSTS = "max-age=31536000"
FORM = {"plan": "g6-nanode-1", "region": "us-east", "image": "linode/debian12"}

passed = 0
failed = 0


def check(name):
    """Decorator: runs the check now and counts it."""

    def run(fn):
        global passed, failed
        try:
            fn()
        except Exception as error:  # noqa: BLE001 - any failure is the check's failure
            failed += 1
            print(f"FAIL - {name}: {error}", flush=True)
        else:
            passed += 1
            print(f"ok - {name}", flush=True)
        return fn

    return run


def tls_context(alpn=None, version=None):
    context = ssl.create_default_context(cafile=CA)
    if alpn:
        context.set_alpn_protocols(alpn)
    if version:
        context.minimum_version = version
        context.maximum_version = version
    return context


class Visitor(http.client.HTTPSConnection):
    """A browser on `source` (a loopback address of its own) reaching nginx as https://localhost."""

    def __init__(self, source="127.0.0.1", sni="localhost", context=None):
        super().__init__("localhost", TLS_PORT, timeout=30, context=context or tls_context())
        self.source = source
        self.sni = sni

    def connect(self):
        # IPv4 only (nginx listens on 127.0.0.1), from the visitor's own address, with SNI localhost.
        raw = socket.create_connection(("127.0.0.1", TLS_PORT), self.timeout, (self.source, 0))
        self.sock = self._context.wrap_socket(raw, server_hostname=self.sni)


class Response:
    def __init__(self, raw, body):
        self.status = raw.status
        self.headers = raw.headers
        self.body = body

    def one(self, name):
        """The header's only value; fails when it is missing or sent more than once."""
        values = self.headers.get_all(name) or []
        assert len(values) == 1, f"{name} sent {len(values)} times: {values}"
        return values[0]

    def cookies(self):
        return self.headers.get_all("Set-Cookie") or []

    def text(self):
        return self.body.decode("utf-8", "replace")


class Browser:
    """A cookie-keeping client that does not follow redirects."""

    def __init__(self, source):
        self.source = source
        self.jar = {}
        self.dropped = []

    def request(self, method, path, headers=None, body=None):
        if path.startswith(BASE):
            path = path[len(BASE) :]
        assert path.startswith("/"), f"not this site: {path}"
        sent = {"Host": HOST, "Accept-Encoding": "identity"}
        if self.jar:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        sent.update(headers or {})
        connection = Visitor(self.source)
        try:
            connection.request(method, path, body=body, headers=sent)
            raw = connection.getresponse()
            response = Response(raw, raw.read())
        finally:
            connection.close()
        for cookie in response.cookies():
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            # As browsers do: a cookie over 4096 bytes is dropped (RFC 6265 §6.1, Chromium).
            if len(name) + len(value) > 4096:
                self.dropped.append(name)
                continue
            if "max-age=0" in cookie.lower() or not value:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        return response

    def get(self, path, headers=None):
        return self.request("GET", path, headers)

    def post_form(self, path, fields, headers=None):
        sent = {"Content-Type": "application/x-www-form-urlencoded", "Origin": BASE, "Accept": "text/html"}
        sent.update(headers or {})
        return self.request("POST", path, sent, urllib.parse.urlencode(fields).encode())

    def deploy(self, headers=None):
        return self.post_form("/api/start_deploy", FORM, headers)


def plain_http(host_header, path="/"):
    connection = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=10, source_address=("127.0.0.2", 0))
    try:
        connection.request("GET", path, headers={"Host": host_header})
        raw = connection.getresponse()
        return Response(raw, raw.read())
    finally:
        connection.close()


def admin(path):
    with urllib.request.urlopen(f"{ADMIN}{path}", timeout=10) as answer:
        return json.load(answer)


def security_headers(response, referrer):
    """The app's headers arrive once each, as the app sent them, and nginx adds none."""
    assert response.one("Strict-Transport-Security") == HSTS, response.one("Strict-Transport-Security")
    csp = response.one("Content-Security-Policy")
    assert "frame-ancestors 'none'" in csp, csp
    assert response.one("X-Content-Type-Options") == "nosniff"
    assert response.one("Referrer-Policy") == referrer, response.one("Referrer-Policy")
    assert len(response.headers.get_all("X-Frame-Options") or []) <= 1
    assert response.one("Server") == "nginx", "server_tokens off: no version"


def secure_host_cookies(response, at_least=1):
    cookies = response.cookies()
    assert len(cookies) >= at_least, f"expected Set-Cookie, got {cookies}"
    for cookie in cookies:
        attributes = [part.strip().lower() for part in cookie.split(";")[1:]]
        assert cookie.startswith("__Host-"), f"not __Host-: {cookie}"
        assert "secure" in attributes, f"not Secure: {cookie}"
        assert "path=/" in attributes, f"__Host- needs Path=/: {cookie}"
        assert not any(a.startswith("domain=") for a in attributes), f"__Host- forbids Domain: {cookie}"
        assert "httponly" in attributes, f"not HttpOnly: {cookie}"


def hidden_inputs(html):
    fields = []
    for tag in html.split("<input")[1:]:
        if 'type="hidden"' not in tag:
            continue
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and value:
            fields.append((name.group(1), value.group(1).replace("&amp;", "&").replace("&quot;", '"')))
    return fields


def testid_text(html, testid):
    match = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', html)
    return match.group(1).strip() if match else None


def wait_for(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} not within {seconds} s")


def read(path):
    """A log's text, without the colours the server's log lines carry."""
    with open(path, encoding="utf-8", errors="replace") as file:
        return re.sub(r"\x1b\[[0-9;]*m", "", file.read())


# ---------------------------------------------------------------- TLS and plain http


@check("http is redirected (301) to the same path and query on https, at the configured name")
def _():
    response = plain_http(f"localhost:{HTTP_PORT}", "/deployment?x=1")
    assert response.status == 301, response.status
    assert response.one("Location") == f"{BASE}/deployment?x=1", response.one("Location")


@check("a plain http request for another name gets no answer (444)")
def _():
    try:
        response = plain_http("evil.example")
    except (http.client.RemoteDisconnected, ConnectionError):
        return
    raise AssertionError(f"answered {response.status}")


@check("TLS: the test certificate verifies for localhost, TLS 1.3 and HTTP/2 offered by ALPN")
def _():
    connection = Visitor(context=tls_context(alpn=["h2", "http/1.1"]))
    connection.connect()
    try:
        assert connection.sock.version() == "TLSv1.3", connection.sock.version()
        assert connection.sock.selected_alpn_protocol() == "h2", connection.sock.selected_alpn_protocol()
    finally:
        connection.close()


@check("TLS 1.2 is accepted (Mozilla intermediate)")
def _():
    connection = Visitor(context=tls_context(version=ssl.TLSVersion.TLSv1_2))
    connection.connect()
    try:
        assert connection.sock.version() == "TLSv1.2", connection.sock.version()
    finally:
        connection.close()


@check("TLS for another name is refused at the handshake (ssl_reject_handshake)")
def _():
    context = tls_context()
    context.check_hostname = False
    connection = Visitor(sni="evil.example", context=context)
    try:
        connection.connect()
    except ssl.SSLError:
        return
    finally:
        connection.close()
    raise AssertionError("handshake completed")


# ---------------------------------------------------------------- headers

@check("the form page over https: HSTS, CSP (frame-ancestors 'none'), nosniff, Referrer-Policy, each exactly once")
def _():
    response = Browser("127.0.0.2").get("/")
    assert response.status == 200, response.status
    security_headers(response, "same-origin")
    html = response.text()
    assert "http://localhost" not in html and "http://127.0.0.1" not in html


@check("a /pkg file: the same headers, the app's own compression passed through (not doubled)")
def _():
    match = re.search(r'(/pkg/[^"\']+\.js)', Browser("127.0.0.2").get("/").text())
    assert match, "no /pkg script on the form page"
    response = Browser("127.0.0.2").get(match.group(1), {"Accept-Encoding": "gzip"})
    assert response.status == 200, response.status
    security_headers(response, "same-origin")
    assert response.one("Content-Encoding") == "gzip"


@check("the sandbox's consent page and /auth/callback: the headers, Referrer-Policy no-referrer")
def _():
    browser = Browser("127.0.0.2")
    refused = browser.get("/auth/callback?state=nothing&code=nothing")
    assert refused.status == 400, refused.status
    security_headers(refused, "no-referrer")


@check("a visitor's X-Request-Id is replaced by nginx's, which the server logs under")
def _():
    response = Browser("127.0.0.2").get("/healthz", {"X-Request-Id": "forged-by-the-visitor"})
    request_id = response.one("X-Request-Id")
    assert re.fullmatch(r"[0-9a-f]{32}", request_id), request_id
    wait_for(lambda: request_id in read(ACCESS_LOG), 5, "the id in nginx's access log")
    wait_for(lambda: request_id in read(SERVER_LOG), 5, "the id in the server's log")
    assert "forged-by-the-visitor" not in read(SERVER_LOG)


# ---------------------------------------------------------------- a whole deployment


@check("deploy through the proxy: https URLs only, __Host- Secure cookies, password page uncompressed and once, tokens revoked")
def _():
    before = admin("/__sandbox/inspect")
    browser = Browser("127.0.0.10")
    started = browser.deploy()
    assert started.status == 302, f"{started.status}: {started.text()[:300]}"
    secure_host_cookies(started)
    authorize = started.one("Location")
    assert authorize.startswith(f"{BASE}/sandbox/login/oauth/authorize?"), authorize
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(authorize).query))
    assert query.get("redirect_uri") == f"{BASE}/auth/callback", f"redirect_uri {query.get('redirect_uri')}"

    consent = browser.get(authorize)
    assert consent.status == 200, consent.status
    security_headers(consent, "no-referrer")
    fields = hidden_inputs(consent.text())
    fields += [("username", "tester"), ("scope", "linodes:read_write"), ("decision", "approve")]
    approved = browser.post_form(authorize, fields)
    assert approved.status in (302, 303), approved.status
    callback = approved.one("Location")
    assert callback.startswith(f"{BASE}/auth/callback?"), callback

    returned = browser.get(callback)
    assert returned.status == 303, f"{returned.status}: {returned.text()[:300]}"
    assert returned.one("Location") in ("/deployment", f"{BASE}/deployment"), returned.one("Location")
    secure_host_cookies(returned)

    # A browser asks for compression; nginx must not compress the page holding the password.
    result = browser.get("/deployment", {"Accept-Encoding": "gzip, deflate, br"})
    assert result.status == 200, result.status
    assert result.one("Cache-Control") == "no-store"
    assert result.headers.get("Content-Encoding") is None, f"compressed: {result.headers.get('Content-Encoding')}"
    security_headers(result, "same-origin")
    html = result.text()
    password = testid_text(html, "root-password")
    assert password and len(password) == 32, "no root password on the result page"
    assert "http://localhost" not in html and "http://127.0.0.1" not in html
    again = browser.get("/deployment")
    assert password not in again.text(), "the root password was shown twice"

    after = admin("/__sandbox/inspect")
    assert len(after["instances"]) == len(before["instances"]) + 1, "not exactly one Linode"

    def all_revoked():
        return all(token["revoked"] for token in admin("/__sandbox/inspect")["tokens"])

    wait_for(all_revoked, 20, "every token revoked")


@check("cross-site posts are still refused behind the proxy (another Origin, or http:// for https)")
def _():
    for source, origin in (("127.0.0.11", "https://evil.example"), ("127.0.0.12", f"http://{HOST}")):
        response = Browser(source).deploy({"Origin": origin})
        assert response.status == 403, f"Origin {origin}: {response.status}"
        security_headers(response, "same-origin")


def ed25519_key(n, comment):
    """A well-formed public key (the same for the same n, so sizes repeat)."""
    blob = b"".join(len(part).to_bytes(4, "big") + part for part in (b"ssh-ed25519", hashlib.sha256(bytes([n])).digest()))
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} {comment}"


def starts_flow(response):
    """A no-JS deploy post that the app took: a redirect to Linode's login, not back to the form."""
    return response.status == 302 and "/sandbox/login/oauth/authorize?" in (response.headers.get("Location") or "")


@check("the largest deploy the app takes (flow cookie near 4000 bytes) passes through nginx, and after a denied login a second one with both cookies")
def _():
    def fields(length):
        keys = "\n".join(ed25519_key(n, f"k{n}-" + "x" * length) for n in range(5))
        return dict(FORM, ssh_keys=keys)

    # Straight to the server (nginx's loopback, an address of X-Forwarded-For's choosing per probe
    # so the deploy limit does not get in the way): the longest comments it still takes.
    def direct(length, probe):
        connection = http.client.HTTPConnection("127.0.0.1", APP_PORT, timeout=30)
        try:
            connection.request("POST", "/api/start_deploy", body=urllib.parse.urlencode(fields(length)).encode(), headers={
                "Host": HOST, "Origin": BASE, "Referer": f"{BASE}/", "Accept": "text/html",
                "Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": f"10.99.0.{probe}"})
            raw = connection.getresponse()
            return Response(raw, raw.read())
        finally:
            connection.close()

    low, high, probe = 0, 1000, 0
    while high - low > 1:
        middle = (low + high) // 2
        probe += 1
        if starts_flow(direct(middle, probe)):
            low = middle
        else:
            high = middle
    # A little below the limit found: a sealed cookie's size may vary by a few bytes.
    low -= 8
    largest = direct(low, 200)
    assert starts_flow(largest), f"the server took none: {largest.status} {largest.headers.get('Location')} {largest.text()[:300]}"
    cookie = max(len(c) for c in largest.cookies())
    assert cookie > 3800, f"the largest flow cookie is only {cookie} bytes"
    # Through nginx, twice: a denied login (its outcome cookie keeps the keys for a retry), then
    # another deploy, whose callback carries both cookies at their largest.
    browser = Browser("127.0.0.20")
    for decision in ("deny", "approve"):
        through = browser.post_form("/api/start_deploy", fields(low), {"Referer": f"{BASE}/"})
        assert starts_flow(through), f"through nginx: {through.status} {through.text()[:200]}"
        secure_host_cookies(through)
        authorize = through.one("Location")
        consent = browser.get(authorize)
        page = re.sub(r"\s+", " ", consent.text())[:300]
        sizes = [(name, len(value)) for name, value in browser.jar.items()]
        assert consent.status == 200, f"consent page: {consent.status} {page} cookies {sizes}"
        answer = browser.post_form(authorize, hidden_inputs(consent.text()) + [
            ("username", "tester"), ("scope", "linodes:read_write"), ("decision", decision)])
        callback = browser.get(answer.one("Location"))
        cookie_header = sum(len(k) + len(v) + 2 for k, v in browser.jar.items())
        assert callback.status == 303, f"{decision}: callback {callback.status} with {cookie_header} bytes of cookies"
        assert not browser.dropped, f"{decision}: a browser would drop the cookies {browser.dropped} (over 4096 bytes)"
        result = browser.get("/deployment")
        assert result.status == 200, f"{decision}: result page {result.status} with {cookie_header} bytes of cookies"
        kind = re.search(r'data-kind="([a-z_]+)"', result.text())
        if decision == "deny":
            assert kind and kind.group(1) == "access_denied", f"denied: the result page shows {kind and kind.group(1)}"
        else:
            assert testid_text(result.text(), "root-password"), "no root password after the second deploy"


# ---------------------------------------------------------------- rate limits and X-Forwarded-For


@check(f"deploys: {DEPLOYS} per minute per visitor address; forged X-Forwarded-For does not reset it; another visitor unaffected")
def _():
    visitor = Browser("127.0.0.2")
    statuses = [visitor.deploy({"X-Forwarded-For": f"203.0.113.{n}"}).status for n in range(DEPLOYS)]
    assert statuses == [302] * DEPLOYS, statuses
    refused = visitor.deploy({"X-Forwarded-For": "198.51.100.7"})
    assert refused.status == 429, refused.status
    assert int(refused.one("Retry-After")) >= 1
    security_headers(refused, "same-origin")
    # Claiming to be someone else, or a list ending in someone else, changes nothing.
    for forged in ("127.0.0.3", "127.0.0.3, 127.0.0.4", "2001:db8::1"):
        assert visitor.deploy({"X-Forwarded-For": forged}).status == 429, forged
    # The server saw every request from nginx (127.0.0.1): what it counted is nginx's $remote_addr.
    assert Browser("127.0.0.3").deploy({"X-Forwarded-For": "127.0.0.2"}).status == 302, "another visitor was refused"
    wait_for(lambda: re.search(r"client=127\.0\.0\.2\b.*rate-limited|rate-limited.*client=127\.0\.0\.2\b", read(SERVER_LOG)), 5,
             "a rate-limited line naming client=127.0.0.2")
    log = read(SERVER_LOG)
    for other in ("127.0.0.1", "198.51.100.7", "203.0.113.", "2001:db8"):
        assert not re.search(rf"client={re.escape(other)}", log), f"the server counted {other}"


@check(f"callbacks: {CALLBACKS} per minute per visitor address, whatever X-Forwarded-For says")
def _():
    visitor = Browser("127.0.0.4")
    path = "/auth/callback?state=nothing&code=nothing"
    statuses = [visitor.get(path, {"X-Forwarded-For": f"203.0.113.{n}"}).status for n in range(CALLBACKS + 1)]
    assert statuses == [400] * CALLBACKS + [429], statuses
    assert Browser("127.0.0.5").get(path, {"X-Forwarded-For": "127.0.0.4"}).status == 400


# ---------------------------------------------------------------- the browser


@check("Playwright: a full deploy journey in Chromium through the proxy (end2end/tests/proxy.spec.ts)")
def _():
    env = dict(os.environ, PLAYWRIGHT_SUMMARY_LABEL="proxy-journey")
    run = subprocess.run(
        ["npx", "playwright", "test", "tests/proxy.spec.ts"],
        cwd=END2END,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    # Shown indented, so its own summary line is not counted twice by the test command.
    for line in run.stdout.splitlines():
        print(f"    {line}")
    summary = re.search(r"^proxy-journey: (\d+) passed, (\d+) failed, (\d+) skipped", run.stdout, re.M)
    assert summary, "no summary line from Playwright"
    assert run.returncode == 0 and summary.groups() == ("1", "0", "0"), summary.group(0)


# ---------------------------------------------------------------- what nginx wrote


@check("nginx's logs hold no query string: no OAuth code or state")
def _():
    for path in (ACCESS_LOG, ERROR_LOG):
        if os.path.exists(path):
            text = read(path)
            assert "code=" not in text and "state=" not in text and "?" not in text, f"{path} holds a query"
    assert "/auth/callback" in read(ACCESS_LOG), "the access log recorded no callback at all"


print(f"proxy-check: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
