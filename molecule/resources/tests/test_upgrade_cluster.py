"""upgrade.yml on a cluster with several app servers (the split scenario; it
runs after the install tests, sorted last): the migrations run once, on the
active app server, and the others switch to the new release after them; a
release whose migrations fail leaves every app server on the version it had."""

import hashlib
import json
import os

import pytest
import zulip

from lab_helpers import active_app, app_variables, get_host, hosts_in, run_playbook

APPS = hosts_in("zulip_app_frontend")
PASSIVE = [name for name in APPS if name != active_app()]
DIST = os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "tests", "release", "dist")
LOG = "/var/log/zulip/upgrade.log"
pytestmark = pytest.mark.skipif(not PASSIVE, reason="a cluster with several app servers")

# Runs on an app server: the version its own nginx serves (https, or http
# when the server is http_only behind a proxy).
SERVED = r"""
import json, ssl, sys, urllib.request
for scheme in ("https", "http"):
    try:
        req = urllib.request.Request(scheme + "://127.0.0.1/api/v1/server_settings", headers={"Host": sys.argv[1]})
        print(json.load(urllib.request.urlopen(req, context=ssl._create_unverified_context(), timeout=20))["zulip_version"])
        break
    except OSError:
        continue
"""


# A resumable upload through the active app server's nginx (Zulip 10+).
TUS = open(os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "molecule", "resources", "files", "tus_upload.py"),
           encoding="utf-8").read()


def tus_programs():
    return {name: get_host(name).run("supervisorctl status zulip-tus").stdout for name in APPS}


def served_versions():
    return {name: get_host(name).check_output("python3 -c %s %s", SERVED, app_variables(name)["zulip_external_host"])
            for name in APPS}


def current(name):
    return get_host(name).check_output("readlink -f /home/zulip/deployments/current")


def upgrade_log(name):
    log = get_host(name).file(LOG)
    return log.content_string if log.exists else ""  # written by the first upgrade


def upgrade(tarball):
    with open(tarball, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    return run_playbook("upgrade", "-e", json.dumps({"zulip_release": tarball, "zulip_release_sha256": digest}))


@pytest.fixture(scope="module")
def client(zuliprc):
    return zulip.Client(config_file=zuliprc["config_file"], cert_bundle=zuliprc["cert_bundle"])


@pytest.fixture(scope="module")
def sent():
    """Messages sent during these tests: id -> content."""
    return {}


def send(client, sent, content):
    reply = client.send_message({"type": "stream", "to": "general", "topic": "cluster upgrade", "content": content})
    assert reply["result"] == "success", reply
    sent[reply["id"]] = content


def assert_messages_intact(client, sent):
    reply = client.get_messages({"anchor": "newest", "num_before": 1000, "num_after": 0})
    assert reply["result"] == "success", reply
    stored = {m["id"]: m["content"] for m in reply["messages"]}
    for message_id, content in sent.items():
        assert content in stored.get(message_id, ""), f"message {message_id} lost"


def test_migrations_run_once_on_the_active_app_server_and_every_server_upgrades(client, sent):
    assert set(served_versions().values()) == {"9.4"}
    assert all("no such process" in status for status in tus_programs().values())
    send(client, sent, "before the cluster upgrade")
    start = {name: len(upgrade_log(name)) for name in APPS}

    rc, output = upgrade(f"{DIST}/zulip-server-10.0.tar.gz")

    assert rc == 0, output[-4000:]
    assert served_versions() == {name: "10.0" for name in APPS}
    logs = {name: upgrade_log(name)[start[name]:] for name in APPS}
    assert "9.4" in logs[active_app()] and "-> 10.0" in logs[active_app()]
    assert "migrations applied: " in logs[active_app()], logs[active_app()]
    for name in PASSIVE:
        assert "-> 10.0" in logs[name] and ": done" in logs[name], logs[name]
        assert "migrations applied" not in logs[name], logs[name]
    assert_messages_intact(client, sent)
    send(client, sent, "after the cluster upgrade")
    assert_messages_intact(client, sent)
    # 10.0's resumable uploads: its zulip-tus program on every app server,
    # added by the upgrade, and a file in two parts through nginx and tusd.
    assert all("RUNNING" in status for status in tus_programs().values()), tus_programs()
    content = os.urandom(3000) + b"resumable upload"
    out = json.loads(get_host(active_app()).check_output("python3 -c %s %s %s %s", TUS,
                                                         app_variables(active_app())["zulip_external_host"],
                                                         "tus test.bin", content.hex()))
    assert out["create"] == 201 and out["first"] == [204, str(len(content) // 2)] and out["last"] == 200, out
    assert out["download"] == [200, hashlib.sha256(content).hexdigest()], out


def test_a_failed_migration_leaves_every_app_server_on_its_version(client, sent):
    before = {name: current(name) for name in APPS}

    rc, output = upgrade(f"{DIST}/broken/zulip-server-10.2.tar.gz")

    assert rc != 0, output[-4000:]
    for name in APPS:
        assert f"The upgrade of {name} to Zulip 10.2 failed at the step 'migrations'" in output, output[-4000:]
    assert f"the active app server {active_app()} applies them, and they failed there" in output, output[-4000:]
    assert served_versions() == {name: "10.0" for name in APPS}
    assert {name: current(name) for name in APPS} == before
    assert_messages_intact(client, sent)
    send(client, sent, "after the broken release")
    assert_messages_intact(client, sent)
