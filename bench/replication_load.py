"""Load for bench/replication.sh: SENDERS threads send stream messages with
the zulip client for SECONDS, while the primary's pg_stat_replication is
sampled for the replica's replay lag. Prints one JSON object."""

import argparse
import json
import os
import socket
import subprocess
import threading
import time

import zulip

parser = argparse.ArgumentParser()
for name in ("zuliprc", "ca", "site-host", "address", "primary"):
    parser.add_argument(f"--{name}", required=True)
parser.add_argument("--seconds", type=float, default=60)
parser.add_argument("--senders", type=int, default=4)
args = parser.parse_args()

real_getaddrinfo = socket.getaddrinfo


def lab_getaddrinfo(host, *rest, **kwargs):
    # The lab's names resolve inside the docker network only.
    return real_getaddrinfo(args.address if host == args.site_host else host, *rest, **kwargs)


socket.getaddrinfo = lab_getaddrinfo
# requests lets these variables override a client's own CA bundle (as in the lab tests).
for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(variable, None)
deadline = time.monotonic() + args.seconds
accepted = []
failed = []
lags = []


def sender(number):
    client = zulip.Client(config_file=args.zuliprc, cert_bundle=args.ca)
    ok = bad = 0
    while time.monotonic() < deadline:
        result = client.send_message({"type": "stream", "to": "general", "topic": f"bench {number}",
                                      "content": f"bench message {ok} from sender {number}"})
        if result.get("result") == "success":
            ok += 1
        else:
            bad += 1
    accepted.append(ok)
    failed.append(bad)


def sampler():
    # replay_lag is NULL while the standby has nothing left to replay.
    query = ("SELECT coalesce(extract(epoch FROM replay_lag) * 1000, 0) FROM pg_stat_replication "
             "WHERE state = 'streaming'")
    while time.monotonic() < deadline:
        out = subprocess.run(["docker", "exec", args.primary, "runuser", "-u", "postgres", "--",
                              "psql", "-X", "-A", "-t", "-c", query],
                             capture_output=True, text=True, check=False).stdout.split()
        lags.extend(float(v) for v in out)
        time.sleep(0.2)


started = time.monotonic()
threads = [threading.Thread(target=sender, args=(n,)) for n in range(args.senders)]
threads.append(threading.Thread(target=sampler))
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
elapsed = time.monotonic() - started
lags.sort()


def percentile(p):
    return round(lags[min(len(lags) - 1, int(p / 100 * len(lags)))], 1) if lags else None


print(json.dumps({
    "messages_per_s": round(sum(accepted) / elapsed, 1),
    "messages_failed": sum(failed),
    "lag_p50_ms": percentile(50),
    "lag_p99_ms": percentile(99),
    "lag_samples": len(lags),
}))
