# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Check every input of a playbook's roles for one host, on the controller.

Runs no module and opens no connection to the host: a dead database host does
not stop failover.yml's preflight. Documentation: ``zulip_preflight.py`` in
plugins/modules (the action's options), rules in module_utils/preflight.py.
"""

from __future__ import annotations

import os

import yaml
from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.zulip.server.plugins.module_utils import preflight

try:  # ansible-core 2.19: strings read from a file are not templates until trusted
    from ansible.template import trust_as_template
except ImportError:  # pragma: no cover - older ansible-core trusts every string
    def trust_as_template(value):
        return value

ROLES_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "roles")
# Inputs that belong to no role's argument spec: the inventory's and the playbooks' own.
EXTRA_INPUTS = ("zulip_service_address", "zulip_upgrade_serial", "zulip_upgrade_max_fail_percentage")
_SPEC_KEYS = ("type", "elements", "choices", "options", "no_log")


def _load(role, name):
    path = os.path.join(ROLES_DIR, role, name)
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as stream:
        return yaml.safe_load(stream) or {}


def role_options(role, entry_point):
    specs = _load(role, os.path.join("meta", "argument_specs.yml")).get("argument_specs", {})
    return specs.get(entry_point, {}).get("options") or {}


def role_defaults(role):
    return _load(role, os.path.join("defaults", "main.yml"))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("playbook",))

    def _template(self, value, variables=None):
        templar = self._templar if variables is None else self._templar.copy_with_new_env(available_variables=variables)
        if isinstance(value, str) and variables is not None:
            value = trust_as_template(value)
        return templar.template(value)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        playbook = self._task.args.get("playbook", "install")
        if playbook not in ("install", "upgrade", "rollback", "failover", "rejoin", "restore", "backup"):
            return {"failed": True, "msg": f"playbook must be install, upgrade, rollback, failover, rejoin, restore or backup, not {playbook!r}"}
        if playbook == "failover" and self._template(task_vars.get("zulip_failover_mode", "")) == "app":
            playbook = "failover-app"  # the app servers converge too
        host = task_vars["inventory_hostname"]
        groups = {g: list(task_vars.get("groups", {}).get(g, [])) for g in preflight.GROUPS + [preflight.DRILL]}
        mine = [g for g in preflight.GROUPS if host in groups[g]]

        problems, values, secret = [], {}, set()
        variables = dict(task_vars)
        for entry_groups, role, entry_point in preflight.ENTRY_POINTS[playbook]:
            if not set(entry_groups) & set(mine):
                continue
            options = role_options(role, entry_point)
            defaults = role_defaults(role)
            params, literal = {}, set()
            for name, spec in options.items():
                if spec.get("no_log"):
                    secret.add(name)
                try:
                    if name in task_vars:
                        params[name] = self._template(task_vars[name])
                    elif isinstance(defaults.get(name), str) and "{{" in defaults[name]:
                        params[name] = self._template(defaults[name], variables)  # from the inventory's variables
                    else:
                        params[name] = defaults.get(name, spec.get("default"))
                        literal.add(name)
                except AnsibleError:
                    continue  # computed from facts or other roles' results: not an input
                variables.setdefault(name, params[name])
            # The type and choices of what the inventory gave; a role's own literal
            # default may be a sentinel ("" for no failover mode), which the rules judge.
            checked = {n: v for n, v in params.items() if n not in literal and v is not None}
            spec = {n: {k: v for k, v in s.items() if k in _SPEC_KEYS} for n, s in options.items() if n in checked}
            validated = ArgumentSpecValidator(spec).validate(checked)
            for error in validated.errors:
                name = next((n for n in sorted(checked, key=len, reverse=True) if n in str(error)), "?")
                shown = "********" if name in secret else checked.get(name)
                problems.append(preflight.Problem(name, shown, str(error).rstrip("."),
                                                  f"See ansible-doc -t role zulip.server.{role} -e {entry_point}."))
            values.update({n: v for n, v in params.items() if n in literal})
            values.update({n: v for n, v in validated.validated_parameters.items() if n in checked})
        for name in EXTRA_INPUTS:
            if name in task_vars and name not in values:
                values[name] = self._template(task_vars[name])

        hostvars = task_vars.get("hostvars", {})
        hosts = {}
        for other in {h for g in preflight.GROUPS for h in groups[g]}:
            own = hostvars.get(other, {})
            cluster = own.get("zulip_base_cluster", own.get("zulip_cluster", "zulip"))
            hosts[other] = {"cluster": cluster, "active": bool(own.get("zulip_app_frontend_active", False))}
            # Where the inventory keeps its database CA (postgresql:tls-dir-per-cluster).
            try:
                hosts[other].update(tls_dir=own.get("zulip_postgresql_tls_dir"),
                                    own_ca=bool(own.get("zulip_postgresql_tls_ca_cert")))
            except AnsibleError:
                pass  # computed from what only a later play knows: not the inventory's own directory

        failed_types = {p.variable for p in problems}
        inputs = preflight.Inputs(host=host, playbook=playbook, groups=groups, hosts=hosts, user_set=frozenset(task_vars),
                                  values={n: v for n, v in values.items() if n not in failed_types})
        problems.extend(p for p in preflight.check(inputs) if p.variable not in failed_types or p.variable == "groups")
        result["problems"] = [str(p) for p in problems]
        result["changed"] = False
        if problems:
            result["failed"] = True
            result["msg"] = (f"{len(problems)} input problem{'s' if len(problems) > 1 else ''} for {host} "
                             f"({playbook.split('-')[0]}.yml); nothing was changed:\n- " + "\n- ".join(result["problems"]))
        else:
            result["msg"] = f"{host}: every input of {playbook.split('-')[0]}.yml checked"
        return result
