"""The upgrade story, after converge installed version A (9.4) and the install
tests passed: upgrade from tarballs, from an https URL and from a git tag,
a refused then forced downgrade, refused rollbacks and wrong checksums, a working rollback, the
lock, and broken releases (a failing migration, an application
that cannot start) rolled back automatically. Every step runs the operator's
playbook against the molecule inventory and checks what a Zulip admin relies
on: the version served through nginx, the database's migrations and every
message sent before."""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import time

import pytest
import testinfra
import testinfra.utils.ansible_runner

from release_server import ReleaseServer

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
PROJECT = os.environ["MOLECULE_PROJECT_DIRECTORY"]
DIST = os.path.join(PROJECT, "tests", "release", "dist")
RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
NAME = RUNNER.get_hosts("zulip_app_frontend")[0]
SITE = RUNNER.get_variables(NAME)["zulip_external_host"]
DEPLOYMENTS = "/home/zulip/deployments"
LOG = "/var/log/zulip/upgrade.log"
HOOK_LOG = "/var/lib/zulip-lab/hooks.log"
ARCHIVES = "/home/zulip/archives"
# The release server's CA, trusted by the host while the tests use it.
RELEASE_CA = "/usr/local/share/ca-certificates/zulip-lab-release-ca.crt"

# Runs inside the container: one REST call through nginx as the bot.
API = r"""
import base64, configparser, json, ssl, sys, urllib.error, urllib.parse, urllib.request
site, method, path = sys.argv[1:4]
data = json.loads(sys.argv[4]) if len(sys.argv) > 4 else None
rc = configparser.ConfigParser()
rc.read("/home/zulip/credentials/ops.zuliprc")
token = base64.b64encode(("%s:%s" % (rc["api"]["email"], rc["api"]["key"])).encode()).decode()
if method == "GET" and data:
    path += "?" + urllib.parse.urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()})
    data = None
body = urllib.parse.urlencode(data).encode() if data else None
req = urllib.request.Request("https://127.0.0.1" + path, data=body, method=method,
                             headers={"Host": site, "Authorization": "Basic " + token})
try:
    resp = urllib.request.urlopen(req, context=ssl._create_unverified_context(), timeout=20)
    print(json.dumps({"status": resp.status, "body": resp.read().decode()}))
except urllib.error.HTTPError as e:
    print(json.dumps({"status": e.code, "body": e.read().decode()}))
"""


# Runs inside the container: GET a path through nginx (no redirects followed);
# prints the status, the Location and the body's sha256 and text.
FETCH = r"""
import hashlib, json, ssl, sys, urllib.error, urllib.request
site, path = sys.argv[1:3]
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None
opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=ssl._create_unverified_context()))
try:
    resp = opener.open(urllib.request.Request("https://127.0.0.1" + path, headers={"Host": site}), timeout=20)
except urllib.error.HTTPError as e:
    resp = e
body = resp.read()
print(json.dumps({"status": resp.status, "location": resp.headers.get("Location"),
                  "sha256": hashlib.sha256(body).hexdigest(), "text": body.decode("utf-8", "replace")}))
"""


@pytest.fixture(scope="module")
def host():
    return testinfra.get_host(f"ansible://{NAME}", ansible_inventory=INVENTORY)


@pytest.fixture(scope="module")
def sent():
    """Messages sent so far: id -> content. Every step checks all of them."""
    return {}


@pytest.fixture(scope="module")
def release_server(host, tmp_path_factory):
    """The 10.1 tarball published over HTTPS from the controller, at the
    address the host reaches it by (its docker network's gateway), with a
    throwaway CA the host trusts (system store) until the tests end."""
    gateway = subprocess.check_output(
        ["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.Gateway}} {{end}}", NAME], text=True).split()[0]
    published = tmp_path_factory.mktemp("releases")
    shutil.copy(f"{DIST}/zulip-server-10.1.tar.gz", published)
    server = ReleaseServer(gateway, published)
    try:
        host.check_output("echo %s | base64 -d > %s && update-ca-certificates",
                          base64.b64encode(server.ca_pem).decode(), RELEASE_CA)
        yield server
    finally:
        server.stop()
        host.run(f"rm -f {RELEASE_CA} && update-ca-certificates --fresh")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# One line per result, so messages can be searched whole.
ENV = {**os.environ, "ANSIBLE_CALLBACK_RESULT_FORMAT": "json", "ANSIBLE_NOCOLOR": "1"}


