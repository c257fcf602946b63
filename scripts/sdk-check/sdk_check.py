"""Drives the unmodified linode_api4 package against the standalone Linode sandbox.

Plays the browser with `requests` on the consent page, then uses only the SDK's public API
for the OAuth exchange, the catalog, the StackScript, the create and the token expiry.
Each step is a check; the last line is "sdk-check: N passed, M failed".
"""

import os
import re
import sys
import time
import traceback
import urllib.parse

import requests
from linode_api4 import (
    Instance,
    LinodeClient,
    LinodeLoginClient,
    OAuthScopes,
    StackScript,
    Type,
)

ROOT = os.environ["SANDBOX_ROOT"]
LOGIN_BASE = ROOT + "/login"
API_BASE = ROOT + "/v4"
# The admin endpoints are on a loopback port of their own, never on the public one.
ADMIN = os.environ["SANDBOX_ADMIN_ROOT"]
CLIENT_ID = os.environ["SANDBOX_CLIENT_ID"]
CLIENT_SECRET = os.environ["SANDBOX_CLIENT_SECRET"]
STACKSCRIPT_ID = 320826
ROOT_PASS = "sdk-Check-" + "x7Q!" * 6

state = {}
results = []


def check(name):
    def wrap(step):
        try:
            step()
            results.append((name, None))
            print(f"ok    {name}")
        except Exception as error:  # any failure is reported, then counted
            results.append((name, error))
            print(f"FAIL  {name}: {error!r}")
            traceback.print_exc()
        return step

    return wrap


@check("OAuth: consent page, code, finish_oauth")
def oauth_exchange():
    login = LinodeLoginClient(CLIENT_ID, CLIENT_SECRET, base_url=LOGIN_BASE)
    url = login.generate_login_url(scopes=OAuthScopes.Linodes.read_write)
    page = requests.get(url, timeout=10)
    assert page.status_code == 200, page.status_code
    request_id = re.search(r'name="request" value="([^"]+)"', page.text).group(1)
    answer = requests.post(
        url,
        data={
            "request": request_id,
            "username": "sdk-check",
            "scope": "linodes:read_write",
            "decision": "approve",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code in (302, 303), answer.status_code
    query = urllib.parse.parse_qs(urllib.parse.urlparse(answer.headers["Location"]).query)
    token, scopes, expiry, refresh = login.finish_oauth(query["code"][0])
    assert OAuthScopes.Linodes.read_write in scopes, scopes
    assert refresh, "refresh token"
    state["login"] = login
    state["token"] = token
    state["client"] = LinodeClient(token, base_url=API_BASE)


@check("catalog: types (with a label filter) and regions")
def catalog():
    client = state["client"]
    types = client.linode.types()
    assert len(types) >= 30, len(types)
    linode_types = client.linode.types(Type.label.contains("Linode"))
    assert linode_types and all("Linode" in t.label for t in linode_types)
    regions = client.regions()
    assert any(r.id == "us-east" for r in regions)


def image_id(image):
    """The id string of an image entry; depending on the SDK version, `.id` may itself be
    an Image (the "d.id.id" quirk of the original example)."""
    while not isinstance(image, str):
        image = image.id
    return image


@check("StackScript: read the public one")
def stackscript():
    script = StackScript(state["client"], STACKSCRIPT_ID)
    assert script.user_defined_fields == [], script.user_defined_fields
    images = [image_id(image) for image in script.images]
    assert "linode/debian12" in images, images
    state["stackscript"] = script


@check("create a Linode from the StackScript and watch it boot")
def create():
    client = state["client"]
    result = client.linode.instance_create(
        "g6-nanode-1",
        "us-east",
        image="linode/debian12",
        stackscript=state["stackscript"],
        root_pass=ROOT_PASS,
        group="sdk-check",
    )
    instance = result[0] if isinstance(result, tuple) else result
    assert instance.status == "provisioning", instance.status
    assert instance.ipv4 and instance.ipv4[0].split(".")[0] in ("192", "198", "203")
    deadline = time.monotonic() + 15
    seen = [instance.status]
    while instance.status != "running":
        assert time.monotonic() < deadline, seen
        time.sleep(0.3)
        instance = Instance(client, instance.id)
        instance.invalidate()
        if instance.status != seen[-1]:
            seen.append(instance.status)
    assert seen == ["provisioning", "booting", "running"], seen
    state["instance_id"] = instance.id


@check("expire_token")
def expire():
    assert state["login"].expire_token(state["token"]) is True


@check("inspect: exactly one Linode, its token revoked and refused")
def inspect():
    view = requests.get(ADMIN + "/__sandbox/inspect", timeout=10).json()
    assert len(view["instances"]) == 1, view["instances"]
    instance = view["instances"][0]
    assert instance["id"] == state["instance_id"]
    assert instance["stackscript_id"] == STACKSCRIPT_ID
    token = next(t for t in view["tokens"] if t["token_id"] == instance["token_id"])
    assert token["revoked"], token
    refused = requests.get(
        API_BASE + "/profile",
        headers={"Authorization": "Bearer " + state["token"]},
        timeout=10,
    )
    assert refused.status_code == 401, refused.status_code
    assert refused.json() == {"errors": [{"reason": "Invalid Token"}]}, refused.text


failed = sum(1 for _, error in results if error is not None)
print(f"sdk-check: {len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
