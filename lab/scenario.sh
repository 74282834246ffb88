#!/bin/bash
# Run one molecule scenario (default action: test) and print one timing line.
# usage: lab/scenario.sh NAME [molecule action]
set -uo pipefail
name=$1; action=${2:-test}
source "$(dirname "$0")/env.sh"
cd "$ROOT"
lab_lock
bash lab/docker-engine.sh  # quick when the engine already runs
start=$(date +%s)
NO_COLOR=1 molecule -c molecule/base.yml "$action" -s "$name"
rc=$?
status=passed; [ $rc -eq 0 ] || status=FAILED
echo "scenario $name: $action $status in $(( $(date +%s) - start )) s"
exit $rc
