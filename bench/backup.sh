#!/bin/bash
# make bench B=backup: the lab's `split` scenario (repository host, S3 server
# over TLS, scratch host), converged once and left destroyed. With the
# database grown to BENCH_BACKUP_GIB (2) GiB by a filler table, it measures:
#   backup_mb_s     a full backup's throughput (database size / backup time,
#                   pgBackRest's own timestamps: standby -> repository host ->
#                   S3, zst, encrypted)
#   drill_rto_s     restore-drill.yml's RTO (restore of that backup and its WAL
#                   onto the scratch host until it serves the drill's message)
#   drill_rpo_s     its RPO (the message's commit to its WAL in the archive),
#                   with archive_timeout 60 s and a slow writer (a message a
#                   second) running
#   restore_s       restore.yml of the latest backup onto the primary, replicas
#                   rebuilt, files restored, Zulip checked (wall time)
# BENCH_KEEP=1 leaves the containers up afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
source lab/env.sh
lab_lock
bash lab/images.sh bookworm >/dev/null
scenario() { molecule -c molecule/base.yml "$1" -s split "${@:2}" >/dev/null 2>&1; }
scenario destroy
scenario create
scenario prepare
trap '[ "${BENCH_KEEP:-0}" = 1 ] || scenario destroy' EXIT
scenario converge
inventory=$(ls -td "$HOME"/.ansible/tmp/molecule.*.split/inventory/ansible_inventory.yml | head -1)
export MOLECULE_EPHEMERAL_DIRECTORY MOLECULE_PROJECT_DIRECTORY=$ROOT
MOLECULE_EPHEMERAL_DIRECTORY=$(dirname "$(dirname "$inventory")")
ANSIBLE_CONFIG=$MOLECULE_EPHEMERAL_DIRECTORY/ansible.cfg ANSIBLE_PIPELINING=1 \
  python3 bench/backup_bench.py --inventory "$inventory" --gib "${BENCH_BACKUP_GIB:-2}" >bench/results/backup.json
