#!/usr/bin/python
# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# The work is done on the controller, by the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zulip_preflight
author: zulip.server maintainers
version_added: "0.2.0"
short_description: Check every input of a zulip.server playbook for one host, before any host is changed
description:
  - Runs on the controller only; the host is not contacted, so a dead database host does not stop the preflight of
    C(playbooks/failover.yml).
  - Reads what the roles of O(playbook) will read on this host - the inventory's and extra vars, else the role
    defaults - and checks them against the roles' argument specs (types, choices) and the collection's rules (ranges,
    formats, cron fields, PostgreSQL sizes and C(synchronous_standby_names) grammar, Zulip's C(EXTERNAL_HOST) checks,
    files on the controller, certificates and their keys, the cluster's shape). Every rule is listed in
    C(docs/preflight.md).
  - Fails with every problem of the host at once, each naming the variable, its value and the fix.
options:
  playbook:
    description: The playbook whose inputs are checked; it decides which roles' variables apply to the host's groups.
    type: str
    choices: [install, upgrade, rollback, failover, rejoin, restore, backup]
    default: install
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  action:
    support: full
"""

EXAMPLES = r"""
- name: Check the inputs of install.yml for this host
  zulip.server.zulip_preflight:
    playbook: install
"""

RETURN = r"""
problems:
  description: "One line per problem, C(<variable>=<value>: <reason>. <fix>); empty when every input passed."
  returned: always
  type: list
  elements: str
"""
