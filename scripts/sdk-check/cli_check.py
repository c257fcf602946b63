"""Drives the unmodified linode-cli (PyPI, with its baked spec) against the standalone sandbox.

The CLI has no authorization-code flow of its own (its `configure` uses the implicit flow,
which the sandbox does not offer), so the token comes from sandbox_oauth.py, the same consent
page and code exchange as sdk_check.py. The CLI is configured only through its environment
(LINODE_CLI_TOKEN, LINODE_CLI_API_HOST/SCHEME/VERSION) and runs with a throw-away HOME and
XDG_CONFIG_HOME, `--no-defaults --suppress-warnings --json`: the user's own config is never
read or written. Each step is a check; the last line is "cli-check: N passed, M failed".
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse

from checks import Checks
from sandbox_oauth import RESTRICTED, token

ROOT = os.environ["SANDBOX_ROOT"]
CLI = os.environ.get("LINODE_CLI", os.path.join(os.path.dirname(sys.executable), "linode-cli"))
CLI_VERSION = os.environ.get("LINODE_CLI_VERSION", "5.69.0")
SSH_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFSImy86C8OGK+XnQ6WO4+xg3PAXJUoVhxIJJ94NIK62 "
    "cli-check@sandbox"
)
WEB_INBOUND = [
    {
        "action": "ACCEPT",
        "protocol": "TCP",
        "ports": "22,80",
        "addresses": {"ipv4": ["0.0.0.0/0"], "ipv6": ["::/0"]},
        "label": "ssh-and-http",
    }
]
DEFAULT_KINDS = ("linode", "nodebalancer", "public_interface", "vpc_interface")

state = {}
home = tempfile.TemporaryDirectory(prefix="cli-check-home-")


check = Checks("cli-check")


class CliError(Exception):
    pass


def cli(*args, access_token=None, expect_ok=True):
    """Runs `linode-cli --no-defaults --suppress-warnings --json ARGS` with the sandbox's token;
    returns (exit code, parsed JSON stdout or None, stderr)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home.name,
        "XDG_CONFIG_HOME": os.path.join(home.name, ".config"),
        "LINODE_CLI_TOKEN": access_token or state["token"],
        "LINODE_CLI_API_HOST": urllib.parse.urlparse(ROOT).netloc,
        "LINODE_CLI_API_SCHEME": "http",
        "LINODE_CLI_API_VERSION": "v4",
        "LANG": "C.UTF-8",
    }
    command = [CLI, "--no-defaults", "--suppress-warnings", "--json", *map(str, args)]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    data = None
    if run.stdout.strip():
        try:
            data = json.loads(run.stdout)
        except ValueError:
            data = run.stdout
    if expect_ok and run.returncode != 0:
        raise CliError(f"{' '.join(args[:2])}: exit {run.returncode}: {run.stderr.strip()} {run.stdout.strip()}")
    return run.returncode, data, run.stderr


def one(data):
    """The CLI prints a JSON array with one object per item; most commands print one."""
    assert isinstance(data, list) and len(data) == 1, data
    return data[0]


@check("cli: linode-cli version and its baked spec")
def version():
    run = subprocess.run([CLI, "--version"], capture_output=True, text=True, timeout=60,
                         env={"PATH": os.environ.get("PATH", ""), "HOME": home.name})
    assert f"linode-cli v{CLI_VERSION}" in run.stdout, run.stdout
    assert "spec version 4.229.1" in run.stdout, run.stdout


@check("cli: OAuth token (code flow via the consent page) with linodes, firewall and account scopes")
def oauth():
    access_token, scopes = token(["linodes:read_write", "firewall:read_write", "account:read_write"])
    assert len(scopes) == 3, scopes
    state["token"] = access_token
    _, data, _ = cli("profile", "view")
    assert one(data)["username"] == "sandbox-user", data


