# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.
"""PostgreSQL access: one connection per process (per thread), reconnecting.

After a database failover the old connection is dead; on OperationalError /
InterfaceError we drop it, reconnect and retry the unit of work once.
"""
import threading

import psycopg2
import psycopg2.extras

from zproject.config import get_settings

_local = threading.local()
RETRYABLE = (psycopg2.OperationalError, psycopg2.InterfaceError)


def connect():
    return psycopg2.connect(**get_settings().database_params())


def _get_conn():
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = connect()
        _local.conn = conn
    return conn


def _drop_conn():
    conn = getattr(_local, "conn", None)
    _local.conn = None
    if conn is not None:
        try:
            conn.close()
        except Exception:
            pass


def run(work):
    """Run work(cursor) in one transaction and return its result.

    The cursor returns rows as dicts.  Retries once on connection errors."""
    for attempt in (1, 2):
        try:
            conn = _get_conn()
        except RETRYABLE:
            _drop_conn()
            if attempt == 2:
                raise
            continue
        try:
            with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                result = work(cur)
            conn.commit()
            return result
        except RETRYABLE:
            _drop_conn()
            if attempt == 2:
                raise
        except Exception:
            try:
                conn.rollback()
            except RETRYABLE:
                _drop_conn()
            raise


def query(sql, params=None):
    def work(cur):
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []

    return run(work)


def query_one(sql, params=None):
    rows = query(sql, params)
    return rows[0] if rows else None


def table_exists(cur, name):
    cur.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (name,))
    return cur.fetchone()["present"]
