"""zulip_base finds the primary and the active app server as they are now
(after a failover), not as the inventory first listed them."""

import json
import os
import re
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
HOSTS = ["app1", "app2", "db1", "db2", "db3"]


def decide(tmp_path, states, app_vars=""):
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("\n".join([
        "[all:vars]", "ansible_connection=local", "ansible_python_interpreter={{ ansible_playbook_python }}",
        "[zulip_app_frontend]", f"app1 {app_vars}", "app2",
        "[zulip_postgresql]", "db1", "[zulip_postgresql_replica]", "db2", "db3"]) + "\n")
    run = subprocess.run(["ansible-playbook", "-i", str(inventory), str(HERE / "discover.yml"),
                          "-e", json.dumps({"states": states})],
                         capture_output=True, text=True, timeout=120, env={**os.environ, "ANSIBLE_NOCOLOR": "1"})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return json.loads(re.search(r'"DECISION (.*)"', run.stdout).group(1).replace('\\"', '"'))


def pg(role, running=True):
    return {"postgresql": {"role": role, "running": running}, "app_active_since": None}


def test_without_answers_the_inventory_decides(tmp_path):
    decision = decide(tmp_path, {})
    assert (decision["primary"], decision["active"]) == ("db1", "app1")


def test_a_promoted_replica_is_the_primary_and_the_fenced_one_is_left_out(tmp_path):
    decision = decide(tmp_path, {"db1": pg("fenced", False), "db2": pg("primary"), "db3": pg("replica")})
    assert decision["primary"] == "db2"
    assert (decision["fenced"], decision["replicas"]) == (["db1"], ["db3"])


def test_a_running_primary_wins_over_a_stopped_one(tmp_path):
    """A switchover's old primary, stopped before it became a standby."""
    decision = decide(tmp_path, {"db1": pg("primary", False), "db2": pg("primary"), "db3": pg("replica")})
    assert decision["primary"] == "db2"


def test_a_dead_primary_stays_the_primary_until_a_failover(tmp_path):
    decision = decide(tmp_path, {"db1": pg("primary", False), "db2": pg("replica"), "db3": pg("replica")})
    assert decision["primary"] == "db1"


def test_two_running_primaries_are_refused(tmp_path):
    decision = decide(tmp_path, {"db1": pg("primary"), "db2": pg("primary")})
    assert decision["failed"] and "db1 and db2 both run as PostgreSQL primaries of cluster zulip" in decision["msg"]


def test_a_fenced_inventory_primary_is_never_chosen(tmp_path):
    decision = decide(tmp_path, {"db1": pg("fenced", False), "db2": pg("replica", False), "db3": pg("replica")})
    assert decision["primary"] == "db2"


def test_the_latest_app_marker_wins_over_the_inventory(tmp_path):
    states = {"app1": {"postgresql": {}, "app_active_since": "2026-11-27T10:00:00.000000Z"},
              "app2": {"postgresql": {}, "app_active_since": "2026-11-27T11:00:00.000000Z"}}
    assert decide(tmp_path, states, "zulip_app_frontend_active=true")["active"] == "app2"
    assert decide(tmp_path, {}, "zulip_app_frontend_active=true")["active"] == "app1"
