"""roles/zulip_monitoring/files/nagios_plugins: each plugin's verdicts (one
"<STATE>: <message>" line, the Nagios exit code) from what the commands it
drives answer. Those commands (apt-get, pgrep, ps, rabbitmqctl, psql,
pgbackrest, process_fts_updates) are fakes on PATH that answer from canned
output, so the plugins' own logic is what is tested."""

from __future__ import annotations

import os
import pathlib
import re
import time

import pytest

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
MIB = 1024 * 1024


def line(stamp, code, message):
    word = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}[code]
    return f"{int(stamp)}|{code}|{word}|{message}\n"


def fields(path):
    return path.read_text().rstrip("\n").split("|")


# --- the plugins as files ---------------------------------------------------

PLUGIN_FILES = [
    "zulip_base/check_cron_file",
    "zulip_base/check_debian_packages",
    "zulip_app_frontend/check_queue_worker_errors",
    "zulip_app_frontend/check_worker_memory",
    "zulip_rabbitmq/zulip-rabbitmq-state",
    "zulip_rabbitmq/check_rabbitmq_queues",
    "zulip_rabbitmq/check_rabbitmq_consumers",
    "zulip_postgresql/check_postgresql_replication_lag",
    "zulip_postgresql/check_fts_update_log",
]


@pytest.mark.parametrize("plugin", PLUGIN_FILES)
def test_plugin_is_an_executable_python3_script_with_its_header(plugins, plugin):
    path = plugins / plugin
    assert os.access(path, os.X_OK)
    text = path.read_text()
    assert text.startswith("#!/usr/bin/python3\n")
    assert "Installed by the zulip.server Ansible collection (role zulip_monitoring)" in text
    assert "# Usage: " in text


def test_every_plugin_is_listed(plugins):
    found = {str(path.relative_to(plugins)) for path in plugins.glob("*/*") if path.suffix != ".py"}
    assert found == set(PLUGIN_FILES)


# --- the shared module --------------------------------------------------------

def test_state_file_round_trip_and_no_pipe_in_messages(nagios, tmp_path):
    path = tmp_path / "check-x"
    nagios.write_state(str(path), nagios.WARNING, "a|b\nc", now=1700000000)
    assert path.read_text() == "1700000000|1|WARNING|a/b c\n"
    assert not (tmp_path / "check-x-tmp").exists()
    assert nagios.read_state(str(path), 120, now=1700000100) == (1, "WARNING", "a/b c")
    assert nagios.read_state(str(path), 120, now=1700000121)[2] == "Results file is stale"


def test_worst_puts_critical_above_unknown(nagios):
    assert nagios.worst(nagios.OK, nagios.UNKNOWN, nagios.WARNING) == nagios.UNKNOWN
    assert nagios.worst(nagios.UNKNOWN, nagios.CRITICAL) == nagios.CRITICAL
    assert nagios.worst() == nagios.OK


# --- check_cron_file ------------------------------------------------------------

CRON = "zulip_base/check_cron_file"


def test_cron_file_passes_the_files_verdict_through(lab):
    path = lab.state_file("check-rabbitmq-results", line(time.time() - 30, CRITICAL, "queue a problem: x"))
    assert lab.verdict(CRON, path) == (CRITICAL, "CRITICAL: queue a problem: x")
    path.write_text(line(time.time(), OK, "queues normal"))
    assert lab.verdict(CRON, path) == (OK, "OK: queues normal")


def test_cron_file_missing(lab):
    assert lab.verdict(CRON, lab.state / "nope") == (UNKNOWN, "UNKNOWN: Results file is missing")


@pytest.mark.parametrize("content", ["1700000000|0|OK\n", "1700000000|0|OK|a|b\n", "", "soon|0|OK|x\n"])
def test_cron_file_malformed(lab, content):
    path = lab.state_file("f", content)
    assert lab.verdict(CRON, path) == (UNKNOWN, "UNKNOWN: Results file malformed")


