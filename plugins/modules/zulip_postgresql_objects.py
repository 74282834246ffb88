#!/usr/bin/python
# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zulip_postgresql_objects
author: zulip.server maintainers
version_added: "0.2.0"
short_description: Zulip's PostgreSQL roles, database, schema, function grants and replication slots in one call
description:
  - Makes what Zulip's C(create-db.sql) makes, idempotently, and the replication objects of a primary, in one
    connection over the Unix socket (peer authentication, so run it as the C(postgres) user). It reads what exists
    first and changes only what differs; it never drops anything.
  - A role's password is compared with its stored SCRAM-SHA-256 verifier (computed with the stored salt and
    iteration count); a new one is sent as a verifier made here, never as the password itself, so the password
    appears in no server log.
  - A database whose encoding or collation differs from the one asked for is an error (PostgreSQL cannot change
    them); its owner is changed.
options:
  socket_dir:
    description: Directory of the server's Unix socket.
    type: path
    default: /var/run/postgresql
  port:
    description: The server's port (the socket's name).
    type: int
    default: 5432
  roles:
    description: Login roles.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Role name.
        type: str
        required: true
      replication:
        description: Whether the role has REPLICATION.
        type: bool
        default: false
      password:
        description: Its password; omitted, the password is left as it is.
        type: str
      search_path:
        description: The role's C(search_path) setting (comma-separated schema names); omitted, left as it is.
        type: str
  databases:
    description: Databases.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Database name.
        type: str
        required: true
      owner:
        description: Its owner.
        type: str
        required: true
      encoding:
        description: Its encoding.
        type: str
        default: UTF8
      lc_collate:
        description: Its LC_COLLATE.
        type: str
        default: C.UTF-8
      lc_ctype:
        description: Its LC_CTYPE.
        type: str
        default: C.UTF-8
  schemas:
    description: Schemas.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Schema name.
        type: str
        required: true
      database:
        description: The database it is in.
        type: str
        required: true
      owner:
        description: Its owner.
        type: str
        required: true
  function_grants:
    description: EXECUTE on functions, for a role.
    type: list
    elements: dict
    default: []
    suboptions:
      role:
        description: The role granted EXECUTE.
        type: str
        required: true
      functions:
        description: Function signatures, e.g. V(pg_catalog.pg_ls_dir(text, boolean, boolean)).
        type: list
        elements: str
        required: true
  slots:
    description: Physical replication slots, reserving WAL at once.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    description: A host running PostgreSQL 15 or newer.
    platforms: posix
requirements:
  - psycopg2 on the host (Debian's python3-psycopg2).
"""

EXAMPLES = r"""
- name: Zulip's role, database and schema
  zulip.server.zulip_postgresql_objects:
    roles:
      - {name: zulip, search_path: "zulip, public"}
    databases:
      - {name: zulip, owner: zulip}
    schemas:
      - {name: zulip, database: zulip, owner: zulip}
  become: true
  become_user: postgres
"""

RETURN = r"""
changes:
  description: What was (or, in check mode, would be) done, one line each; never a password.
  returned: always
  type: list
  elements: str
  sample: ["create role zulip", "create database zulip"]
"""

import base64
import hashlib
import hmac
import os
import re
import traceback
from contextlib import closing

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import psycopg2
    from psycopg2 import sql
    HAS_PSYCOPG2 = True
except ImportError:
    HAS_PSYCOPG2 = False

SCRAM_ITERATIONS = 4096
# A function signature as GRANT takes it: [schema.]name(type, ...).
SIGNATURE = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?\(([a-z_][a-z0-9_ ]*(, *[a-z_][a-z0-9_ ]*)*)?\)$")


def _scram_keys(password, salt, iterations):
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return stored_key, server_key


def scram_verifier(password, salt=None, iterations=SCRAM_ITERATIONS):
    """PostgreSQL's SCRAM-SHA-256 verifier for password (SASLprep is not applied: ASCII passwords)."""
    salt = os.urandom(16) if salt is None else salt
    stored_key, server_key = _scram_keys(password, salt, iterations)
    b64 = base64.b64encode
    return f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}${b64(stored_key).decode()}:{b64(server_key).decode()}"


