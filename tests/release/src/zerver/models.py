# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.
"""Data access for realms, users, streams and messages (plain SQL)."""
import base64
import hashlib
import hmac
import os
import secrets
import string

from zerver import db, services
from zproject.config import get_settings

ROLE_OWNER = 100
ROLE_ADMINISTRATOR = 200
ROLE_MEMBER = 400

PBKDF2_ITERATIONS = 200000
USER_COLUMNS = (
    "id, realm_id, email, full_name, api_key, is_bot, bot_type, role, is_active, date_joined"
)


class UserError(Exception):
    def __init__(self, msg, code="BAD_REQUEST", status=400):
        super().__init__(msg)
        self.msg, self.code, self.status = msg, code, status


def make_password(raw):
    salt = secrets.token_hex(12)
    digest = hashlib.pbkdf2_hmac("sha256", raw.encode(), salt.encode(), PBKDF2_ITERATIONS)
    return f"pbkdf2_sha256${PBKDF2_ITERATIONS}${salt}${base64.b64encode(digest).decode()}"


def check_password(raw, stored):
    try:
        algorithm, iterations, salt, expected = stored.split("$", 3)
    except (AttributeError, ValueError):
        return False
    if algorithm != "pbkdf2_sha256":
        return False
    digest = hashlib.pbkdf2_hmac("sha256", raw.encode(), salt.encode(), int(iterations))
    return hmac.compare_digest(base64.b64encode(digest).decode(), expected)


def generate_api_key():
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


def realm_host(realm):
    host = get_settings().EXTERNAL_HOST
    return f"{realm['string_id']}.{host}" if realm["string_id"] else host


def realm_email_domain(realm):
    return realm_host(realm).split(":")[0]


# ------------------------------------------------------------------ realms
def get_realm(string_id):
    return db.query_one("SELECT * FROM zerver_realm WHERE string_id = %s", (string_id,))


def list_realms():
    return db.query("SELECT * FROM zerver_realm ORDER BY id")


def realm_for_host(host):
    """Pick the realm for an HTTP Host header; fall back to the only/first realm."""
    s = get_settings()
    host = (host or "").lower()
    ext = s.EXTERNAL_HOST.lower()
    candidates = []
    if host in (ext, s.external_host_name().lower()):
        candidates.append("")
    elif host.endswith("." + ext) or host.endswith("." + s.external_host_name().lower()):
        candidates.append(host.split(".", 1)[0])
    for string_id in candidates:
        realm = get_realm(string_id)
        if realm:
            return realm
    realms = list_realms()
    return realms[0] if realms else None


def create_realm(name, string_id, email, full_name, password):
    def work(cur):
        cur.execute("SELECT 1 FROM zerver_realm WHERE string_id = %s", (string_id,))
        if cur.fetchone():
            raise UserError(f"A realm with string id '{string_id}' already exists.")
        cur.execute(
            "INSERT INTO zerver_realm (string_id, name, date_created) VALUES (%s, %s, now()) "
            "RETURNING *",
            (string_id, name),
        )
        realm = cur.fetchone()
        cur.execute(
            "INSERT INTO zerver_stream (realm_id, name) VALUES (%s, 'general')", (realm["id"],)
        )
        user = _insert_user(cur, realm, email, full_name, password, ROLE_OWNER, False)
        return realm, user

    return db.run(work)


def _insert_user(cur, realm, email, full_name, password, role, is_bot, bot_type=None):
    cur.execute(
        "SELECT 1 FROM zerver_userprofile WHERE realm_id = %s AND lower(email) = lower(%s)",
        (realm["id"], email),
    )
    if cur.fetchone():
        raise UserError("Email is already in use.")
    cur.execute(
        "INSERT INTO zerver_userprofile (realm_id, email, full_name, password, api_key, "
        "is_bot, bot_type, role, is_active, date_joined) "
        f"VALUES (%s, %s, %s, %s, %s, %s, %s, %s, true, now()) RETURNING {USER_COLUMNS}",
        (
            realm["id"],
            email,
            full_name,
            make_password(password) if password else "!",
            generate_api_key(),
            is_bot,
            bot_type,
            role,
        ),
    )
    return cur.fetchone()


def create_user(realm, email, full_name, password, role=ROLE_MEMBER, is_bot=False, bot_type=None):
    return db.run(
        lambda cur: _insert_user(cur, realm, email, full_name, password, role, is_bot, bot_type)
    )


def create_realm_creation_key():
    key = secrets.token_hex(12)
    db.query(
        "INSERT INTO zerver_realmcreationkey (creation_key, date_created) VALUES (%s, now())",
        (key,),
    )
    return key


# ------------------------------------------------------------------ users
def user_cache_key(api_key):
    return f"zulip:user_profile_by_api_key:{api_key}"


def get_user_by_api_key(api_key):
    key = user_cache_key(api_key)
    user = services.cache_get(key)
    if user is None:
        user = db.query_one(
            f"SELECT {USER_COLUMNS} FROM zerver_userprofile WHERE api_key = %s", (api_key,)
        )
        if user is not None:
            services.cache_set(key, dict(user))
    return user


def fill_user_cache():
    users = db.query(f"SELECT {USER_COLUMNS} FROM zerver_userprofile WHERE is_active")
    for user in users:
        services.cache_set(user_cache_key(user["api_key"]), dict(user))
    return len(users)


