# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.
"""The "Django" part of the double: a small WSGI application implementing the
subset of Zulip's REST API used by the collection's tests."""
import base64
import html
import json
import logging
import os
import sys
import time
import traceback
import urllib.parse

from zerver import db, models, services
from zproject.config import get_settings
import version

logger = logging.getLogger("zulip.api")
RATE_LIMIT_PER_MINUTE = 10000
DEPLOY_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class JsonError(Exception):
    def __init__(self, msg, code="BAD_REQUEST", status=400):
        super().__init__(msg)
        self.msg, self.code, self.status = msg, code, status


def json_success(**data):
    return 200, {"result": "success", "msg": "", **data}


class Request:
    def __init__(self, environ):
        self.environ = environ
        self.method = environ["REQUEST_METHOD"].upper()
        self.path = environ.get("PATH_INFO", "/") or "/"
        self.host = environ.get("HTTP_HOST", "")
        self.params = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
        ctype = environ.get("CONTENT_TYPE", "")
        if self.method in ("POST", "PUT", "PATCH", "DELETE") and ctype.startswith(
            "application/x-www-form-urlencoded"
        ):
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            body = environ["wsgi.input"].read(length).decode("utf-8") if length else ""
            self.params.update(urllib.parse.parse_qsl(body, keep_blank_values=True))
        self._realm = None
        self.user = None

    @property
    def realm(self):
        if self._realm is None:
            self._realm = models.realm_for_host(self.host)
            if self._realm is None:
                raise JsonError("No organization exists on this server yet.", "REALM_DOES_NOT_EXIST", 404)
        return self._realm

    def get(self, name, default=None, required=False):
        if name in self.params:
            return self.params[name]
        if required:
            raise JsonError(f"Missing '{name}' argument", "REQUEST_VARIABLE_MISSING")
        return default

    def get_json(self, name, default=None):
        """Values that are not strings arrive JSON-encoded."""
        raw = self.params.get(name)
        if raw is None:
            return default
        try:
            return json.loads(raw)
        except ValueError:
            return raw

    def authenticate(self):
        header = self.environ.get("HTTP_AUTHORIZATION", "")
        if not header.lower().startswith("basic "):
            raise JsonError("Missing 'Authorization' header.", "UNAUTHORIZED", 401)
        try:
            email, api_key = base64.b64decode(header[6:]).decode().split(":", 1)
        except Exception:
            raise JsonError("Invalid authorization header.", "UNAUTHORIZED", 401)
        user = models.get_user_by_api_key(api_key)
        if user is None or user["email"].lower() != email.lower():
            raise JsonError("Invalid API key", "INVALID_API_KEY", 401)
        if not user["is_active"]:
            raise JsonError("Account is deactivated", "USER_DEACTIVATED", 401)
        self.user = user
        return user


# ---------------------------------------------------------------- views
def server_settings(req):
    s = get_settings()
    realm = models.realm_for_host(req.host)
    url = f"https://{models.realm_host(realm) if realm else s.EXTERNAL_HOST}"
    return json_success(
        zulip_version=version.ZULIP_VERSION,
        zulip_feature_level=version.API_FEATURE_LEVEL,
        zulip_merge_base=version.ZULIP_MERGE_BASE,
        push_notifications_enabled=False,
        is_incompatible=False,
        realm_uri=url,
        realm_url=url,
        realm_name=realm["name"] if realm else None,
        realm_icon=None,
        realm_description="",
        authentication_methods={"password": True, "dev": False},
        external_authentication_methods=[],
        email_auth_enabled=True,
        require_email_format_usernames=True,
    )


def fetch_api_key(req):
    username = req.get("username", required=True)
    password = req.get("password", required=True)
    user = models.get_user_by_email(req.realm, username)
    if not user or not user["is_active"] or not models.check_password(password, user["password"]):
        raise JsonError("Your username or password is incorrect", "INVALID_CREDENTIALS", 401)
    return json_success(api_key=user["api_key"], email=user["email"], user_id=user["id"])