def password_matches(stored, password):
    """Whether the stored verifier (pg_authid.rolpassword) is password's."""
    if not stored or not stored.startswith("SCRAM-SHA-256$"):
        return False
    try:
        head, keys = stored[len("SCRAM-SHA-256$"):].split("$", 1)
        iterations, salt = head.split(":", 1)
        stored_key, server_key = keys.split(":", 1)
        want = _scram_keys(password, base64.b64decode(salt), int(iterations))
    except ValueError:
        return False
    return want == (base64.b64decode(stored_key), base64.b64decode(server_key))


def split_path(value):
    return [item.strip().strip('"') for item in value.split(",") if item.strip()]


class Objects:
    def __init__(self, module, connect):
        self.module = module
        self.p = module.params
        self.connect = connect
        self.changes = []

    def do(self, cursor, description, statement, args=None):
        self.changes.append(description)
        if not self.module.check_mode:
            cursor.execute(statement, args)

    def roles(self, cur):
        for spec in self.p["roles"]:
            name = spec["name"]
            cur.execute("SELECT a.rolcanlogin, a.rolreplication, a.rolpassword, r.rolconfig "
                        "FROM pg_authid a JOIN pg_roles r ON r.oid = a.oid WHERE a.rolname = %s", (name,))
            row = cur.fetchone()
            ident = sql.Identifier(name)
            flags = sql.SQL("LOGIN REPLICATION" if spec["replication"] else "LOGIN NOREPLICATION")
            if row is None:
                self.do(cur, f"create role {name}", sql.SQL("CREATE ROLE {} WITH {}").format(ident, flags))
                row = (True, spec["replication"], None, None)
            elif (row[0], row[1]) != (True, spec["replication"]):
                self.do(cur, f"alter role {name} {flags.string.lower()}",
                        sql.SQL("ALTER ROLE {} WITH {}").format(ident, flags))
            if spec["password"] is not None and not password_matches(row[2], spec["password"]):
                self.do(cur, f"set the password of role {name}",
                        sql.SQL("ALTER ROLE {} PASSWORD %s").format(ident), (scram_verifier(spec["password"]),))
            if spec["search_path"] is not None:
                settings = dict(item.split("=", 1) for item in (row[3] or []) if "=" in item)
                wanted = split_path(spec["search_path"])
                if split_path(settings.get("search_path", "")) != wanted:
                    self.do(cur, f"set search_path of role {name} to {', '.join(wanted)}",
                            sql.SQL("ALTER ROLE {} SET search_path TO {}").format(
                                ident, sql.SQL(", ").join(sql.Identifier(s) for s in wanted)))

    def databases(self, cur):
        for spec in self.p["databases"]:
            name = spec["name"]
            cur.execute("SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype "
                        "FROM pg_database WHERE datname = %s", (name,))
            row = cur.fetchone()
            if row is None:
                self.do(cur, f"create database {name}", sql.SQL(
                    "CREATE DATABASE {} OWNER {} ENCODING %s LC_COLLATE %s LC_CTYPE %s TEMPLATE template0").format(
                        sql.Identifier(name), sql.Identifier(spec["owner"])),
                    (spec["encoding"], spec["lc_collate"], spec["lc_ctype"]))
                continue
            have = (row[1], row[2], row[3])
            want = (spec["encoding"], spec["lc_collate"], spec["lc_ctype"])
            if have != want:
                self.module.fail_json(
                    msg=f"database {name} has encoding, LC_COLLATE and LC_CTYPE {have}, not {want}: PostgreSQL cannot "
                        "change them (dump it and restore it into a database made with the right ones)",
                    changes=self.changes)
            if row[0] != spec["owner"]:
                self.do(cur, f"make {spec['owner']} the owner of database {name}",
                        sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                            sql.Identifier(name), sql.Identifier(spec["owner"])))

    def schemas(self):
        for spec in self.p["schemas"]:
            database_exists = not any(c == f"create database {spec['database']}" for c in self.changes)
            if not database_exists:  # check mode: the database would be made first
                self.changes.append(f"create schema {spec['name']} in {spec['database']}")
                continue
            with closing(self.connect(spec["database"])) as conn, conn.cursor() as cur:
                cur.execute("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s", (spec["name"],))
                row = cur.fetchone()
                ident = sql.Identifier(spec["name"])
                if row is None:
                    self.do(cur, f"create schema {spec['name']} in {spec['database']}",
                            sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(ident, sql.Identifier(spec["owner"])))
                elif row[0] != spec["owner"]:
                    self.do(cur, f"make {spec['owner']} the owner of schema {spec['name']}",
                            sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(ident, sql.Identifier(spec["owner"])))

    def grants(self, cur):
        for spec in self.p["function_grants"]:
            role_made = f"create role {spec['role']}" in self.changes
            for function in spec["functions"]:
                if not SIGNATURE.match(function):
                    self.module.fail_json(msg=f"function_grants: not a function signature: {function}")
                if not role_made:
                    cur.execute("SELECT has_function_privilege(%s, %s, 'EXECUTE')", (spec["role"], function))
                    if cur.fetchone()[0]:
                        continue
                # A signature cannot be a query parameter: it is checked by the server above (an unknown
                # function fails there) and only then put in the statement.
                self.do(cur, f"grant execute on {function} to {spec['role']}",
                        sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(
                            sql.SQL(function), sql.Identifier(spec["role"])))

    def slots(self, cur):
        for name in self.p["slots"]:
            cur.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (name,))
            if cur.fetchone() is None:
                self.do(cur, f"create physical replication slot {name}",
                        "SELECT pg_create_physical_replication_slot(%s, true)", (name,))

    def run(self):
        # closing(), not the connection's own context: psycopg2 2.9 opens a transaction block there even in
        # autocommit mode, and CREATE DATABASE cannot run inside one.
        with closing(self.connect("postgres")) as conn, conn.cursor() as cur:
            self.roles(cur)
            self.databases(cur)
            self.grants(cur)
            self.slots(cur)
        self.schemas()
        return self.changes


