"""Zulip's outgoing HTTP through Smokescreen, the images in messages through
Camo, and the third-party downloads they are built from
(zulip.server.zulip_external_dep)."""

import hashlib
import hmac
import json
import random
import re
import time

import pytest
import requests
import zulip

from lab_helpers import active_app, get_host, hosts_in, secret

APPS = hosts_in("zulip_app_frontend")
LOG = "/var/log/zulip/smokescreen.log"


def decisions(target):
    """Smokescreen's logged decisions about target (host:port), on every app server."""
    found = []
    for name in APPS:
        for line in get_host(name).run(f"cat {LOG}").stdout.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("requested_host") == target:
                found.append(entry)
    return found


def content_of(client, message_id):
    got = client.get_messages({"anchor": message_id, "num_before": 0, "num_after": 0})
    assert got["result"] == "success", got
    return got["messages"][0]["content"]


def send_link(zuliprc, url):
    client = zulip.Client(config_file=zuliprc["config_file"], cert_bundle=zuliprc["cert_bundle"])
    sent = client.send_message({"type": "stream", "to": "general", "topic": "links", "content": f"see {url}"})
    assert sent["result"] == "success", sent
    return client, sent["id"]


def wait_for_decision(target, timeout=30):
    deadline = time.monotonic() + timeout
    while not (found := decisions(target)):
        assert time.monotonic() < deadline, f"Smokescreen logged no decision about {target} within {timeout} s"
        time.sleep(0.5)
    return found


@pytest.mark.parametrize("name", APPS)
def test_zulips_programs_and_cron_jobs_use_the_local_smokescreen(name):
    host = get_host(name)
    assert " RUNNING " in host.run("supervisorctl status smokescreen").stdout
    # What the queue workers run with, read from a running worker.
    pid = host.check_output("pgrep -u zulip -f 'manage.py process_queue' | head -1")
    environ = host.check_output(f"tr '\\0' '\\n' < /proc/{pid}/environ")
    assert "HTTP_proxy=http://localhost:4750" in environ.splitlines()
    assert "HTTPS_proxy=http://localhost:4750" in environ.splitlines()
    # Zulip's cron jobs (the files that run manage.py) set it too.
    jobs = host.check_output("grep -l manage.py /etc/cron.d/*").split()
    assert jobs and not host.run(f"grep -L '^HTTP_proxy=http://localhost:4750$' {' '.join(jobs)}").stdout.strip()


def test_a_link_to_the_app_servers_own_loopback_is_refused_by_smokescreen(zuliprc):
    """A message linking to the server itself (SSRF): the link-preview worker's
    request goes to Smokescreen, which refuses it, and no preview appears
    (nginx listens on every loopback address: without the proxy it would answer)."""
    target = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}:80"
    client, message_id = send_link(zuliprc, f"http://{target}/")
    found = wait_for_decision(target)
    assert all(not entry["allow"] and entry["decision_reason"].startswith("Deny") for entry in found), found
    assert "message_embed" not in content_of(client, message_id)


def test_an_internal_host_is_refused_unless_smokescreen_allows_it(zuliprc):
    """The database server is internal: refused. zulip-services is allowed
    by the split scenario's zulip_app_frontend_smokescreen_allow_addresses:
    its page is previewed."""
    if "zulip-services" not in hosts_in("all"):
        pytest.skip("this scenario has no zulip-services host")
    database = hosts_in("zulip_postgresql")[0]
    target = f"{database}:{random.randint(20000, 60000)}"
    client, refused_id = send_link(zuliprc, f"http://{target}/")
    found = wait_for_decision(target)
    assert [entry["decision_reason"] for entry in found] == ["Deny: Private Range"] * len(found), found

    page = f"http://zulip-services:8080/preview.html?v={random.randint(0, 10**9)}"
    client, allowed_id = send_link(zuliprc, page)
    deadline = time.monotonic() + 30
    while "Lab status page" not in content_of(client, allowed_id):
        assert time.monotonic() < deadline, "the allowed page was not previewed within 30 s"
        time.sleep(0.5)
    assert any(entry["allow"] and entry["decision_reason"] == "Allow: User Configured"
               for entry in decisions("zulip-services:8080"))
    assert "message_embed" not in content_of(client, refused_id)


def test_a_download_with_the_wrong_sha256_is_refused_and_nothing_is_switched():
    """zulip.server.zulip_external_dep on an app server, with the stand-in Go
    under a new version: a wrong checksum installs nothing and moves no link;
    the version install.yml put in place stays."""
    host = get_host(APPS[0])
    https = "zulip-services" in hosts_in("all")
    source = ({"url": "https://zulip-services:8443/go1.25.3.linux-amd64.tar.gz"} if https
              else {"src": "/var/cache/zulip-lab-deps/go1.25.3.linux-amd64.tar.gz"})
    args = {"deps": [dict(source, name="golang", version="9.9.9", sha256="0" * 64, tarball_prefix="go",
                          links=[{"path": "/usr/local/bin/lab-go", "target": "bin/go"}])]}
    if https:
        args["ca_file"] = "/etc/zulip-lab-ca.crt"
    before = host.check_output("ls /srv")
    # testinfra's ad-hoc call under ansible-core 2.19 returns a module's
    # failure without its "failed" key: the message is the module's refusal.
    result = host.ansible("zulip.server.zulip_external_dep", json.dumps(args), check=False, become=True)
    assert not result.get("changed"), result
    assert "has SHA-256" in result["msg"] and "nothing switched" in result["msg"], result
    assert host.check_output("ls /srv") == before
    assert not host.file("/usr/local/bin/lab-go").exists
    assert host.file("/srv/zulip-golang-1.25.3/bin/go").is_file


