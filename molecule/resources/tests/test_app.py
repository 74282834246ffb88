"""The app frontend as an admin and a user see it."""

import hashlib
import io
import os
import re
import ssl
import time

import pytest
import requests
import urllib3
import zulip

from lab_helpers import active_app, app_variables, get_host, hosts_in, total_memory_mib

APPS = hosts_in("zulip_app_frontend")
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # requests to an address, not the name
ONCE_PROGRAMS = ("zulip_deliver_scheduled_emails", "zulip_deliver_scheduled_messages")
ONCE_CRONS = ("archive-messages", "send-digest-emails", "update-analytics-counts")


def address(host):
    return host.run("hostname -I").stdout.split()[0]


@pytest.mark.parametrize("name", APPS)
def test_every_supervisor_program_running(name):
    status = get_host(name).run("supervisorctl status")
    lines = [line for line in status.stdout.splitlines() if line.strip()]
    assert any(line.startswith("zulip-django") for line in lines)
    assert any(line.startswith("zulip-tornado") for line in lines)
    assert any(line.startswith("zulip-workers:") for line in lines)
    assert all(" RUNNING " in line for line in lines), status.stdout


@pytest.mark.parametrize("name", APPS)
def test_uwsgi_and_workers_sized_from_memory(name):
    host = get_host(name)
    memory = total_memory_mib(host)
    ladder = 16 if memory > 24000 else 8 if memory > 12000 else 6 if memory > 6000 else 4 if memory > 3000 else 3
    # A scenario may set the count (fewer workers restart faster on 2 cores).
    processes = app_variables(name).get("zulip_app_frontend_uwsgi_processes") or ladder
    assert f"processes={processes}" in host.file("/etc/zulip/uwsgi.ini").content_string.split("\n")
    programs = host.run("supervisorctl status").stdout
    # spec §7.4: one process per queue above 3800 MiB, unless the scenario says.
    per_queue = app_variables(name).get("zulip_app_frontend_queue_workers_multiprocess")
    if memory > 3800 if per_queue is None else per_queue:
        assert "zulip-workers:zulip_events_user_activity " in programs
    else:
        assert "zulip-workers:zulip_events " in programs


@pytest.mark.parametrize("name", APPS)
def test_weekly_restart_cron(name):
    cron = get_host(name).file("/etc/cron.d/restart-zulip").content_string
    assert "0 6 * * 0 zulip /home/zulip/deployments/current/scripts/restart-server --fill-cache" in cron


def test_message_round_trip_through_nginx(zuliprc):
    client = zulip.Client(config_file=zuliprc["config_file"], cert_bundle=zuliprc["cert_bundle"])
    assert client.base_url.startswith(f"https://{zuliprc['site_host']}")
    settings = client.get_server_settings()
    assert settings["result"] == "success", settings
    sent = client.send_message({"type": "stream", "to": "general", "topic": "lab", "content": "hello from testinfra"})
    assert sent["result"] == "success", sent
    got = client.get_messages({"anchor": "newest", "num_before": 5, "num_after": 0,
                               "narrow": [{"operator": "stream", "operand": "general"}]})
    assert got["result"] == "success", got
    assert sent["id"] in [m["id"] for m in got["messages"]]
    assert any("hello from testinfra" in m["content"] for m in got["messages"] if m["id"] == sent["id"])


@pytest.mark.parametrize("name", APPS)
def test_the_listen_backlog_is_applied_where_the_kernel_lets_it(name):
    """/etc/sysctl.d/40-uwsgi.conf's net.core.somaxconn (2 x uWSGI's backlog) is
    the live value, where /proc/sys is writable (split's zulip-app)."""
    host = get_host(name)
    wanted = host.file("/etc/sysctl.d/40-uwsgi.conf").content_string.split("net.core.somaxconn = ")[1].split()[0]
    if host.run("test -w /proc/sys/net/core/somaxconn").rc != 0:
        pytest.skip("/proc/sys is read-only in this container")
    assert host.file("/proc/sys/net/core/somaxconn").content_string.strip() == wanted


def search(client, word):
    got = client.get_messages({"anchor": "newest", "num_before": 20, "num_after": 0,
                               "narrow": [{"operator": "search", "operand": word}]})
    assert got["result"] == "success", got
    return [m["id"] for m in got["messages"]]


