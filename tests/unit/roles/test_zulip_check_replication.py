"""roles/zulip_postgresql/files/zulip-check-replication: its verdicts (Nagios
exit codes, one line) from what PostgreSQL answers. psql is replaced by a
stub that answers each query from canned rows, so the script's own logic
(classification, thresholds, the summary line) is what is tested."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "roles" / "zulip_postgresql" / "files" / "zulip-check-replication"


def run(tmp_path, answers, *args):
    """answers: (substring of the query, stdout) pairs; the first match answers."""
    stub = tmp_path / "psql"
    cases = "\n".join(
        f"  *{key!s}*) printf '%s\\n' {value!r} ;;" if value is not None else f"  *{key!s}*) echo boom >&2; exit 2 ;;"
        for key, value in answers)
    stub.write_text(textwrap.dedent("""\
        #!/bin/bash
        query="${@: -1}"
        case "$query" in
        %s
          *) echo "unexpected query: $query" >&2; exit 9 ;;
        esac
        """) % cases)
    stub.chmod(0o755)
    # runuser is only used as root; the stub stands in for it too.
    runuser = tmp_path / "runuser"
    runuser.write_text('#!/bin/bash\nshift 3\nexec "$@"\n')
    runuser.chmod(0o755)
    env = dict(os.environ, PATH=f"{tmp_path}:{os.environ['PATH']}")
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, check=False)


REPLICA_OK = [("pg_is_in_recovery", "t"), ("pg_stat_wal_receiver", "streaming zulip_db2"),
              ("pg_last_wal_receive_lsn", "0 0")]


def test_streaming_replica_is_ok(tmp_path):
    result = run(tmp_path, REPLICA_OK)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "OK: role=replica streaming=yes slot=zulip_db2 lag_bytes=0 lag_seconds=0\n"


def test_replica_without_wal_receiver_is_critical(tmp_path):
    result = run(tmp_path, [("pg_is_in_recovery", "t"), ("pg_stat_wal_receiver", "none -"),
                            ("pg_last_wal_receive_lsn", "0 0")])
    assert result.returncode == 2
    assert result.stdout.startswith("CRITICAL: role=replica streaming=no ")
    assert "WAL receiver is none" in result.stdout


@pytest.mark.parametrize(("lag", "code"), [("16777215 1.5", 0), ("16777216 1.5", 1), ("1000 30.0", 1),
                                           ("1073741824 0", 2), ("0 300.2", 2)])
def test_replica_lag_thresholds(tmp_path, lag, code):
    result = run(tmp_path, REPLICA_OK[:2] + [("pg_last_wal_receive_lsn", lag)])
    assert result.returncode == code, result.stdout
    assert len(result.stdout.splitlines()) == 1


def test_replica_thresholds_from_options(tmp_path):
    result = run(tmp_path, REPLICA_OK[:2] + [("pg_last_wal_receive_lsn", "2000 0")], "-w", "1000", "-c", "5000")
    assert result.returncode == 1


def test_primary_with_active_slot_and_streaming_standby_is_ok(tmp_path):
    result = run(tmp_path, [("pg_is_in_recovery", "f"), ("pg_replication_slots", "zulip_db2 t"),
                            ("pg_stat_replication", "zulip_db2 streaming 120 0.004 async")])
    assert result.returncode == 0, result.stderr
    assert result.stdout == "OK: role=primary slots_active=1/1 streaming=1 lag_bytes=120 lag_seconds=0.004\n"


def test_primary_with_inactive_slot_is_critical(tmp_path):
    result = run(tmp_path, [("pg_is_in_recovery", "f"), ("pg_replication_slots", "zulip_db2 f"),
                            ("pg_stat_replication", "")])
    assert result.returncode == 2
    assert result.stdout.startswith("CRITICAL: role=primary slots_active=0/1 streaming=0 ")
    assert "slot zulip_db2 inactive" in result.stdout


def test_unreachable_server_is_unknown(tmp_path):
    result = run(tmp_path, [("pg_is_in_recovery", None)])
    assert result.returncode == 3
    assert result.stdout.startswith("UNKNOWN: cannot query PostgreSQL")
