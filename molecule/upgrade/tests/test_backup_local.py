"""Backups into a directory on the database host itself (no repository host,
no encryption): the primary takes them, and its app server's files go next
to them. Runs before test_upgrade.py (sorted), on the converged install. The
split scenario has the repository host, S3, the restores and the drill."""

import json

# The upgrade scenario's inventory, host and playbook runner.
from test_upgrade import NAME, assert_ok, host, playbook  # noqa: F401

REPOSITORY = "/var/lib/zulip-backups"


def test_backup_yml_backs_up_into_a_local_directory(host):
    result = playbook("backup")
    assert_ok(result)
    out = " ".join(result.stdout.split())
    assert f"stored (zst) in {REPOSITORY};" in out and "backed up as snapshot" in out, out[-3000:]
    info = json.loads(host.check_output("runuser -u postgres -- pgbackrest --stanza=zulip --output=json info"))
    assert info[0]["status"]["code"] == 0 and info[0]["backup"][-1]["type"] == "full", info
    assert host.file(f"{REPOSITORY}/backup/zulip/backup.info").exists
    assert host.file(f"{REPOSITORY}/zulip-files/{NAME}/config").exists
    # WAL reaches the directory; no drill yet: a warning that says what it found.
    check = host.run("/usr/local/bin/zulip-check-backup")
    assert check.rc == 1 and "no restore drill recorded" in check.stdout and "newest full" in check.stdout, check.stdout
    assert "WAL archived" in check.stdout, check.stdout
