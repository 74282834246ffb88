"""Zulip's checks (README "Monitoring") going critical with their cause, and
back to OK once it is repaired: a stopped queue worker with events piling up
in its queue, an event a worker fails on, WAL archiving that fails. (All OK on a healthy cluster and
status.yml: failover/tests/test_monitoring.py; a stopped replica:
ha/tests/test_replication.py.)"""

import time

from lab_helpers import first_in, get_host, hosts_in, zulip_checks

APPS = hosts_in("zulip_app_frontend")
RABBITMQ = first_in("zulip_rabbitmq")
DB_HOSTS = hosts_in("zulip_postgresql") + hosts_in("zulip_postgresql_replica")
QUEUE = "digest_emails"


def wait_for(what, condition, timeout):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.5)


def sql(name, query):
    return get_host(name).check_output("runuser -u postgres -- psql -X -q -A -t -c %s", query)


def rabbitmq_checks():
    """The RabbitMQ checks once the timer's service has written fresh state files."""
    get_host(RABBITMQ).check_output("systemctl start zulip-rabbitmq-state.service")
    found = zulip_checks(RABBITMQ)
    return found["check_rabbitmq_consumers"], found["check_rabbitmq_queues"]


def test_a_stopped_worker_and_its_filling_queue_go_critical_and_recover():
    # The queue's worker on every app server (a hot spare consumes too); one
    # program per queue, or one for all (queue_workers_multiprocess).
    stopped = {}
    for app in APPS:
        programs = get_host(app).check_output("supervisorctl status | awk '{print $1}'").split()
        stopped[app] = next(p for p in (f"zulip-workers:zulip_events_{QUEUE}", "zulip-workers:zulip_events") if p in programs)
    try:
        for app, program in stopped.items():
            get_host(app).check_output(f"supervisorctl stop {program}")
        publish(QUEUE, [{"test": n} for n in range(60)])
        consumers, queues = rabbitmq_checks()
        assert consumers[0] == "CRITICAL" and f"queue {QUEUE} has 0 consumers, needs 1" in consumers[1], consumers
        assert queues == ("CRITICAL", f"queue {QUEUE} problem: CRITICAL:count critical: 60"), queues
    finally:
        for app, program in stopped.items():
            get_host(app).check_output(f"supervisorctl start {program}")
    wait_for("consumers and queues OK", lambda: [c[0] for c in rabbitmq_checks()] == ["OK", "OK"], 60)


def publish(queue, events):
    """Events into a queue, as the app publishes them (its own code and settings)."""
    get_host(APPS[0]).check_output(
        "cd /home/zulip/deployments/current && runuser -u zulip -- env DJANGO_SETTINGS_MODULE=zproject.settings "
        "./zulip-current-venv/bin/python3 -c \"import django; django.setup(); from zerver import services; "
        f"[services.queue_json_publish('{queue}', e) for e in {events!r}]\"")


def test_an_event_a_worker_fails_on_is_recorded_and_warned_about_until_cleared():
    errors = "/var/log/zulip/queue_error/user_activity.errors"

    def recorded(app):
        found = get_host(app).file(errors)
        return found.exists and '"query": "monitoring test"' in found.content_string

    # A user_activity event without its user: the worker fails on it. Every
    # app server consumes (the hot spare too): one of them records it, beside
    # any event that failed earlier (the failover drills take the database away).
    publish("user_activity", [{"query": "monitoring test"}])
    wait_for("the failed event recorded", lambda: any(recorded(a) for a in APPS), 60)
    app = next(a for a in APPS if recorded(a))
    state, message = zulip_checks(app)["check_queue_worker_errors"]
    assert state == "WARNING" and message.startswith("queue errors logged in ") and errors in message, message
    # The admin reads and clears the files: OK again.
    get_host(app).check_output("find /var/log/zulip/queue_error -name '*.errors' -delete")
    assert zulip_checks(app)["check_queue_worker_errors"] == ("OK", "no queue errors logged")


def test_failing_wal_archiving_goes_critical_and_recovers():
    name = next(h for h in DB_HOSTS if sql(h, "SELECT pg_is_in_recovery()") == "f")
    # An archive command that fails (as when the repository cannot take WAL):
    # ALTER SYSTEM's setting wins over the collection's conf.d file until reset.
    sql(name, "ALTER SYSTEM SET archive_command = '/bin/false'")
    try:
        sql(name, "SELECT pg_reload_conf()")
        since = sql(name, "SELECT now()")
        sql(name, "SELECT txid_current()")  # something to archive
        sql(name, "SELECT pg_switch_wal()")
        wait_for("an archiving failure",
                 lambda: sql(name, f"SELECT coalesce(last_failed_time >= '{since}', false) FROM pg_stat_archiver") == "t", 60)
        failed = sql(name, "SELECT last_failed_wal FROM pg_stat_archiver")
        state, message = zulip_checks(name)["check_postgresql_backup"]
        assert state == "CRITICAL" and f"WAL archiving fails: {failed} failed" in message, message
    finally:
        sql(name, "ALTER SYSTEM RESET archive_command")
        sql(name, "SELECT pg_reload_conf()")
    # The archiver retries at its next wake-up: a new segment wakes it.
    sql(name, "SELECT txid_current()")
    sql(name, "SELECT pg_switch_wal()")
    wait_for("archiving again", lambda: "WAL archiving fails" not in zulip_checks(name)["check_postgresql_backup"][1], 90)