def main():
    module = AnsibleModule(
        argument_spec={
            "socket_dir": {"type": "path", "default": "/var/run/postgresql"},
            "port": {"type": "int", "default": 5432},
            "roles": {"type": "list", "elements": "dict", "default": [], "options": {
                "name": {"type": "str", "required": True},
                "replication": {"type": "bool", "default": False},
                "password": {"type": "str", "no_log": True},
                "search_path": {"type": "str"},
            }},
            "databases": {"type": "list", "elements": "dict", "default": [], "options": {
                "name": {"type": "str", "required": True},
                "owner": {"type": "str", "required": True},
                "encoding": {"type": "str", "default": "UTF8"},
                "lc_collate": {"type": "str", "default": "C.UTF-8"},
                "lc_ctype": {"type": "str", "default": "C.UTF-8"},
            }},
            "schemas": {"type": "list", "elements": "dict", "default": [], "options": {
                "name": {"type": "str", "required": True},
                "database": {"type": "str", "required": True},
                "owner": {"type": "str", "required": True},
            }},
            "function_grants": {"type": "list", "elements": "dict", "default": [], "options": {
                "role": {"type": "str", "required": True},
                "functions": {"type": "list", "elements": "str", "required": True},
            }},
            "slots": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib("psycopg2"))

    def connect(database):
        conn = psycopg2.connect(host=module.params["socket_dir"], port=module.params["port"], dbname=database)
        conn.autocommit = True  # CREATE DATABASE runs outside a transaction
        return conn

    try:
        changes = Objects(module, connect).run()
    except psycopg2.Error as error:
        module.fail_json(msg=f"PostgreSQL: {str(error).strip()}", exception=traceback.format_exc())
    module.exit_json(changed=bool(changes), changes=changes)


if __name__ == "__main__":
    main()
