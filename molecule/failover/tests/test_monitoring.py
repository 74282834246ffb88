"""Zulip's checks (README "Monitoring"), last, on the cluster the drills and
the backup tests left: status.yml reports every check of every host and
fails on the ones left critical (the failed restore drill; pending security
updates of the lab's Debian, if any); a stopped queue worker with a filling queue
and blocked WAL archiving each turn their check critical, naming the cause,
and back to OK once repaired. (The replica stopped: test_replication.py.)"""

import json

from conftest import lab_common
from test_backup import host, playbook, primary, sql, wait_for

APPS = lab_common.hosts_in("zulip_app_frontend")
RABBITMQ = lab_common.first_in("zulip_rabbitmq")
REPOSITORY = lab_common.first_in("zulip_backup_repository")
DB_HOSTS = lab_common.hosts_in("zulip_postgresql") + lab_common.hosts_in("zulip_postgresql_replica")
QUEUE = "digest_emails"


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



def checks(name):
    """zulip-check-all on one host: {check: (state, message)}."""
    out = host(name).run("/usr/local/bin/zulip-check-all --json").stdout
    return {r["check"]: (r["state"], r["message"]) for r in json.loads(out)}


def pending_updates(name):
    """What check_debian_packages must say, from apt's own simulation on the host."""
    installs = [line for line in host(name).check_output("LC_ALL=C apt-get -s upgrade").splitlines() if line.startswith("Inst ")]
    if any("security" in line.lower() for line in installs):
        return "CRITICAL"
    return "WARNING" if installs else "OK"


def rabbitmq_checks():
    """The RabbitMQ checks once the timer's service has written fresh state files."""
    host(RABBITMQ).check_output("systemctl start zulip-rabbitmq-state.service")
    found = checks(RABBITMQ)
    return found["check_rabbitmq_consumers"], found["check_rabbitmq_queues"]


def test_status_reports_every_check_and_fails_on_the_critical_one():
    rc, out = playbook("status")
    # The corrupted repository file (test_backup.py) failed the last restore drill.
    assert rc != 0 and "CRITICAL: " in out and "check_postgresql_backup: " in out and "restore drill FAILED" in out, out[-3000:]
    for name in sorted(set(APPS + DB_HOSTS + [RABBITMQ, REPOSITORY])):
        found = checks(name)
        assert set(found) == expected_checks(name), (name, found)
        for check, (state, message) in found.items():
            if check == "check_postgresql_backup":
                assert state == "CRITICAL" and "restore drill FAILED" in message, (name, message)
            elif check == "check_debian_packages":
                # The lab's Debian is as old as its image: updates may be pending.
                assert state == pending_updates(name), (name, state, message)
            else:
                assert state == "OK", (name, check, state, message)
            assert f"{name:<16} {check:<34} {state:<8} " in out, (name, check)


def test_a_stopped_worker_and_its_filling_queue_go_critical_and_recover():
    app = lab_common.active_app()
    # One program per queue, or one for all (queue_workers_multiprocess).
    programs = host(app).check_output("supervisorctl status | awk '{print $1}'").split()
    program = next(p for p in (f"zulip-workers:zulip_events_{QUEUE}", "zulip-workers:zulip_events") if p in programs)
    host(app).check_output(f"supervisorctl stop {program}")
    try:
        # 60 events into the queue, as the app publishes them (its own code and settings).
        host(app).check_output(
            "cd /home/zulip/deployments/current && runuser -u zulip -- env DJANGO_SETTINGS_MODULE=zproject.settings "
            "./zulip-current-venv/bin/python3 -c \"import django; django.setup(); from zerver import services; "
            f"[services.queue_json_publish('{QUEUE}', {{'test': n}}) for n in range(60)]\"")
        consumers, queues = rabbitmq_checks()
        if program.startswith("zulip_events_"):  # one worker per queue: only its queue lost its consumer
            assert consumers == ("CRITICAL", f"queue {QUEUE} has 0 consumers, needs 1"), consumers
        else:
            assert consumers[0] == "CRITICAL" and f"queue {QUEUE} has 0 consumers, needs 1" in consumers[1], consumers
        assert queues == ("CRITICAL", f"queue {QUEUE} problem: CRITICAL:count critical: 60"), queues
    finally:
        host(app).check_output(f"supervisorctl start {program}")
    wait_for("consumers and queues OK", lambda: [c[0] for c in rabbitmq_checks()] == ["OK", "OK"], 60)


def test_blocked_wal_archiving_goes_critical_and_recovers():
    name = primary()
    repository = host(REPOSITORY)
    repository.check_output("systemctl stop pgbackrest")
    try:
        sql(name, "SELECT txid_current()")  # something to archive
        segment = sql(name, "SELECT pg_walfile_name(pg_switch_wal())")
        wait_for("an archiving failure", lambda: sql(name, "SELECT coalesce(last_failed_wal, '') FROM pg_stat_archiver") >= segment, 60)
        state, message = checks(name)["check_postgresql_backup"]
        assert state == "CRITICAL" and f"WAL archiving fails: {segment} failed" in message, message
    finally:
        repository.check_output("systemctl start pgbackrest")
    # The archiver retries at its next wake-up: a new segment wakes it.
    sql(name, "SELECT txid_current()")
    sql(name, "SELECT pg_switch_wal()")
    wait_for("archiving again", lambda: "WAL archiving fails" not in checks(name)["check_postgresql_backup"][1], 90)
