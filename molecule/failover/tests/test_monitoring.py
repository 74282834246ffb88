"""Zulip's checks (README "Monitoring"), last, on the cluster the drills and
the backup tests left: status.yml reports every check of every host and
fails on the ones left critical (the failed restore drill; pending security
updates of the lab's Debian, if any). Each check going critical with its
cause: test_replication.py (the replica stopped), test_monitoring_failures.py."""

import subprocess
import time

from conftest import lab_common
from test_backup import host, playbook, primary

APPS = lab_common.hosts_in("zulip_app_frontend")
RABBITMQ = lab_common.first_in("zulip_rabbitmq")
REPOSITORY = lab_common.first_in("zulip_backup_repository")
DB_HOSTS = lab_common.hosts_in("zulip_postgresql") + lab_common.hosts_in("zulip_postgresql_replica")


def expected_checks(name):
    """A host's checks, by its groups (as the role lists them)."""
    found = {"check_debian_packages"}
    if name in APPS:
        found |= {"check_queue_worker_errors", "check_worker_memory"}
    if name in DB_HOSTS:
        found |= {"check_fts_update_log", "check_postgresql_replication_lag", "check_postgresql_backup"}
    if name == RABBITMQ:
        found |= {"check_rabbitmq_consumers", "check_rabbitmq_queues"}
    return found


def pending_updates(name):
    """What check_debian_packages must say, from apt's own simulation on the host."""
    installs = [line for line in host(name).check_output("LC_ALL=C apt-get -s upgrade").splitlines() if line.startswith("Inst ")]
    if any("security" in line.lower() for line in installs):
        return "CRITICAL"
    return "WARNING" if installs else "OK"


def queue_errors(name):
    """What check_queue_worker_errors must say: whether a worker recorded an event it failed on."""
    return "WARNING" if host(name).run("find /var/log/zulip/queue_error -name '*.errors' -size +0 | grep -q .").rc == 0 \
        else "OK"


def test_status_reports_every_check_and_fails_on_the_critical_one():
    rc, out = playbook("status")
    # The corrupted repository file (test_backup.py) failed the last restore drill.
    assert rc != 0 and "CRITICAL: " in out and "check_postgresql_backup: " in out and "restore drill FAILED" in out, out[-3000:]
    workers = []
    for name in sorted(set(APPS + DB_HOSTS + [RABBITMQ, REPOSITORY])):
        found = lab_common.zulip_checks(name)
        workers.append(found.get("check_worker_memory", ("", ""))[1])
        assert set(found) == expected_checks(name), (name, found)
        for check, (state, message) in found.items():
            if check == "check_postgresql_backup":
                assert state == "CRITICAL" and "restore drill FAILED" in message, (name, message)
            elif check == "check_queue_worker_errors":
                # Events the workers failed on while the drills had the database down, if any.
                assert state == queue_errors(name), (name, state, message)
            elif check == "check_debian_packages":
                # The lab's Debian is as old as its image: updates may be pending.
                assert state == pending_updates(name), (name, state, message)
            else:
                assert state == "OK", (name, check, state, message)
            assert f"{name:<16} {check:<34} {state:<8} " in out, (name, check)
    # The active app server's queue workers were found and measured.
    assert any(message.startswith("largest queue worker ") for message in workers), workers


def test_a_repository_host_that_does_not_answer_is_critical_within_the_timeout():
    # Frozen, the repository host's kernel still accepts the connection, and
    # then nothing answers: pgBackRest would wait 60 s per read.
    name = primary()
    check = "/usr/lib/nagios/plugins/zulip_postgresql_backups/check_postgresql_backup --repository-timeout 3"
    subprocess.run(["docker", "pause", REPOSITORY], check=True, capture_output=True)
    try:
        started = time.monotonic()
        run = host(name).run(check)
        elapsed = time.monotonic() - started
    finally:
        subprocess.run(["docker", "unpause", REPOSITORY], check=True, capture_output=True)
    assert run.rc == 2 and run.stdout.startswith("CRITICAL: the backup repository did not answer within 6 s"), run.stdout
    assert elapsed < 20, elapsed
    # Answering again, the repository is read again.
    again = host(name).run(check).stdout
    assert "did not answer" not in again and "pgbackrest info failed" not in again, again