PNG = "lab-image.png"
# A 1x1 PNG (the split scenario's zulip-services serves the same image).
PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


def camo_path(content):
    """The /external_content/ URL of the message's inline image."""
    found = re.search(r'<img src="(/external_content/[0-9a-f]{40}/[0-9a-f]+)">', content)
    assert found, f"no image through Camo in {content!r}"
    return found.group(1)


def from_site(zuliprc, path):
    return requests.get(f"https://{zuliprc['site_host']}{path}", verify=zuliprc["cert_bundle"], timeout=30)


@pytest.fixture
def internal_image_server():
    """A web server on the active app server's own address, serving an image:
    reachable from that host, but internal."""
    host = get_host(active_app())
    address = host.check_output("hostname -I").split()[0]
    port = random.randint(20000, 60000)
    try:
        host.run_expect([0], f"mkdir -p /tmp/camo-lab && echo {PNG_BASE64} | base64 -d >/tmp/camo-lab/x.png")
        host.run_expect([0], f"setsid python3 -m http.server {port} --bind {address} --directory /tmp/camo-lab "
                             "</dev/null >/tmp/camo-lab.log 2>&1 & echo $! >/tmp/camo-lab.pid")
        deadline = time.monotonic() + 10
        while host.run(f"curl -fsS -o /dev/null http://{address}:{port}/x.png").rc != 0:
            assert time.monotonic() < deadline, "the internal web server did not answer within 10 s"
            time.sleep(0.2)
        fetches = lambda: host.check_output("grep -c 'GET /x.png' /tmp/camo-lab.log || true")  # noqa: E731
        before = fetches()
        yield f"http://{address}:{port}/x.png", lambda: fetches() != before
    finally:
        host.run("kill $(cat /tmp/camo-lab.pid); rm -rf /tmp/camo-lab /tmp/camo-lab.pid /tmp/camo-lab.log")


@pytest.mark.parametrize("name", APPS)
def test_camo_runs_on_every_app_server(name):
    host = get_host(name)
    assert " RUNNING " in host.run("supervisorctl status go-camo").stdout
    # The HMAC key is read from the secrets at start: on no command line.
    assert secret(host, "camo_key") not in host.check_output("ps -eww -o args")


def test_an_image_on_an_internal_address_is_not_fetched_by_camo(zuliprc, internal_image_server):
    """A message linking an image on the app server's own address is shown
    through Camo, which refuses to fetch it (go-camo refuses internal
    addresses; where it goes through Smokescreen, Smokescreen refuses)."""
    url, was_requested = internal_image_server
    client, message_id = send_link(zuliprc, url)
    answer = from_site(zuliprc, camo_path(content_of(client, message_id)))
    # go-camo's own refusal (404), or Smokescreen's (503) passed on as 502: not
    # nginx's or Django's pages, which a missing Camo would give.
    assert answer.status_code in (404, 502) and "Error Fetching Resource" in answer.text, \
        (answer.status_code, answer.text)
    assert not was_requested()


def test_camo_refuses_urls_it_did_not_sign(zuliprc):
    """Camo only fetches what Zulip signed with camo_key: anyone else gets 403."""
    url = "http://zulip-services:8080/" + PNG
    forged = hmac.new(b"not-the-key", url.encode(), hashlib.sha1).hexdigest()
    answer = from_site(zuliprc, f"/external_content/{forged}/{url.encode().hex()}")
    assert answer.status_code == 403, (answer.status_code, answer.text)
    assert from_site(zuliprc, "/external_content/metrics").status_code == 404


def test_an_allowed_image_is_shown_through_camo(zuliprc):
    """zulip-services is allowed by Smokescreen, which Camo goes through in the
    split scenario (go-camo alone refuses internal addresses): the image comes
    back from the Zulip server, byte for byte."""
    if "zulip-services" not in hosts_in("all"):
        pytest.skip("this scenario has no zulip-services host")
    client, message_id = send_link(zuliprc, f"http://zulip-services:8080/{PNG}?v={random.randint(0, 10**9)}")
    path = camo_path(content_of(client, message_id))
    answer = from_site(zuliprc, path)
    assert answer.status_code == 200, (answer.status_code, answer.text)
    assert answer.headers["Content-Type"] == "image/png"
    assert answer.content == get_host("zulip-services").file(f"/srv/releases/{PNG}").content
