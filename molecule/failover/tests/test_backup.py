"""Backups (README "Backups"), in order, after the failover drills: backup.yml
once the primary has changed, the destroyed database hosts restored onto fresh
containers with every acknowledged message, a point-in-time restore that lands
between two batches, the restore drill, and a corrupted repository file that
fails the drill and the check. The repository is on zulip-backup, its storage
the lab's S3 server (zulip-s3), all over TLS."""

import hashlib
import io
import json
import os
import time

import pytest
import requests
import zulip

from conftest import lab_common

DB_HOSTS = lab_common.hosts_in("zulip_postgresql") + lab_common.hosts_in("zulip_postgresql_replica")
APPS = lab_common.hosts_in("zulip_app_frontend")
REPOSITORY = lab_common.first_in("zulip_backup_repository")
S3 = lab_common.first_in("lab_s3")
DRILL_RC = ["-e", "zulip_postgresql_backups_drill_zuliprc=/home/zulip/credentials/ops.zuliprc"]
CHECK = "/usr/local/bin/zulip-check-backup"

playbook = lab_common.run_playbook


def host(name):
    return lab_common.get_host(name)


def running():
    """The release the app servers run (the upgrade tests moved them on from the inventory's)."""
    return lab_common.release_running_on(APPS[0])


def sql(name, query, database="postgres"):
    result = host(name).run("runuser -u postgres -- psql -X -q -A -t -d %s -c %s", database, query)
    assert result.rc == 0, result.stderr
    return result.stdout.strip()


def primary():
    """The database host that accepts writes now (the failover drills move it)."""
    found = [h for h in DB_HOSTS if host(h).run("runuser -u postgres -- psql -X -A -t -c 'SELECT pg_is_in_recovery()'")
             .stdout.strip() == "f"]
    assert len(found) == 1, found
    return found[0]


def wait_for(what, condition, timeout):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.5)


