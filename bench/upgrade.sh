#!/bin/bash
# make bench B=upgrade: availability during upgrade.yml on the `upgrade` lab
# scenario (one standalone host). A prober inside the host makes 20 requests a
# second through nginx (server_settings and an authenticated send) while
# upgrade.yml runs: 9.4 -> 10.0 (one migration), then 10.0 -> 10.1 (none)
# BENCH_RUNS (3) times, rollback.yml returning to 10.0 between them.
# Reports failed requests, the longest outage and the playbook's wall time
# (medians over the runs without migrations).
set -euo pipefail
cd "$(dirname "$0")/.."
source lab/env.sh
lab_lock
name=zulip-up-app
# The bench destroys and re-creates the scenario's host: never a container
# another run left up (e.g. `lab/scenario.sh upgrade converge` elsewhere).
if [ -n "$(docker ps -aq --filter "name=^${name}\$")" ]; then
  echo "bench: container $name exists (left by another run); not destroying it" >&2
  exit 3
fi
dist=$ROOT/tests/release/dist
scenario() { molecule -c molecule/base.yml "$@" -s upgrade >/dev/null 2>&1; }
scenario destroy
scenario create
scenario prepare
scenario converge  # installs 9.4
# This run's molecule directory (the newest).
inventory=$(ls -td "$HOME"/.ansible/tmp/molecule.*.upgrade/inventory/ansible_inventory.yml | head -1)
export ANSIBLE_CONFIG
ANSIBLE_CONFIG=$(dirname "$(dirname "$inventory")")/ansible.cfg
# /tmp is a tmpfs in the lab containers: docker cp cannot write there.
docker cp bench/prober.py "$name:/root/prober.py"
measure() {  # $1 label, $2 release
  docker exec "$name" rm -f /root/prober.stop "/root/prober-$1.json"
  docker exec -d "$name" python3 /root/prober.py "$name" "/root/prober-$1.json" /root/prober.stop 20
  local t0=$EPOCHREALTIME
  ansible-playbook -i "$inventory" playbooks/upgrade.yml -e zulip_release="$2" >"bench/results/upgrade-$1.log" 2>&1
  local wall; wall=$(python3 -c "print(round($EPOCHREALTIME - $t0, 1))")
  docker exec "$name" touch /root/prober.stop
  until docker exec "$name" test -s "/root/prober-$1.json"; do
    docker exec "$name" pgrep -f /root/prober.py >/dev/null || docker exec "$name" test -s "/root/prober-$1.json" \
      || { echo "bench: the prober stopped without writing its figures" >&2; exit 1; }
  done
  docker exec "$name" cat "/root/prober-$1.json" | python3 -c "import json,sys; d=json.load(sys.stdin); d['wall_s']=$wall; print(json.dumps(d))"
}
with=$(measure migration "$dist/zulip-server-10.0.tar.gz")
without=()
for run in $(seq "${BENCH_RUNS:-3}"); do
  without+=("$(measure "no_migration_$run" "$dist/zulip-server-10.1.tar.gz")")
  [ "$run" = "${BENCH_RUNS:-3}" ] || ansible-playbook -i "$inventory" playbooks/rollback.yml >"bench/results/upgrade-rollback-$run.log" 2>&1
done
scenario destroy
python3 - "$with" "${without[@]}" <<'PY'
import json, os, statistics, sys
w, runs = json.loads(sys.argv[1]), [json.loads(a) for a in sys.argv[2:]]
result = {"no_migration_runs": len(runs)}
for key in ("failed_requests", "requests", "longest_outage_s", "wall_s"):
    result[f"no_migration_{key}"] = statistics.median(d[key] for d in runs)
    result[f"no_migration_{key}_all"] = [d[key] for d in runs]
    result[f"migration_{key}"] = w[key]
result["machine"] = f"{os.cpu_count()}cpu"
json.dump(result, open("bench/results/upgrade.json", "w"), indent=1)
PY
