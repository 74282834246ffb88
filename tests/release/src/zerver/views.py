# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""The REST API subset the `zulip` client and the collection's tests use,
served by Django as Zulip's is: request bodies parsed by Django (urlencoded
and multipart), non-string parameters JSON-encoded, HTTP Basic auth with the
API key, errors as {"result": "error", "msg", "code"}."""
import base64
import hashlib
import hmac
import html
import json
import logging
import os
import re
import time
import urllib.parse
from functools import wraps

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Min, Q
from django.db.models.expressions import RawSQL
from django.http import HttpResponse, HttpResponseNotFound, HttpResponseRedirect, JsonResponse

import version
from zerver import services
from zerver.lib.tex import render_tex
from zerver.lib.upload import UploadError, get_upload_backend
from zerver.models import HAS_EDIT_HISTORY, Attachment, Message, Realm, RealmCreationKey, Stream, UserProfile

logger = logging.getLogger("zulip.api")
RATE_LIMIT_PER_MINUTE = 10000
# Only the unhealthy variant (tests/release/unhealthy/) ships this file.
HEALTH_FAILS_ON_PURPOSE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "HEALTH_FAILS_ON_PURPOSE")


class JsonableError(Exception):
    def __init__(self, msg, code="BAD_REQUEST", status=400):
        super().__init__(msg)
        self.msg, self.code, self.status = msg, code, status


def json_success(**data):
    return JsonResponse({"result": "success", "msg": "", **data})


def json_error(msg, code="BAD_REQUEST", status=400):
    return JsonResponse({"result": "error", "msg": msg, "code": code}, status=status)


def api_view(methods, authenticated=True):
    """Method check, optional API-key authentication, errors as JSON."""
    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                if request.method not in methods:
                    raise JsonableError("Method Not Allowed", "METHOD_NOT_ALLOWED", 405)
                user = authenticate_api(request) if authenticated else None
                return view(request, user, *args, **kwargs) if authenticated else view(request, *args, **kwargs)
            except JsonableError as e:
                return json_error(e.msg, e.code, e.status)
        return wrapper
    return decorate


def realm_for_request(request):
    host = request.get_host().split(":")[0].lower()
    root = settings.EXTERNAL_HOST_WITHOUT_PORT.lower()
    if host == root or host in ("127.0.0.1", "localhost"):
        string_id = ""
    elif host.endswith("." + root):
        string_id = host[: -len(root) - 1]
    else:
        return None
    return Realm.objects.filter(string_id=string_id, deactivated=False).first()


def authenticate_api(request):
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header.lower().startswith("basic "):
        raise JsonableError("Missing 'Authorization' header.", "UNAUTHORIZED", 401)
    try:
        email, api_key = base64.b64decode(header[6:]).decode().split(":", 1)
    except Exception:
        raise JsonableError("Invalid authorization header.", "UNAUTHORIZED", 401)
    cache_key = f"zulip:user_profile_by_api_key:{api_key}"
    user_id = services.cache_get(cache_key)
    user = UserProfile.objects.filter(id=user_id).first() if user_id else None
    if user is None:
        user = UserProfile.objects.filter(api_key=api_key).select_related("realm").first()
        if user is not None:
            services.cache_set(cache_key, user.id)
    if user is None or user.email.lower() != email.lower():
        raise JsonableError("Invalid API key", "INVALID_API_KEY", 401)
    if not user.is_active:
        raise JsonableError("Account is deactivated", "USER_DEACTIVATED", 401)
    return user


def param(request, name, default=None, required=False):
    data = request.POST if request.method == "POST" else request.GET
    if name in data:
        return data[name]
    if required:
        raise JsonableError(f"Missing '{name}' argument", "REQUEST_VARIABLE_MISSING")
    return default


def json_param(request, name, default=None):
    """Values that are not strings arrive JSON-encoded."""
    raw = param(request, name)
    if raw is None:
        return default
    try:
        return json.loads(raw)
    except ValueError:
        return raw


# ---------------------------------------------------------------- pages
def _webpack_entry(entrypoint):
    # As Zulip's webpack_entry: the deployment's own webpack stats name the
    # hashed bundles, which nginx serves from STATIC_ROOT.
    with open(settings.WEBPACK_STATS_FILE) as f:
        stats = json.load(f)
    if stats.get("status") != "done":
        raise RuntimeError("Webpack compilation was not successful")
    return [settings.STATIC_URL + "webpack-bundles/" + name for name in stats["chunks"][entrypoint]]


def home(request):
    if realm_for_request(request) is None:
        return HttpResponseNotFound("<p>There is no Zulip organization at this address.</p>")
    return HttpResponseRedirect("/login/")


def login_page(request):
    realm = realm_for_request(request)
    if realm is None:
        return HttpResponseNotFound("<p>There is no Zulip organization at this address.</p>")
    assets = _webpack_entry("signup")
    tags = "".join(f'<link rel="stylesheet" href="{html.escape(url)}">' for url in assets if url.endswith(".css"))
    tags += "".join(f'<script src="{html.escape(url)}" defer></script>' for url in assets if url.endswith(".js"))
    body = ("<!DOCTYPE html>\n<!-- Test double of a Zulip server (zulip.server collection tests) -->\n"
            f"<html><head><title>Log in | {html.escape(realm.name)}</title>{tags}</head>"
            f"<body><p>Zulip test double {version.ZULIP_VERSION}: log in to {html.escape(realm.name)}</p></body></html>\n")
    return HttpResponse(body)


def realm_creation_link(request, creation_key):
    key = RealmCreationKey.objects.filter(creation_key=creation_key).first()
    valid_for = settings.REALM_CREATION_LINK_VALIDITY_DAYS * 86400
    if key is None or time.time() - key.date_created.timestamp() > valid_for:
        return HttpResponseNotFound("<p>The organization creation link has expired or is not valid.</p>")
    return HttpResponse("<!DOCTYPE html>\n<!-- Test double of a Zulip server (zulip.server collection tests) -->\n"
                        "<html><body><form method='post'><p>Create your organization</p></form></body></html>\n")


def health(request):
    failures = []
    if os.path.exists(HEALTH_FAILS_ON_PURPOSE):
        failures.append("release: the unhealthy test double fails its health check on purpose")

    def database():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    for name, check in (("postgresql", database), ("memcached", services.check_memcached),
                        ("redis", services.check_redis), ("rabbitmq", services.check_rabbitmq)):
        try:
            check()
        except Exception as e:
            failures.append(f"{name}: {e.__class__.__name__}: {str(e).strip()[:200]}")
    if failures:
        return json_error("; ".join(failures), "HEALTH_CHECK_FAILED", 500)
    return json_success()


# ---------------------------------------------------------------- API
@api_view(["GET"], authenticated=False)
def server_settings(request):
    realm = realm_for_request(request)
    url = realm.url if realm else settings.ROOT_DOMAIN_URI
    return json_success(
        zulip_version=version.ZULIP_VERSION, zulip_feature_level=version.API_FEATURE_LEVEL,
        zulip_merge_base=version.ZULIP_MERGE_BASE, push_notifications_enabled=False, is_incompatible=False,
        realm_uri=url, realm_url=url, realm_name=realm.name if realm else None, realm_icon=None,
        realm_description="", authentication_methods={"password": True, "dev": False},
        external_authentication_methods=[], email_auth_enabled=True, require_email_format_usernames=True,
    )


@api_view(["POST"], authenticated=False)
def fetch_api_key(request):
    realm = realm_for_request(request)
    if realm is None:
        raise JsonableError("Invalid subdomain", "INVALID_SUBDOMAIN", 404)
    user = authenticate(request, username=param(request, "username", required=True),
                        password=param(request, "password", required=True), realm=realm)
    if user is None:
        raise JsonableError("Your username or password is incorrect", "INVALID_CREDENTIALS", 401)
    return json_success(api_key=user.api_key, email=user.email, user_id=user.id)


def user_dict(user):
    return {
        "user_id": user.id, "email": user.email, "delivery_email": user.email, "full_name": user.full_name,
        "is_bot": user.is_bot, "bot_type": user.bot_type, "role": user.role,
        "is_owner": user.role == UserProfile.ROLE_REALM_OWNER, "is_admin": user.is_realm_admin,
        "is_guest": False, "is_active": user.is_active, "avatar_url": None, "timezone": "",
        "date_joined": user.date_joined.isoformat(),
    }


@api_view(["GET"])
def users_me(request, user):
    top = Message.objects.filter(realm_id=user.realm_id).aggregate(m=Max("id"))["m"]
    return json_success(**user_dict(user), max_message_id=top or -1)


@api_view(["GET"])
def list_users(request, user):
    return json_success(members=[user_dict(u) for u in UserProfile.objects.filter(realm_id=user.realm_id).order_by("id")])


@api_view(["POST"])
def create_bot(request, user):
    if not user.is_realm_admin:
        raise JsonableError("Must be an organization administrator", "UNAUTHORIZED_PRINCIPAL", 403)
    full_name = param(request, "full_name", required=True)
    short_name = param(request, "short_name", required=True)
    email = f"{short_name}-bot@{user.realm.host.split(':')[0]}"
    if UserProfile.objects.filter(realm_id=user.realm_id, email__iexact=email).exists():
        raise JsonableError("Email is already in use.")
    bot = UserProfile(realm_id=user.realm_id, email=email, full_name=full_name, is_bot=True,
                      bot_type=int(json_param(request, "bot_type", 1)))
    bot.set_unusable_password()
    bot.save()
    # As Zulip's add_bot_backend: no email in the answer.
    return json_success(api_key=bot.api_key, user_id=bot.id, avatar_url=None)


@api_view(["GET", "POST"])
def subscriptions(request, user):
    if request.method == "GET":
        streams = Stream.objects.filter(realm_id=user.realm_id).order_by("id")
        return json_success(subscriptions=[{"name": s.name, "stream_id": s.id} for s in streams])
    wanted = json_param(request, "subscriptions", [])
    names = [s["name"] if isinstance(s, dict) else str(s) for s in wanted]
    created = []
    for name in names:
        if not Stream.objects.filter(realm_id=user.realm_id, name__iexact=name).exists():
            Stream.objects.create(realm_id=user.realm_id, name=name)
            created.append(name)
    return json_success(subscribed={user.email: names}, already_subscribed={}, created=created)


@api_view(["GET", "POST"])
def messages(request, user):
    return send_message(request, user) if request.method == "POST" else get_messages(request, user)


def send_message(request, user):
    if services.rate_limit_hit(user.id, RATE_LIMIT_PER_MINUTE):
        raise JsonableError("API usage exceeded rate limit", "RATE_LIMIT_HIT", 429)
    msg_type = param(request, "type", required=True)
    content = param(request, "content", required=True)
    to = json_param(request, "to")
    if to is None:
        raise JsonableError("Missing 'to' argument", "REQUEST_VARIABLE_MISSING")
    to = to if isinstance(to, list) else [to]
    if not content.strip():
        raise JsonableError("Message must not be empty")
    fields = {"realm_id": user.realm_id, "sender": user, "content": content}
    if HAS_EDIT_HISTORY:
        fields["edit_history"] = "[]"
    if msg_type in ("stream", "channel"):
        topic = param(request, "topic", param(request, "subject"))
        if topic is None:
            raise JsonableError("Missing topic", "REQUEST_VARIABLE_MISSING")
        if len(to) != 1:
            raise JsonableError("Cannot send to multiple channels")
        lookup = {"id": to[0]} if isinstance(to[0], int) else {"name__iexact": to[0]}
        stream = Stream.objects.filter(realm_id=user.realm_id, **lookup).first()
        if stream is None:
            raise JsonableError(f"Channel '{to[0]}' does not exist", "STREAM_DOES_NOT_EXIST")
        message = Message.objects.create(stream=stream, subject=topic, **fields)
    elif msg_type in ("private", "direct"):
        ids = {user.id}
        for item in to:
            lookup = {"id": item} if isinstance(item, int) else {"email__iexact": item}
            other = UserProfile.objects.filter(realm_id=user.realm_id, **lookup).first()
            if other is None:
                raise JsonableError(f"Invalid email '{item}'")
            ids.add(other.id)
        message = Message.objects.create(direct_recipients=",".join(str(i) for i in sorted(ids)), **fields)
    else:
        raise JsonableError("Invalid message type")
    # Link previews are fetched by the embed_links queue worker, as in Zulip.
    urls = re.findall(r"https?://[^\s<>\"']+", content)
    if urls and settings.INLINE_URL_EMBED_PREVIEW:
        services.queue_json_publish("embed_links", {"message_id": message.id, "urls": urls[:5]})
    # Like Zulip, activity is recorded asynchronously by a queue worker.
    services.queue_json_publish("user_activity", {
        "user_profile_id": user.id, "client_name": request.META.get("HTTP_USER_AGENT", "")[:60],
        "query": "send_message", "time": time.time()})
    return json_success(id=message.id)


def _narrow_filter(narrow):
    query = Q()
    for term in narrow or []:
        if isinstance(term, dict):
            operator, operand, negated = term.get("operator"), term.get("operand"), term.get("negated", False)
        else:
            operator, operand, negated = term[0], term[1], False
        if operator in ("stream", "channel"):
            clause = Q(stream_id=operand) if isinstance(operand, int) else Q(stream__name__iexact=operand)
        elif operator == "topic":
            clause = Q(subject__iexact=operand)
        elif operator == "sender":
            clause = Q(sender__email__iexact=operand)
        elif operator == "search":
            # As Zulip's full-text search: only what process_fts_updates has
            # indexed (search_tsvector) is found.
            clause = Q(id__in=RawSQL(
                "SELECT id FROM zerver_message WHERE search_tsvector @@ plainto_tsquery('zulip.english_us_search', %s)",
                [str(operand)]))
        else:
            raise JsonableError(f"Invalid narrow operator: {operator}", "BAD_NARROW")
        query &= ~clause if negated else clause
    return query


def camo_url(url):
    """As Zulip's zerver/lib/camo.py: the image's URL on this server's Camo."""
    if settings.CAMO_URI == "":
        return url
    digest = hmac.new(settings.CAMO_KEY.encode(), url.encode(), hashlib.sha1).hexdigest()
    return urllib.parse.urljoin(settings.CAMO_URI, f"{digest}/{url.encode().hex()}")