def test_cron_file_stale_after_max_age(lab):
    path = lab.state_file("f", line(time.time() - 200, OK, "fine"))
    assert lab.verdict(CRON, path) == (UNKNOWN, "UNKNOWN: Results file is stale")
    assert lab.verdict(CRON, path, 300) == (OK, "OK: fine")


def test_cron_file_usage_error_is_unknown(lab):
    code, text = lab.verdict(CRON)
    assert code == UNKNOWN and "results_file" in text


# --- check_debian_packages ---------------------------------------------------------

APT_HEAD = """NOTE: This is only a simulation!
      apt-get needs root privileges for real execution.
Reading package lists...
Building dependency tree...
Calculating upgrade...
"""
INST_SECURITY = """Inst libssl3 [3.0.11-1~deb12u1] (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])
Inst openssl [3.0.11-1~deb12u1] (3.0.11-1~deb12u2 Debian:12.5/stable, Debian-Security:12/stable-security [amd64])
Conf libssl3 (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])
"""
INST_STABLE = """Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable [all])
Inst linux-image-amd64 (6.1.140-1 Debian:12.11/stable [amd64])
Conf tzdata (2025b-0+deb12u1 Debian:12.11/stable [all])
"""
DEBIAN = "zulip_base/check_debian_packages"


def fake_apt(lab, stdout, stderr="", code=0):
    # Answers only under LC_ALL=C, as the plugin's parsing needs.
    body = f'[ "$LC_ALL" = C ] || {{ echo "LC_ALL is $LC_ALL" >&2; exit 7; }}\n{lab.answer(stdout)}\n'
    if stderr:
        body += f"{lab.answer(stderr)} >&2\n"
    lab.script("apt-get", body + f"exit {code}")


def test_debian_security_updates_are_critical(lab):
    fake_apt(lab, APT_HEAD + INST_SECURITY + INST_STABLE)
    assert lab.verdict(DEBIAN) == (CRITICAL, "CRITICAL: 2 new pkgs in security: libssl3 openssl")
    assert lab.calls("apt-get") == ["apt-get -s upgrade"]


def test_debian_other_updates_are_a_warning(lab):
    fake_apt(lab, APT_HEAD + INST_STABLE)
    assert lab.verdict(DEBIAN) == (WARNING, "WARNING: 2 new pkgs: tzdata linux-image-amd64")


def test_debian_no_updates(lab):
    fake_apt(lab, APT_HEAD + "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n")
    assert lab.verdict(DEBIAN) == (OK, "OK: no package updates")


def test_debian_long_name_lists_are_cut(lab):
    names = [f"package-number-{n:02}" for n in range(12)]
    fake_apt(lab, "".join(f"Inst {name} [1] (2 Debian:12.11/stable [amd64])\n" for name in names))
    code, text = lab.verdict(DEBIAN)
    listed = text.split(": ", 2)[2]
    assert code == WARNING and text.startswith("WARNING: 12 new pkgs: package-number-00 ")
    assert listed == " ".join(names)[:80] + "..."


@pytest.mark.parametrize("error", ["E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 1",
                                   "E: Could not open lock file /var/lib/dpkg/lock - open (13: Permission denied)"])
def test_debian_lock_errors_are_unknown(lab, error):
    fake_apt(lab, "", stderr=error + "\nE: Unable to acquire the dpkg frontend lock\n", code=100)
    code, text = lab.verdict(DEBIAN)
    assert code == UNKNOWN and "lock" in text


def test_debian_timeout_is_unknown(lab):
    lab.script("apt-get", "exec sleep 5")
    started = time.monotonic()
    code, text = lab.verdict(DEBIAN, "--timeout", "0.2")
    assert (code, "timed out" in text) == (UNKNOWN, True)
    assert time.monotonic() - started < 3


def test_debian_missing_apt_get_is_unknown(lab):
    code, text = lab.verdict(DEBIAN, path=str(lab.bin))
    assert code == UNKNOWN and "apt-get" in text


# --- check_queue_worker_errors ---------------------------------------------------------

ERRORS = "zulip_app_frontend/check_queue_worker_errors"


