"""roles/zulip_postgresql_backups/files: zulip-check-backup's verdicts,
zulip-backup's choices (standby fallback, primary-only), zulip-restore-files'
snapshot choice and moves, and zulip-backup-files' retention. The programs
they drive (pgbackrest, psql, restic) are stubs on PATH that answer from
canned output and log their arguments; the scripts' own logic is tested."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import subprocess
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

FILES = Path(__file__).resolve().parents[3] / "roles" / "zulip_postgresql_backups" / "files"


def load(name):
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), str(FILES / name))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


check = load("zulip-check-backup")
restore_files = load("zulip-restore-files")

ARGS = SimpleNamespace(stanza="zulip", full_warning_hours=192, full_critical_hours=360, diff_warning_hours=26,
                       diff_critical_hours=50, archive_warning_seconds=300, archive_critical_seconds=900,
                       drill_warning_days=8)
NOW = 2_000_000_000


def backup(label, kind, hours_ago, error=False):
    return {"label": label, "type": kind, "error": error, "timestamp": {"start": NOW - hours_ago * 3600 - 60,
                                                                         "stop": NOW - hours_ago * 3600}}


def info(*backups, code=0, message="ok"):
    return [{"name": "zulip", "status": {"code": code, "message": message}, "backup": list(backups)}]


@pytest.mark.parametrize(("backups", "state", "said"), [
    ([backup("F1", "full", 30), backup("D1", "diff", 2)], check.OK, "newest diff D1"),
    ([backup("F1", "full", 200), backup("D1", "diff", 2)], check.WARNING, "full F1 8.3 d ago"),
    ([backup("F1", "full", 400), backup("D1", "diff", 2)], check.CRITICAL, "full F1 16.7 d ago"),
    # No backup of any kind for 200 h: the newest is what counts.
    ([backup("F1", "full", 200)], check.CRITICAL, "newest full F1"),
    ([backup("F1", "full", 100), backup("D1", "diff", 30)], check.WARNING, "newest diff D1 30.0 h ago"),
    ([backup("F1", "full", 100), backup("D1", "diff", 60)], check.CRITICAL, "newest diff"),
    ([backup("D1", "diff", 1)], check.CRITICAL, "no full backup"),
    # A backup that failed half-way does not count.
    ([backup("F1", "full", 400), backup("F2", "full", 1, error=True)], check.CRITICAL, "full F1"),
])
def test_backup_ages(backups, state, said):
    got, text = check.judge_backups(info(*backups), NOW, ARGS)
    assert got == state and said in text, text


def test_an_empty_or_broken_repository_is_critical():
    assert check.judge_backups(info(code=2, message="no valid backups"), NOW, ARGS) == (check.CRITICAL,
                                                                                        "no backup in the repository")
    state, text = check.judge_backups(info(code=99, message="other"), NOW, ARGS)
    assert state == check.CRITICAL and "other" in text
    assert check.judge_backups([], NOW, ARGS)[0] == check.CRITICAL


@pytest.mark.parametrize(("row", "state", "said"), [
    (["t", "0", "0", "0", "", "0", "0"], check.OK, "standby"),
    (["f", "0", str(NOW - 30), "0", "", "0", "0"], check.OK, "WAL archived 30 s ago"),
    (["f", "3", str(NOW - 600), str(NOW - 10), "000000010000000000000007", "0", "1"], check.CRITICAL,
     "WAL archiving fails: 000000010000000000000007"),
    (["f", "3", str(NOW - 5), str(NOW - 600), "000000010000000000000007", "0", "0"], check.OK, "WAL archived 5 s ago"),
    (["f", "0", str(NOW - 30), "0", "", str(NOW - 400), "2"], check.WARNING, "2 WAL segment(s) waiting"),
    (["f", "0", str(NOW - 30), "0", "", str(NOW - 1000), "9"], check.CRITICAL, "the oldest for 1000 s"),
])
def test_archiving(row, state, said):
    got, text = check.judge_archiving(row, NOW, ARGS)
    assert got == state and said in text, text


@pytest.mark.parametrize(("drill", "state", "said"), [
    (None, check.WARNING, "no restore drill recorded"),
    ({"ok": True, "time": NOW - 3600, "rto_s": 40, "rpo_s": 12}, check.OK, "drill ok 60 min ago (RTO 40 s, RPO 12 s)"),
    ({"ok": True, "time": NOW - 10 * 86400, "rto_s": 40, "rpo_s": 12}, check.WARNING, "last restore drill 10.0 d ago"),
    ({"ok": False, "time": NOW - 60, "message": "checksum mismatch"}, check.CRITICAL, "FAILED 60 s ago: checksum mismatch"),
])
def test_the_last_drill(drill, state, said):
    got, text = check.judge_drill(drill, NOW, ARGS)
    assert got == state and said in text, text


def stub(directory, name, body):
    path = directory / name
    path.write_text("#!/bin/bash\n" + textwrap.dedent(body))
    path.chmod(0o755)


@pytest.fixture
def bin_dir(tmp_path, monkeypatch):
    directory = tmp_path / "bin"
    directory.mkdir()
    monkeypatch.setenv("PATH", f"{directory}:{os.environ['PATH']}")
    monkeypatch.setenv("STUB_LOG", str(tmp_path / "calls"))
    return directory


def calls(tmp_path):
    path = tmp_path / "calls"
    return path.read_text().splitlines() if path.exists() else []


def test_the_check_line_puts_the_worst_first_and_reads_its_settings(tmp_path, bin_dir, capsys):
    backups = json.dumps(info(backup("F1", "full", 1)))
    stub(bin_dir, "runuser", 'shift 3; exec "$@"\n')
    stub(bin_dir, "pgbackrest", f"echo '{backups}'\n")
    stub(bin_dir, "psql", f"echo 'f|0|{int(time.time()) - 20}|0||0|0'\n")
    settings = tmp_path / "settings.json"
    drill = tmp_path / "drill.json"
    drill.write_text(json.dumps({"ok": False, "time": time.time() - 100, "message": "restore failed"}))
    settings.write_text(json.dumps({"stanza": "zulip", "drill_state": str(drill)}))
    state = check.main([], config=str(settings))
    line = capsys.readouterr().out.strip()
    assert state == check.CRITICAL and line.startswith("CRITICAL: the last restore drill FAILED"), line
    assert "full F1" in line and "WAL archived" in line


def test_the_check_is_unknown_without_a_stanza(tmp_path, capsys):
    assert check.main([], config=str(tmp_path / "missing.json")) == check.UNKNOWN
    assert "no stanza" in capsys.readouterr().out


def run_backup(tmp_path, *args):
    return subprocess.run([str(FILES / "zulip-backup"), "--stanza", "zulip", *args], capture_output=True, text=True,
                          check=False, env=os.environ)


def test_a_standby_skips_the_backup_when_only_the_primary_takes_them(tmp_path, bin_dir):
    stub(bin_dir, "psql", "echo t\n")
    stub(bin_dir, "pgbackrest", 'echo "$@" >> "$STUB_LOG"\n')
    done = run_backup(tmp_path, "--type", "full", "--primary-only")
    assert done.returncode == 0 and "this host is a standby" in done.stdout and calls(tmp_path) == []


def test_no_running_standby_takes_the_backup_from_the_primary(tmp_path, bin_dir):
    stub(bin_dir, "pgbackrest", '''\
        echo "$@" >> "$STUB_LOG"
        case "$*" in *--no-backup-standby*) exit 0 ;; esac
        echo "ERROR: [056]: unable to find standby cluster - cannot proceed" >&2; exit 56
        ''')
    done = run_backup(tmp_path, "--type", "diff")
    assert done.returncode == 0 and "no standby is running" in done.stderr
    assert calls(tmp_path) == ["--stanza=zulip --type=diff backup", "--stanza=zulip --type=diff --no-backup-standby backup"]


def test_a_failed_backup_fails(tmp_path, bin_dir):
    stub(bin_dir, "pgbackrest", 'echo "ERROR: [104]: archive is not enabled" >&2; exit 104\n')
    done = run_backup(tmp_path, "--type", "full")
    assert done.returncode == 104 and "archive is not enabled" in done.stderr


SNAPSHOTS = [{"id": "a" * 64, "short_id": "aaaa", "time": "2026-12-06T23:41:07.544553834Z", "paths": ["/etc/zulip"]},
             {"id": "b" * 64, "short_id": "bbbb", "time": "2026-12-07T01:00:00.5+01:00", "paths": ["/etc/zulip"]},
             {"id": "c" * 64, "short_id": "cccc", "time": "2026-12-07T03:00:00Z", "paths": ["/etc/zulip"]}]


@pytest.mark.parametrize(("before", "chosen"), [
    (None, "cccc"),
    ("2026-12-07 00:30:00+00:00", "bbbb"),  # 01:00+01:00 is 00:00 UTC
    ("2026-12-06 23:59:59Z", "aaaa"),
    ("2026-12-06 23:00:00+00", None),
])
def test_the_newest_snapshot_at_or_before_the_target(before, chosen):
    snapshot = restore_files.choose(SNAPSHOTS, restore_files.parse_time(before) if before else None)
    assert (snapshot["short_id"] if snapshot else None) == chosen


def test_restoring_files_moves_the_current_ones_aside(tmp_path, bin_dir, monkeypatch, capsys):
    """Restoring onto a new server from the one it replaces: that server's repository and host name."""
    live = tmp_path / "etc" / "zulip"
    live.mkdir(parents=True)
    (live / "settings.py").write_text("current\n")
    snapshots = [{"id": "d" * 64, "short_id": "dddd", "time": "2026-12-07T03:00:00Z", "paths": [str(live)]}]
    restic = bin_dir / "zulip-restic"
    restic.write_text("#!/usr/bin/python3\n" + textwrap.dedent(f"""\
        import json, os, sys
        assert sys.argv[1:3] == ["--repo", "s3:https://s3/b/zulip-files/old-app"], sys.argv
        command = sys.argv[3]
        if command == "snapshots":
            assert sys.argv[sys.argv.index("--host") + 1] == "old-app", sys.argv
            print(json.dumps({snapshots!r}))
        elif command == "restore":
            target = os.path.join(sys.argv[sys.argv.index("--target") + 1], {str(live).lstrip('/')!r})
            os.makedirs(target)
            open(os.path.join(target, "settings.py"), "w").write("restored\\n")
        """))
    restic.chmod(0o755)
    monkeypatch.setattr(restore_files, "RESTIC", str(restic))
    (tmp_path / "staging").mkdir()
    rc = restore_files.main(["--host", "old-app", "--repository", "s3:https://s3/b/zulip-files/old-app", "--stamp", "S",
                             "--staging-under", str(tmp_path / "staging")])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["snapshot"] == "dddd"
    assert (live / "settings.py").read_text() == "restored\n"
    assert (tmp_path / "etc" / "zulip.replaced-S" / "settings.py").read_text() == "current\n"
    assert list((tmp_path / "staging").iterdir()) == []  # its private staging directory is gone