@check("cli: account settings-update --interfaces_for_new_linodes")
def account_settings():
    _, before, _ = cli("account", "settings")
    before = one(before)
    wanted = "linode_default_but_legacy_config_allowed"
    if before["interfaces_for_new_linodes"] == wanted:
        wanted = "legacy_config_default_but_linode_allowed"
    _, data, _ = cli("account", "settings-update", "--interfaces_for_new_linodes", wanted)
    assert one(data)["interfaces_for_new_linodes"] == wanted, data
    _, after, _ = cli("account", "settings")
    after = one(after)
    assert after["interfaces_for_new_linodes"] == wanted, after
    assert {k: v for k, v in after.items() if k != "interfaces_for_new_linodes"} == {
        k: v for k, v in before.items() if k != "interfaces_for_new_linodes"
    }, (before, after)


@check("cli: firewalls create (inbound DROP + ACCEPT TCP 22,80, outbound ACCEPT)")
def firewall_create():
    _, data, _ = cli(
        "firewalls", "create", "--label", "cli-check-web",
        "--rules.inbound_policy", "DROP", "--rules.outbound_policy", "ACCEPT",
        "--rules.inbound", json.dumps(WEB_INBOUND), "--tags", "cli-check",
    )
    web = one(data)
    assert web["label"] == "cli-check-web" and web["status"] == "enabled", web
    rules = web["rules"]
    assert (rules["inbound_policy"], rules["outbound_policy"]) == ("DROP", "ACCEPT"), rules
    assert [(r["action"], r["protocol"], r["ports"]) for r in rules["inbound"]] == [
        ("ACCEPT", "TCP", "22,80")
    ], rules
    assert web["tags"] == ["cli-check"], web
    _, data, _ = cli(
        "firewalls", "create", "--label", "cli-check-default",
        "--rules.inbound_policy", "DROP", "--rules.outbound_policy", "ACCEPT",
    )
    state["web"], state["default"] = web["id"], one(data)["id"]
    _, listed, _ = cli("firewalls", "list")
    assert {"cli-check-web", "cli-check-default"} <= {f["label"] for f in listed}, listed


@check("cli: firewalls firewall-settings-update (default firewall ids)")
def firewall_settings():
    args = []
    for kind in DEFAULT_KINDS:
        args += [f"--default_firewall_ids.{kind}", state["default"]]
    _, data, _ = cli("firewalls", "firewall-settings-update", *args)
    assert one(data)["default_firewall_ids"] == {k: state["default"] for k in DEFAULT_KINDS}, data
    _, data, _ = cli("firewalls", "firewall-settings-list")
    assert one(data)["default_firewall_ids"] == {k: state["default"] for k in DEFAULT_KINDS}, data


@check("cli: firewalls rules-list and rules-update")
def firewall_rules():
    _, data, _ = cli("firewalls", "rules-list", state["web"])
    rules = one(data)
    assert rules["inbound_policy"] == "DROP" and rules["inbound"][0]["ports"] == "22,80", rules
    # Spec 4.234.0 requires both policies in a rules update (schemas/added-put-firewall-rules);
    # linode-cli 5.69's help, from spec 4.229.1, does not mark them required.
    policies = ["--inbound_policy", "DROP", "--outbound_policy", "ACCEPT"]
    wider = [dict(WEB_INBOUND[0], ports="22,80,443")]
    _, data, _ = cli("firewalls", "rules-update", state["web"], "--inbound", json.dumps(wider), *policies)
    assert one(data)["inbound"][0]["ports"] == "22,80,443", data
    assert one(data)["version"] == rules["version"] + 1, (rules, data)
    _, data, _ = cli("firewalls", "rules-update", state["web"], "--inbound", json.dumps(WEB_INBOUND), *policies)
    assert one(data)["inbound"][0]["ports"] == "22,80", data