def test_queue_errors_none(lab):
    queue_error = lab.root / "queue_error"
    queue_error.mkdir()
    (queue_error / "embed_links.errors").write_text("")
    (queue_error / "README").write_text("x")
    assert lab.verdict(ERRORS, "--dir", queue_error) == (OK, "OK: no queue errors logged")


def test_queue_errors_logged(lab):
    queue_error = lab.root / "queue_error"
    queue_error.mkdir()
    for name in ("user_activity.errors", "deferred_work.errors"):
        (queue_error / name).write_text('{"event": 1}\n')
    assert lab.verdict(ERRORS, "--dir", queue_error) == (
        WARNING, (f"WARNING: queue errors logged in {queue_error}/deferred_work.errors, "
                  f"{queue_error}/user_activity.errors"))


def test_queue_errors_unreadable_dir_is_unknown(lab):
    code, text = lab.verdict(ERRORS, "--dir", lab.root / "missing")
    assert code == UNKNOWN and "cannot read" in text


# --- check_worker_memory ---------------------------------------------------------

MEMORY = "zulip_app_frontend/check_worker_memory"
WORKER = "python3 /srv/current/manage.py process_queue --queue_name=embed_links --skip-checks"


def fake_workers(lab, biggest):
    lab.fake("pgrep", "101\n102\n")
    lab.fake("ps", f" 300000   101 python3 /srv/current/manage.py process_queue --queue_name=user_activity\n"
                   f"{biggest:7}   102 {WORKER}\n")


@pytest.mark.parametrize(("vsize", "code"), [(500000, OK), (600000, OK), (600001, WARNING),
                                             (800000, WARNING), (800001, CRITICAL)])
def test_worker_memory_thresholds(lab, vsize, code):
    fake_workers(lab, vsize)
    got, text = lab.verdict(MEMORY, "--deployment", "/srv/current")
    assert got == code
    assert f"largest queue worker 102 uses {vsize} KiB of virtual memory ({WORKER[:60]}...)" in text
    assert lab.calls("pgrep") == [r"pgrep -xf (\S*/)?python[0-9.]* /srv/current/manage.py process_queue .*"]
    assert lab.calls("ps") == ["ps -o vsize=,pid=,args= -p 101,102"]


@pytest.mark.parametrize(("command", "worker"), [
    (WORKER, True),  # Zulip's: manage.py's "#!/usr/bin/env python3"
    ("/srv/venv/bin/python3.11 /srv/current/manage.py process_queue --queue_name=x", True),
    ("python3 /srv/current/manage.py runtornado 127.0.0.1:9800", False),
    ("python3 /srv/other/manage.py process_queue --queue_name=x", False),
    ("grep python3 /srv/current/manage.py process_queue --queue_name=x", False),
])
def test_worker_pattern_matches_whole_command_lines_as_pgrep_x(command, worker):
    # pgrep -x anchors the pattern at both ends of the command line.
    source = (pathlib.Path(__file__).parents[3] / "roles/zulip_monitoring/files/nagios_plugins" / MEMORY).read_text()
    pattern = re.search(r'return rf"(.*)"', source).group(1).replace("{deployment}", "/srv/current")
    assert bool(re.fullmatch(pattern, command)) == worker


def test_worker_memory_thresholds_are_options(lab):
    fake_workers(lab, 500000)
    assert lab.verdict(MEMORY, "--warning", "400000", "--critical", "450000")[0] == CRITICAL


def test_worker_memory_no_workers(lab):
    lab.fake("pgrep", code=1)
    assert lab.verdict(MEMORY) == (OK, "OK: no queue workers running")
    assert lab.calls("ps") == []


def test_worker_memory_pgrep_failure_is_unknown(lab):
    lab.fake("pgrep", stderr="pgrep: bad pattern", code=2)
    code, text = lab.verdict(MEMORY)
    assert code == UNKNOWN and "pgrep: bad pattern" in text


# --- zulip-rabbitmq-state, the writer ----------------------------------------------------

