#!/usr/bin/python
# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zulip_probe
author: zulip.server maintainers
version_added: "0.2.0"
short_description: Look at a host in one call (paths, systemd units, accounts, diversions, read-only commands)
description:
  - Answers, without changing anything, every question a role would otherwise ask in a task of its own (a C(stat),
    a C(getent), whether a unit is enabled and running, a C(creates) path, a read-only command). Each role of the
    collection calls it once and skips the tasks whose state already holds, so a run on a converged host makes few
    remote calls, while it still looks at the host as it is, so drift is found.
extends_documentation_fragment:
  - zulip.server.probe
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    description: Debian hosts with systemd.
    platforms: posix
"""

EXAMPLES = r"""
- name: Look at the host
  zulip.server.zulip_probe:
    paths: [/etc/zulip, /var/lib/postgresql/15/main/PG_VERSION]
    read: [/etc/redis/redis.conf]
    units: [postgresql, memcached]
    users: [zulip]
    groups: [ssl-cert]
    diversions: [/etc/logrotate.d/postgresql-common]
    commands:
      locales: [locale, -a]
  register: probe

- name: Enable memcached unless it is running and enabled already
  ansible.builtin.systemd_service:
    name: memcached
    state: started
    enabled: true
  when: not (probe.units.memcached.active and probe.units.memcached.enabled)
"""

RETURN = r"""
paths:
  description: For each of O(paths), what is there (C(type) is V(file), V(directory), V(link), V(other) or null).
  returned: always
  type: dict
  sample: {"/etc/zulip": {"exists": true, "type": "directory", "mode": "0755", "owner": "zulip", "group": "zulip",
           "size": 4096, "mtime": 1764000000.0, "target": null, "writable": true}}
contents:
  description: For each of O(read), its text, or null when it is not a regular file of at most 1 MiB.
  returned: always
  type: dict
checksums:
  description: For each of O(checksums), its SHA-256, or null when it is not a regular file.
  returned: always
  type: dict
units:
  description: For each of O(units), C(active) (ActiveState active), C(enabled) (UnitFileState enabled, static,
    generated, alias or indirect), C(loaded) (LoadState loaded), and the raw C(state) and C(file_state).
  returned: always
  type: dict
users:
  description: For each of O(users), C(exists), C(uid), C(group) (its primary group), C(groups) (the supplementary
    groups it is a member of), C(home) and C(shell).
  returned: always
  type: dict
groups:
  description: For each of O(groups), C(exists), C(gid) and C(members).
  returned: always
  type: dict
diversions:
  description: For each of O(diversions), where dpkg diverts it to, or null when it is not diverted.
  returned: always
  type: dict
commands:
  description: For each of O(commands), C(rc), C(stdout) and C(stderr).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.zulip.server.plugins.module_utils.probe import PROBE_SPEC, probe


def main():
    module = AnsibleModule(argument_spec=PROBE_SPEC, supports_check_mode=True)
    try:
        result = probe(module.params)
    except ValueError as error:
        module.fail_json(msg=str(error))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
