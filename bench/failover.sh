#!/bin/bash
# make bench B=failover: failover drills on the lab's `failover` scenario
# (app, spare app, primary, replica), which it converges and leaves
# destroyed. bench/failover_drill.py kills the primary's PostgreSQL
# (SIGKILL) while a writer sends messages with the zulip client, starts
# failover.yml at once, and measures rto_s (kill -> first message accepted
# again), playbook_s and lost_acknowledged, with synchronous and with
# asynchronous replication (rejoin.yml restores the replica between runs);
# with synchronous replication also switchover_write_outage_s (the longest
# gap between accepted messages during a switchover). BENCH_RUNS (3) runs
# each (BENCH_ASYNC_RUNS for the asynchronous failovers); medians are reported.
# BENCH_KEEP=1 leaves the containers up afterwards (to read their logs).
set -euo pipefail
cd "$(dirname "$0")/.."
source lab/env.sh
lab_lock
scenario() { molecule -c molecule/base.yml "$1" -s failover "${@:2}" >/dev/null 2>&1; }
scenario destroy
scenario create
scenario prepare
trap '[ "${BENCH_KEEP:-0}" = 1 ] || scenario destroy' EXIT
# This run's molecule directory (the newest): the inventory, and the CA the
# scenario keeps there (molecule.yml reads MOLECULE_EPHEMERAL_DIRECTORY).
inventory=$(ls -td "$HOME"/.ansible/tmp/molecule.*.failover/inventory/ansible_inventory.yml | head -1)
export MOLECULE_EPHEMERAL_DIRECTORY
MOLECULE_EPHEMERAL_DIRECTORY=$(dirname "$(dirname "$inventory")")
work=$(mktemp -d)
export BENCH_LOGS
BENCH_LOGS=$(mktemp -d "${TMPDIR:-/tmp}/failover-bench-logs.XXXX")
echo "failover bench: playbook logs with task timings in $BENCH_LOGS" >&2
for mode in sync async; do
  names=$([ "$mode" = sync ] && echo 'ANY 1 (*)' || echo '')
  scenario converge -- -e "{\"zulip_postgresql_synchronous_standby_names\": \"$names\"}"
  ANSIBLE_CONFIG=$MOLECULE_EPHEMERAL_DIRECTORY/ansible.cfg \
    python3 bench/failover_drill.py --inventory "$inventory" \
      --runs "$([ "$mode" = sync ] && echo "${BENCH_RUNS:-3}" || echo "${BENCH_ASYNC_RUNS:-${BENCH_RUNS:-3}}")" \
      --switchovers "$([ "$mode" = sync ] && echo "${BENCH_RUNS:-3}" || echo 0)" \
      --extra "{\"zulip_postgresql_synchronous_standby_names\": \"$names\"}" >"$work/$mode.json"
done
python3 - "$work/sync.json" "$work/async.json" <<'PY'
import json, os, sys
sync, asynchronous = (json.load(open(p)) for p in sys.argv[1:3])
result = {f"sync_{k}": v for k, v in sync.items()}
result.update({f"async_{k}": v for k, v in asynchronous.items() if k != "runs"})
result["machine"] = f"{os.cpu_count()}cpu"
json.dump(result, open("bench/results/failover.json", "w"), indent=1)
PY
rm -rf "$work"
