# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""Settings computed from the configured ones, as Zulip's
zproject/computed_settings.py computes them: the database connection (only
host, port, password and sslmode reach libpq; the CA is libpq's default,
~/.postgresql/root.crt), caches, static files, uploads."""
import os

from .config import DEPLOY_ROOT, get_config, get_mandatory_secret, get_secret
from .configured_settings import (
    ALLOWED_HOSTS,
    LOCAL_UPLOADS_DIR,
    MEMCACHED_LOCATION,
    MEMCACHED_USERNAME,
    REMOTE_POSTGRES_HOST,
    REMOTE_POSTGRES_PORT,
    REMOTE_POSTGRES_SSLMODE,
    STATIC_URL,
)
from . import configured_settings as _configured

PRODUCTION = True
DEBUG = False
SECRET_KEY = get_mandatory_secret("secret_key")
SHARED_SECRET = get_mandatory_secret("shared_secret")
AVATAR_SALT = get_mandatory_secret("avatar_salt")
RABBITMQ_PASSWORD = get_secret("rabbitmq_password")
REDIS_PASSWORD = get_secret("redis_password")
CAMO_KEY = get_secret("camo_key") if _configured.CAMO_URI != "" else None

_external_host = getattr(_configured, "EXTERNAL_HOST", "") or ""
EXTERNAL_HOST_WITHOUT_PORT = _external_host.split(":")[0]
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "127.0.0.1", "localhost"]
if EXTERNAL_HOST_WITHOUT_PORT:
    ALLOWED_HOSTS += [EXTERNAL_HOST_WITHOUT_PORT, "." + EXTERNAL_HOST_WITHOUT_PORT]
ROOT_DOMAIN_URI = "https://" + _external_host

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "zerver",
]
AUTH_USER_MODEL = "zerver.UserProfile"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
# Zulip's user emails are unique per realm, not globally (Zulip silences this too).
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
ROOT_URLCONF = "zproject.urls"
WSGI_APPLICATION = "zproject.wsgi.application"
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = True
LOCALE_PATHS = [os.path.join(DEPLOY_ROOT, "locale")]
APPEND_SLASH = False

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": get_config("postgresql", "database_name", "zulip"),
        "USER": get_config("postgresql", "database_user", "zulip"),
        "PASSWORD": "",  # peer authentication over the local socket
        "HOST": "",
        "SCHEMA": "zulip",
        "CONN_MAX_AGE": 600,
        "OPTIONS": {"connect_timeout": 2},
    },
}
if REMOTE_POSTGRES_HOST != "":
    DATABASES["default"].update(HOST=REMOTE_POSTGRES_HOST, PORT=REMOTE_POSTGRES_PORT)
    if "," in REMOTE_POSTGRES_HOST:
        DATABASES["default"]["OPTIONS"]["target_session_attrs"] = "read-write"
    if get_secret("postgres_password") is not None:
        DATABASES["default"]["PASSWORD"] = get_secret("postgres_password")
    DATABASES["default"]["OPTIONS"]["sslmode"] = REMOTE_POSTGRES_SSLMODE or "verify-full"
elif get_config("postgresql", "database_user", "zulip") != "zulip" and get_secret("postgres_password") is not None:
    DATABASES["default"].update(PASSWORD=get_secret("postgres_password"), HOST="localhost")

_memcached_options = {"binary": True}
if get_secret("memcached_password"):
    _memcached_options.update(username=MEMCACHED_USERNAME, password=get_secret("memcached_password"))
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.memcached.PyLibMCCache",
        "LOCATION": MEMCACHED_LOCATION,
        "TIMEOUT": 3600,
        "OPTIONS": _memcached_options,
    },
    # `manage.py createcachetable third_party_api_results` (initialize-database).
    "database": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "third_party_api_results",
        "TIMEOUT": 3600,
    },
}

# Static files: nginx serves /static/ from STATIC_ROOT; the page names the
# hashed bundles listed in the deployment's own webpack-stats-production.json.
STATIC_ROOT = "/home/zulip/prod-static"
STATIC_URL = STATIC_URL or ROOT_DOMAIN_URI + "/static/"
WEBPACK_STATS_FILE = os.path.join(DEPLOY_ROOT, "webpack-stats-production.json")

# Math (zerver/lib/tex.py): Zulip >= 9.0 renders it with the zulip-katex
# service (on by default); without it, with node and katex-cli.js per message.
KATEX_SERVER = get_config("application_server", "katex_server", True)
KATEX_SERVER_PORT = get_config("application_server", "katex_server_port", "9700")

LOCAL_FILES_DIR = os.path.join(LOCAL_UPLOADS_DIR, "files") if LOCAL_UPLOADS_DIR is not None else None
LOCAL_AVATARS_DIR = os.path.join(LOCAL_UPLOADS_DIR, "avatars") if LOCAL_UPLOADS_DIR is not None else None
S3_KEY = get_secret("s3_key")
S3_SECRET_KEY = get_secret("s3_secret_key")

# A queue worker that fails on an event appends it to <queue>.errors here and
# drops it (zerver/worker/base.py); Zulip's check_queue_worker_errors reads it.
QUEUE_ERROR_DIR = "/var/log/zulip/queue_error"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"default": {"format": "%(asctime)s %(levelname)-8s [%(name)s] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "default"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"pika": {"level": "WARNING"}, "django.db.backends": {"level": "INFO"}},
}
