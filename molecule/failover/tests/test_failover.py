"""Failover drills, in order: each test starts from the cluster the previous
one left (a refused failover, a failover after the primary's PostgreSQL is
killed, the old primary fenced, rejoin, a switchover back, a failover from
a primary that does not answer, the active app server moved to the hot spare)."""

import json
import re
import threading
import time

import pytest
import zulip

from conftest import lab_common

DB1 = lab_common.first_in("zulip_postgresql")
DB2 = lab_common.first_in("zulip_postgresql_replica")
APP = lab_common.active_app()
SPARE = next(h for h in lab_common.hosts_in("zulip_app_frontend") if h != APP)
DATA = "/var/lib/postgresql/15/main"
UNIT = "postgresql@15-main"
FENCE = "/etc/zulip/postgresql-fenced"
FLOATING = "192.0.2.10/32"


def host(name):
    return lab_common.get_host(name)


def sql(name, query, database="postgres"):
    result = host(name).run("runuser -u postgres -- psql -X -q -A -t -d %s -c %s", database, query)
    assert result.rc == 0, result.stderr
    return result.stdout.strip()


def slot(name):
    return "zulip_" + re.sub("[^a-z0-9]", "_", name.lower())


def wait_for(what, condition, timeout):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.2)


playbook = lab_common.run_playbook


def changed_counts(output):
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.M)}


def is_primary(name):
    return sql(name, "SELECT pg_is_in_recovery()") == "f"


def streams_from_slot(replica):
    result = host(replica).run(
        "runuser -u postgres -- psql -X -A -t -c \"SELECT status || ' ' || coalesce(slot_name, '') FROM pg_stat_wal_receiver\"")
    return result.rc == 0 and result.stdout.strip() == f"streaming {slot(replica)}"


def uwsgi_pid(name):
    """The uWSGI master's PID: unchanged means the app was not restarted."""
    pid = host(name).run("supervisorctl pid zulip-django").stdout.strip()
    assert pid.isdigit(), pid
    return pid


class Writer(threading.Thread):
    """Sends messages with the zulip client, one after the other, and
    records those the server acknowledged (its message id) and the errors."""

    def __init__(self, zuliprc, topic):
        super().__init__(daemon=True)
        self.client = zulip.Client(config_file=zuliprc["config_file"], cert_bundle=zuliprc["cert_bundle"],
                                   retry_on_errors=False)
        self.topic = topic
        self.acknowledged = {}
        self.failures = 0
        self.halt = threading.Event()

    def run(self):
        n = 0
        while not self.halt.is_set():
            n += 1
            content = f"{self.topic} {n} {time.time()}"
            try:
                result = self.client.send_message({"type": "stream", "to": "general", "topic": self.topic, "content": content})
            except Exception:  # noqa: BLE001 - a refused or dropped connection is a failed send
                result = {}
            if result.get("result") == "success":
                self.acknowledged[int(result["id"])] = content
            else:
                self.failures += 1
                time.sleep(0.05)

    def wait_acknowledged(self, count, timeout):
        target = len(self.acknowledged) + count
        wait_for(f"{count} more acknowledged messages", lambda: len(self.acknowledged) >= target, timeout)

    def stop(self):
        self.halt.set()
        self.join(30)


def all_present(primary, acknowledged):
    # By range: thousands of ids in one IN list exceed the argument size limit.
    rows = sql(primary, "SELECT id || ' ' || content FROM zulip.zerver_message "
               f"WHERE id BETWEEN {min(acknowledged)} AND {max(acknowledged)}", "zulip")
    stored = {int(line.split(" ", 1)[0]): line.split(" ", 1)[1] for line in rows.splitlines()}
    return {i: c for i, c in acknowledged.items() if stored.get(i) != c}


@pytest.fixture(scope="module")
def drill():
    """What one drill leaves for the next."""
    return {}


def test_failover_without_confirmation_is_refused_and_changes_nothing():
    assert is_primary(DB1) and streams_from_slot(DB2)
    rc, output = playbook("failover", "-e", "zulip_failover_mode=failover")
    assert rc != 0, output[-3000:]
    assert f"Confirm with -e zulip_failover_confirm={DB1}" in output, output[-3000:]
    assert set(changed_counts(output).values()) == {0}, output[-3000:]
    assert is_primary(DB1) and streams_from_slot(DB2)
    assert not host(DB1).file(FENCE).exists


