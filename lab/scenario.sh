#!/bin/bash
# Run one molecule scenario (default action: test) and print one timing line.
# A failed run ends with its failing tasks and tests again: CI keeps only the
# tail of the output, which is otherwise the destroy step's.
# usage: lab/scenario.sh NAME [molecule action]
set -uo pipefail
name=$1; action=${2:-test}
source "$(dirname "$0")/env.sh"
cd "$ROOT"
lab_lock
bash lab/docker-engine.sh  # quick when the engine already runs
log=$(mktemp "${TMPDIR:-/tmp}/scenario-$name-XXXXXX.log")
trap 'rm -f "$log"' EXIT
start=$(date +%s)
# Each step's end says how long into the scenario it came (CI's budget).
NO_COLOR=1 molecule -c molecule/base.yml "$action" -s "$name" 2>&1 | while IFS= read -r line; do
  case $line in
    *"] Executed: "*) printf '%s (%d s into the scenario)\n' "$line" "$(( $(date +%s) - start ))" ;;
    *) printf '%s\n' "$line" ;;
  esac
done | tee "$log"
rc=${PIPESTATUS[0]}
status=passed
if [ "$rc" -ne 0 ]; then
  status=FAILED
  echo "=== scenario $name: what failed (repeated from above) ==="
  # Each failed task with the task header above it, and pytest's summary.
  grep -n -B12 -A25 -E '^(fatal|failed): ' "$log" | grep -v -E '^[0-9]+-(ok|skipping|changed): ' | tail -150
  grep -E '^(FAILED|ERROR) |^=+ .*(failed|error)' "$log" | tail -40
fi
echo "scenario $name: $action $status in $(( $(date +%s) - start )) s"
exit "$rc"
