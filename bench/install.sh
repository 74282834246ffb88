#!/bin/bash
# make bench B=install: median wall time of a fresh standalone converge and of
# a no-op re-converge, 3 runs each, on the lab (molecule scenario `standalone`).
set -euo pipefail
cd "$(dirname "$0")/.."
source lab/env.sh
lab_lock
runs=${BENCH_RUNS:-3}
scenario() { molecule -c molecule/base.yml "$@" -s standalone >/dev/null 2>&1; }
timed() { local t0=$EPOCHREALTIME; scenario "$@"; python3 -c "print($EPOCHREALTIME - $t0)"; }
fresh=(); noop=()
for _ in $(seq "$runs"); do
  scenario destroy
  scenario create
  scenario prepare
  fresh+=("$(timed converge)")
  noop+=("$(timed converge)")
done
scenario destroy
python3 - "$runs" "${fresh[@]}" "${noop[@]}" <<'PY'
import json, os, statistics, sys
n = int(sys.argv[1]); values = [float(v) for v in sys.argv[2:]]
fresh, noop = values[:n], values[n:]
result = {
    "fresh_converge_median_s": round(statistics.median(fresh), 1),
    "noop_converge_median_s": round(statistics.median(noop), 1),
    "runs": n,
    "machine": f"{os.cpu_count()}cpu",
}
json.dump(result, open("bench/results/install.json", "w"), indent=1)
PY