def render_text(content):
    """Escaped text, with inline math `$$...$$` rendered by KaTeX
    (zerver/lib/tex.py), or kept as written in a tex-error span when it
    cannot be (as Zulip's markdown Tex pattern)."""
    parts = re.split(r"(\$\$[^$\n]+\$\$)", content)
    for i in range(1, len(parts), 2):
        parts[i] = render_tex(parts[i][2:-2]) or f'<span class="tex-error">{html.escape(parts[i])}</span>'
    parts[::2] = [html.escape(text) for text in parts[::2]]
    return "".join(parts)


def render(content):
    """The message's HTML: math, inline images (through Camo) for links to
    images, and the previews embed_links found for its links."""
    out = f"<p>{render_text(content)}</p>"
    for url in re.findall(r"https?://[^\s<>\"']+", content)[:5]:
        if re.search(r"\.(png|jpe?g|gif|webp)$", urllib.parse.urlsplit(url).path, re.IGNORECASE):
            out += (f'<div class="message_inline_image"><a href="{html.escape(url)}">'
                    f'<img src="{html.escape(camo_url(url))}"></a></div>')
        preview = services.cache_get(f"url_preview:{url}")
        if preview:
            link, title = html.escape(url), html.escape(preview["title"])
            out += (f'<div class="message_embed"><div class="message_embed_title">'
                    f'<a href="{link}" title="{title}">{title}</a></div></div>')
    return out


