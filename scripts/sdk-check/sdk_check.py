"""Drives the unmodified linode_api4 package against the standalone Linode sandbox.

Plays the browser with `requests` on the consent page, then uses only the SDK's public API
for the OAuth exchange, the catalog, the StackScript, the create and the token expiry; then,
through the SDK's models, Linode's API of 2026 (spec 4.234.0): account settings, default
firewalls, a Cloud Firewall and its rules, a Linode with Linode interfaces behind it, its
firewalls, interfaces and the firewall's devices, deletes, and a restricted IAM user.
Each step is a check; the last line is "sdk-check: N passed, M failed".
"""

import os
import re
import time
import urllib.parse

import requests
from linode_api4 import (
    AccountSettingsInterfacesForNewLinodes,
    ApiError,
    Firewall,
    Instance,
    InstanceDiskEncryptionType,
    InterfaceGeneration,
    LinodeClient,
    LinodeInterfaceDefaultRouteOptions,
    LinodeInterfaceOptions,
    LinodeInterfacePublicOptions,
    LinodeLoginClient,
    OAuthScopes,
    StackScript,
    Type,
)

from checks import LOCKED_RULES, WEB_RULES, Checks
from sandbox_oauth import RESTRICTED, consent

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


check = Checks("sdk-check")


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
    # The sandbox plays an account opened in 2026, where a create that names no interface
    # generation gets Linode Interfaces, and without an interface no network: a client of today
    # says which it wants (the SDK passes extra keywords into the body).
    result = client.linode.instance_create(
        "g6-nanode-1",
        "us-east",
        image="linode/debian12",
        stackscript=state["stackscript"],
        root_pass=ROOT_PASS,
        group="sdk-check",
        interface_generation="legacy_config",
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


# ---------------------------------------------------------------------------------------------
# Linode's API of 2026 (spec 4.234.0) through linode_api4's models: account settings, default
# firewalls, a Cloud Firewall, a Linode with Linode interfaces behind it, its firewalls and
# interfaces, deletes, and a restricted IAM user. Runs after the checks above (the inspection
# above counts exactly one Linode).

SSH_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFSImy86C8OGK+XnQ6WO4+xg3PAXJUoVhxIJJ94NIK62 "
    "sdk-check@sandbox"
)


def api_error_status(call):
    """Runs `call`, which must raise linode_api4's ApiError; returns (status, errors)."""
    try:
        call()
    except ApiError as error:
        return error.status, error.json
    raise AssertionError("no ApiError")


def plain(rules):
    """Plain data of a rules object, whether the SDK hands it over as a dict or MappedObject."""
    return getattr(rules, "dict", rules)


@check("OAuth: one token with linodes, firewall and account scopes (read_write)")
def oauth_three_scopes():
    login = LinodeLoginClient(CLIENT_ID, CLIENT_SECRET, base_url=LOGIN_BASE)
    wanted = [
        OAuthScopes.Linodes.read_write,
        OAuthScopes.Firewalls.read_write,
        OAuthScopes.Account.read_write,
    ]
    url = login.generate_login_url(scopes=wanted)
    code = consent(url, ["linodes:read_write", "firewall:read_write", "account:read_write"])
    token, scopes, _expiry, _refresh = login.finish_oauth(code)
    assert set(wanted) <= set(scopes), scopes
    state["client2"] = LinodeClient(token, base_url=API_BASE)


@check("profile grants: none for the unrestricted user (204)")
def unrestricted_grants():
    profile = state["client2"].profile()
    assert profile.username == "sandbox-user", profile.username
    assert profile.restricted is False, profile.restricted
    assert profile.grants is None, profile.grants


@check("account settings: interfaces_for_new_linodes saved and read back")
def account_settings():
    client = state["client2"]
    settings = client.account.settings()
    before = {k: getattr(settings, k) for k in ("network_helper", "backups_enabled", "managed")}
    wanted = AccountSettingsInterfacesForNewLinodes.linode_default_but_legacy_config_allowed
    if settings.interfaces_for_new_linodes == wanted:
        wanted = AccountSettingsInterfacesForNewLinodes.legacy_config_default_but_linode_allowed
    settings.interfaces_for_new_linodes = wanted
    assert settings.save() is True
    again = client.account.settings()
    assert again.interfaces_for_new_linodes == wanted, again.interfaces_for_new_linodes
    assert {k: getattr(again, k) for k in before} == before, again._raw_json


