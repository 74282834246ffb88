#!/bin/bash
# make bench B=replication: messages/s a Zulip cluster with a streaming
# replica accepts from several concurrent senders (the zulip client, through
# nginx) for BENCH_SECONDS (60), and the replica's replay lag p50/p99 in ms
# sampled from the primary's pg_stat_replication meanwhile; once with
# asynchronous and once with synchronous replication
# (zulip_postgresql_synchronous_standby_names, applied by the collection).
# Runs on the lab's `ha` scenario, which it converges and leaves destroyed.
set -euo pipefail
cd "$(dirname "$0")/.."
source lab/env.sh
lab_lock
seconds=${BENCH_SECONDS:-60}
senders=${BENCH_SENDERS:-4}
scenario() { molecule -c molecule/base.yml "$1" -s ha "${@:2}" >/dev/null 2>&1; }
scenario destroy
scenario create
scenario prepare
work=$(mktemp -d)
trap 'rm -rf "$work"; scenario destroy' EXIT
for mode in async sync; do
  names=$([ "$mode" = sync ] && echo 'ANY 1 (*)' || echo '')
  scenario converge -- -e "{\"zulip_postgresql_synchronous_standby_names\": \"$names\"}"
  docker exec zulip-ha-db1 runuser -u postgres -- psql -X -A -t -c 'SHOW synchronous_standby_names' \
    | grep -qxF "$names"
  docker exec zulip-ha-app cat /home/zulip/credentials/ops.zuliprc >"$work/zuliprc"
  docker exec zulip-ha-app cat /etc/ssl/certs/zulip.combined-chain.crt >"$work/ca.crt"
  address=$(docker exec zulip-ha-app hostname -I | awk '{print $1}')
  python3 bench/replication_load.py --zuliprc "$work/zuliprc" --ca "$work/ca.crt" \
    --site-host zulip-ha-app --address "$address" --primary zulip-ha-db1 \
    --seconds "$seconds" --senders "$senders" >"$work/$mode.json"
  # How the primary sees its standby: async, or quorum/sync when it waits for it.
  state=$(docker exec zulip-ha-db1 runuser -u postgres -- psql -X -A -t -c \
    "SELECT string_agg(sync_state, ',') FROM pg_stat_replication")
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["sync_state"]=sys.argv[2]; json.dump(d, open(sys.argv[1], "w"))' \
    "$work/$mode.json" "$state"
done
python3 - "$work/async.json" "$work/sync.json" "$senders" "$seconds" <<'PY'
import json, os, sys
a, s = (json.load(open(p)) for p in sys.argv[1:3])
result = {}
for mode, d in (("async", a), ("sync", s)):
    for key, value in d.items():
        result[f"{mode}_{key}"] = value
result.update(senders=int(sys.argv[3]), seconds=int(sys.argv[4]), machine=f"{os.cpu_count()}cpu")
json.dump(result, open("bench/results/replication.json", "w"), indent=1)
PY