WRITER = "zulip_rabbitmq/zulip-rabbitmq-state"


def fake_rabbitmqctl(lab, queues):
    rows = "".join(f"{name}\t{messages}\t{consumers}\n" for name, messages, consumers in queues)
    lab.fake("rabbitmqctl", "Timeout: 60.0 seconds ...\nname\tmessages\tconsumers\n" + rows)


def consumers_file(lab, queue):
    return fields(lab.state / f"check-rabbitmq-consumers-{queue}")


def test_writer_normalises_tornado_and_shards(lab):
    fake_rabbitmqctl(lab, [("notify_tornado_9800", 0, 1), ("notify_tornado_9801", 0, 1),
                           ("missedmessage_mobile_notifications_shard1", 0, 1),
                           ("missedmessage_mobile_notifications_shard2", 0, 1),
                           ("deferred_work", 0, 1), ("email_senders", 0, 0)])
    result = lab.run(WRITER, "--state-dir", lab.state, "--tornado-consumers", "2",
                     "--queues", "deferred_work,digest_emails,notify_tornado")
    assert result.returncode == CRITICAL
    assert lab.calls("rabbitmqctl") == ["rabbitmqctl -q list_queues -p zulip name messages consumers"]
    assert consumers_file(lab, "notify_tornado")[1:] == ["0", "OK", "queue notify_tornado has 2 consumers, needs 2"]
    assert consumers_file(lab, "missedmessage_mobile_notifications")[3] == (
        "queue missedmessage_mobile_notifications has 2 consumers, needs 1")
    assert consumers_file(lab, "deferred_work")[2] == "OK"
    # Expected but absent from RabbitMQ, and present without a consumer:
    assert consumers_file(lab, "digest_emails")[1:] == ["2", "CRITICAL", "queue digest_emails has 0 consumers, needs 1"]
    assert consumers_file(lab, "email_senders")[2] == "CRITICAL"
    names = sorted(path.name for path in lab.state.iterdir())
    assert not [name for name in names if "shard" in name or "_98" in name or name.endswith("-tmp")]
    assert result.stdout == ("CRITICAL: queues normal; 3 of 5 queues have their consumers; "
                             "queue digest_emails has 0 consumers, needs 1; "
                             "queue email_senders has 0 consumers, needs 1\n")


def test_writer_tornado_shortfall(lab):
    fake_rabbitmqctl(lab, [("notify_tornado_9800", 0, 1), ("notify_tornado_9801", 0, 1)])
    result = lab.run(WRITER, "--state-dir", lab.state, "--tornado-consumers", "3")
    assert result.returncode == CRITICAL
    assert consumers_file(lab, "notify_tornado")[1:] == [
        "2", "CRITICAL", "queue notify_tornado has 2 consumers, needs 3"]


def test_writer_count_thresholds(lab):
    fake_rabbitmqctl(lab, [("deferred_work", 10, 1), ("embed_links", 11, 1), ("user_activity", 51, 1),
                           ("digest_emails", 50, 1)])
    result = lab.run(WRITER, "--state-dir", lab.state)
    assert result.returncode == CRITICAL
    assert fields(lab.state / "check-rabbitmq-results")[1:] == [
        "2", "CRITICAL", ("queue embed_links problem: WARNING:count warning: 11; "
                          "queue user_activity problem: CRITICAL:count critical: 51; "
                          "queue digest_emails problem: WARNING:count warning: 50")]


def test_writer_count_thresholds_are_options(lab):
    fake_rabbitmqctl(lab, [("deferred_work", 30, 1)])
    assert lab.run(WRITER, "--state-dir", lab.state, "--warning-count", "40").returncode == OK
    assert fields(lab.state / "check-rabbitmq-results")[1:] == ["0", "OK", "queues normal"]
    assert lab.run(WRITER, "--state-dir", lab.state, "--critical-count", "20").returncode == CRITICAL