def get_messages(request, user):
    anchor = json_param(request, "anchor", "newest")
    if anchor == "first_unread":
        anchor = "oldest"
    if anchor not in ("newest", "oldest"):
        try:
            anchor = int(anchor)
        except (TypeError, ValueError):
            raise JsonableError("Invalid anchor")
    num_before = int(json_param(request, "num_before", 0))
    num_after = int(json_param(request, "num_after", 0))
    apply_markdown = json_param(request, "apply_markdown", True)
    visible = Message.objects.filter(
        Q(realm_id=user.realm_id) & (Q(stream__isnull=False) | Q(sender_id=user.id)
                                     | Q(direct_recipients__regex=rf"(^|,){user.id}(,|$)"))
    ).filter(_narrow_filter(json_param(request, "narrow", [])))
    bounds = visible.aggregate(lo=Min("id"), hi=Max("id"))
    lo, hi = bounds["lo"], bounds["hi"]
    anchor_id = (hi or 0) if anchor == "newest" else (lo or 0) if anchor == "oldest" else anchor
    related = visible.select_related("sender", "stream")
    rows = list(reversed(related.filter(id__lt=anchor_id).order_by("-id")[:num_before]))
    rows += list(related.filter(id__gte=anchor_id).order_by("id")[: num_after + 1])
    found_oldest = lo is None or (rows[0].id <= lo if rows else anchor_id <= lo)
    found_newest = hi is None or (rows[-1].id >= hi if rows else anchor_id >= hi)
    result = []
    for m in rows:
        msg = {
            "id": m.id, "sender_id": m.sender_id, "sender_email": m.sender.email,
            "sender_full_name": m.sender.full_name,
            "content": render(m.content) if apply_markdown else m.content,
            "content_type": "text/html" if apply_markdown else "text/x-markdown",
            "subject": m.subject, "timestamp": int(m.date_sent.timestamp()), "client": "test-double",
            "flags": [], "reactions": [], "submessages": [], "is_me_message": False, "avatar_url": None,
        }
        if HAS_EDIT_HISTORY and m.edit_history not in (None, "[]"):
            msg["edit_history"] = json.loads(m.edit_history)
        if m.stream_id is not None:
            msg.update(type="stream", stream_id=m.stream_id, display_recipient=m.stream.name)
        else:
            ids = [int(x) for x in m.direct_recipients.split(",") if x]
            msg.update(type="private", display_recipient=[
                {"id": u.id, "email": u.email, "full_name": u.full_name}
                for u in UserProfile.objects.filter(id__in=ids).order_by("id")])
        result.append(msg)
    return json_success(messages=result, anchor=anchor_id, found_anchor=any(m.id == anchor_id for m in rows),
                        found_oldest=found_oldest, found_newest=found_newest, history_limited=False)