def playbook(name, *options, **extra):
    cmd = ["ansible-playbook", "-i", INVENTORY, os.path.join(PROJECT, "playbooks", f"{name}.yml"), *options]
    if extra:
        cmd += ["-e", json.dumps(extra)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=PROJECT, env=ENV, check=False)


TUS = open(os.path.join(PROJECT, "molecule", "resources", "files", "tus_upload.py"), encoding="utf-8").read()


def assert_resumable_upload(host):
    """Zulip 10's resumable upload: tusd behind nginx takes a file in two parts, Django serves it back."""
    content = os.urandom(3000) + b"resumable upload"
    out = json.loads(host.check_output("python3 -c %s %s %s %s", TUS, SITE, "tus test.bin", content.hex()))
    assert out["create"] == 201 and out["first"] == [204, str(len(content) // 2)] and out["last"] == 200, out
    assert out["download"] == [200, hashlib.sha256(content).hexdigest()], out


def tus_program(host):
    return host.run("supervisorctl status zulip-tus").stdout


def api(host, method, path, data=None):
    args = [SITE, method, path] + ([json.dumps(data)] if data is not None else [])
    out = host.check_output("python3 -c %s " + " ".join(["%s"] * len(args)), API, *args)
    reply = json.loads(out)
    return reply["status"], (json.loads(reply["body"]) if reply["body"].startswith("{") else reply["body"])


def fetch(host, path):
    return json.loads(host.check_output("python3 -c %s %s %s", FETCH, SITE, path))


def page_assets(host):
    """The static files the served page names (/ redirects to /login/), as paths."""
    home = fetch(host, "/")
    assert home["status"] == 302 and home["location"] == "/login/", home
    page = fetch(host, "/login/")
    assert page["status"] == 200, page
    urls = re.findall(r'(?:src|href)="([^"]+)"', page["text"])
    assert urls and all(url.startswith(f"https://{SITE}/static/") for url in urls), urls
    return [url[len(f"https://{SITE}"):] for url in urls]


def assert_assets_served(host, paths):
    for path in paths:
        reply = fetch(host, path)
        assert reply["status"] == 200, f"{path}: {reply['status']}"


def served_version(host):
    status, body = api(host, "GET", "/api/v1/server_settings")
    assert status == 200, body
    return body["zulip_version"]


def send(host, sent, content):
    status, body = api(host, "POST", "/api/v1/messages",
                       {"type": "stream", "to": "general", "topic": "upgrade", "content": content})
    assert status == 200 and body["result"] == "success", body
    sent[body["id"]] = content


def assert_math_rendered(host):
    """The new release's zulip-katex renders math, on the Node.js its
    install-node pins (which finds it installed: the lab has no internet)."""
    host.check_output(f"{DEPLOYMENTS}/current/scripts/lib/install-node")
    status, body = api(host, "POST", "/api/v1/messages",
                       {"type": "stream", "to": "general", "topic": "upgrade", "content": "$$e^{i\\pi}$$"})
    assert status == 200 and body["result"] == "success", body
    status, got = api(host, "GET", "/api/v1/messages", {"anchor": body["id"], "num_before": 0, "num_after": 0})
    assert status == 200, got
    html = next(m["content"] for m in got["messages"] if m["id"] == body["id"])
    assert 'class="katex"' in html and "tex-error" not in html, html


def assert_messages_intact(host, sent):
    status, body = api(host, "GET", "/api/v1/messages", {"anchor": "newest", "num_before": 1000, "num_after": 0})
    assert status == 200, body
    stored = {m["id"]: m["content"] for m in body["messages"]}
    for message_id, content in sent.items():
        assert message_id in stored, f"message {message_id} lost"
        assert content in stored[message_id]


def link(host, name):
    return host.check_output(f"readlink -f {DEPLOYMENTS}/{name} || true")


def applied_migrations(host):
    out = host.check_output(f"cd {DEPLOYMENTS}/current && runuser -u zulip -- ./manage.py showmigrations")
    return [line.split("]", 1)[1].strip() for line in out.splitlines() if line.strip().startswith("[X]")]


def deployments(host):
    out = host.check_output(f"find {DEPLOYMENTS} -mindepth 1 -maxdepth 1 -type d -regex '.*/[0-9-]*'")
    return sorted(out.split())


def assert_ok(result):
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def assert_failed(result, *needles):
    assert result.returncode != 0, result.stdout[-3000:]
    output = result.stdout + result.stderr  # ansible-core 2.19 reports errors on stderr
    for needle in needles:
        assert needle in output, f"{needle!r} not in: " + output[-4000:]


@pytest.fixture(scope="module")
def old_assets():
    """The asset paths of pages served before the upgrades."""
    return []


def test_version_a_serves_and_takes_messages(host, sent, old_assets):
    assert served_version(host) == "9.4"
    assert "no such process" in tus_program(host)  # 9.4 has no resumable uploads
    old_assets.extend(page_assets(host))
    assert_assets_served(host, old_assets)
    for n in range(3):
        send(host, sent, f"before the upgrade #{n}")
    assert_messages_intact(host, sent)


def test_check_mode_previews_an_upgrade_without_changing_anything(host):
    before = (link(host, "current"), deployments(host))
    result = playbook("upgrade", "--check", "--diff", zulip_release=f"{DIST}/zulip-server-10.0.tar.gz")
    assert_ok(result)
    assert (link(host, "current"), deployments(host)) == before
    assert served_version(host) == "9.4"


def test_upgrade_to_b_from_tarball_crosses_the_squash_migrates_and_keeps_messages(host, sent, old_assets):
    """9.4 -> 10.0: 10.0 replaces 9.4's migrations with a squash (as Zulip 10's
    0001_squashed_0569), which its check-database-compatibility accepts."""
    # Deploy hooks record what they are told (Zulip's run_hooks.py contract).
    host.check_output("mkdir -p /etc/zulip/hooks/pre-deploy.d /etc/zulip/hooks/post-deploy.d /var/lib/zulip-lab"
                      f" && touch {HOOK_LOG} && chmod 0666 {HOOK_LOG}")
    for kind in ("pre", "post"):
        path = f"/etc/zulip/hooks/{kind}-deploy.d/lab.hook"
        host.check_output(f"printf '#!/bin/sh\\necho {kind} $ZULIP_OLD_VERSION $ZULIP_NEW_VERSION $(id -un) $PWD >> {HOOK_LOG}\\n'"
                          f" > {path} && chmod 0755 {path}")
    old = link(host, "current")
    assert "0004_message_edit_history" not in applied_migrations(host)
    assert "0003_realm_deactivated" in applied_migrations(host)

    assert_ok(playbook("upgrade", zulip_release=f"{DIST}/zulip-server-10.0.tar.gz"))

    assert served_version(host) == "10.0"
    applied = applied_migrations(host)
    assert "0001_squashed_0003 (3 squashed migrations)" in applied and "0004_message_edit_history" in applied
    new = link(host, "current")
    assert link(host, "last") == old
    assert not host.file(f"{DEPLOYMENTS}/next").exists
    assert not host.file(f"{DEPLOYMENTS}/lock").exists
    assert_messages_intact(host, sent)
    send(host, sent, "after the upgrade to 10.0")
    log = host.file(LOG).content_string
    assert f"upgrade on {NAME}: 9.4 ({old}) -> 10.0" in log and "done, migrations applied: zerver.0004" in log
    assert host.file(HOOK_LOG).content_string.splitlines() == [f"pre 9.4 10.0 zulip {new}", f"post 9.4 10.0 zulip {new}"]
    # The new page's assets, and the old page's still (a browser that loaded
    # it before the switch keeps asking for them).
    new_assets = page_assets(host)
    assert not set(new_assets) & set(old_assets)
    assert_assets_served(host, new_assets + old_assets)
    # The secret 10.x adds (its generate_secrets.py), next to the old ones.
    assert "double_10x_key" in host.file("/etc/zulip/zulip-secrets.conf").content_string
    # The program 10.x adds (zulip-tus), which its restart-server restarts.
    assert "RUNNING" in tus_program(host)
    assert_resumable_upload(host)
    # Its Node.js (another version than 9.4's) runs the KaTeX server.
    assert_math_rendered(host)
    # Browsers are told to reload (reload-clients, in the background, after
    # the post-deploy hooks): Tornado logs the request.
    deadline = time.monotonic() + 30
    while "reload events requested" not in host.file("/var/log/zulip/tornado.log").content_string:
        assert time.monotonic() < deadline, "Tornado was not asked to reload the clients"
        time.sleep(0.5)


def test_install_with_the_release_the_upgrade_replaced_is_refused(host):
    """The inventory still names 9.4: install.yml must not run it on 10.0's schema."""
    current = link(host, "current")
    node = host.check_output("node --version")
    result = playbook("install")
    assert_failed(result, "zulip_release=", "does not know the database's schema", "zerver - 0004_message_edit_history")
    assert link(host, "current") == current
    assert served_version(host) == "10.0"
    # The refused 9.4 changed no program of the running 10.0, nor its Node.js.
    assert "RUNNING" in tus_program(host)
    assert host.check_output("node --version") == node


def test_same_release_again_changes_nothing(host):
    result = playbook("upgrade", zulip_release=f"{DIST}/zulip-server-10.0.tar.gz")
    assert_ok(result)
    assert "changed=0" in result.stdout and "failed=0" in result.stdout


def test_rollback_refused_when_the_schema_moved_past_the_old_version(host, sent):
    result = playbook("rollback")
    assert_failed(result, "Refusing to roll", "zerver - 0004_message_edit_history")
    assert served_version(host) == "10.0"
    assert not host.file(f"{DEPLOYMENTS}/lock").exists


def test_forced_rollback_runs_the_old_code_and_a_rollback_returns(host, sent):
    current, last = link(host, "current"), link(host, "last")

    assert_ok(playbook("rollback", zulip_upgrade_force=True))

    assert served_version(host) == "9.4"
    assert "no such process" in tus_program(host)  # gone with the release that ran it
    assert (link(host, "current"), link(host, "last")) == (last, current)
    assert_messages_intact(host, sent)
    assert f"rollback on {NAME}: 10.0 ({current}) -> 9.4 ({last}): done" in host.file(LOG).content_string

    # Back: 10.0 knows the schema, so no force is needed.
    assert_ok(playbook("rollback"))
    assert served_version(host) == "10.0"
    assert "RUNNING" in tus_program(host)
    assert (link(host, "current"), link(host, "last")) == (current, last)
    assert_messages_intact(host, sent)


def test_downgrade_refused_unless_forced(host, sent):
    assert_failed(playbook("upgrade", zulip_release=f"{DIST}/zulip-server-9.4.tar.gz"), "Refusing to downgrade")
    assert served_version(host) == "10.0"
    current = link(host, "current")

    # Forced: 9.4 runs on 10.0's schema (its migrate ignores what it does not know).
    assert_ok(playbook("upgrade", zulip_release=f"{DIST}/zulip-server-9.4.tar.gz", zulip_upgrade_allow_downgrade=True))

    assert served_version(host) == "9.4"
    assert link(host, "last") == current
    assert_messages_intact(host, sent)
    send(host, sent, "after the forced downgrade")
    assert f"upgrade on {NAME}: 10.0 ({current}) -> 9.4 (" in host.file(LOG).content_string


def test_second_upgrade_fails_while_the_lock_is_held(host):
    host.check_output(f"mkdir {DEPLOYMENTS}/lock")
    try:
        assert_failed(playbook("upgrade", zulip_release=f"{DIST}/zulip-server-10.1.tar.gz"),
                      "Another upgrade or rollback is running")
        assert served_version(host) == "9.4"
        assert host.file(f"{DEPLOYMENTS}/lock").is_directory
    finally:
        host.check_output(f"rmdir {DEPLOYMENTS}/lock")


def test_release_url_with_a_wrong_sha256_is_refused(host, release_server):
    before = (link(host, "current"), link(host, "last"), link(host, "next"), deployments(host))
    requests = len(release_server.requests)

    result = playbook("upgrade", zulip_release=release_server.url("zulip-server-10.1.tar.gz"),
                      zulip_release_sha256="0" * 64)

    assert_failed(result, "did not match " + "0" * 64)
    assert release_server.requests[requests:] == ["/zulip-server-10.1.tar.gz"]  # fetched, then refused
    assert served_version(host) == "9.4"
    assert (link(host, "current"), link(host, "last"), link(host, "next"), deployments(host)) == before
    assert not host.file(f"{ARCHIVES}/zulip-server-10.1.tar.gz").exists
    assert not host.file(f"{DEPLOYMENTS}/lock").exists


# From the forced downgrade's 9.4: the database already has 10.1's schema.
# No rollback after it: the forced rollback test covers a plain rollback, and
# the git tag upgrade below starts from this 10.1.
def test_upgrade_from_an_https_url_without_migrations(host, sent, release_server):
    master = host.check_output("supervisorctl pid zulip-django")
    requests = len(release_server.requests)
    digest = sha256(f"{DIST}/zulip-server-10.1.tar.gz")

    assert_ok(playbook("upgrade", zulip_release=release_server.url("zulip-server-10.1.tar.gz"),
                       zulip_release_sha256=digest))

    assert release_server.requests[requests:] == ["/zulip-server-10.1.tar.gz"]
    assert host.file(f"{ARCHIVES}/zulip-server-10.1.tar.gz").sha256sum == digest
    assert served_version(host) == "10.1"
    # rolling_restart (the collection's default): restart-server chain-reloaded
    # the workers; the uWSGI master, and the socket nginx talks to, stayed up.
    assert host.check_output("supervisorctl pid zulip-django") == master
    assert host.file("/var/lib/zulip/django-workers.ready").exists
    assert_messages_intact(host, sent)


def test_upgrade_from_a_git_tag_builds_static_assets(host, sent, tmp_path):
    # The lab's git remote: the release double's bare repository, copied in
    # (owned by zulip, like a mirror the admin set up).
    archive = tmp_path / "lab-zulip.git.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(f"{DIST}/zulip.git", arcname="lab-zulip.git")
    subprocess.run(["ansible", "-i", INVENTORY, NAME, "-m", "ansible.builtin.unarchive",
                    "-a", f"src={archive} dest=/srv owner=zulip group=zulip"],
                   check=True, capture_output=True, cwd=PROJECT, env=ENV)
    oldest = deployments(host)[0]

    assert_ok(playbook("upgrade", zulip_release="10.1", zulip_upgrade_git_repo_url="/srv/lab-zulip.git"))

    assert served_version(host) == "10.1"
    current = link(host, "current")
    assert host.file(f"{current}/.zulip-git-commit").exists
    # Built by the checkout's tools/update-prod-static, served by nginx.
    assert_assets_served(host, page_assets(host))
    assert_math_rendered(host)
    assert_messages_intact(host, sent)
    # Purge: 3 newest kept (9.4's deployment, the oldest, is gone).
    assert oldest not in deployments(host) and len(deployments(host)) == 3


# A release whose migration fails (broken/); 10.2 with 10.1's schema whose
# application cannot be loaded (unstartable/): its restart-server refuses to
# run after the switch; the same 10.2 that starts but fails its health check
# (unhealthy/, given 10 s). Each time the old deployment is current again and
# serves, and the log says which step failed (and the release's own error).
@pytest.mark.parametrize(("variant", "step", "restart_timeout", "said", "logged"), [
    ("broken", "migrations", 300, [], []),
    # uWSGI cannot load it, so restart-server waits for workers that never
    # become ready: zulip_upgrade_restart_timeout (10 s here) ends the wait.
    ("unstartable", "restart", 10, ["did not finish within 10 s"], ["did not finish within 10 s"]),
    # It starts (given the default restart time: a loaded CI machine needs
    # more than 10 s), then its health check fails.
    ("unhealthy", "health check", 300, [], ["fails its health check on purpose"]),
])
def test_failed_release_is_rolled_back_and_the_old_version_keeps_serving(host, sent, variant, step, restart_timeout, said,
                                                                         logged):
    before = (link(host, "current"), link(host, "last"))
    log_start = len(host.file(LOG).content_string)

    result = playbook("upgrade", zulip_release=f"{DIST}/{variant}/zulip-server-10.2.tar.gz", zulip_upgrade_health_timeout=10,
                      zulip_upgrade_restart_timeout=restart_timeout)

    assert_failed(result, f"failed at the step '{step}'", LOG, "rolled back", *said)
    assert served_version(host) == "10.1"
    assert (link(host, "current"), link(host, "last")) == before
    assert_messages_intact(host, sent)
    send(host, sent, f"after the {variant} release")
    assert_messages_intact(host, sent)
    log = host.file(LOG).content_string[log_start:]
    assert "-> 10.2" in log and f"FAILED at {step}" in log and f"rolled back after a failure at {step}" in log
    assert all(needle in log for needle in logged)
    assert not host.file(f"{DEPLOYMENTS}/lock").exists
    # Every program of the old release runs again: a rollback restart cut
    # short by the upgrade's restart timeout used to leave workers stopped.
    status = host.run("supervisorctl status")
    assert status.stdout.strip() and all(" RUNNING " in line for line in status.stdout.splitlines()), status.stdout