def test_writer_all_normal(lab):
    fake_rabbitmqctl(lab, [("deferred_work", 0, 1), ("notify_tornado", 3, 1)])
    result = lab.run(WRITER, "--state-dir", lab.state, "--vhost", "other")
    assert (result.returncode, result.stdout) == (OK, "OK: queues normal; 2 of 2 queues have their consumers\n")
    assert lab.calls("rabbitmqctl") == ["rabbitmqctl -q list_queues -p other name messages consumers"]


def test_writer_removes_files_of_vanished_queues(lab):
    lab.state_file("check-rabbitmq-consumers-signups", line(time.time() - 999, OK, "queue signups has 1 consumers"))
    fake_rabbitmqctl(lab, [("deferred_work", 0, 1)])
    assert lab.run(WRITER, "--state-dir", lab.state, "--queues", "digest_emails").returncode == CRITICAL
    assert sorted(path.name for path in lab.state.iterdir()) == [
        "check-rabbitmq-consumers-deferred_work", "check-rabbitmq-consumers-digest_emails", "check-rabbitmq-results"]


def test_writer_rabbitmqctl_failure(lab):
    lab.fake("rabbitmqctl", stderr="Error: unable to perform an operation on node 'rabbit@x' | try again\n", code=69)
    result = lab.run(WRITER, "--state-dir", lab.state, "--queues", "deferred_work,notify_tornado")
    assert result.returncode == UNKNOWN
    assert result.stdout.startswith("UNKNOWN: rabbitmqctl failed: Error: unable to perform")
    for name in ("check-rabbitmq-results", "check-rabbitmq-consumers-deferred_work",
                 "check-rabbitmq-consumers-notify_tornado"):
        _stamp, code, word, message = fields(lab.state / name)
        assert (code, word) == ("3", "UNKNOWN")
        assert message == "rabbitmqctl failed: Error: unable to perform an operation on node 'rabbit@x' / try again"


def test_writer_unwritable_state_dir_is_unknown(lab):
    fake_rabbitmqctl(lab, [("deferred_work", 0, 1)])
    code, text = lab.verdict(WRITER, "--state-dir", lab.root / "missing")
    assert code == UNKNOWN and "cannot write state files" in text


# --- check_rabbitmq_queues and check_rabbitmq_consumers, the readers ----------------------

QUEUES = "zulip_rabbitmq/check_rabbitmq_queues"
CONSUMERS = "zulip_rabbitmq/check_rabbitmq_consumers"


def test_queues_reads_the_results_file(lab):
    lab.state_file("check-rabbitmq-results", line(time.time(), WARNING, "queue a problem: WARNING:count warning: 11"))
    assert lab.verdict(QUEUES, "--state-dir", lab.state) == (
        WARNING, "WARNING: queue a problem: WARNING:count warning: 11")


def test_queues_stale_and_missing(lab):
    assert lab.verdict(QUEUES, "--state-dir", lab.state) == (UNKNOWN, "UNKNOWN: Results file is missing")
    lab.state_file("check-rabbitmq-results", line(time.time() - 150, OK, "queues normal"))
    assert lab.verdict(QUEUES, "--state-dir", lab.state) == (UNKNOWN, "UNKNOWN: Results file is stale")
    assert lab.verdict(QUEUES, "--state-dir", lab.state, "--max-age", "200") == (OK, "OK: queues normal")


def consumer_state(lab, queue, code, count, needs=1, age=0):
    lab.state_file(f"check-rabbitmq-consumers-{queue}",
                   line(time.time() - age, code, f"queue {queue} has {count} consumers, needs {needs}"))


def test_consumers_all_ok(lab):
    for queue in ("deferred_work", "embed_links", "notify_tornado"):
        consumer_state(lab, queue, OK, 1)
    lab.state_file("check-rabbitmq-consumers-user_activity-tmp", "half a fi")
    assert lab.verdict(CONSUMERS, "--state-dir", lab.state) == (OK, "OK: 3 queues have their consumers")


