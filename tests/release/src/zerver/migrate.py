# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.
"""Schema migrations: migrations/NNNN_name.sql, one transaction each,
recorded in django_migrations (app 'zerver') the way Django records them."""
import os
import re

from zerver import db

APP = "zerver"
MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")
MIGRATION_RE = re.compile(r"^(\d{4}_[A-Za-z0-9_]+)\.sql$")

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS django_migrations (
    id serial PRIMARY KEY,
    app varchar(255) NOT NULL,
    name varchar(255) NOT NULL,
    applied timestamptz NOT NULL
)"""


def known_migrations():
    names = []
    for filename in sorted(os.listdir(MIGRATIONS_DIR)):
        m = MIGRATION_RE.match(filename)
        if m:
            names.append(m.group(1))
    return names


def applied_migrations():
    def work(cur):
        if not db.table_exists(cur, "django_migrations"):
            return []
        cur.execute("SELECT name FROM django_migrations WHERE app = %s ORDER BY id", (APP,))
        return [row["name"] for row in cur.fetchall()]

    return db.run(work)


# Zulip keeps its tables in a `zulip` schema (first in the role's search_path).
# Create it before the first table, so django_migrations and the tables all
# land in the same schema whether or not the database host created it.
CREATE_SCHEMA = """
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'zulip') THEN
        CREATE SCHEMA zulip;
    END IF;
END $$"""


def migrate(out):
    """Apply unapplied migrations in order.  Returns True on success."""
    def bootstrap(cur):
        cur.execute(CREATE_SCHEMA)
        cur.execute(CREATE_TABLE)

    db.run(bootstrap)
    applied = set(applied_migrations())
    pending = [name for name in known_migrations() if name not in applied]
    out.write("Operations to perform:\n  Apply all migrations: zerver\n")
    out.write("Running migrations:\n")
    if not pending:
        out.write("  No migrations to apply.\n")
        return True
    for name in pending:
        out.write(f"  Applying {APP}.{name}...")
        out.flush()
        with open(os.path.join(MIGRATIONS_DIR, name + ".sql")) as f:
            sql = f.read()

        def work(cur, sql=sql, name=name):
            cur.execute(sql)
            cur.execute(
                "INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, now())",
                (APP, name),
            )

        try:
            db.run(work)
        except Exception as e:
            out.write(" FAILED\n")
            out.write(f"Migration {APP}.{name} failed and was rolled back: {e}\n")
            return False
        out.write(" OK\n")
    return True


def status_lines(include_unknown):
    known = known_migrations()
    applied = applied_migrations()
    applied_set = set(applied)
    lines = [APP]
    for name in known:
        mark = "X" if name in applied_set else " "
        lines.append(f" [{mark}] {name}")
    if include_unknown:
        for name in applied:
            if name not in known:
                lines.append(f" [X] {name} (not in this release)")
    return lines


def unknown_applied():
    known = set(known_migrations())
    return [name for name in applied_migrations() if name not in known]
