#!/bin/bash
# Make sure a Docker engine answers on this machine.
# - An engine that already answers is left alone (never restarted).
# - Otherwise Debian's docker.io is installed (if dockerd is missing) and
#   dockerd is started in the background, then we poll until it answers.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "lab/docker-engine.sh: installing Debian's docker.io" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  NEEDRESTART_SUSPEND=1 apt-get install -y -qq docker.io >/dev/null
fi

# The docker.io package may have started the engine itself (systemd hosts).
if ! docker info >/dev/null 2>&1; then
  echo "lab/docker-engine.sh: starting dockerd" >&2
  mkdir -p /var/log
  nohup dockerd >/var/log/lab-dockerd.log 2>&1 &
fi

for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then
    exit 0
  fi
  sleep 0.5
done
echo "lab/docker-engine.sh: dockerd did not answer within 60 s; see /var/log/lab-dockerd.log" >&2
exit 1