@check("firewall create: inbound DROP with one ACCEPT rule for TCP 22,80, outbound ACCEPT")
def firewall_create():
    client = state["client2"]
    web = client.networking.firewall_create("sdk-check-web", rules=WEB_RULES, tags=["sdk-check"])
    assert isinstance(web, Firewall) and isinstance(web.id, int), web
    assert web.label == "sdk-check-web" and web.status == "enabled", (web.label, web.status)
    rules = plain(web.rules)
    assert rules["inbound_policy"] == "DROP" and rules["outbound_policy"] == "ACCEPT", rules
    assert [(r["action"], r["protocol"], r["ports"]) for r in rules["inbound"]] == [
        ("ACCEPT", "TCP", "22,80")
    ], rules["inbound"]
    # A second, empty-handed firewall becomes the account's default below.
    locked = client.networking.firewall_create("sdk-check-default", rules=LOCKED_RULES)
    labels = {f.label for f in client.networking.firewalls()}
    assert {"sdk-check-web", "sdk-check-default"} <= labels, labels
    state["web"], state["locked"] = web, locked


@check("firewall settings: one default set through the model (the SDK sends the others as null)")
def firewall_settings_one():
    # FirewallSettingsDefaultFirewallIDs has include_none_values: save() sends all four ids,
    # null for those the account has none of (a fresh account has none).
    client = state["client2"]
    settings = client.networking.firewall_settings()
    others = ("linode", "nodebalancer", "vpc_interface")
    before = {kind: getattr(settings.default_firewall_ids, kind) for kind in others}
    settings.default_firewall_ids.public_interface = state["locked"].id
    assert settings.save() is True
    again = client.networking.firewall_settings().default_firewall_ids
    assert again.public_interface == state["locked"].id, again
    assert {kind: getattr(again, kind) for kind in others} == before, (before, again)


@check("firewall settings: default firewall ids saved and read back")
def firewall_settings():
    client = state["client2"]
    settings = client.networking.firewall_settings()
    ids = settings.default_firewall_ids
    for kind in ("linode", "nodebalancer", "public_interface", "vpc_interface"):
        setattr(ids, kind, state["locked"].id)
    assert settings.save() is True
    again = client.networking.firewall_settings().default_firewall_ids
    got = {k: getattr(again, k) for k in ("linode", "nodebalancer", "public_interface", "vpc_interface")}
    assert set(got.values()) == {state["locked"].id}, got


@check("firewall rules: get_rules and update_rules through the model")
def firewall_rules():
    web = state["web"]
    rules = web.get_rules()
    assert rules["inbound_policy"] == "DROP", rules
    version = rules.get("version")
    wider = dict(WEB_RULES, inbound=[dict(WEB_RULES["inbound"][0], ports="22,80,443")])
    web.update_rules(wider)
    again = web.get_rules()
    assert again["inbound"][0]["ports"] == "22,80,443", again
    if version is not None:
        assert again["version"] == version + 1, (version, again.get("version"))
    web.update_rules(WEB_RULES)
    assert web.get_rules()["inbound"][0]["ports"] == "22,80"


@check("create a Linode: interface_generation linode, a public interface with the firewall, SSH key only")
def create_linode_interfaces():
    client = state["client2"]
    instance = client.linode.instance_create(
        "g6-nanode-1",
        "us-east",
        image="linode/debian12",
        label="sdk-check-interfaces",
        authorized_keys=[SSH_KEY],  # no root_pass: password-less since 2026-06
        interface_generation=InterfaceGeneration.LINODE,
        interfaces=[
            LinodeInterfaceOptions(
                firewall_id=state["web"].id,
                default_route=LinodeInterfaceDefaultRouteOptions(ipv4=True, ipv6=True),
                public=LinodeInterfacePublicOptions(),
            )
        ],
        disk_encryption=InstanceDiskEncryptionType.enabled,
        metadata=client.linode.build_instance_metadata(user_data="#cloud-config\n{}\n"),
    )
    assert isinstance(instance, Instance), instance
    assert instance.interface_generation == InterfaceGeneration.LINODE, instance.interface_generation
    assert instance.status == "provisioning", instance.status
    state["instance2"] = instance


