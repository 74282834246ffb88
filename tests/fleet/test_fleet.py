"""A fleet upgrades in batches of zulip_upgrade_serial hosts and the rollout
stops at the first batch that fails (zulip_upgrade_max_fail_percentage).

The hosts are the controller itself (read-only), where no Zulip is installed:
every host fails the upgrade's first check, so only the first batch may run."""

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(tmp_path, hosts, **extra):
    lines = ["[all:vars]", "ansible_connection=local", "ansible_python_interpreter={{ ansible_playbook_python }}",
             "[zulip_app_frontend]", *hosts]
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("\n".join(lines) + "\n")
    release = tmp_path / "zulip-server-10.1.tar.gz"
    release.write_bytes(b"release bytes")  # upgrade.yml checks that it exists first
    variables = {"zulip_release": str(release), **extra}
    args = ["ansible-playbook", "-i", str(inventory), str(ROOT / "playbooks" / "upgrade.yml"), "-e", json.dumps(variables)]
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env={**os.environ, "ANSIBLE_NOCOLOR": "1"})


def attempted(result, hosts):
    return [h for h in hosts if f"fatal: [{h}]" in result.stdout]


def test_rollout_stops_after_the_first_failed_batch(tmp_path):
    hosts = ["chat1", "chat2", "chat3", "chat4", "chat5"]
    result = run(tmp_path, hosts, zulip_upgrade_serial=2, zulip_upgrade_max_fail_percentage=0)
    assert result.returncode != 0
    assert attempted(result, hosts) == ["chat1", "chat2"], result.stdout[-3000:]
    assert "install Zulip first" in result.stdout


def test_without_serial_every_host_is_attempted(tmp_path):
    hosts = ["chat1", "chat2", "chat3"]
    result = run(tmp_path, hosts)
    assert result.returncode != 0
    assert attempted(result, hosts) == hosts, result.stdout[-3000:]
