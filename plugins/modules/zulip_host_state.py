#!/usr/bin/python
# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zulip_host_state
author: zulip.server maintainers
version_added: "0.1.0"
short_description: Report what a Zulip host is now in its cluster (primary, replica, fenced, active app server)
description:
  - Reads, without changing anything, what this host's PostgreSQL cluster is doing and whether this host holds the
    active app server role. The collection asks every host of a cluster, so that the playbooks act on the primary and
    the active app server as they are after a failover, not as the inventory first listed them.
  - PostgreSQL is asked over its Unix socket, as the C(postgres) user, whether it is in recovery
    (C(pg_is_in_recovery())). A cluster that is not running is a replica if its data directory holds
    C(standby.signal), else a primary.
  - Lists the Debian packages installed on the host (C(dpkg-query)), so that the roles skip their package tasks when
    nothing of theirs is missing.
  - Also answers the questions of M(zulip.server.zulip_probe) (O(paths), O(units), O(users), ...), in the same
    call.
  - A host is fenced when O(fence_marker) exists (written by C(playbooks/failover.yml) when it abandons a primary;
    removed by C(playbooks/rejoin.yml)).
options:
  postgresql_version:
    description: PostgreSQL major version of the cluster C(main). Default the highest version under O(conf_root).
    type: str
  conf_root:
    description: Debian's configuration root (C(<conf_root>/<version>/main)).
    type: path
    default: /etc/postgresql
  data_root:
    description: Debian's data root (C(<data_root>/<version>/main)).
    type: path
    default: /var/lib/postgresql
  socket_dir:
    description: Directory of PostgreSQL's Unix socket.
    type: path
    default: /var/run/postgresql
  fence_marker:
    description: File whose presence means that this host's PostgreSQL was fenced.
    type: path
    default: /etc/zulip/postgresql-fenced
  app_marker:
    description: File whose presence means that this host was made the active app server; it holds the time (UTC, ISO 8601).
    type: path
    default: /etc/zulip/app-frontend-active
extends_documentation_fragment:
  - zulip.server.probe
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Ask this host what it is
  zulip.server.zulip_host_state:
  register: state
"""

RETURN = r"""
postgresql:
  description: This host's PostgreSQL cluster.
  returned: always
  type: dict
  contains:
    role:
      description: V(absent) (no data directory), V(fenced), V(primary) or V(replica).
      type: str
    running:
      description: Whether the server answered on its socket.
      type: bool
    version:
      description: Major version of the cluster, or null when none is installed.
      type: str
    system_identifier:
      description: The cluster's system identifier (the same on a primary and its replicas), or null.
      type: str
    timeline:
      description: Timeline of the latest checkpoint (a promotion starts a new one), or null.
      type: int
    lsn:
      description: A running primary's current WAL position, or a running replica's replay position.
      type: str
    receive_lsn:
      description: A running replica's last WAL position received from its primary.
      type: str
    streaming:
      description: Whether a running replica's WAL receiver is streaming.
      type: bool
    replay_delay_s:
      description: A running replica's seconds since the last replayed transaction's commit on the primary, or null.
      type: float
    fence_note:
      description: What O(fence_marker) says (when and for which new primary the host was fenced).
      type: str
app_active_since:
  description: The time this host was made the active app server (content of O(app_marker)), or null.
  returned: always
  type: str
packages:
  description: Names of the packages dpkg reports fully installed (C(install ok installed)), sorted; empty without dpkg.
  returned: always
  type: list
  elements: str
paths:
  description: The answers to O(paths), as M(zulip.server.zulip_probe) returns them; likewise C(contents), C(checksums),
    C(units), C(users), C(groups), C(diversions) and C(commands).
  returned: always
  type: dict
