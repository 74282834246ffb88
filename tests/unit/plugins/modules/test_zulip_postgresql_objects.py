from __future__ import annotations

import pytest

from ansible_collections.zulip.server.plugins.modules import zulip_postgresql_objects as objects

# Made by PostgreSQL 15 for 'correct horse' (SET password_encryption = 'scram-sha-256').
PG_VERIFIER = ("SCRAM-SHA-256$4096:3RePIV20APla5yEA/6PcIQ==$Qr1vg3W/7ggPCaWamRknftUmW5dmlCdD1HYjPqDulx0="
               ":6R3Fh65t2HeZNTwQXzqIcuwQj9YirrWjwsUcadTrDU4=")


def test_a_verifier_postgresql_made_is_recognised():
    assert objects.password_matches(PG_VERIFIER, "correct horse")
    assert not objects.password_matches(PG_VERIFIER, "correct horse ")
    assert not objects.password_matches("md5abc", "correct horse")
    assert not objects.password_matches(None, "x")
    assert not objects.password_matches("SCRAM-SHA-256$garbage", "x")


def test_a_verifier_made_here_verifies_and_is_salted():
    one, two = objects.scram_verifier("s3cret"), objects.scram_verifier("s3cret")
    assert one != two and objects.password_matches(one, "s3cret") and not objects.password_matches(one, "other")
    assert one.startswith("SCRAM-SHA-256$4096:")


class Catalog:
    """A stand-in for the server: answers the module's catalog queries from dicts, records statements."""

    def __init__(self, roles=None, databases=None, schemas=None, privileges=(), slots=()):
        self.roles = roles or {}
        self.databases = databases or {}
        self.schemas = schemas or {}
        self.privileges = set(privileges)
        self.slots = set(slots)
        self.statements = []

    def connect(self, database):
        catalog = self

        class Cursor:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def execute(self, statement, args=None):
                text = statement if isinstance(statement, str) else repr(statement)
                self.row = None
                if "FROM pg_authid" in text:
                    self.row = catalog.roles.get(args[0])
                elif "FROM pg_database" in text:
                    self.row = catalog.databases.get(args[0])
                elif "FROM pg_namespace" in text:
                    self.row = catalog.schemas.get((database, args[0]))
                elif "has_function_privilege" in text:
                    self.row = ((args[0], args[1]) in catalog.privileges,)
                elif "FROM pg_replication_slots" in text:
                    self.row = (1,) if args[0] in catalog.slots else None
                else:
                    catalog.statements.append((database, text, args))

            def fetchone(self):
                return self.row

        class Connection:
            closed = False

            def close(self):
                self.closed = True

            def cursor(self):
                return Cursor()

        return Connection()


class Module:
    def __init__(self, params, check_mode=False):
        self.params = dict({"roles": [], "databases": [], "schemas": [], "function_grants": [], "slots": []}, **params)
        self.check_mode = check_mode

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs["msg"])


ZULIP = {
    "roles": [{"name": "zulip", "replication": False, "password": None, "search_path": "zulip, public"},
              {"name": "replicator", "replication": True, "password": "correct horse", "search_path": None}],
    "databases": [{"name": "zulip", "owner": "zulip", "encoding": "UTF8", "lc_collate": "C.UTF-8", "lc_ctype": "C.UTF-8"}],
    "schemas": [{"name": "zulip", "database": "zulip", "owner": "zulip"}],
    "function_grants": [{"role": "replicator", "functions": ["pg_catalog.pg_ls_dir(text, boolean, boolean)"]}],
    "slots": ["zulip_db2"],
}


def converged():
    return Catalog(
        roles={"zulip": (True, False, None, ["search_path=zulip, public"]),
               "replicator": (True, True, PG_VERIFIER, None)},
        databases={"zulip": ("zulip", "UTF8", "C.UTF-8", "C.UTF-8")},
        schemas={("zulip", "zulip"): ("zulip",)},
        privileges={("replicator", "pg_catalog.pg_ls_dir(text, boolean, boolean)")},
        slots={"zulip_db2"})


def test_an_empty_server_gets_everything_in_order():
    catalog = Catalog()
    changes = objects.Objects(Module(ZULIP), catalog.connect).run()
    assert changes == ["create role zulip", "set search_path of role zulip to zulip, public", "create role replicator",
                       "set the password of role replicator", "create database zulip",
                       "grant execute on pg_catalog.pg_ls_dir(text, boolean, boolean) to replicator",
                       "create physical replication slot zulip_db2", "create schema zulip in zulip"]
    # The password goes as a verifier made here, never as itself.
    password_args = [args for _db, text, args in catalog.statements if "PASSWORD" in text]
    assert len(password_args) == 1 and objects.password_matches(password_args[0][0], "correct horse")
    assert all("correct horse" not in repr(statement) for statement in catalog.statements)


def test_a_converged_server_is_left_alone():
    catalog = converged()
    assert objects.Objects(Module(ZULIP), catalog.connect).run() == [] and catalog.statements == []


def test_check_mode_lists_and_runs_nothing():
    catalog = Catalog()
    changes = objects.Objects(Module(ZULIP, check_mode=True), catalog.connect).run()
    assert "create database zulip" in changes and "create schema zulip in zulip" in changes
    assert catalog.statements == []


def test_only_what_differs_is_changed():
    catalog = converged()
    catalog.roles["replicator"] = (True, False, objects.scram_verifier("old"), None)
    catalog.roles["zulip"] = (True, False, None, ["search_path=public"])
    catalog.databases["zulip"] = ("postgres", "UTF8", "C.UTF-8", "C.UTF-8")
    catalog.schemas[("zulip", "zulip")] = ("postgres",)
    changes = objects.Objects(Module(ZULIP), catalog.connect).run()
    assert changes == ["set search_path of role zulip to zulip, public", "alter role replicator login replication",
                       "set the password of role replicator", "make zulip the owner of database zulip",
                       "make zulip the owner of schema zulip"]


def test_a_database_with_another_collation_is_refused():
    catalog = converged()
    catalog.databases["zulip"] = ("zulip", "UTF8", "en_US.UTF-8", "en_US.UTF-8")
    with pytest.raises(AssertionError, match="cannot change them"):
        objects.Objects(Module(ZULIP), catalog.connect).run()


@pytest.mark.parametrize("signature", ["pg_ls_dir(text); DROP TABLE x", "pg_ls_dir", "x(text"])
def test_a_signature_that_is_not_one_is_refused(signature):
    params = dict(ZULIP, function_grants=[{"role": "replicator", "functions": [signature]}])
    with pytest.raises(AssertionError, match="not a function signature"):
        objects.Objects(Module(params), converged().connect).run()