def user_dict(user):
    return {
        "user_id": user["id"],
        "email": user["email"],
        "delivery_email": user["email"],
        "full_name": user["full_name"],
        "is_bot": user["is_bot"],
        "bot_type": user["bot_type"],
        "role": user["role"],
        "is_owner": user["role"] == models.ROLE_OWNER,
        "is_admin": user["role"] <= models.ROLE_ADMINISTRATOR,
        "is_guest": False,
        "is_active": user["is_active"],
        "avatar_url": None,
        "timezone": "",
        "date_joined": user["date_joined"].isoformat(),
    }


def users_me(req):
    user = req.authenticate()
    data = user_dict(user)
    row = db.query_one("SELECT max(id) AS m FROM zerver_message WHERE realm_id = %s", (user["realm_id"],))
    data["max_message_id"] = row["m"] or -1
    return json_success(**data)


def list_users(req):
    user = req.authenticate()
    realm = {"id": user["realm_id"]}
    return json_success(members=[user_dict(u) for u in models.list_users(realm)])


def create_bot(req):
    user = req.authenticate()
    if user["role"] > models.ROLE_ADMINISTRATOR:
        raise JsonError("Must be an organization administrator", "UNAUTHORIZED_PRINCIPAL", 403)
    full_name = req.get("full_name", required=True)
    short_name = req.get("short_name", required=True)
    bot_type = int(req.get_json("bot_type", 1))
    realm = db.query_one("SELECT * FROM zerver_realm WHERE id = %s", (user["realm_id"],))
    email = f"{short_name}-bot@{models.realm_email_domain(realm)}"
    try:
        bot = models.create_user(realm, email, full_name, None, models.ROLE_MEMBER, True, bot_type)
    except models.UserError as e:
        raise JsonError(e.msg, e.code, e.status)
    return json_success(api_key=bot["api_key"], user_id=bot["id"], email=bot["email"])


def subscriptions(req):
    user = req.authenticate()
    if req.method == "GET":
        streams = models.list_streams(user["realm_id"])
        return json_success(subscriptions=[{"name": s["name"], "stream_id": s["id"]} for s in streams])
    wanted = req.get_json("subscriptions", [])
    created = []
    for sub in wanted:
        name = sub["name"] if isinstance(sub, dict) else str(sub)
        _, was_created = models.ensure_stream(user["realm_id"], name)
        if was_created:
            created.append(name)
    return json_success(subscribed={user["email"]: [s["name"] if isinstance(s, dict) else s for s in wanted]},
                        already_subscribed={}, created=created)


def _recipient_list(value):
    if isinstance(value, list):
        return value
    if isinstance(value, (int, str)):
        return [value]
    raise JsonError("Invalid 'to' argument")


def send_message(req):
    user = req.authenticate()
    if services.rate_limit_hit(user["id"], RATE_LIMIT_PER_MINUTE):
        raise JsonError("API usage exceeded rate limit", "RATE_LIMIT_HIT", 429)
    msg_type = req.get("type", required=True)
    content = req.get("content", required=True)
    to = _recipient_list(req.get_json("to", None) if "to" in req.params else req.get("to", required=True))
    if not content.strip():
        raise JsonError("Message must not be empty")
    if msg_type in ("stream", "channel"):
        topic = req.get("topic", req.get("subject"))
        if topic is None:
            raise JsonError("Missing topic", "REQUEST_VARIABLE_MISSING")
        if len(to) != 1:
            raise JsonError("Cannot send to multiple channels")
        stream = models.get_stream(user["realm_id"], to[0])
        if stream is None:
            raise JsonError(f"Channel '{to[0]}' does not exist", "STREAM_DOES_NOT_EXIST")
        message_id = models.insert_message(user["realm_id"], user["id"], stream["id"], topic, content)
    elif msg_type in ("private", "direct"):
        realm = {"id": user["realm_id"]}
        ids = {user["id"]}
        for item in to:
            other = models.get_user_by_id(realm, item) if isinstance(item, int) else models.get_user_by_email(realm, item)
            if other is None:
                raise JsonError(f"Invalid email '{item}'")
            ids.add(other["id"])
        recipients = ",".join(str(i) for i in sorted(ids))
        message_id = models.insert_message(user["realm_id"], user["id"], None, "", content, recipients)
    else:
        raise JsonError("Invalid message type")
    # Like Zulip, activity is recorded asynchronously by a queue worker.
    services.queue_json_publish(
        "user_activity",
        {"user_profile_id": user["id"], "client_name": req.environ.get("HTTP_USER_AGENT", "")[:60],
         "query": "send_message", "time": time.time()},
    )
    return json_success(id=message_id)