@api_view(["POST"])
def register(request, user):
    top = Message.objects.filter(realm_id=user.realm_id).aggregate(m=Max("id"))["m"]
    return json_success(queue_id=f"{int(time.time())}:{os.getpid()}", last_event_id=-1, max_message_id=top or -1,
                        zulip_version=version.ZULIP_VERSION, zulip_feature_level=version.API_FEATURE_LEVEL)


# ---------------------------------------------------------------- uploads
@api_view(["POST"])
def upload_file(request, user):
    # Exactly one file, under any field name (Zulip's upload_file_backend).
    if len(request.FILES) == 0:
        raise JsonableError("You must specify a file to upload")
    if len(request.FILES) > 1:
        raise JsonableError("You may only upload one file at a time")
    uploaded = next(iter(request.FILES.values()))
    if uploaded.size > settings.MAX_FILE_UPLOAD_SIZE * 1024 * 1024:
        raise JsonableError(f"File is larger than this server's configured maximum upload size "
                            f"({settings.MAX_FILE_UPLOAD_SIZE} MiB).")
    try:
        path_id = get_upload_backend().write(user.realm_id, uploaded.name, uploaded.read())
    except (UploadError, OSError) as e:
        logger.error("upload failed: %s", e)
        raise JsonableError(f"Upload failed: {e}", "UPLOAD_FAILED", 500)
    try:
        with transaction.atomic():
            Attachment.objects.create(realm_id=user.realm_id, owner=user, file_name=uploaded.name, path_id=path_id,
                                      content_type=uploaded.content_type, size=uploaded.size)
    except IntegrityError:
        raise JsonableError("Upload failed: duplicate path", "UPLOAD_FAILED", 500)
    url = f"/user_uploads/{path_id}"
    return json_success(uri=url, url=url, filename=os.path.basename(path_id))


@api_view(["GET"])
def serve_file(request, user, realm_id, filename):
    path_id = f"{realm_id}/{filename}"
    attachment = Attachment.objects.filter(path_id=path_id).first()
    if attachment is None:
        return HttpResponseNotFound("<p>This file does not exist or has been deleted.</p>")
    if attachment.realm_id != user.realm_id:
        return HttpResponse("<p>You are not authorized to view this file.</p>", status=403)
    backend = get_upload_backend()
    if not backend.exists(path_id):
        return HttpResponseNotFound("<p>File not found</p>")
    # nginx sends the file itself, from its internal location.
    response = HttpResponse(content_type=attachment.content_type or "application/octet-stream")
    response["X-Accel-Redirect"] = backend.internal_url(path_id)
    response["Cache-Control"] = "private, immutable"
    response["Content-Disposition"] = f'attachment; filename="{os.path.basename(path_id)}"'
    return response
