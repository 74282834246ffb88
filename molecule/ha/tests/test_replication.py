"""A PostgreSQL primary with a streaming hot spare, as a Zulip admin relies on it."""

import time

import pytest
import zulip

from conftest import lab_common

PRIMARY = lab_common.first_in("zulip_postgresql")
REPLICA = lab_common.first_in("zulip_postgresql_replica")
# zulip_ + the replica's inventory name, [^a-z0-9] as _ (role zulip_postgresql).
SLOT = "zulip_" + "".join(c if c.isalnum() else "_" for c in REPLICA.lower())
DATA = "/var/lib/postgresql/15/main"
UNIT = "postgresql@15-main"


def host(name):
    return lab_common.get_host(name)


def sql(name, query, database="postgres"):
    """One value (or rows, one a line) from psql as postgres on that host."""
    result = host(name).run(
        "runuser -u postgres -- env PGOPTIONS='-c search_path=zulip,public' "
        "psql -X -q -A -t -d %s -c %s", database, query)
    assert result.rc == 0, result.stderr
    return result.stdout.strip()


def wait_for(what, condition, timeout):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.1)


def zulip_lag_check(name):
    """Zulip's check_postgresql_replication_lag, as zulip-check-all runs it (expecting the inventory's one replica)."""
    check = host(name).run("runuser -u postgres -- /usr/lib/nagios/plugins/zulip_postgresql/check_postgresql_replication_lag "
                           "--replicas 1")
    return check.rc, check.stdout.strip()


def system_identifier(name, data=DATA):
    out = host(name).run(f"LC_ALL=C /usr/lib/postgresql/15/bin/pg_controldata {data}").stdout
    return next(line.split(":", 1)[1].strip() for line in out.splitlines()
                if line.startswith("Database system identifier"))


def streaming_from_slot():
    return sql(REPLICA, "SELECT status || ' ' || coalesce(slot_name, '') FROM pg_stat_wal_receiver") \
        == f"streaming {SLOT}"


def test_replica_streams_over_tls_with_verified_certificate():
    row = sql(PRIMARY, "SELECT r.application_name, r.state, s.ssl, s.version FROM pg_stat_replication r "
                       "JOIN pg_stat_ssl s USING (pid)")
    name, state, ssl, version = row.split("|")
    assert (name, state, ssl) == (SLOT, "streaming", "t"), row
    assert version.startswith("TLSv1."), row
    conninfo = sql(REPLICA, "SELECT conninfo FROM pg_stat_wal_receiver")
    assert "sslmode=verify-full" in conninfo, conninfo


def test_slot_is_active_and_bounded():
    assert sql(PRIMARY, f"SELECT active FROM pg_replication_slots WHERE slot_name = '{SLOT}'") == "t"
    assert sql(PRIMARY, "SHOW max_slot_wal_keep_size") not in ("", "-1")
    # Either host may be the former primary that rejoin.yml rewinds.
    for name in (PRIMARY, REPLICA):
        assert sql(name, "SHOW wal_log_hints") == "on"
        assert sql(name, "SHOW wal_keep_size") == "1GB"


def test_replication_only_from_the_database_hosts():
    hba = host(PRIMARY).file("/etc/postgresql/15/main/pg_hba.conf").content_string
    lines = [line.split() for line in hba.splitlines() if line.strip() and not line.startswith("#")]
    replication = [fields for fields in lines if fields[1] == "replication"]
    assert len(replication) == 1, replication
    assert replication[0][0] == "hostssl" and replication[0][4] == "scram-sha-256"
    replica_ip = host(REPLICA).run("hostname -I").stdout.split()[0]
    assert replication[0][3] == f"{replica_ip}/32"


def test_message_sent_through_the_app_is_on_the_replica_within_2s(zuliprc):
    client = zulip.Client(config_file=zuliprc["config_file"], cert_bundle=zuliprc["cert_bundle"])
    content = f"replicated {time.time()}"
    sent = client.send_message({"type": "stream", "to": "general", "topic": "ha", "content": content})
    assert sent["result"] == "success", sent
    started = time.monotonic()
    wait_for("message on the replica",
             lambda: sql(REPLICA, f"SELECT content FROM zerver_message WHERE id = {int(sent['id'])}", "zulip") != "",
             2)
    assert time.monotonic() - started <= 2
    assert content in sql(REPLICA, f"SELECT content FROM zerver_message WHERE id = {int(sent['id'])}", "zulip")


def test_replica_rejects_writes():
    result = host(REPLICA).run(
        "runuser -u postgres -- psql -X -d zulip -c 'CREATE TABLE lab_write_probe (id int)'")
    assert result.rc != 0
    assert "read-only transaction" in result.stderr


def test_app_lists_primary_then_replica_and_verifies_them():
    settings = host(lab_common.first_in("zulip_app_frontend")).file("/etc/zulip/settings.py").content_string
    assert f'REMOTE_POSTGRES_HOST = "{PRIMARY},{REPLICA}"' in settings
    assert 'REMOTE_POSTGRES_SSLMODE = "verify-full"' in settings