@check("cli: linodes create --interface_generation linode with a public interface and the firewall")
def create():
    interfaces = [
        {"public": {}, "default_route": {"ipv4": True, "ipv6": True}, "firewall_id": state["web"]}
    ]
    _, data, _ = cli(
        "linodes", "create", "--type", "g6-nanode-1", "--region", "us-east",
        "--image", "linode/debian12", "--label", "cli-check-interfaces",
        "--authorized_keys", SSH_KEY,
        "--interface_generation", "linode", "--interfaces", json.dumps(interfaces),
        "--disk_encryption", "enabled",
        "--metadata.user_data", base64.b64encode(b"#cloud-config\n{}\n").decode(),
    )
    linode = one(data)
    assert linode["interface_generation"] == "linode", linode
    assert linode["status"] == "provisioning", linode["status"]
    assert linode["has_user_data"] is True and linode["disk_encryption"] == "enabled", linode
    state["linode"] = linode["id"]


@check("cli: linodes view (interface_generation linode, a public IPv4, running)")
def view():
    deadline = time.monotonic() + 15
    while True:
        _, data, _ = cli("linodes", "view", state["linode"])
        linode = one(data)
        if linode["status"] == "running" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert linode["status"] == "running", linode["status"]
    assert linode["interface_generation"] == "linode", linode
    assert linode["ipv4"] and linode["ipv4"][0].split(".")[0] in ("192", "198", "203"), linode["ipv4"]
    state["ipv4"] = linode["ipv4"][0]


@check("cli: linodes firewalls-list")
def firewalls_list():
    _, data, _ = cli("linodes", "firewalls-list", state["linode"])
    assert [f["id"] for f in data] == [state["web"]], data
    entities = data[0]["entities"]
    assert [(e["type"], e["parent_entity"]["id"]) for e in entities] == [
        ("linode_interface", state["linode"])
    ], entities


@check("cli: linodes interfaces-list (one public interface holding the IPv4)")
def interfaces_list():
    # linode-cli prints the reply's `interfaces` array item by item, each under "interfaces".
    _, data, _ = cli("linodes", "interfaces-list", state["linode"])
    interfaces = [row["interfaces"] if "interfaces" in row else row for row in data]
    assert len(interfaces) == 1, data
    public = interfaces[0]["public"]
    assert {"address": state["ipv4"], "primary": True} in public["ipv4"]["addresses"], public
    state["interface"] = interfaces[0]["id"]


@check("cli: firewalls devices-list (the Linode's interface)")
def devices_list():
    _, data, _ = cli("firewalls", "devices-list", state["web"])
    assert [(d["entity"]["type"], d["entity"]["id"]) for d in data] == [
        ("linode_interface", state["interface"])
    ], data


@check("cli: firewalls delete refuses the default firewall (400)")
def delete_default():
    code, _, stderr = cli("firewalls", "delete", state["default"], expect_ok=False)
    assert code != 0 and "Request failed: 400" in stderr, (code, stderr)


@check("cli: linodes delete, then firewalls delete")
def delete():
    cli("linodes", "delete", state["linode"])
    code, _, stderr = cli("linodes", "view", state["linode"], expect_ok=False)
    assert code != 0 and "Request failed: 404" in stderr, (code, stderr)
    cli("firewalls", "delete", state["web"])
    code, _, stderr = cli("firewalls", "view", state["web"], expect_ok=False)
    assert code != 0 and "Request failed: 404" in stderr, (code, stderr)


@check("cli: a restricted IAM user's linodes create is refused (403)")
def restricted():
    access_token, _ = token(["linodes:read_write"], username=RESTRICTED)
    code, _, stderr = cli(
        "linodes", "create", "--type", "g6-nanode-1", "--region", "us-east",
        "--image", "linode/debian12", "--authorized_keys", SSH_KEY,
        access_token=access_token, expect_ok=False,
    )
    assert code != 0 and "Request failed: 403" in stderr, (code, stderr)


home.cleanup()
check.finish()
