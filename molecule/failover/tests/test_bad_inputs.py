"""Bad input is refused before any host changes (docs/preflight.md), on the
converged split cluster: every host's configuration, deployments and
services are the same after the refused run as before it."""

import json

import pytest

import lab_helpers as lab

# Regular files and links of /etc, the deployments, the collection's records
# and the database's own settings, with their checksums and modes; and when the
# services last started (a restart would show). Python's bytecode caches are
# left out: the cluster's cron jobs write them whenever a command first runs.
SNAPSHOT = r"""
set -e
for d in /etc /home/zulip/deployments /var/lib/zulip-server /var/lib/postgresql; do
  [ -d "$d" ] || continue
  find "$d" -xdev -name __pycache__ -prune -o \( -path '/var/lib/postgresql/*/main/*' -a ! -name 'postgresql.auto.conf' -a ! -name 'standby.signal' \) -prune \
    -o \( -type f -o -type l \) -printf '%p %m %u %l\n' | sort
done
find /etc /home/zulip/deployments /var/lib/zulip-server -xdev -name __pycache__ -prune -o -type f -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum
for unit in postgresql@15-main nginx supervisor memcached redis-server rabbitmq-server cron; do
  systemctl show -p ActiveEnterTimestampMonotonic --value "$unit" 2>/dev/null | sed "s/^/$unit /"
done
"""


def snapshot():
    return {name: lab.get_host(name).check_output(SNAPSHOT) for name in lab.RUNNER.get_hosts("all")}


@pytest.fixture(scope="module")
def before():
    return snapshot()


def also_a_replica(tmp_path):
    extra = tmp_path / "both.ini"
    primary = lab.first_in("zulip_postgresql")
    extra.write_text(f"[zulip_postgresql_replica]\n{primary}\n")
    return ["-i", str(extra)], f'{primary} is in both'


def also_the_drill_host(tmp_path):
    extra = tmp_path / "drill.ini"
    replica = lab.first_in("zulip_postgresql_replica")
    extra.write_text(f"[zulip_restore_drill]\n{replica}\n")
    return ["-i", str(extra)], f"{replica} is in zulip_restore_drill and in zulip_postgresql_replica"


@pytest.mark.parametrize(("extra", "message"), [
    (also_a_replica, None),
    (also_the_drill_host, None),
    (["-e", json.dumps({"zulip_postgresql_synchronous_standby_names": "ANY 5 (zzz"})],
     'zulip_postgresql_synchronous_standby_names=\\"ANY 5 (zzz\\": PostgreSQL would refuse it'),
    (["-e", "zulip_restart_cron_hour=27"], 'zulip_restart_cron_hour=\\"27\\": must be a cron field over 0-23'),
    # These two failed mid-play, after the base play had changed hosts.
    (["-e", "zulip_external_host="], 'zulip_external_host=\\"\\": EXTERNAL_HOST must be set'),
    (["-e", json.dumps({"zulip_app_frontend_tls_cert": "/nonexistent/zulip-app.crt"})],
     'zulip_app_frontend_tls_cert=\\"/nonexistent/zulip-app.crt\\": no such file on the controller'),
], ids=["host-in-both-database-groups", "replica-as-drill-host", "synchronous-standby-names", "cron-hour", "empty-external-host", "missing-tls-cert"])
def test_a_bad_input_is_refused_in_the_preflight(before, tmp_path, extra, message):
    if callable(extra):
        extra, message = extra(tmp_path)
    rc, out = lab.run_playbook("install", *lab.release_running_on(lab.active_app()), *extra)
    assert rc != 0, out[-3000:]
    assert message in out, out[-3000:]
    assert "nothing was changed" in out
    assert "TASK [zulip.server.zulip_base" not in out  # stopped in the preflight play


def test_the_refused_runs_changed_no_host(before):
    after = snapshot()
    assert sorted(after) == sorted(before)
    for name, state in before.items():
        assert after[name] == state, f"{name} changed"