def test_health_check_reports_both_roles():
    primary = host(PRIMARY).run("/usr/local/bin/zulip-check-replication")
    assert primary.rc == 0, primary.stdout
    assert primary.stdout.startswith("OK: role=primary slots_active=1/1 streaming=1 "), primary.stdout
    replica = host(REPLICA).run("/usr/local/bin/zulip-check-replication")
    assert replica.rc == 0, replica.stdout
    assert replica.stdout.startswith(f"OK: role=replica streaming=yes slot={SLOT} lag_bytes="), replica.stdout
    assert len(replica.stdout.strip().splitlines()) == 1
    # Zulip's own check, with its thresholds (README "Monitoring").
    rc, out = zulip_lag_check(PRIMARY)
    assert rc == 0 and out.splitlines()[0] == "OK: Found 1 replicas" and "bytes behind in replay of WAL logs" in out, out
    rc, out = zulip_lag_check(REPLICA)
    assert rc == 0 and out.startswith("OK: replica is ") and "bytes behind in replay of WAL logs from " in out, out


def test_health_check_is_critical_when_the_replica_is_down():
    replica = host(REPLICA)
    assert replica.run(f"systemctl stop {UNIT}").rc == 0
    try:
        outputs = []

        def critical():
            check = host(PRIMARY).run("/usr/local/bin/zulip-check-replication")
            outputs.append(check.stdout)
            return check.rc == 2

        wait_for("check critical", critical, 10)
        assert outputs[-1].startswith("CRITICAL: role=primary slots_active=0/1 streaming=0 "), outputs[-1]
        assert zulip_lag_check(PRIMARY) == (2, "CRITICAL: No replicas!"), zulip_lag_check(PRIMARY)
    finally:
        assert replica.run(f"systemctl start {UNIT}").rc == 0
    wait_for("streaming again", streaming_from_slot, 30)


def test_restarted_replica_resumes_from_its_slot_without_a_new_base_backup():
    replica = host(REPLICA)
    # A new base backup would need a new data directory (a new inode), and
    # leaves a new backup_label.old when the standby starts from it.
    probe = f"stat -c %i {DATA} && stat -c '%i %Y' {DATA}/backup_label.old"
    before = replica.run(probe).stdout
    assert len(before.split()) == 3, before
    system_id = system_identifier(REPLICA)
    assert replica.run(f"systemctl restart {UNIT}").rc == 0
    wait_for("streaming from the slot", streaming_from_slot, 30)
    assert replica.run(probe).stdout == before
    assert system_identifier(REPLICA) == system_id == system_identifier(PRIMARY)


def make_foreign_cluster(replica):
    """Replace the replica's data with a new cluster of its own (as if the
    host had been initialised by hand); return its system identifier."""
    made = replica.run(f"runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D {DATA} "
                       f"&& runuser -u postgres -- touch {DATA}/standby.signal")
    assert made.rc == 0, made.stderr
    foreign_id = system_identifier(REPLICA)
    assert foreign_id != system_identifier(PRIMARY)
    return foreign_id


def run_postgresql_play(*extra):
    """install.yml's PostgreSQL part (with zulip_base's topology and secrets)."""
    return lab_common.run_playbook(
        "install", "--tags", "zulip_base_topology,zulip_base_secrets,zulip_postgresql", *extra)


def test_replica_holding_another_clusters_data_is_refused_and_left_untouched():
    replica = host(REPLICA)
    replication_conf = "/etc/postgresql/15/main/conf.d/zulip-replication.conf"
    before = (sql(PRIMARY, "SHOW synchronous_standby_names"), host(PRIMARY).file(replication_conf).content_string)
    assert replica.run(f"systemctl stop {UNIT}").rc == 0
    assert replica.run(f"mv {DATA} {DATA}.lab-saved").rc == 0
    try:
        foreign_id = make_foreign_cluster(replica)
        listing = replica.run(f"find {DATA} -printf '%p %s %T@\\n' | sort").stdout
        rc, output = run_postgresql_play()
        assert rc != 0, output[-3000:]
        assert f"Refusing to make {REPLICA} a replica of {PRIMARY}" in output, output[-3000:]
        assert f"holds another PostgreSQL cluster (system identifier {foreign_id}" in output, output[-3000:]
        assert system_identifier(REPLICA) == foreign_id
        assert replica.run(f"find {DATA} -printf '%p %s %T@\\n' | sort").stdout == listing
        # The primary stays as synchronous as it was: the refused replica was its standby.
        assert (sql(PRIMARY, "SHOW synchronous_standby_names"),
                host(PRIMARY).file(replication_conf).content_string) == before
    finally:
        replica.run(f"rm -rf {DATA} && mv {DATA}.lab-saved {DATA}")
        assert replica.run(f"systemctl start {UNIT}").rc == 0
    wait_for("streaming again", streaming_from_slot, 30)


def test_forced_rebuild_moves_the_foreign_data_aside_and_streams_again():
    """With zulip_postgresql_replica_force_rebuild the refused data is kept
    (moved aside, not deleted) and a new base backup makes a streaming replica."""
    replica = host(REPLICA)
    assert replica.run(f"systemctl stop {UNIT}").rc == 0
    assert replica.run(f"rm -rf {DATA}").rc == 0
    foreign_id = make_foreign_cluster(replica)
    rc, output = run_postgresql_play("-e", "zulip_postgresql_replica_force_rebuild=true")
    assert rc == 0, output[-3000:]
    wait_for("streaming after the rebuild", streaming_from_slot, 30)
    assert system_identifier(REPLICA) == system_identifier(PRIMARY)
    aside = replica.run(f"ls -d {DATA}.replaced-*").stdout.split()
    assert len(aside) == 1, aside
    assert system_identifier(REPLICA, aside[0]) == foreign_id
    replica.run(f"rm -rf {aside[0]}")
