# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""This host's cluster as it is now, worked out on the controller in one step
from the inventory and what every host of the play said it is. Documentation:
``zulip_topology.py`` in plugins/modules; the decisions are
module_utils/topology.py."""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.zulip.server.plugins.module_utils import topology

# What zulip_base's tasks/topology.yml registered from zulip_host_state.
STATE = "__zulip_base_host_state"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("postgresql_version", "distro_versions"))
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        me = task_vars["inventory_hostname"]
        groups = {g: list(task_vars.get("groups", {}).get(g) or []) for g in topology.ROLE_GROUPS}
        hostvars = task_vars["hostvars"]
        # Each hostvars[name] works out all of that host's variables: once per host.
        own = {name: hostvars[name] for name in dict.fromkeys([me] + [h for g in groups.values() for h in g])}
        clusters = {name: str(v.get("zulip_base_cluster") or v.get("zulip_cluster") or "zulip") for name, v in own.items()}
        hosts = {}
        for name, v in own.items():
            if clusters[name] != clusters[me]:
                hosts[name] = topology.Host(cluster=clusters[name])
                continue
            state = v.get(STATE) or {}
            hosts[name] = topology.Host(
                cluster=clusters[name], address=str(v.get("zulip_service_address") or name), state=dict(state),
                marked_active=boolean(v.get("zulip_app_frontend_active", False), strict=False),
                debian=str((v.get("ansible_facts") or {}).get("distribution_major_version", "")))
        args = self._task.args
        found, running = topology.topology(me, groups, hosts, args.get("postgresql_version"),
                                           {str(k): v for k, v in (args.get("distro_versions") or {}).items()})
        if len(running) > 1:
            result.update(failed=True, msg=(
                f"{' and '.join(running)} both run as PostgreSQL primaries of cluster {found['cluster']} (split brain). "
                "Nothing was changed. Keep the one the app servers write to, and fence the other: playbooks/failover.yml "
                "with zulip_failover_mode=failover names it as zulip_failover_confirm."))
            return result
        address = topology.own_address(hosts[me].address, task_vars.get("ansible_facts") or {})
        result["changed"] = False
        result["ansible_facts"] = {
            "zulip_base_topology": found,
            "zulip_base_own_address": address,
            # Loopback when no app server on another host needs this host's
            # services (Zulip's default), else the address the others use.
            "zulip_base_service_listen": "127.0.0.1" if not set(found["app_frontends"]) - {me} else address,
            # What dpkg has installed now: a role skips its package task when
            # none of its packages is missing.
            "zulip_base_packages_installed": list(hosts[me].state.get("packages") or []),
        }
        return result
