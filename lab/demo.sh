#!/bin/bash
# make demo: bring up the lab and install a Zulip cluster shaped like
# inventories/ha (an app server, the database primary and its replica, a
# memcached/Redis/RabbitMQ host) from the release test double, send a message through it with the
# zulip client, and say how to reach it and how to tear it down.
# `bash lab/demo.sh destroy` removes it.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
lab_lock
if [ "${1:-}" = destroy ]; then
  exec molecule -c molecule/base.yml destroy -s demo
fi
molecule -c molecule/base.yml converge -s demo
python3 lab/demo_message.py demo-app