def _parse_narrow(narrow):
    where, params = [], []
    for term in narrow or []:
        if isinstance(term, dict):
            operator, operand = term.get("operator"), term.get("operand")
            negated = term.get("negated", False)
        else:
            operator, operand = term[0], term[1]
            negated = False
        neg = "NOT " if negated else ""
        if operator in ("stream", "channel"):
            if isinstance(operand, int):
                where.append(f"{neg}(m.stream_id = %s)")
            else:
                where.append(f"{neg}(lower(s.name) = lower(%s))")
            params.append(operand)
        elif operator == "topic":
            where.append(f"{neg}(lower(m.subject) = lower(%s))")
            params.append(operand)
        elif operator == "sender":
            where.append(f"{neg}(lower(u.email) = lower(%s))")
            params.append(operand)
        else:
            raise JsonError(f"Invalid narrow operator: {operator}", "BAD_NARROW")
    return where, params


def get_messages(req):
    user = req.authenticate()
    anchor = req.get_json("anchor", "newest")
    if anchor not in ("newest", "oldest", "first_unread"):
        try:
            anchor = int(anchor)
        except (TypeError, ValueError):
            raise JsonError("Invalid anchor")
    if anchor == "first_unread":
        anchor = "oldest"
    num_before = int(req.get_json("num_before", 0))
    num_after = int(req.get_json("num_after", 0))
    apply_markdown = req.get_json("apply_markdown", True)
    where, params = _parse_narrow(req.get_json("narrow", []))
    rows, recipients, anchor_id, found_oldest, found_newest = models.fetch_messages(
        user, where, params, anchor, num_before, num_after
    )
    messages = []
    for row in rows:
        content = f"<p>{html.escape(row['content'])}</p>" if apply_markdown else row["content"]
        msg = {
            "id": row["id"],
            "sender_id": row["sender_id"],
            "sender_email": row["sender_email"],
            "sender_full_name": row["sender_full_name"],
            "content": content,
            "content_type": "text/html" if apply_markdown else "text/x-markdown",
            "subject": row["subject"],
            "timestamp": int(row["date_sent"].timestamp()),
            "client": "test-double",
            "flags": [],
            "reactions": [],
            "submessages": [],
            "is_me_message": False,
            "avatar_url": None,
        }
        if "edit_history" in row and row["edit_history"] not in (None, "[]"):
            msg["edit_history"] = json.loads(row["edit_history"])
        if row["stream_id"] is not None:
            msg.update(type="stream", stream_id=row["stream_id"], display_recipient=row["stream_name"])
        else:
            msg.update(type="private", display_recipient=recipients.get(row["id"], []))
        messages.append(msg)
    return json_success(
        messages=messages, anchor=anchor_id, found_anchor=any(m["id"] == anchor_id for m in messages),
        found_oldest=found_oldest, found_newest=found_newest, history_limited=False,
    )


def register(req):
    req.authenticate()
    row = db.query_one("SELECT max(id) AS m FROM zerver_message WHERE realm_id = %s", (req.user["realm_id"],))
    return json_success(queue_id=f"{int(time.time())}:{os.getpid()}", last_event_id=-1,
                        max_message_id=row["m"] or -1, zulip_version=version.ZULIP_VERSION,
                        zulip_feature_level=version.API_FEATURE_LEVEL)


