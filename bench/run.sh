#!/bin/bash
# make bench B=<name>: run bench/<name>.sh, which writes its figures to
# bench/results/<name>.json; print them as the last line, key=value pairs.
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: bench/run.sh NAME}
script=bench/$name.sh
if [ ! -x "$script" ]; then
  echo "bench: no benchmark '$name' (have: $(cd bench && ls ./*.sh 2>/dev/null | grep -v run.sh | sed 's|./||; s|\.sh$||' | xargs))" >&2
  exit 2
fi
mkdir -p bench/results
"$script"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join(f"{k}={v}" for k,v in d.items()))' "bench/results/$name.json"