def test_a_new_message_becomes_findable_by_search_within_seconds(zuliprc):
    """The database's trigger queues it; process_fts_updates on the database
    host (zulip.server.zulip_process_fts_updates) indexes it."""
    client = zulip.Client(config_file=zuliprc["config_file"], cert_bundle=zuliprc["cert_bundle"])
    word = f"quasar{int(time.time() * 1000)}"
    sent = client.send_message({"type": "stream", "to": "general", "topic": "lab", "content": f"the {word} drifts"})
    assert sent["result"] == "success", sent
    deadline = time.monotonic() + 10
    while sent["id"] not in search(client, word):
        assert time.monotonic() < deadline, f"message {sent['id']} not found by search within 10 s"
        time.sleep(0.2)


def rendered(client, message_id):
    got = client.get_messages({"anchor": message_id, "num_before": 0, "num_after": 0})
    assert got["result"] == "success", got
    return next(m["content"] for m in got["messages"] if m["id"] == message_id)


def test_math_is_rendered_by_the_katex_server(zuliprc):
    """Django posts each $$...$$ to zulip-katex (Node.js, the release's
    katex_server.js, the shared secret); while it is stopped Zulip shows the
    TeX as it was typed. The release's install-node finds its Node.js
    installed, so it needs no download (the lab has no internet)."""
    client = zulip.Client(config_file=zuliprc["config_file"], cert_bundle=zuliprc["cert_bundle"])
    sent = client.send_message({"type": "stream", "to": "general", "topic": "lab", "content": "area $$\\pi r^2$$"})
    assert sent["result"] == "success", sent
    html = rendered(client, sent["id"])
    assert 'class="katex"' in html and "tex-error" not in html, html
    for name in APPS:
        get_host(name).check_output("/home/zulip/deployments/current/scripts/lib/install-node")
    try:
        for name in APPS:
            get_host(name).check_output("supervisorctl stop zulip-katex")
        html = rendered(client, sent["id"])
        assert '<span class="tex-error">$$\\pi r^2$$</span>' in html, html
    finally:
        for name in APPS:
            get_host(name).check_output("supervisorctl start zulip-katex")
    assert 'class="katex"' in rendered(client, sent["id"])


@pytest.mark.parametrize("name", APPS)
def test_once_per_cluster_jobs_only_on_the_active_app_server(name):
    host = get_host(name)
    programs = host.run("supervisorctl status").stdout
    active = name == active_app()
    for program in ONCE_PROGRAMS:
        assert (program in programs) == active, programs
    for cron in ONCE_CRONS:
        assert host.file(f"/etc/cron.d/{cron}").exists == active, cron


@pytest.mark.parametrize("name", [h for h in APPS if app_variables(h).get("zulip_app_frontend_http_only")])
def test_http_only_serves_plain_http_on_port_80(name):
    host = get_host(name)
    assert not host.socket("tcp://0.0.0.0:443").is_listening
    external_host = app_variables(name)["zulip_external_host"]
    reply = requests.get(f"http://{address(host)}/api/v1/server_settings",
                         headers={"Host": external_host}, allow_redirects=False, timeout=10)
    assert reply.status_code == 200, reply.text
    assert reply.json()["result"] == "success"


@pytest.mark.parametrize("name", [h for h in APPS if app_variables(h).get("zulip_app_frontend_tls_cert")])
def test_given_certificate_and_key_are_served(name):
    """nginx serves the operator's certificate (signed by the lab CA, which a
    client can verify by name), not a self-signed one."""
    host = get_host(name)
    served = ssl.get_server_certificate((address(host), 443))
    given = open(os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "tls", f"{name}.crt")).read()
    assert ssl.PEM_cert_to_DER_cert(served) == ssl.PEM_cert_to_DER_cert(given)
    key = host.file("/etc/ssl/private/zulip.key")
    assert (key.user, key.group, key.mode) == ("root", "root", 0o600)


@pytest.mark.parametrize("name", APPS)
def test_release_deployed_is_the_one_given(name):
    """The tarball on the host (copied, or downloaded from zulip_release's URL)
    is byte-identical to the release the operator named."""
    host = get_host(name)
    # zulip_release as the inventory writes it: a path or URL ending in the tarball's name.
    tarball = os.path.basename(app_variables(name)["zulip_release"])
    with open(os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "tests/release/dist", tarball), "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    assert host.file(f"/home/zulip/archives/{tarball}").sha256sum == want
    assert host.file("/home/zulip/deployments/current").is_symlink