def archive_now(name):
    """Switch production's WAL and wait until the segment is archived: what was written is in the repository."""
    segment = sql(name, "SELECT pg_walfile_name(pg_switch_wal())")
    wait_for(f"{segment} archived", lambda: sql(name, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") >= segment,
             120)


def send_batch(client, label, count=5):
    sent = {}
    for n in range(count):
        content = f"backup test {label} {n}"
        reply = client.send_message({"type": "stream", "to": "general", "topic": "backups", "content": content})
        assert reply["result"] == "success", reply
        sent[int(reply["id"])] = content
    return sent


def stored(name, ids):
    rows = sql(name, f"SELECT id || ' ' || content FROM zulip.zerver_message WHERE id BETWEEN {min(ids)} AND {max(ids)}",
               "zulip")
    return {int(line.split(" ", 1)[0]): line.split(" ", 1)[1] for line in rows.splitlines() if line}


def check(name):
    result = host(name).run(CHECK)
    return result.rc, result.stdout.strip()


def streaming(replica):
    return host(replica).run("runuser -u postgres -- psql -X -A -t -c 'SELECT status FROM pg_stat_wal_receiver'") \
        .stdout.strip() == "streaming"


@pytest.fixture(scope="module")
def client(zuliprc):
    return zulip.Client(config_file=zuliprc["config_file"], cert_bundle=zuliprc["cert_bundle"])


@pytest.fixture(scope="module")
def story():
    """What one test leaves for the next."""
    return {}


def test_backup_yml_backs_up_the_database_from_a_standby_and_the_files(story):
    rc, out = playbook("backup")
    assert rc == 0, out[-3000:]
    assert "full backup" in out and "stored (zst, encrypted) in S3 bucket zulip-backups" in out, out[-3000:]
    info = json.loads(host(REPOSITORY).check_output("runuser -u postgres -- pgbackrest --stanza=zulip --output=json info"))
    assert info[0]["status"]["code"] == 0 and info[0]["backup"][-1]["type"] == "full", info
    for name in APPS:
        snapshots = json.loads(host(name).check_output(
            f"/usr/local/sbin/zulip-restic snapshots --host {name} --tag zulip-files --json"))
        assert snapshots and {"/etc/zulip", "/home/zulip/uploads"} <= set(snapshots[-1]["paths"]), snapshots
    # The standby copied the files; the primary only started and stopped the backup.
    log = host(REPOSITORY).check_output("cat /var/log/pgbackrest/zulip-backup.log")
    assert "backup-standby" in log
    # No drill yet: the check warns, and says what it found.
    rc, out = check(primary())
    assert rc == 1 and "no restore drill recorded" in out and "newest full" in out, out
    story["backups"] = len(info[0]["backup"])


def test_destroyed_database_hosts_are_restored_onto_fresh_ones_with_every_acknowledged_message(client, zuliprc, story):
    app = lab_common.get_host(APPS[0])
    secrets = lab_common.secrets_of(app)
    content = os.urandom(4096) + b"\nbackup test upload\n"
    upload = io.BytesIO(content)
    upload.name = "backup test.bin"
    reply = client.upload_file(upload)
    assert reply["result"] == "success", reply
    rc, out = playbook("backup")  # the files (and the upload) now; the database again
    assert rc == 0, out[-3000:]
    info = json.loads(host(REPOSITORY).check_output("runuser -u postgres -- pgbackrest --stanza=zulip --output=json info"))
    story["set"] = info[0]["backup"][-1]["label"]
    before = send_batch(client, "before the time")
    time.sleep(1.5)
    story["target"] = sql(primary(), "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00:00'")
    time.sleep(1.5)
    after = send_batch(client, "after the time")
    archive_now(primary())
    story.update(before=before, after=after)

    # Every database host lost (with a replica left, failover.yml is the
    # answer): new, empty containers in their place. restore.yml puts the
    # backup on the inventory's primary and rebuilds the replica from it.
    for name in DB_HOSTS:
        lab_common.recreate(name)
    # And the second app server is a new one too, as far as its file backups
    # go: a server of the same name whose repository is already there waits
    # for the restore before it backs up (its fresh files must not become the
    # newest snapshot); and it restores the first app server's files
    # (zulip_restore_files_from), as a move to a server of another name does.
    other = lab_common.get_host(APPS[1])
    other.check_output("systemctl disable --now zulip-backup-files.timer && rm /etc/zulip-backups/initialized")
    refused = other.run("/usr/local/sbin/zulip-backup-files")
    assert refused.rc == 3 and "run playbooks/restore.yml first" in refused.stderr, refused.stderr
    rc, out = playbook("restore", "-e", f"zulip_restore_confirm={DB_HOSTS[0]}", "-e", f"zulip_restore_files_from={APPS[0]}",
                       *running())
    assert rc == 0, out[-4000:]
    assert f"holds the file backups of an earlier {APPS[1]}" in out, out[-4000:]

    now = primary()
    acknowledged = {**before, **after}
    assert stored(now, list(acknowledged)) == acknowledged
    replicas = [h for h in DB_HOSTS if h != now]
    wait_for("the replicas stream from the restored primary", lambda: all(streaming(r) for r in replicas), 120)
    # The same secrets (the collection rewrites the file in its own layout).
    assert lab_common.secrets_of(app) == secrets
    url = client.base_url.rsplit("/api", 1)[0] + reply["url"]
    download = requests.get(url, auth=(client.email, client.api_key), verify=zuliprc["cert_bundle"], timeout=20)
    assert download.status_code == 200 and download.content == content
    # The second app server got the first one's upload, and backs itself up again.
    path_id = reply["url"].split("/user_uploads/", 1)[1]
    assert other.run(f"sha256sum /home/zulip/uploads/files/{path_id}").stdout.split()[:1] == [hashlib.sha256(content).hexdigest()]
    assert other.run("systemctl is-enabled zulip-backup-files.timer && systemctl is-active zulip-backup-files.timer").rc == 0


def test_a_point_in_time_restore_lands_between_two_batches(story):
    target = story["target"]
    name = primary()
    replaced = host(name).run("ls -d /var/lib/postgresql/15/main.replaced-*").stdout.split()
    # Unconfirmed, the restore is refused before anything stops: Zulip serves,
    # the replicas stream, nothing is moved aside.
    rc, out = playbook("restore", "-e", json.dumps({"zulip_restore_target_time": target}), *running(),
                       "-e", "zulip_restore_files=false")
    assert rc != 0 and f"run again with -e zulip_restore_confirm={name}" in out, out[-3000:]
    assert all(host(app).run("systemctl is-active supervisor").stdout.strip() == "active" for app in APPS)
    assert all(streaming(r) for r in DB_HOSTS if r != name)
    assert host(name).run("ls -d /var/lib/postgresql/15/main.replaced-*").stdout.split() == replaced

    # From the backup named (taken before the first batch), to the time.
    rc, out = playbook("restore", "-e", f"zulip_restore_confirm={name}", "-e", json.dumps({"zulip_restore_target_time": target}),
                       "-e", f"zulip_restore_set={story['set']}", *running(),
                       "-e", "zulip_restore_files=false")
    assert rc == 0, out[-4000:]
    before, after = story["before"], story["after"]
    assert stored(primary(), list(before) + list(after)) == before
    # What the restore replaced is kept, not deleted.
    assert host(name).run("ls -d /var/lib/postgresql/15/main.replaced-*").rc == 0


def production_pki():
    """The controller's copies of production's database CA and certificates
    (molecule.yml's zulip_postgresql_tls_dir), which the next install.yml
    pushes to the hosts: {file: sha256}. The drill host's client certificate
    for the repository is made there too, and is left out."""
    tls = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "postgresql-tls")
    return {name: hashlib.sha256(open(os.path.join(tls, name), "rb").read()).hexdigest()
            for name in os.listdir(tls) if name.endswith((".crt", ".key")) and not name.startswith("zulip-drill.")}


