# Sourced by the lab scripts and the Makefile's recipes: the controller
# environment (venv first on PATH, this checkout visible as zulip.server).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$ROOT/.venv/bin:$PATH"
mkdir -p "$ROOT/.cache/collections/ansible_collections/zulip"
ln -sfn "$ROOT" "$ROOT/.cache/collections/ansible_collections/zulip/server"
export ANSIBLE_COLLECTIONS_PATH="$ROOT/.cache/collections:$ROOT/.venv/lib/python3.11/site-packages"
export MOLECULE_GLOB="molecule/*/molecule.yml"
# Recent cryptography releases warn on the import of DSA from ansible-core's ssh-agent
# client (unused here); keep it out of every command's output.
export PYTHONWARNINGS="ignore::UserWarning:ansible._internal._ssh._ssh_agent"
# cgroup v1 hosts (this lab) mount the hierarchy read-only into containers;
# cgroup v2 hosts need it writable for systemd to create its scopes.
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
  export LAB_CGROUP_MODE=rw
else
  export LAB_CGROUP_MODE=ro
fi
# One lab at a time (2 cores): scenario, bench and demo runs from any checkout
# of this project wait for each other instead of competing for the CPUs.
lab_lock() {
  exec 9>"${TMPDIR:-/tmp}/zulip-server-lab.lock"
  flock 9
}