def local_get(name, path, **kwargs):
    """A request to this app server's own nginx, for its EXTERNAL_HOST."""
    scheme = "http" if app_variables(name).get("zulip_app_frontend_http_only") else "https"
    return requests.get(f"{scheme}://{address(get_host(name))}{path}", verify=False, allow_redirects=False, timeout=20,
                        headers={"Host": app_variables(name)["zulip_external_host"]}, **kwargs)


def page_assets(name):
    """The asset URLs the logged-out page (/ redirects to /login/) names."""
    home = local_get(name, "/")
    assert home.status_code == 302 and home.headers["Location"] == "/login/", home.text[:500]
    page = local_get(name, "/login/")
    assert page.status_code == 200, page.text[:500]
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls, page.text
    return urls


@pytest.mark.parametrize("name", APPS)
def test_every_asset_the_page_names_is_served_by_nginx(name):
    """As browsers load them: each asset URL of the page, through nginx, is the
    release's own file (nginx serves /static/ from /home/zulip/prod-static)."""
    host = get_host(name)
    external_host = app_variables(name)["zulip_external_host"]
    for url in page_assets(name):
        assert url.startswith(f"https://{external_host}/static/"), url
        path = url.split(external_host, 1)[1]
        reply = local_get(name, path)
        assert reply.status_code == 200, f"{url}: {reply.status_code}"
        shipped = host.file("/home/zulip/deployments/current/prod-static/serve/" + path[len("/static/"):])
        assert reply.content == shipped.content, url


def test_a_file_uploaded_through_nginx_downloads_through_nginx(zuliprc):
    """multipart upload with the API client; the download is Django's access
    check, then nginx sending the file from LOCAL_UPLOADS_DIR."""
    client = zulip.Client(config_file=zuliprc["config_file"], cert_bundle=zuliprc["cert_bundle"])
    content = os.urandom(2048) + b"\nzulip.server upload test\n"
    upload = io.BytesIO(content)
    upload.name = "lab report.bin"
    reply = client.upload_file(upload)
    assert reply["result"] == "success", reply
    url = reply["url"]
    assert url.startswith("/user_uploads/") and url.endswith("/lab-report.bin"), url
    download = requests.get(client.base_url.rsplit("/api", 1)[0] + url, auth=(client.email, client.api_key),
                            verify=zuliprc["cert_bundle"], timeout=20)
    assert download.status_code == 200, download.text[:300]
    assert download.content == content
    assert "X-Accel-Redirect" not in download.headers
    anonymous = requests.get(client.base_url.rsplit("/api", 1)[0] + url, verify=zuliprc["cert_bundle"], timeout=20,
                             allow_redirects=False)
    assert anonymous.status_code != 200 and content not in anonymous.content  # no credentials, no file


# Runs as zulip in the current deployment: Django's own connection (settings.py
# and libpq's defaults), then what the server says about it.
DJANGO_DB = ("from django.db import connection; c = connection.cursor(); "
             "c.execute('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'); "
             "print(c.fetchone()[0], connection.connection.get_dsn_parameters().get('sslmode'))")
REMOTE_DB_APPS = [name for name in APPS if name not in hosts_in("zulip_postgresql") + hosts_in("zulip_postgresql_replica")]


@pytest.mark.parametrize("name", REMOTE_DB_APPS)
def test_a_remote_database_is_verified_with_zulips_settings_only(name):
    host = get_host(name)
    shell = f"cd /home/zulip/deployments/current && runuser -u zulip -- ./manage.py shell -c \"{DJANGO_DB}\""
    assert host.check_output(shell).splitlines()[-1] == "True verify-full"
    # The CA is libpq's default for the zulip user: without it, verify-full refuses.
    root = "/home/zulip/.postgresql/root.crt"
    host.check_output(f"mv {root} {root}.away")
    try:
        refused = host.run(shell)
    finally:
        host.check_output(f"mv {root}.away {root}")
    assert refused.rc != 0 and "root certificate file" in refused.stderr, refused.stderr[-500:]
