"""Bad input fails before any host is changed, with a message naming the
variable and the fix (zulip.server.zulip_preflight, every playbook's first play).

The hosts are the controller itself, read-only (local connection). Each test
also checks that no task past the preflight ran: the run stopped before the
first change. tests/unit/plugins/module_utils/test_preflight_rules.py has one case
per rule; these run the playbooks as an admin does."""

import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).parent
PLAYBOOKS = HERE.parents[1] / "playbooks"
GROUPS = ["zulip_app_frontend", "zulip_postgresql", "zulip_memcached", "zulip_redis", "zulip_rabbitmq"]


def inventory(tmp_path, groups):
    # The controller itself, read-only; its own Python (interpreter discovery may
    # find a pyenv shim that does not run).
    lines = ["[all:vars]", "ansible_connection=local", "ansible_python_interpreter={{ ansible_playbook_python }}"]
    for group, hosts in groups.items():
        lines.append(f"[{group}]")
        lines.extend(hosts)
    path = tmp_path / "hosts.ini"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(tmp_path, groups, playbook=HERE / "preflight.yml", **extra):
    release = tmp_path / "zulip-server-10.1.tar.gz"
    release.write_bytes(b"release bytes")
    # Valid inputs unless a test gives its own.
    variables = {"zulip_release": str(release), "zulip_external_host": "zulip.example.net", "zulip_admin_email": "admin@example.net"}
    variables.update(extra)
    args = ["ansible-playbook", "-i", str(inventory(tmp_path, groups)), str(playbook), "-e", json.dumps(variables)]
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env={**os.environ, "ANSIBLE_NOCOLOR": "1"})


def stopped_in_preflight(result):
    """The run failed, and every task it started was the preflight's."""
    tasks = re.findall(r"^TASK \[(.*?)\]", result.stdout, re.M)
    others = [t for t in tasks if not t.startswith("zulip.server.zulip_preflight") and t != "Gathering Facts"]
    return result.returncode != 0 and tasks and not others and "nothing was changed" in result.stdout


def standalone(name="one"):
    return {g: [name] for g in GROUPS}


def test_a_valid_standalone_inventory_passes(tmp_path):
    result = run(tmp_path, standalone())
    assert result.returncode == 0, result.stdout[-2000:]


def test_a_valid_split_inventory_passes(tmp_path):
    groups = {"zulip_app_frontend": ["app"], "zulip_postgresql": ["db1"], "zulip_postgresql_replica": ["db2"],
              "zulip_memcached": ["cache"], "zulip_redis": ["cache"], "zulip_rabbitmq": ["cache"]}
    result = run(tmp_path, groups, zulip_postgresql_synchronous_standby_names="FIRST 1 (zulip_db2)")
    assert result.returncode == 0, result.stdout[-2000:]


def both_database_groups():
    return {**standalone(), "zulip_postgresql_replica": ["one"]}


# What the issue found accepted, or refused only mid-play: (inventory, extra vars, message).
@pytest.mark.parametrize(("groups", "extra", "message"), [
    (both_database_groups, {}, 'groups=["zulip_postgresql", "zulip_postgresql_replica"]: one is in both. Keep one in zulip_postgresql'),
    (standalone, {"zulip_postgresql_synchronous_standby_names": "ANY 5 (zzz"},
     'zulip_postgresql_synchronous_standby_names="ANY 5 (zzz": PostgreSQL would refuse it: the ( is not closed'),
    (standalone, {"zulip_restart_cron_hour": 27}, 'zulip_restart_cron_hour="27": must be a cron field over 0-23'),
    (standalone, {"zulip_external_host": "zulipchat"},
     'zulip_external_host="zulipchat": EXTERNAL_HOST (zulipchat) does not contain a domain part: add .local to the end'),
    (standalone, {"zulip_external_host": ""}, 'zulip_external_host="": EXTERNAL_HOST must be set'),
    (standalone, {"zulip_app_frontend_tls_cert": "/nonexistent/chat.crt", "zulip_app_frontend_tls_key": "/nonexistent/chat.key"},
     'zulip_app_frontend_tls_cert="/nonexistent/chat.crt": no such file on the controller. Set zulip_app_frontend_tls_cert'),
], ids=["both-database-groups", "synchronous-standby-names", "cron-hour", "external-host-no-domain", "external-host-empty",
        "tls-cert-missing"])
def test_the_inputs_once_accepted_are_refused_up_front(tmp_path, groups, extra, message):
    result = run(tmp_path, groups(), **extra)
    assert stopped_in_preflight(result), result.stdout[-3000:]
    assert message in result.stdout, result.stdout[-3000:]


def test_every_problem_of_a_host_is_reported_at_once(tmp_path):
    result = run(tmp_path, standalone(), zulip_memcached_memory_mb=-1, zulip_app_frontend_uwsgi_processes="lots",
                 zulip_postgresql_version=9, zulip_admin_email="admin", zulip_app_frontend_s3_secret_key={"oops": "hunter2"},
                 zulip_release="https://download.example.org/zulip-server-10.1.tar.gz")
    assert stopped_in_preflight(result), result.stdout[-3000:]
    for message in ["zulip_memcached_memory_mb=-1: must be an integer of at least 1",
                    "zulip_app_frontend_uwsgi_processes=\"lots\": argument 'zulip_app_frontend_uwsgi_processes' is of type str",
                    "zulip_postgresql_version=9: must be an integer of at least 15",
                    'zulip_admin_email="admin": must be an email address',
                    'zulip_release="https://download.example.org/zulip-server-10.1.tar.gz": a URL needs its sha256']:
        assert message in result.stdout, (message, result.stdout[-3000:])
    assert "hunter2" not in result.stdout  # a secret's value is never shown
    assert "5 input problems for one (install.yml)" in result.stdout