"""

import os
import subprocess

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.zulip.server.plugins.module_utils.probe import PROBE_SPEC, probe

# One row, "|"-separated: in recovery, checkpoint timeline, position,
# received position, WAL receiver status, replay delay, system identifier.
QUERY = (
    "SELECT pg_is_in_recovery(), (SELECT timeline_id FROM pg_control_checkpoint()), "
    "CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, "
    "pg_last_wal_receive_lsn(), (SELECT status FROM pg_stat_wal_receiver), "
    "round(extract(epoch FROM now() - pg_last_xact_replay_timestamp())::numeric, 3), "
    "(SELECT system_identifier FROM pg_control_system())"
)


def read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except FileNotFoundError:
        return None


def cluster_version(conf_root, wanted):
    if wanted:
        return wanted if os.path.isdir(os.path.join(conf_root, wanted, "main")) else None
    try:
        names = os.listdir(conf_root)
    except FileNotFoundError:
        return None
    versions = [n for n in names if n.isdigit() and os.path.isdir(os.path.join(conf_root, n, "main"))]
    return max(versions, key=int) if versions else None


def ask_server(socket_dir):
    """The query's fields, or None when the server does not answer."""
    run = subprocess.run(
        ["runuser", "-u", "postgres", "--", "psql", "-X", "-A", "-t", "-q", "-F", "|",
         "-h", socket_dir, "-d", "postgres", "-c", QUERY],
        capture_output=True, text=True, check=False, timeout=30)
    if run.returncode != 0 or "|" not in run.stdout:
        return None
    return run.stdout.strip().split("|")


def control_file(bin_dir, data_dir):
    """(timeline of the latest checkpoint, system identifier) of a stopped cluster."""
    run = subprocess.run([os.path.join(bin_dir, "pg_controldata"), data_dir], capture_output=True, text=True,
                         check=False, env=dict(os.environ, LC_ALL="C"))
    fields = dict(line.split(":", 1) for line in run.stdout.splitlines() if ":" in line)
    timeline = fields.get("Latest checkpoint's TimeLineID", "").strip()
    return (int(timeline) if timeline else None), (fields.get("Database system identifier", "").strip() or None)


def postgresql_state(params, ask=ask_server, control=control_file):
    version = cluster_version(params["conf_root"], params["postgresql_version"])
    data_dir = os.path.join(params["data_root"], version or "none", "main")
    state = {"role": "absent", "running": False, "version": version, "system_identifier": None,
             "timeline": None, "lsn": None,
             "receive_lsn": None, "streaming": False, "replay_delay_s": None,
             "fence_note": read(params["fence_marker"])}
    if version is None or not os.path.exists(os.path.join(data_dir, "PG_VERSION")):
        return state
    row = ask(params["socket_dir"])
    if row is None:
        state["role"] = "replica" if os.path.exists(os.path.join(data_dir, "standby.signal")) else "primary"
        state["timeline"], state["system_identifier"] = control(f"/usr/lib/postgresql/{version}/bin", data_dir)
    else:
        in_recovery, timeline, lsn, receive_lsn, receiver, delay, system_identifier = row
        state.update(
            role="replica" if in_recovery == "t" else "primary", running=True, system_identifier=system_identifier,
            timeline=int(timeline) if timeline else None, lsn=lsn or None, receive_lsn=receive_lsn or None,
            streaming=receiver == "streaming", replay_delay_s=float(delay) if delay else None)
    if state["fence_note"] is not None:
        state["role"] = "fenced"
    return state


def installed_packages(query=("dpkg-query", "-W", "-f", "${db:Status-Status} ${Package}\\n")):
    try:
        run = subprocess.run(list(query), capture_output=True, text=True, check=False)
    except OSError:
        return []
    return sorted({line.split()[1] for line in run.stdout.splitlines()
                   if len(line.split()) == 2 and line.split()[0] == "installed"})


def main():
    module = AnsibleModule(
        argument_spec={
            "postgresql_version": {"type": "str"},
            "conf_root": {"type": "path", "default": "/etc/postgresql"},
            "data_root": {"type": "path", "default": "/var/lib/postgresql"},
            "socket_dir": {"type": "path", "default": "/var/run/postgresql"},
            "fence_marker": {"type": "path", "default": "/etc/zulip/postgresql-fenced"},
            "app_marker": {"type": "path", "default": "/etc/zulip/app-frontend-active"},
            **PROBE_SPEC,
        },
        supports_check_mode=True,
    )
    try:
        answers = probe(module.params)
    except ValueError as error:
        module.fail_json(msg=str(error))
    module.exit_json(changed=False, postgresql=postgresql_state(module.params),
                     app_active_since=read(module.params["app_marker"]), packages=installed_packages(), **answers)


if __name__ == "__main__":
    main()