def test_failover_after_the_primary_is_killed_loses_no_acknowledged_message(zuliprc, drill):
    # The drill's premise: a commit waits for the replica.
    assert sql(DB1, "SELECT sync_state FROM pg_stat_replication") in ("sync", "quorum")
    pid = uwsgi_pid(APP)
    writer = Writer(zuliprc, "failover")
    writer.start()
    try:
        writer.wait_acknowledged(20, 60)
        killed_at = time.time()
        killed = host(DB1).run(f"kill -KILL $(head -1 {DATA}/postmaster.pid)")
        assert killed.rc == 0, killed.stderr
        rc, output = playbook("failover", "-e", "zulip_failover_mode=failover", "-e", f"zulip_failover_confirm={DB1}")
        failed_over_at = time.time()
        assert rc == 0, output[-5000:]
        assert f"{APP} writes to the new primary without a restart." in output
        # The app accepts messages again, through the same processes.
        writer.wait_acknowledged(10, 60)
    finally:
        writer.stop()
    assert is_primary(DB2)
    lost = all_present(DB2, writer.acknowledged)
    # Each content ends with the time it was sent, to compare with the drill's.
    assert lost == {}, (
        f"acknowledged messages lost: primary killed at {killed_at:.2f}, failover done at {failed_over_at:.2f}, "
        f"{writer.failures} failed sends, acknowledged ids {sorted(writer.acknowledged)}; {DB2} has: "
        + sql(DB2, f"SELECT id, content FROM zulip.zerver_message WHERE id IN ({','.join(map(str, lost))})", "zulip"))
    assert uwsgi_pid(APP) == pid
    drill["acknowledged"] = dict(writer.acknowledged)


def test_the_new_primary_indexes_new_messages_for_search(zuliprc):
    """process_fts_updates runs on every database host and waits while its
    database is in recovery: the promoted replica's takes over."""
    client = zulip.Client(config_file=zuliprc["config_file"], cert_bundle=zuliprc["cert_bundle"])
    word = f"nebula{int(time.time() * 1000)}"
    sent = client.send_message({"type": "stream", "to": "general", "topic": "search", "content": f"a {word} after failover"})
    assert sent["result"] == "success", sent

    def found():
        got = client.get_messages({"anchor": "newest", "num_before": 5, "num_after": 0,
                                   "narrow": [{"operator": "search", "operand": word}]})
        return sent["id"] in [m["id"] for m in got.get("messages", [])]

    wait_for("the message found by search on the new primary", found, 20)
    assert sql(DB2, "SELECT count(*) FROM zulip.fts_update_log", "zulip") == "0"


def test_the_old_primary_is_fenced_and_accepts_no_writes():
    old = host(DB1)
    assert old.file(FENCE).exists
    assert old.run(f"systemctl is-enabled {UNIT}").stdout.strip() == "masked"
    assert old.run(f"systemctl start {UNIT}").rc != 0
    assert old.run("runuser -u postgres -- psql -X -c 'SELECT 1'").rc != 0
    # The new primary keeps its role when the cluster is converged again.
    assert "replication_primary" not in host(DB2).file("/etc/zulip/zulip.conf").content_string


def test_install_keeps_the_new_topology():
    """install.yml's topology and PostgreSQL part (the whole play list would
    add minutes; the app servers' settings list every database host anyway)."""
    rc, output = playbook("install", "--tags", "zulip_base_topology,zulip_base_secrets,zulip_postgresql")
    assert rc == 0, output[-5000:]
    assert f"{DB1} is fenced" in output
    assert is_primary(DB2) and host(DB1).file(FENCE).exists
    assert not any(changed_counts(output).values()), output[-5000:]


def test_rejoin_rewinds_the_old_primary_into_a_streaming_replica(drill):
    inode = host(DB1).run(f"stat -c %i {DATA}").stdout
    rc, output = playbook("rejoin")
    assert rc == 0, output[-5000:]
    assert f"pg_rewind made {DB1} follow {DB2}" in output, output[-5000:]
    wait_for("the old primary streaming from its slot", lambda: streams_from_slot(DB1), 60)
    assert not host(DB1).file(FENCE).exists
    # Rewound in place: the same data directory, nothing moved aside.
    assert host(DB1).run(f"stat -c %i {DATA}").stdout == inode
    assert host(DB1).run(f"ls -d {DATA}.replaced-*").rc != 0
    assert all_present(DB1, drill["acknowledged"]) == {}


def test_switchover_back_loses_nothing(zuliprc):
    writer = Writer(zuliprc, "switchover")
    writer.start()
    try:
        writer.wait_acknowledged(20, 60)
        rc, output = playbook("failover", "-e", "zulip_failover_mode=switchover", "-e", f"zulip_failover_target={DB1}")
        assert rc == 0, output[-5000:]
        writer.wait_acknowledged(10, 60)
    finally:
        writer.stop()
    assert is_primary(DB1)
    wait_for("the new replica streaming", lambda: streams_from_slot(DB2), 60)
    assert all_present(DB1, writer.acknowledged) == {}
    assert sql(DB1, "SELECT sync_state FROM pg_stat_replication") in ("sync", "quorum")


