#!/usr/bin/python
# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# The work is done on the controller, by the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zulip_topology
author: zulip.server maintainers
version_added: "0.2.0"
short_description: Work out this host's Zulip cluster as it is now, on the controller
description:
  - Runs on the controller only, in Ansible's own process; the host is not contacted.
  - Reads the inventory's groups and, of every host in them, C(zulip_cluster), C(zulip_service_address),
    C(zulip_app_frontend_active), its Debian version (when facts were gathered) and what it said it is in this play
    (C(__zulip_base_host_state), registered from M(zulip.server.zulip_host_state) by C(zulip.server.zulip_base)'s
    C(tasks/topology.yml)). Each host's variables are worked out once, however many clusters the inventory holds.
  - The primary is a database host that runs as primary; else the only stopped primary; else the inventory's first
    database host that is not fenced. The active app server is the one with the newest app-frontend-active marker,
    else the first marked C(zulip_app_frontend_active), else the first.
  - Fails, changing nothing, when two database hosts of the cluster run as primaries (split brain).
options:
  postgresql_version:
    description: PostgreSQL's major version when the inventory sets it; else the primary's Debian decides (O(distro_versions)).
    type: raw
  distro_versions:
    description: PostgreSQL's major version for each Debian major version.
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  action:
    support: full
"""

EXAMPLES = r"""
- name: Publish the cluster topology
  zulip.server.zulip_topology:
    postgresql_version: "{{ zulip_postgresql_version | default(none) }}"
    distro_versions: {"12": 15, "13": 17}
"""

RETURN = r"""
ansible_facts:
  description: Facts set on the host.
  returned: success
  type: dict
  contains:
    zulip_base_topology:
      description: >-
        The cluster - V(cluster), V(hosts), V(app_frontends), V(app_frontend_active), V(postgresql_primary),
        V(postgresql_hosts) and their V(postgresql_addresses), V(postgresql_replicas), V(postgresql_fenced),
        V(postgresql_version), V(backup_repository), V(memcached), V(redis), V(rabbitmq).
      type: dict
    zulip_base_own_address:
      description: This host's C(zulip_service_address) when it is one of its addresses, else its default IPv4 address.
      type: str
    zulip_base_service_listen:
      description: Where this host's services listen - C(127.0.0.1) unless an app server on another host needs them.
      type: str
    zulip_base_packages_installed:
      description: The packages dpkg has installed on this host, as it said.
      type: list
      elements: str
"""
