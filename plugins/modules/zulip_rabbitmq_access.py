#!/usr/bin/python
# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zulip_rabbitmq_access
author: zulip.server maintainers
version_added: "0.2.0"
short_description: Zulip's RabbitMQ account, vhost and plugins, checked in one call
description:
  - Leaves what Zulip's C(configure-rabbitmq) leaves. No C(guest) account, one vhost, one account with its tags and all
    rights on that vhost and none elsewhere, and O(disabled_plugins) not enabled.
  - Reads the node's state with one C(rabbitmqctl export_definitions) call (users with their password hashes, vhosts,
    permissions) and the enabled-plugins file, and verifies the password against its hash itself; only what
    differs is changed. Passwords go to C(rabbitmqctl) on its standard input, never on a command line.
options:
  user:
    description: The account Zulip uses.
    type: str
    required: true
  password:
    description: Its password.
    type: str
    required: true
  tags:
    description: Its tags.
    type: list
    elements: str
    default: []
  vhost:
    description: The vhost, on which the account gets C(.*) configure, write and read rights.
    type: str
    required: true
  node:
    description: The node name every C(rabbitmqctl) call names.
    type: str
    required: true
  absent_users:
    description: Accounts that must not exist.
    type: list
    elements: str
    default: [guest]
  disabled_plugins:
    description: Plugins that must not be enabled (with C(rabbitmq-plugins disable)).
    type: list
    elements: str
    default: [rabbitmq_management]
  enabled_plugins_file:
    description: The node's enabled-plugins file.
    type: path
    default: /etc/rabbitmq/enabled_plugins
attributes:
  check_mode:
    description: Reads the state and reports the actions it would take.
    support: full
  diff_mode:
    description: The actions are returned, not a diff.
    support: none
  platform:
    description: A host running RabbitMQ 3.8.2 or later (C(export_definitions)).
    platforms: posix
"""

EXAMPLES = r"""
- name: Zulip's account, vhost and plugins
  zulip.server.zulip_rabbitmq_access:
    user: zulip
    password: "{{ rabbitmq_password }}"
    tags: [administrator]
    vhost: zulip
    node: zulip@localhost
  no_log: true
"""

RETURN = r"""
actions:
  description: What was (in check mode, would be) done, in order.
  returned: always
  type: list
  elements: str
  sample: ["delete user guest", "add vhost zulip", "add user zulip"]
"""

import base64
import hashlib
import json
import re

from ansible.module_utils.basic import AnsibleModule

RIGHTS = ".*"


def password_matches(user, password):
    """Whether the password hash RabbitMQ exported for user is password's (salted SHA-256 or SHA-512, MD5 legacy)."""
    algorithms = {"rabbit_password_hashing_sha256": hashlib.sha256, "rabbit_password_hashing_sha512": hashlib.sha512,
                  "rabbit_password_hashing_md5": hashlib.md5}
    digest = algorithms.get(user.get("hashing_algorithm", "rabbit_password_hashing_sha256"))
    try:
        salted = base64.b64decode(user.get("password_hash") or "")
    except ValueError:
        return False
    if digest is None or len(salted) <= 4:
        return False
    salt = salted[:4]
    return digest(salt + password.encode()).digest() == salted[4:]


def enabled_plugins(path):
    """The plugins an enabled-plugins file (an Erlang list of atoms) names."""
    try:
        with open(path) as f:
            return set(re.findall(r"[a-z][a-z0-9_]*", f.read()))
    except FileNotFoundError:
        return set()


def plan(p, definitions, plugins):
    """[(description, argv, stdin)] to bring the node to p, given its definitions and enabled plugins."""
    steps = []
    for plugin in p["disabled_plugins"]:
        if plugin in plugins:
            steps.append((f"disable plugin {plugin}", ["rabbitmq-plugins", "-n", p["node"], "disable", plugin], None))
    ctl = ["rabbitmqctl", "-n", p["node"]]
    users = {u["name"]: u for u in definitions.get("users", [])}
    for name in p["absent_users"]:
        if name in users:
            steps.append((f"delete user {name}", ctl + ["delete_user", name], None))
    if p["vhost"] not in {v["name"] for v in definitions.get("vhosts", [])}:
        steps.append((f"add vhost {p['vhost']}", ctl + ["add_vhost", p["vhost"]], None))
    user = users.get(p["user"])
    if user is None:
        steps.append((f"add user {p['user']}", ctl + ["add_user", p["user"]], p["password"]))
    elif not password_matches(user, p["password"]):
        steps.append((f"change the password of {p['user']}", ctl + ["change_password", p["user"]],
                      p["password"]))
    tags = user.get("tags", []) if user else []
    if isinstance(tags, str):  # RabbitMQ before 3.9 exports them comma-separated
        tags = [t for t in tags.split(",") if t]
    if sorted(tags) != sorted(p["tags"]):
        steps.append((f"set the tags of {p['user']} to {','.join(p['tags']) or 'none'}",
                      ctl + ["set_user_tags", p["user"]] + p["tags"], None))
    rights = {perm["vhost"]: (perm["configure"], perm["write"], perm["read"])
              for perm in definitions.get("permissions", []) if perm["user"] == p["user"]}
    for vhost in sorted(set(rights) - {p["vhost"]}):
        steps.append((f"clear the rights of {p['user']} on {vhost}",
                      ctl + ["clear_permissions", "-p", vhost, p["user"]], None))
    if rights.get(p["vhost"]) != (RIGHTS,) * 3:
        steps.append((f"grant {p['user']} all rights on {p['vhost']}",
                      ctl + ["set_permissions", "-p", p["vhost"], p["user"], RIGHTS, RIGHTS, RIGHTS], None))
    return steps


def main():
    module = AnsibleModule(
        argument_spec={
            "user": {"type": "str", "required": True},
            "password": {"type": "str", "required": True, "no_log": True},
            "tags": {"type": "list", "elements": "str", "default": []},
            "vhost": {"type": "str", "required": True},
            "node": {"type": "str", "required": True},
            "absent_users": {"type": "list", "elements": "str", "default": ["guest"]},
            "disabled_plugins": {"type": "list", "elements": "str", "default": ["rabbitmq_management"]},
            "enabled_plugins_file": {"type": "path", "default": "/etc/rabbitmq/enabled_plugins"},
        },
        supports_check_mode=True,
    )
    p = module.params
    if p["user"] in p["absent_users"]:
        module.fail_json(msg=f"user {p['user']} is also in absent_users")
    rc, out, err = module.run_command(["rabbitmqctl", "-n", p["node"], "-q", "export_definitions", "-"])
    if rc != 0:
        module.fail_json(msg=f"rabbitmqctl export_definitions failed on {p['node']}: {(err or out).strip()}", rc=rc)
    try:
        definitions = json.loads(out)
    except ValueError:
        module.fail_json(msg=f"rabbitmqctl export_definitions printed no JSON: {out[:200]}")
    steps = plan(p, definitions, enabled_plugins(p["enabled_plugins_file"]))
    if not module.check_mode:
        for description, argv, stdin in steps:
            rc, out, err = module.run_command(argv, data=stdin)  # a line: run_command adds the newline
            if rc != 0:
                module.fail_json(msg=f"{description}: {' '.join(argv[:4])} failed: {(err or out).strip()}", rc=rc)
    module.exit_json(changed=bool(steps), actions=[d for d, _, _ in steps])


if __name__ == "__main__":
    main()
