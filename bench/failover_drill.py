"""Drills for bench/failover.sh on the converged `failover` lab scenario.
Prints one JSON object: medians over --runs of rto_s and playbook_s, and
lost_acknowledged summed over them (failover after SIGKILL of the primary's
PostgreSQL), then the median switchover_write_outage_s over --switchovers."""

import argparse
import json
import os
import socket
import statistics
import subprocess
import threading
import time

import zulip

parser = argparse.ArgumentParser()
parser.add_argument("--inventory", required=True)
parser.add_argument("--runs", type=int, default=3)
parser.add_argument("--switchovers", type=int, default=3)
parser.add_argument("--extra", default="{}")
args = parser.parse_args()
APP, DB = "zulip-fo-app", ("zulip-fo-db1", "zulip-fo-db2")
for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(variable, None)


def docker(name, *command):
    return subprocess.run(["docker", "exec", name, *command], capture_output=True, text=True, check=False)


def psql(name, query, database="postgres"):
    return docker(name, "runuser", "-u", "postgres", "--", "psql", "-X", "-A", "-t", "-d", database, "-c", query).stdout.strip()


def primary():
    return next(name for name in DB if psql(name, "SELECT pg_is_in_recovery()") == "f")


LOGS = os.environ.get("BENCH_LOGS", os.environ.get("TMPDIR", "/tmp"))
# Task timings (profile_tasks) of every playbook run, to see where the time goes.
PROFILED = {**os.environ, "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks"}


def playbook(name, *extra):
    started = time.monotonic()
    run = subprocess.run(["ansible-playbook", "-i", args.inventory, f"playbooks/{name}.yml", "-e", args.extra, *extra],
                         capture_output=True, text=True, check=False, env=PROFILED)
    with open(f"{LOGS}/failover-bench-{name}-{time.strftime('%H%M%S')}.log", "w") as log:
        log.write(run.stdout + run.stderr)
    if run.returncode != 0:
        raise SystemExit(f"{name}.yml failed:\n{run.stdout[-4000:]}{run.stderr[-2000:]}")
    return time.monotonic() - started


address = docker(APP, "hostname", "-I").stdout.split()[0]
real_getaddrinfo = socket.getaddrinfo
socket.getaddrinfo = lambda host, *rest, **kw: real_getaddrinfo(address if host == APP else host, *rest, **kw)
workdir = os.environ.get("TMPDIR", "/tmp")
with open(f"{workdir}/failover-bench.zuliprc", "w") as handle:
    handle.write(docker(APP, "cat", "/home/zulip/credentials/ops.zuliprc").stdout)
with open(f"{workdir}/failover-bench.crt", "w") as handle:
    handle.write(docker(APP, "cat", "/etc/ssl/certs/zulip.combined-chain.crt").stdout)


class Writer(threading.Thread):
    """One sender, message after message; records when each was acknowledged."""

    def __init__(self):
        super().__init__(daemon=True)
        self.client = zulip.Client(config_file=f"{workdir}/failover-bench.zuliprc",
                                   cert_bundle=f"{workdir}/failover-bench.crt", retry_on_errors=False)
        self.acks = []  # (monotonic time, message id)
        self.last_error = None
        self.failures = []  # monotonic times of failed sends
        self.halt = threading.Event()

    def run(self):
        n = 0
        while not self.halt.is_set():
            n += 1
            try:
                result = self.client.send_message({"type": "stream", "to": "general", "topic": "bench failover",
                                                   "content": f"drill {n}"})
            except Exception as error:  # noqa: BLE001 - a dropped connection is a failed send
                result = {"error": repr(error)}
            if result.get("result") == "success":
                self.acks.append((time.monotonic(), int(result["id"])))
            else:
                self.last_error = result
                self.failures.append(time.monotonic())
                time.sleep(0.02)

    def acknowledged_after(self, moment, count, timeout=120):
        deadline = time.monotonic() + timeout
        while sum(1 for t, _ in self.acks if t > moment) < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"the app did not accept {count} messages within {timeout} s; last error: {self.last_error}")
            time.sleep(0.05)

    def stop(self):
        self.halt.set()
        self.join(30)


def lost(on, acks):
    # By range: thousands of ids in one IN list exceed the argument size limit.
    low, high = min(i for _, i in acks), max(i for _, i in acks)
    stored = set(psql(on, f"SELECT id FROM zulip.zerver_message WHERE id BETWEEN {low} AND {high}", "zulip").split())
    return sum(1 for _, i in acks if str(i) not in stored)


rto, playbook_s, lost_counts, outages = [], [], [], []
for _ in range(args.runs):
    old = primary()
    writer = Writer()
    writer.start()
    writer.acknowledged_after(time.monotonic(), 20)
    killed_at = time.monotonic()
    docker(old, "sh", "-c", "kill -KILL $(head -1 /var/lib/postgresql/*/main/postmaster.pid)")
    playbook_s.append(playbook("failover", "-e", "zulip_failover_mode=failover", "-e", f"zulip_failover_confirm={old}"))
    writer.acknowledged_after(time.monotonic(), 5)
    writer.stop()
    # From the kill to the first acknowledgement after the first failed send
    # (a commit in flight at the kill may still be acknowledged).
    failed_at = min((t for t in writer.failures if t > killed_at), default=killed_at)
    rto.append(min(t for t, _ in writer.acks if t > failed_at) - killed_at)
    lost_counts.append(lost(primary(), writer.acks))
    playbook("rejoin")
for _ in range(args.switchovers):
    writer = Writer()
    writer.start()
    writer.acknowledged_after(time.monotonic(), 20)
    started = time.monotonic()
    playbook("failover", "-e", "zulip_failover_mode=switchover")
    writer.acknowledged_after(time.monotonic(), 5)
    writer.stop()
    times = [t for t, _ in writer.acks if t >= started - 1]
    outages.append(max(b - a for a, b in zip(times, times[1:])))
    lost_counts.append(lost(primary(), writer.acks))
result = {"runs": args.runs}
if rto:
    result.update(rto_s=round(statistics.median(rto), 2), rto_s_all=[round(v, 2) for v in rto],
                  playbook_s=round(statistics.median(playbook_s), 1),
                  lost_acknowledged=sum(lost_counts[:args.runs]))
if outages:
    result.update(switchover_write_outage_s=round(statistics.median(outages), 2),
                  switchover_write_outage_s_all=[round(v, 2) for v in outages],
                  switchover_lost_acknowledged=sum(lost_counts[args.runs:]))
print(json.dumps(result))
