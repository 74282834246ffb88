"""The app frontend as an admin and a user see it."""

import pytest
import zulip

from conftest import get_host, hosts_in, total_memory_mib

APPS = hosts_in("zulip_app_frontend")


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
    assert f"processes={ladder}" in host.file("/etc/zulip/uwsgi.ini").content_string.split("\n")
    programs = host.run("supervisorctl status").stdout
    if memory > 3800:  # spec §7.4: one process per queue
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