def test_the_restore_drill_reads_the_newest_message_back_on_a_scratch_host():
    pki = production_pki()
    rc, out = playbook("restore-drill", *DRILL_RC, *running())
    assert rc == 0, out[-4000:]
    # The scratch host's own PostgreSQL has a CA of its own: production's is
    # not made again (every database host would restart on the next install).
    assert "ca.crt" in pki and production_pki() == pki
    assert "Restore drill passed on zulip-drill" in out
    drill = json.loads(host(primary()).file("/var/lib/zulip-server/restore-drill.json").content_string)
    assert drill["ok"] and 0 < float(drill["rto_s"]) < 600 and 0 <= float(drill["rpo_s"]) <= 3 * 60 + 60, drill
    rc, text = check(primary())
    assert rc == 0 and "drill ok" in text, text
    # The scratch host keeps no copy of production's data, nor the keys to its
    # repository; as a copy, it ran none of the once-per-cluster jobs
    # (scheduled emails, digests) and sent no email.
    drill_host = host("zulip-drill")
    assert not drill_host.file("/var/lib/postgresql/15/main").exists
    assert not drill_host.file("/etc/pgbackrest/tls").exists
    once = {"deliver_scheduled_emails", "update-analytics-counts", "send-digest-emails", "archive-messages"}

    def scheduled(name):
        return set(host(name).run("ls /etc/cron.d").stdout.split()) | (
            {"deliver_scheduled_emails"} if host(name).file("/etc/supervisor/conf.d/zulip/zulip-once.conf").exists else set())
    assert any(once <= scheduled(app) for app in APPS)  # production's active app server runs them
    assert not once & scheduled("zulip-drill")
    assert 'EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"' in drill_host.file("/etc/zulip/settings.py").content_string


def test_a_corrupted_repository_file_fails_the_drill_and_the_check():
    # One file of the newest backup's data (the one the drill restores),
    # overwritten in the S3 server: pg_database (global/1262), which is never
    # empty (pgBackRest restores an empty file without reading the repository).
    info = json.loads(host(REPOSITORY).check_output("runuser -u postgres -- pgbackrest --stanza=zulip --output=json info"))
    key = f"zulip-backups/backup/zulip/{info[0]['backup'][-1]['label']}/pg_data/global/1262.zst"
    listing = host(S3).check_output(f"curl -s --cacert /srv/ca.crt 'https://zulip-s3:9000/zulip-backups?list-type=2&prefix={key}'")
    assert f"<Key>{key}</Key>" in listing, listing[:2000]
    # As the repository's own key (moto refuses an anonymous overwrite; it
    # reads the account from the header and checks no signature).
    owner = ("Authorization: AWS4-HMAC-SHA256 Credential=lab-access-key/20260101/us-east-1/s3/aws4_request, "
             "SignedHeaders=host, Signature=0")
    host(S3).check_output(f"printf 'not what was backed up' | curl -s --fail --cacert /srv/ca.crt -X PUT "
                          f"-H '{owner}' --data-binary @- 'https://zulip-s3:9000/zulip-backups/{key}'")
    rc, out = playbook("restore-drill", *DRILL_RC, *running())
    assert rc != 0 and "Restore drill FAILED on zulip-drill" in out, out[-3000:]
    rc, text = check(primary())
    assert rc == 2 and "restore drill FAILED" in text, text