def test_consumers_worst_state_and_problem_messages(lab):
    consumer_state(lab, "deferred_work", OK, 1)
    consumer_state(lab, "embed_links", CRITICAL, 0)
    consumer_state(lab, "digest_emails", OK, 1, age=500)
    consumer_state(lab, "user_activity", OK, 1, age=500)
    assert lab.verdict(CONSUMERS, "--state-dir", lab.state) == (
        CRITICAL, ("CRITICAL: queue embed_links has 0 consumers, needs 1; "
                   "Results file is stale (queues digest_emails, user_activity)"))


def test_consumers_named_queues_only(lab):
    consumer_state(lab, "deferred_work", OK, 1)
    consumer_state(lab, "embed_links", CRITICAL, 0)
    assert lab.verdict(CONSUMERS, "--state-dir", lab.state, "deferred_work") == (
        OK, "OK: 1 queues have their consumers")
    assert lab.verdict(CONSUMERS, "--state-dir", lab.state, "deferred_work", "email_mirror") == (
        UNKNOWN, "UNKNOWN: Results file is missing (queue email_mirror)")


def test_consumers_no_files(lab):
    assert lab.verdict(CONSUMERS, "--state-dir", lab.state) == (
        UNKNOWN, f"UNKNOWN: no consumer state files in {lab.state}")


def test_writer_and_readers_agree(lab):
    fake_rabbitmqctl(lab, [("deferred_work", 12, 1), ("embed_links", 0, 0), ("notify_tornado_9800", 0, 1)])
    lab.run(WRITER, "--state-dir", lab.state, "--queues", "deferred_work,embed_links,notify_tornado")
    assert lab.verdict(QUEUES, "--state-dir", lab.state) == (
        WARNING, "WARNING: queue deferred_work problem: WARNING:count warning: 12")
    assert lab.verdict(CONSUMERS, "--state-dir", lab.state) == (
        CRITICAL, "CRITICAL: queue embed_links has 0 consumers, needs 1")
    assert lab.verdict(CONSUMERS, "--state-dir", lab.state, "notify_tornado") == (
        OK, "OK: 1 queues have their consumers")


# --- check_postgresql_replication_lag -------------------------------------------------------

LAG = "zulip_postgresql/check_postgresql_replication_lag"


def lag_run(lab, answers, *args):
    lab.psql(answers)
    result = lab.run(LAG, *args)
    return result.returncode, result.stdout.splitlines()


def replica(row):
    return [("pg_is_in_recovery", [("t",)]), ("pg_stat_wal_receiver", [row] if row else [])]


def primary(rows):
    return [("pg_is_in_recovery", [("f",)]), ("pg_stat_replication", rows)]


def test_replica_streaming_lag_uses_the_full_32_bit_offset(lab):
    # 1/0 is 2**32: 256 bytes after 0/FFFFFF00.
    code, lines = lag_run(lab, replica(("10.0.0.1", "streaming", "0/FFFFFF00", "1/0")))
    assert (code, lines) == (OK, ["OK: replica is 256 bytes behind in replay of WAL logs from 10.0.0.1"])
    assert lab.calls("psql")[0] == "psql -X -t -A -z -v ON_ERROR_STOP=1 -d postgres -c SELECT pg_is_in_recovery()"


@pytest.mark.parametrize(("lag", "code"), [(16 * MIB, OK), (16 * MIB + 1, WARNING),
                                           (80 * MIB, WARNING), (80 * MIB + 1, CRITICAL)])
def test_replica_lag_thresholds(lab, lag, code):
    got, lines = lag_run(lab, replica(("db1", "streaming", "2/0", f"2/{lag:X}")))
    assert got == code and lines[0].endswith(f"replica is {lag} bytes behind in replay of WAL logs from db1")


def test_replica_not_streaming(lab):
    assert lag_run(lab, replica(("db1", "stopping", "2/0", "2/0"))) == (
        CRITICAL, ["CRITICAL: replica is in state stopping, not streaming"])


def test_replica_replaying_from_backups(lab):
    assert lag_run(lab, replica(None)) == (CRITICAL, ["CRITICAL: Replaying WAL logs from backups"])