# Only the unhealthy variant (tests/release/unhealthy/) ships this file.
HEALTH_FAILS_ON_PURPOSE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "HEALTH_FAILS_ON_PURPOSE")


def health(req):
    failures = []
    if os.path.exists(HEALTH_FAILS_ON_PURPOSE):
        failures.append("release: the unhealthy test double fails its health check on purpose")
    for name, check in (
        ("postgresql", lambda: db.query("SELECT 1")),
        ("memcached", services.check_memcached),
        ("redis", services.check_redis),
        ("rabbitmq", services.check_rabbitmq),
    ):
        try:
            check()
        except Exception as e:
            failures.append(f"{name}: {e.__class__.__name__}: {str(e).strip()[:200]}")
    if failures:
        return 500, {"result": "error", "msg": "; ".join(failures), "code": "HEALTH_CHECK_FAILED"}
    return json_success()


def home(req):
    manifest = os.path.join(DEPLOY_DIR, "prod-static", "serve", "manifest.json")
    try:
        with open(manifest) as f:
            bundles = json.load(f)
    except OSError:
        raise JsonError("Static assets are missing (prod-static/serve/manifest.json)", "STATIC_MISSING", 500)
    body = (
        "<!DOCTYPE html>\n<!-- Test double of a Zulip server (zulip.server collection tests) -->\n"
        f"<html><head><title>Zulip test double {version.ZULIP_VERSION}</title>"
        f'<link rel="stylesheet" href="/static/{bundles["app.css"]}"></head>'
        f'<body><p>Zulip test double {version.ZULIP_VERSION}</p>'
        f'<script src="/static/{bundles["app.js"]}"></script></body></html>\n'
    )
    return 200, body


ROUTES = {
    ("GET", "/api/v1/server_settings"): server_settings,
    ("POST", "/api/v1/fetch_api_key"): fetch_api_key,
    ("GET", "/api/v1/users/me"): users_me,
    ("GET", "/api/v1/users"): list_users,
    ("POST", "/api/v1/bots"): create_bot,
    ("GET", "/api/v1/users/me/subscriptions"): subscriptions,
    ("POST", "/api/v1/users/me/subscriptions"): subscriptions,
    ("POST", "/api/v1/messages"): send_message,
    ("GET", "/api/v1/messages"): get_messages,
    ("POST", "/api/v1/register"): register,
    ("GET", "/health"): health,
    ("GET", "/"): home,
}

STATUS_TEXT = {200: "200 OK", 400: "400 Bad Request", 401: "401 Unauthorized", 403: "403 Forbidden",
               404: "404 Not Found", 405: "405 Method Not Allowed", 429: "429 Too Many Requests",
               500: "500 Internal Server Error"}


def application(environ, start_response):
    try:
        req = Request(environ)
        view = ROUTES.get((req.method, req.path.rstrip("/") or "/"))
        if view is None:
            if any(path == (req.path.rstrip("/") or "/") for _, path in ROUTES):
                raise JsonError("Method Not Allowed", "METHOD_NOT_ALLOWED", 405)
            raise JsonError("Endpoint does not exist.", "NOT_FOUND", 404)
        status, body = view(req)
    except (JsonError, models.UserError) as e:
        status, body = e.status, {"result": "error", "msg": e.msg, "code": e.code}
    except Exception as e:
        traceback.print_exc(file=sys.stderr)
        status, body = 500, {"result": "error", "msg": f"Internal server error: {e.__class__.__name__}",
                             "code": "INTERNAL_SERVER_ERROR"}
    if isinstance(body, str):
        data, ctype = body.encode(), "text/html; charset=utf-8"
    else:
        data, ctype = json.dumps(body).encode(), "application/json"
    headers = [("Content-Type", ctype), ("Content-Length", str(len(data))),
               ("X-Zulip-Test-Double", version.ZULIP_VERSION)]
    if status == 429:
        headers.append(("Retry-After", "60"))
    start_response(STATUS_TEXT.get(status, f"{status} Error"), headers)
    return [data]