def get_user_by_email(realm, email):
    return db.query_one(
        f"SELECT {USER_COLUMNS}, password FROM zerver_userprofile "
        "WHERE realm_id = %s AND lower(email) = lower(%s)",
        (realm["id"], email),
    )


def get_user_by_id(realm, user_id):
    return db.query_one(
        f"SELECT {USER_COLUMNS} FROM zerver_userprofile WHERE realm_id = %s AND id = %s",
        (realm["id"], user_id),
    )


def list_users(realm):
    return db.query(
        f"SELECT {USER_COLUMNS} FROM zerver_userprofile WHERE realm_id = %s ORDER BY id",
        (realm["id"],),
    )


# ------------------------------------------------------------------ streams
def get_stream(realm_id, name_or_id):
    if isinstance(name_or_id, int):
        return db.query_one(
            "SELECT * FROM zerver_stream WHERE realm_id = %s AND id = %s", (realm_id, name_or_id)
        )
    return db.query_one(
        "SELECT * FROM zerver_stream WHERE realm_id = %s AND lower(name) = lower(%s)",
        (realm_id, name_or_id),
    )


def list_streams(realm_id):
    return db.query("SELECT * FROM zerver_stream WHERE realm_id = %s ORDER BY id", (realm_id,))


def ensure_stream(realm_id, name):
    def work(cur):
        cur.execute(
            "SELECT * FROM zerver_stream WHERE realm_id = %s AND lower(name) = lower(%s)",
            (realm_id, name),
        )
        row = cur.fetchone()
        if row:
            return row, False
        cur.execute(
            "INSERT INTO zerver_stream (realm_id, name) VALUES (%s, %s) RETURNING *",
            (realm_id, name),
        )
        return cur.fetchone(), True

    return db.run(work)


# ------------------------------------------------------------------ messages
def has_edit_history_column():
    """Releases >= 10.0 ship migration 0002, which adds zerver_message.edit_history;
    their code then relies on that column (so it needs the migration applied)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.exists(os.path.join(here, "migrations", "0002_message_edit_history.sql"))


def insert_message(realm_id, sender_id, stream_id, subject, content, direct_recipients=None):
    columns = "realm_id, sender_id, stream_id, subject, content, direct_recipients, date_sent"
    values = "%s, %s, %s, %s, %s, %s, now()"
    params = [realm_id, sender_id, stream_id, subject, content, direct_recipients]
    if has_edit_history_column():
        columns += ", edit_history"
        values += ", %s"
        params.append("[]")
    row = db.query_one(
        f"INSERT INTO zerver_message ({columns}) VALUES ({values}) RETURNING id", params
    )
    services.cache_set(f"zulip:realm_max_message_id:{realm_id}", row["id"])
    return row["id"]


def fetch_messages(user, where, params, anchor, num_before, num_after):
    """Messages visible to user matching extra `where`, around `anchor`."""
    base = (
        "FROM zerver_message m "
        "JOIN zerver_userprofile u ON u.id = m.sender_id "
        "LEFT JOIN zerver_stream s ON s.id = m.stream_id "
        "WHERE m.realm_id = %s AND (m.stream_id IS NOT NULL OR m.sender_id = %s "
        "  OR (',' || m.direct_recipients || ',') LIKE %s)"
    )
    base_params = [user["realm_id"], user["id"], f"%,{user['id']},%"]
    for clause, value in zip(where, params):
        base += f" AND {clause}"
        base_params.append(value)
    extra_cols = ", m.edit_history" if has_edit_history_column() else ""
    cols = (
        "SELECT m.id, m.sender_id, m.stream_id, m.subject, m.content, m.date_sent, "
        "m.direct_recipients, u.email AS sender_email, u.full_name AS sender_full_name, "
        f"s.name AS stream_name{extra_cols} "
    )

    def work(cur):
        cur.execute(f"SELECT min(m.id) AS lo, max(m.id) AS hi {base}", base_params)
        bounds = cur.fetchone()
        lo, hi = bounds["lo"], bounds["hi"]
        if anchor == "newest":
            anchor_id = hi if hi is not None else 0
        elif anchor == "oldest":
            anchor_id = lo if lo is not None else 0
        else:
            anchor_id = int(anchor)
        cur.execute(
            f"{cols} {base} AND m.id < %s ORDER BY m.id DESC LIMIT %s",
            base_params + [anchor_id, num_before],
        )
        before = list(reversed(cur.fetchall()))
        cur.execute(
            f"{cols} {base} AND m.id >= %s ORDER BY m.id ASC LIMIT %s",
            base_params + [anchor_id, num_after + 1],
        )
        after = cur.fetchall()
        rows = before + after
        found_oldest = lo is None or (rows[0]["id"] <= lo if rows else anchor_id <= lo)
        found_newest = hi is None or (rows[-1]["id"] >= hi if rows else anchor_id >= hi)
        recipients = {}
        for row in rows:
            if row["direct_recipients"]:
                ids = [int(x) for x in row["direct_recipients"].split(",") if x]
                cur.execute(
                    "SELECT id, email, full_name FROM zerver_userprofile WHERE id = ANY(%s) "
                    "ORDER BY id",
                    (ids,),
                )
                recipients[row["id"]] = [dict(r) for r in cur.fetchall()]
        return rows, recipients, anchor_id, found_oldest, found_newest

    return db.run(work)