@pytest.mark.parametrize(("groups", "message"), [
    ({**{g: ["one"] for g in GROUPS}, "zulip_postgresql": ["one", "two"]}, "zulip_postgresql=2 (one two)"),
    ({**{g: ["one"] for g in GROUPS}, "zulip_app_frontend": []}, "zulip_app_frontend=0 (none)"),
], ids=["two-primaries", "no-app-server"])
def test_the_cluster_shape_is_checked(tmp_path, groups, message):
    result = run(tmp_path, groups)
    assert stopped_in_preflight(result), result.stdout[-3000:]
    assert "needs at least one host in zulip_app_frontend and exactly one in each of" in result.stdout and message in result.stdout


def test_two_clusters_sharing_the_database_ca_directory_are_refused(tmp_path):
    """A fleet (two one-host clusters) with zulip_postgresql_tls_dir set for
    every host: each cluster's run would make the CA again under its name."""
    fleet = {g: ["chat zulip_cluster=chat", "team zulip_cluster=team"] for g in GROUPS}
    result = run(tmp_path, fleet, zulip_postgresql_tls_dir=str(tmp_path / "pki"))
    assert stopped_in_preflight(result), result.stdout[-3000:]
    assert "cluster 'chat' and cluster 'team' would keep their database CA there" in result.stdout, result.stdout[-3000:]
    # One directory per cluster passes.
    result = run(tmp_path, fleet, zulip_postgresql_tls_dir=str(tmp_path / "pki") + "/{{ zulip_cluster }}")
    assert result.returncode == 0, result.stdout[-3000:]


def test_missing_release_file_refused(tmp_path):
    result = run(tmp_path, standalone(), zulip_release=str(tmp_path / "nope.tar.gz"))
    assert stopped_in_preflight(result)
    assert f'zulip_release="{tmp_path / "nope.tar.gz"}": no such file on the controller' in result.stdout


@pytest.mark.parametrize("right", [True, False])
def test_release_sha256_checked(tmp_path, right):
    digest = hashlib.sha256(b"release bytes" if right else b"other bytes").hexdigest()
    result = run(tmp_path, standalone(), zulip_release_sha256=digest)
    if right:
        assert result.returncode == 0, result.stdout[-2000:]
    else:
        assert stopped_in_preflight(result)
        assert f"the sha256 of {tmp_path}/zulip-server-10.1.tar.gz is {hashlib.sha256(b'release bytes').hexdigest()}, not this" \
            in result.stdout


# The other playbooks check their own inputs first (failover.yml without
# contacting a host: its primary may be dead).
@pytest.mark.parametrize(("playbook", "extra", "messages"), [
    ("upgrade.yml", {"zulip_upgrade_health_timeout": 0, "zulip_upgrade_serial": "0%"},
     ["zulip_upgrade_health_timeout=0: must be an integer of at least 1", 'zulip_upgrade_serial="0%": must be a positive number']),
    ("rollback.yml", {"zulip_upgrade_keep_deployments": -1}, ["zulip_upgrade_keep_deployments=-1: must be an integer of at least 0"]),
    ("failover.yml", {"zulip_failover_mode": "switchover", "zulip_failover_catchup_timeout": 0, "zulip_failover_target": "nosuch"},
     ["zulip_failover_catchup_timeout=0", 'zulip_failover_target="nosuch": is not a database host of the inventory']),
    ("failover.yml", {"zulip_failover_mode": "app", "zulip_external_host": "zulipchat"}, ['zulip_external_host="zulipchat"']),
    ("failover.yml", {}, ['zulip_failover_mode="": is not set. Set -e zulip_failover_mode=switchover']),
    ("rejoin.yml", {"zulip_failover_rejoin_hosts": ["nosuch"]}, ['zulip_failover_rejoin_hosts=["nosuch"]: nosuch is no database host']),
], ids=["upgrade", "rollback", "failover", "failover-app", "failover-no-mode", "rejoin"])
def test_each_playbook_checks_its_inputs_first(tmp_path, playbook, extra, messages):
    result = run(tmp_path, standalone(), playbook=PLAYBOOKS / playbook, **extra)
    assert stopped_in_preflight(result), result.stdout[-3000:]
    for message in messages:
        assert message in result.stdout, (message, result.stdout[-3000:])


def test_upgrade_passes_its_preflight_with_a_matching_tarball(tmp_path):
    # Past the inputs, stopped by the missing installation (read-only on the controller).
    digest = hashlib.sha256(b"release bytes").hexdigest()
    result = run(tmp_path, standalone(), playbook=PLAYBOOKS / "upgrade.yml", zulip_release_sha256=digest)
    assert result.returncode != 0 and "install Zulip first" in result.stdout, result.stdout[-2000:]