def test_a_primary_that_could_not_be_fenced_fences_itself_when_it_comes_back(zuliprc, tmp_path):
    """The primary's host goes down (its PostgreSQL dies, and Ansible reaches
    it over an SSH port nothing listens on, as a dead host answers): the
    failover promotes the replica without fencing it, and says so. When the
    host is back and PostgreSQL starts, the start guard finds a primary that
    accepts writes and fences this one instead of starting a second primary.
    Its WAL did not survive: pg_rewind cannot recover it, and rejoin.yml falls
    back to a new base backup, keeping the old data directory aside."""
    assert is_primary(DB1) and streams_from_slot(DB2)
    unreachable = tmp_path / "unreachable.yml"
    unreachable.write_text(json.dumps({"all": {"hosts": {DB1: {
        "ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 9}}}}))
    writer = Writer(zuliprc, "unreachable")
    writer.start()
    try:
        writer.wait_acknowledged(20, 60)
        killed = host(DB1).run(f"kill -KILL $(head -1 {DATA}/postmaster.pid)")
        assert killed.rc == 0, killed.stderr
        rc, output = playbook("failover", "-i", str(unreachable), "-e", "zulip_failover_mode=failover",
                              "-e", f"zulip_failover_confirm={DB1}")
        assert rc == 0, output[-5000:]
        assert f"WARNING: {DB1} did not answer and could not be fenced" in output, output[-5000:]
        writer.wait_acknowledged(10, 60)
    finally:
        writer.stop()
    assert is_primary(DB2)
    assert all_present(DB2, writer.acknowledged) == {}, "acknowledged messages lost"
    assert not host(DB1).file(FENCE).exists

    # The host is back: its PostgreSQL starts (as at boot), and refuses.
    assert host(DB1).run(f"systemctl start {UNIT}").rc != 0
    assert "by zulip-postgresql-start-guard" in host(DB1).file(FENCE).content_string
    assert host(DB1).run("runuser -u postgres -- psql -X -c 'SELECT 1'").rc != 0
    assert "not starting as a second primary" in host(DB1).run(f"journalctl -u {UNIT} -n 20 --no-pager").stdout

    assert host(DB1).run(f"rm {DATA}/pg_wal/0000*").rc == 0
    rc, output = playbook("rejoin")
    assert rc == 0, output[-5000:]
    assert "pg_rewind failed" in output and "a new base backup taken" in output, output[-5000:]
    wait_for("the old primary streaming from its slot", lambda: streams_from_slot(DB1), 60)
    assert host(DB1).run(f"test -d {DATA}.replaced-*/base").rc == 0
    assert all_present(DB1, writer.acknowledged) == {}


def test_the_hot_spare_app_server_takes_the_active_role(zuliprc):
    rc, output = playbook("failover", "-e", "zulip_failover_mode=app", "-e", f"zulip_failover_target={SPARE}",
                          "-e", f"zulip_failover_floating_address={FLOATING}", *lab_common.release_running_on(SPARE))
    assert rc == 0, output[-5000:]
    spare, old = host(SPARE), host(APP)
    assert spare.file("/etc/supervisor/conf.d/zulip/zulip-once.conf").exists
    assert not old.file("/etc/supervisor/conf.d/zulip/zulip-once.conf").exists
    assert spare.file("/etc/cron.d/update-channel-recently-active-status").exists
    assert not old.file("/etc/cron.d/update-channel-recently-active-status").exists
    assert f" {FLOATING} " in spare.run("ip -o addr show").stdout
    assert f" {FLOATING} " not in old.run("ip -o addr show").stdout
    # The spare serves: a message sent through it is stored.
    address = spare.run("hostname -I").stdout.split()[0]
    content = f"through the spare {time.time()}"
    # https, or http on a spare behind a TLS-terminating proxy (http_only).
    scheme, port = ("http", 80) if lab_common.app_variables(SPARE).get("zulip_app_frontend_http_only") else ("https", 443)
    sent = spare.run(
        "curl -sk --resolve %s:%s:%s -u %s %s://%s/api/v1/messages "
        "-d type=stream -d to=general -d topic=spare -d content=%s",
        zuliprc["site_host"], str(port), address, bot_credentials(zuliprc), scheme, zuliprc["site_host"], content)
    assert '"result":"success"' in sent.stdout.replace(" ", ""), sent.stdout
    primary = next(name for name in (DB1, DB2) if is_primary(name))
    assert content in sql(primary, "SELECT content FROM zulip.zerver_message ORDER BY id DESC LIMIT 1", "zulip")


def bot_credentials(zuliprc):
    values = dict(line.split("=", 1) for line in open(zuliprc["config_file"]).read().splitlines() if "=" in line)
    return f"{values['email'].strip()}:{values['key'].strip()}"