@check("view the Linode: interface_generation linode, a public IPv4, user data, encrypted, running")
def view_linode_interfaces():
    client = state["client2"]
    deadline = time.monotonic() + 15
    while True:
        instance = client.load(Instance, state["instance2"].id)
        if instance.status == "running" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert instance.status == "running", instance.status
    assert instance.interface_generation == "linode", instance.interface_generation
    public = [ip for ip in instance.ipv4 if not ip.startswith(("10.", "192.168."))]
    assert public and public[0].split(".")[0] in ("192", "198", "203"), instance.ipv4
    assert instance.has_user_data is True, instance.has_user_data
    assert instance.disk_encryption == "enabled", instance.disk_encryption
    state["instance2"] = instance


@check("the Linode's firewalls: instance.firewalls()")
def linode_firewalls():
    firewalls = state["instance2"].firewalls()
    assert [f.id for f in firewalls] == [state["web"].id], [f.id for f in firewalls]
    assert firewalls[0].label == "sdk-check-web", firewalls[0].label  # lazy GET of the firewall


@check("the Linode's interfaces: instance.linode_interfaces")
def linode_interfaces():
    instance = state["instance2"]
    interfaces = instance.linode_interfaces
    assert interfaces is not None and len(interfaces) == 1, interfaces
    interface = interfaces[0]
    assert interface.public is not None and interface.vpc is None and interface.vlan is None
    assert interface.default_route.ipv4 is True and interface.default_route.ipv6 is True
    addresses = [(a.address, a.primary) for a in interface.public.ipv4.addresses]
    assert (instance.ipv4[0], True) in addresses, (addresses, instance.ipv4)
    assert interface.mac_address, interface.mac_address
    state["interface"] = interface


@check("the firewall's devices: the Linode's public interface")
def firewall_devices():
    web = state["client2"].load(Firewall, state["web"].id)
    entities = [device.entity for device in web.devices]
    entities = [getattr(e, "dict", e) for e in entities]
    assert [(e["type"], e["id"]) for e in entities] == [("linode_interface", state["interface"].id)], entities
    assert entities[0]["parent_entity"]["id"] == state["instance2"].id, entities


@check("a public interface without firewall_id gets the default public_interface firewall")
def default_firewall_applies():
    # LinodeInterfaceOptions always sends "firewall_id" (null when unset): null means "the
    # account's default firewall" (spec 4.234.0), set above to sdk-check-default.
    client = state["client2"]
    instance = client.linode.instance_create(
        "g6-nanode-1",
        "us-east",
        image="linode/debian12",
        label="sdk-check-default-fw",
        authorized_keys=[SSH_KEY],
        interface_generation=InterfaceGeneration.LINODE,
        interfaces=[LinodeInterfaceOptions(public=LinodeInterfacePublicOptions())],
    )
    try:
        assert [f.id for f in instance.firewalls()] == [state["locked"].id], instance.firewalls()
    finally:
        instance.delete()


@check("a default firewall cannot be deleted")
def default_firewall_undeletable():
    status, errors = api_error_status(state["locked"].delete)
    assert status == 400, (status, errors)


@check("delete the Linode, then its firewall")
def delete_linode_and_firewall():
    client = state["client2"]
    instance_id, firewall_id = state["instance2"].id, state["web"].id
    assert state["instance2"].delete() is True
    status, _ = api_error_status(lambda: client.load(Instance, instance_id))
    assert status == 404, status
    assert client.load(Firewall, firewall_id).delete() is True
    status, _ = api_error_status(lambda: client.load(Firewall, firewall_id))
    assert status == 404, status


@check("restricted IAM user: token, and a profile that says restricted")
def restricted_profile():
    login = LinodeLoginClient(CLIENT_ID, CLIENT_SECRET, base_url=LOGIN_BASE)
    url = login.generate_login_url(scopes=OAuthScopes.Linodes.read_write)
    code = consent(url, ["linodes:read_write"], username=RESTRICTED)
    token, _scopes, _expiry, _refresh = login.finish_oauth(code)
    state["restricted"] = client = LinodeClient(token, base_url=API_BASE)
    profile = client.profile()
    assert profile.username == RESTRICTED, profile.username
    assert profile.restricted is True, profile._raw_json


@check("restricted IAM user: profile grants without add_linodes")
def restricted_grants():
    grants = state["restricted"].profile().grants
    assert grants is not None, "no grants (204) for a restricted user"
    assert grants.global_grants.add_linodes is False, vars(grants.global_grants)


@check("restricted IAM user: create refused with 403")
def restricted_create():
    status, errors = api_error_status(
        lambda: state["restricted"].linode.instance_create(
            "g6-nanode-1", "us-east", image="linode/debian12", authorized_keys=[SSH_KEY]
        )
    )
    assert status == 403, (status, errors)


check.finish()