def backup_files_script(tmp_path, bin_dir, marker):
    """zulip-backup-files with its files under tmp_path, restic a stub; marker: what /etc/zulip-backups/initialized holds."""
    env_file = tmp_path / "restic.env"
    env_file.write_text("RESTIC_REPOSITORY=s3:https://s3/b/zulip-files/app\nRESTIC_PASSWORD=x\n"
                        "ZULIP_BACKUP_HOST=app\nZULIP_BACKUP_KEEP_DAILY=3\nZULIP_BACKUP_KEEP_WEEKLY=2\n")
    paths = tmp_path / "paths"
    paths.write_text(f"{tmp_path}\n/nonexistent/uploads\n")
    if marker is not None:
        (tmp_path / "initialized").write_text(marker + "\n")
    script = (FILES / "zulip-backup-files").read_text()
    for path, there in (("/etc/zulip-backups/restic.env", env_file), ("/etc/zulip-backups/paths", paths),
                        ("/etc/zulip-backups/initialized", tmp_path / "initialized")):
        script = script.replace(path, str(there))
    (tmp_path / "backup-files").write_text(script)
    stub(bin_dir, "zulip-restic", '''\
        echo "$@" >> "$STUB_LOG"
        [ "$1" = snapshots ] && echo '[{"short_id": "eeee", "time": "2026-12-07T03:00:00Z"}]'
        exit 0
        ''')
    return subprocess.run(["bash", str(tmp_path / "backup-files")], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("marker", [None, "s3:https://s3/b/zulip-files/other"])
def test_a_host_that_took_over_a_repository_backs_up_nothing_before_its_restore(tmp_path, bin_dir, marker):
    done = backup_files_script(tmp_path, bin_dir, marker)
    assert done.returncode == 3 and "run playbooks/restore.yml first" in done.stderr, done
    assert calls(tmp_path) == []


def test_backing_up_files_skips_missing_paths_and_applies_the_retention(tmp_path, bin_dir):
    done = backup_files_script(tmp_path, bin_dir, "s3:https://s3/b/zulip-files/app")
    assert done.returncode == 0, done.stderr
    assert calls(tmp_path)[:3] == [
        "unlock --quiet",
        f"backup --quiet --host app --tag zulip-files {tmp_path}",
        "forget --quiet --host app --tag zulip-files --keep-daily 3 --keep-weekly 2 --prune"]
    assert "backed up as snapshot eeee" in done.stdout


def test_a_repository_that_does_not_answer_is_critical_within_the_timeout(tmp_path, bin_dir, capsys):
    # A repository host that drops packets: pgbackrest (and what it started) hangs.
    stub(bin_dir, "runuser", 'shift 3; exec "$@"\n')
    stub(bin_dir, "pgbackrest", 'echo "$*" >> "$STUB_LOG"; sleep 300 & wait\n')
    stub(bin_dir, "psql", f"echo 'f|0|{int(time.time()) - 20}|0||0|0'\n")
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"stanza": "zulip", "drill_state": str(tmp_path / "none.json"), "repository_timeout": 1}))
    started = time.monotonic()
    state = check.main([], config=str(settings))
    line = capsys.readouterr().out.strip()
    assert time.monotonic() - started < 30
    assert state == check.CRITICAL and line.startswith("CRITICAL: the backup repository did not answer within 2 s"), line
    # pgBackRest's own network timeout is bounded too; the archiving check still ran.
    assert "--io-timeout=1" in calls(tmp_path)[0] and "WAL archived 2" in line
