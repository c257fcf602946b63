"""Gets an OAuth token from the standalone sandbox the way a person would: linode_api4's
LinodeLoginClient builds the authorize URL, `requests` plays the browser on the consent page
(one `scope` field per granted scope, the `username` radio), and finish_oauth redeems the code.

Used by spec_check.py, and run as a script by cli_check.py (linode-cli has no code flow of
its own): `python sandbox_oauth.py [--username NAME] SCOPE...` prints the access token.
Environment: SANDBOX_ROOT, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET (as run.sh sets them).
"""

import os
import re
import sys
import urllib.parse

import requests
from linode_api4 import LinodeLoginClient, OAuthScopes

# Users the sandbox's consent page offers (see sandbox/README.md).
UNRESTRICTED = "sandbox-user"
RESTRICTED = "sandbox-restricted"


def login_client():
    return LinodeLoginClient(
        os.environ["SANDBOX_CLIENT_ID"],
        os.environ["SANDBOX_CLIENT_SECRET"],
        base_url=os.environ["SANDBOX_ROOT"] + "/login",
    )


def consent(url, scopes, username=UNRESTRICTED):
    """Opens the consent page at `url`, approves `scopes` (strings) as `username` and returns
    the code from the redirect."""
    page = requests.get(url, timeout=10)
    assert page.status_code == 200, (page.status_code, page.text[:300])
    request_id = re.search(r'name="request" value="([^"]+)"', page.text).group(1)
    form = [("request", request_id), ("username", username), ("decision", "approve")]
    form += [("scope", scope) for scope in scopes]
    answer = requests.post(url, data=form, allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303), (answer.status_code, answer.text[:300])
    query = urllib.parse.parse_qs(urllib.parse.urlparse(answer.headers["Location"]).query)
    assert "code" in query, answer.headers["Location"]
    return query["code"][0]


def token(scopes, username=UNRESTRICTED, ticked=None):
    """An access token asked for `scopes` (strings such as "linodes:read_write") and granted by
    `username`, who ticks `ticked` (default: all of them; [] grants an empty scope).
    Returns (access_token, granted scopes as OAuthScopes members)."""
    login = login_client()
    parsed = [OAuthScopes.parse(scope)[0] for scope in scopes]
    url = login.generate_login_url(scopes=parsed)
    code = consent(url, scopes if ticked is None else ticked, username)
    access_token, granted, _expiry, _refresh = login.finish_oauth(code)
    return access_token, granted


def main(argv):
    username = UNRESTRICTED
    if len(argv) >= 2 and argv[0] == "--username":
        username, argv = argv[1], argv[2:]
    if not argv:
        sys.exit("usage: sandbox_oauth.py [--username NAME] SCOPE...")
    access_token, _ = token(argv, username)
    print(access_token)


if __name__ == "__main__":
    main(sys.argv[1:])
