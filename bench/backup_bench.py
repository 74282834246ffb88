"""The backup benchmark's measurements (bench/backup.sh runs it on the converged
`split` lab): backup throughput, the restore drill's RTO and RPO under a slow
writer, and restore.yml's wall time. Prints the figures as JSON."""

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time

import zulip

PROJECT = os.environ["MOLECULE_PROJECT_DIRECTORY"]


def run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)


def docker(host, command):
    done = run(["docker", "exec", host, "bash", "-c", command])
    if done.returncode != 0:
        sys.exit(f"{host}: {command}: {done.stderr[-2000:]}")
    return done.stdout


def playbook(inventory, name, *extra):
    start = time.monotonic()
    done = run(["ansible-playbook", "-i", inventory, os.path.join(PROJECT, "playbooks", f"{name}.yml"), *extra],
               env=dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default"))
    if done.returncode != 0:
        sys.exit(f"{name}.yml failed:\n{done.stdout[-4000:]}{done.stderr[-2000:]}")
    return time.monotonic() - start, done.stdout


def psql(host, query, database="postgres"):
    return docker(host, f"runuser -u postgres -- psql -X -A -t -q -d {database} -c \"{query}\"").strip()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--inventory", required=True)
    parser.add_argument("--gib", type=float, default=2.0)
    args = parser.parse_args()
    inventory = args.inventory
    optin = ["-e", "zulip_app_frontend_create_realm=true", "-e", "zulip_app_frontend_owner_password_file=true",
             "-e", "zulip_app_frontend_bot_short_name=ops"]
    playbook(inventory, "install", "--tags", "zulip_app_frontend_initialize", *optin)
    # The database grown by a filler table (1 KiB rows), as Zulip's messages would.
    rows = int(args.gib * 1024 * 1024)
    psql("zulip-db", f"CREATE TABLE IF NOT EXISTS zulip.lab_filler AS SELECT g AS id, repeat(md5(g::text), 32) AS body "
                     f"FROM generate_series(1, {rows}) g", "zulip")
    playbook(inventory, "backup")
    info = json.loads(docker("zulip-backup", "runuser -u postgres -- pgbackrest --stanza=zulip --output=json info"))
    newest = info[0]["backup"][-1]
    seconds = newest["timestamp"]["stop"] - newest["timestamp"]["start"]
    size_mb = newest["info"]["size"] / 1e6

    rc = docker("zulip-app", "cat /home/zulip/credentials/ops.zuliprc")
    path = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "bench-ops.zuliprc")
    with open(path, "w") as handle:
        handle.write(rc)
    address = docker("zulip-app", "hostname -I").split()[0]
    real = socket.getaddrinfo
    socket.getaddrinfo = lambda host, *a, **k: real(address if host == "zulip-app.lab.example" else host, *a, **k)
    # requests lets these variables override the client's own CA bundle.
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(name, None)
    client = zulip.Client(config_file=path,
                          cert_bundle=os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "tls", "ca.crt"))
    stop = threading.Event()
    sent = []

    def writer():
        while not stop.is_set():
            reply = client.send_message({"type": "stream", "to": "general", "topic": "bench", "content": f"slow {time.time()}"})
            if reply.get("result") == "success":
                sent.append(reply["id"])
            stop.wait(1)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    playbook(inventory, "restore-drill", "-e", "zulip_postgresql_backups_drill_zuliprc=/home/zulip/credentials/ops.zuliprc")
    stop.set()
    thread.join(10)
    drill = json.loads(docker("zulip-db", "cat /var/lib/zulip-server/restore-drill.json"))
    restore_s, _ = playbook(inventory, "restore", "-e", "zulip_restore_confirm=zulip-db")
    print(json.dumps({
        "database_mb": round(size_mb, 1), "backup_s": seconds, "backup_mb_s": round(size_mb / max(seconds, 1), 1),
        "repo_mb": round(newest["info"]["repository"]["delta"] / 1e6, 1),
        "drill_rto_s": float(drill["rto_s"]), "drill_rpo_s": float(drill["rpo_s"]),
        "slow_writer_messages": len(sent), "restore_s": round(restore_s, 1), "machine": f"{os.cpu_count()}cpu",
    }, indent=1))


if __name__ == "__main__":
    main()
