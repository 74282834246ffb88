"""Availability prober for make bench B=upgrade (runs inside the app server).

Every 1/RATE seconds it makes one request through nginx, alternating
GET /api/v1/server_settings and an authenticated message send as the bot,
until STOP_FILE exists; then it writes a JSON summary to OUT:
requests, failed_requests, longest_outage_s (from the last success before a
failure to the first success after it)."""
import base64
import configparser
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

site, out, stop_file = sys.argv[1:4]
rate = float(sys.argv[4]) if len(sys.argv) > 4 else 20.0
rc = configparser.ConfigParser()
rc.read("/home/zulip/credentials/ops.zuliprc")
token = base64.b64encode(f"{rc['api']['email']}:{rc['api']['key']}".encode()).decode()
ctx = ssl._create_unverified_context()


def probe(n):
    if n % 2 == 0:
        req = urllib.request.Request("https://127.0.0.1/api/v1/server_settings", headers={"Host": site})
    else:
        body = urllib.parse.urlencode({"type": "stream", "to": "general", "topic": "bench", "content": f"probe {n}"})
        req = urllib.request.Request("https://127.0.0.1/api/v1/messages", data=body.encode(), method="POST",
                                     headers={"Host": site, "Authorization": "Basic " + token})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
            return resp.status == 200 and json.loads(resp.read()).get("result") == "success"
    except (urllib.error.URLError, OSError, ValueError):
        return False


results = []
n = 0
start = time.monotonic()
while not os.path.exists(stop_file):
    t = time.monotonic()
    results.append((t, probe(n)))
    n += 1
    delay = start + n / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)  # pacing of the request rate, not a wait for a condition

longest = 0.0
last_ok = None
outage_from = None
for t, ok in results:
    if ok:
        if outage_from is not None:
            longest = max(longest, t - outage_from)
            outage_from = None
        last_ok = t
    elif outage_from is None:
        outage_from = last_ok if last_ok is not None else t
if outage_from is not None:
    longest = max(longest, results[-1][0] - outage_from)
with open(out, "w") as f:
    json.dump({"requests": len(results), "failed_requests": sum(1 for _, ok in results if not ok),
               "longest_outage_s": round(longest, 2)}, f)
