#!/bin/bash
# make bench B=install: medians of BENCH_RUNS (3) runs of
#   fresh_s         a fresh standalone install (molecule scenario `standalone`,
#                   new containers each run: converge = install.yml)
#   noop_s          install.yml re-run on that converged host (changed=0)
#   noop_cluster_s  install.yml re-run on a converged 4-host cluster shaped
#                   like inventories/ha (scenario `demo`: app, primary,
#                   replica, services host)
# The no-op runs are `ansible-playbook -i <inventory> playbooks/install.yml`
# as an operator runs it, pipelining on, with the scenario's inventory.
# Leaves both scenarios destroyed (a running `make demo` too).
set -euo pipefail
cd "$(dirname "$0")/.."
source lab/env.sh
lab_lock
runs=${BENCH_RUNS:-3}
scenario() { molecule -c molecule/base.yml "${@:2}" -s "$1" >/dev/null 2>&1; }
now() { python3 -c 'import time; print(time.monotonic())'; }
# install.yml on scenario $1's converged hosts; prints its wall time, fails unless changed=0.
noop() {
  local inventory log t0
  inventory=$(ls -td "$HOME"/.ansible/tmp/molecule.*."$1"/inventory/ansible_inventory.yml | head -1)
  log=$(mktemp)
  t0=$(now)
  MOLECULE_EPHEMERAL_DIRECTORY=$(dirname "$(dirname "$inventory")") MOLECULE_PROJECT_DIRECTORY=$ROOT \
    ANSIBLE_CONFIG=$(dirname "$(dirname "$inventory")")/ansible.cfg ANSIBLE_PIPELINING=true \
    ansible-playbook -i "$inventory" playbooks/install.yml >"$log" 2>&1 || { tail -20 "$log" >&2; exit 1; }
  python3 -c "print(round($(now) - $t0, 1))"
  if grep -Eq 'changed=[1-9]' "$log"; then echo "bench: the no-op run of $1 changed something ($log)" >&2; exit 1; fi
  rm -f "$log"
}
fresh=(); single=(); cluster=()
for _ in $(seq "$runs"); do
  scenario standalone destroy
  scenario standalone create
  scenario standalone prepare
  t0=$(now)
  scenario standalone converge
  fresh+=("$(python3 -c "print(round($(now) - $t0, 1))")")
  single+=("$(noop standalone)")
done
scenario standalone destroy
scenario demo destroy
scenario demo create
scenario demo prepare
scenario demo converge
trap 'scenario demo destroy' EXIT
for _ in $(seq "$runs"); do cluster+=("$(noop demo)"); done
python3 - "$runs" "${fresh[@]}" "${single[@]}" "${cluster[@]}" <<'PY'
import json, os, statistics, sys
n = int(sys.argv[1]); values = [float(v) for v in sys.argv[2:]]
fresh, single, cluster = values[:n], values[n:2 * n], values[2 * n:]
result = {
    "fresh_s": round(statistics.median(fresh), 1),
    "noop_s": round(statistics.median(single), 1),
    "noop_cluster_s": round(statistics.median(cluster), 1),
    "fresh_runs": fresh, "noop_runs": single, "noop_cluster_runs": cluster,
    "machine": f"{os.cpu_count()}cpu",
}
json.dump(result, open("bench/results/install.json", "w"), indent=1)
PY