def test_primary_without_replicas(lab):
    assert lag_run(lab, primary([])) == (CRITICAL, ["CRITICAL: No replicas!"])


def test_primary_with_one_of_two_replicas(lab):
    code, lines = lag_run(lab, primary([("10.0.0.2", "streaming", "5/100", "5/100", "5/100", "5/80")]))
    assert code == WARNING
    assert lines == ["WARNING: Only 1 of 2 replicas!",
                     "OK: replica 10.0.0.2 is 0 bytes behind in write of WAL logs",
                     "OK: replica 10.0.0.2 is 0 bytes behind in flush of WAL logs",
                     "OK: replica 10.0.0.2 is 128 bytes behind in replay of WAL logs"]


def test_primary_with_two_replicas_one_lagging(lab):
    code, lines = lag_run(lab, primary([
        ("10.0.0.2", "streaming", "5/3000000", "5/3000000", "5/3000000", "5/3000000"),
        ("[local]", "streaming", "5/3000000", "5/3000000", "5/3000000", "5/1000000")]), "--database", "zulip")
    assert code == WARNING
    assert lines[0] == f"WARNING: replica [local] is {32 * MIB} bytes behind in replay of WAL logs"
    assert "OK: Found 2 replicas" in lines and len(lines) == 7
    assert " -d zulip " in lab.calls("psql")[1]
    assert "coalesce(client_addr::text, application_name)" in lab.calls("psql")[1]


def test_primary_replica_not_streaming_or_without_positions(lab):
    code, lines = lag_run(lab, primary([("10.0.0.2", "catchup", "5/0", "5/0", "5/0", None)]), "--replicas", "1")
    assert code == CRITICAL
    assert lines[:2] == ["CRITICAL: replica 10.0.0.2 is in state catchup, not streaming",
                         "CRITICAL: replica 10.0.0.2 reports no replay position for WAL logs"]
    assert "OK: Found 1 replicas" in lines


def test_replication_psql_failure_is_critical(lab):
    error = ('psql: error: connection to server on socket "/run/postgresql/.s.PGSQL.5432" failed: No such file\n'
             "\tIs the server running locally and accepting connections on that socket?")
    # Both of psql's lines, on one.
    expected = ('CRITICAL: psql failed: psql: error: connection to server on socket "/run/postgresql/.s.PGSQL.5432"'
                " failed: No such file Is the server running locally and accepting connections on that socket?")
    assert lag_run(lab, [("pg_is_in_recovery", error)]) == (CRITICAL, [expected])


# --- check_fts_update_log --------------------------------------------------------------

FTS = "zulip_postgresql/check_fts_update_log"


def fake_fts(lab, body):
    return lab.script("process_fts_updates", f'[ "$1" = --nagios-check ] || exit 9\n{body}')


@pytest.mark.parametrize(("code", "text"), [(OK, "OK: 0 rows in fts_update_log table"),
                                            (CRITICAL, "CRITICAL: 12 rows in fts_update_log table")])
def test_fts_passes_the_verdict_through(lab, code, text):
    program = fake_fts(lab, f"echo '{text}'; exit {code}")
    assert lab.verdict(FTS, "--program", program) == (code, text)


def test_fts_not_installed(lab):
    assert lab.verdict(FTS, "--program", lab.bin / "process_fts_updates") == (
        UNKNOWN, "UNKNOWN: process_fts_updates is not installed")


def test_fts_crash_is_unknown_not_warning(lab):
    program = fake_fts(lab, "echo 'Traceback (most recent call last):' >&2\n"
                            "echo 'psycopg2.OperationalError: could not connect' >&2\nexit 1")
    assert lab.verdict(FTS, "--program", program) == (
        UNKNOWN, "UNKNOWN: process_fts_updates --nagios-check failed: psycopg2.OperationalError: could not connect")


# --- last: the tests left nothing behind in the role -------------------------------------

def test_no_bytecode_cache_in_the_role(plugins):
    assert not list(plugins.rglob("__pycache__"))
