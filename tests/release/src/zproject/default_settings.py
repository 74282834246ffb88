# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""The settings /etc/zulip/settings.py may set, with their defaults (the
subset of Zulip's zproject/default_settings.py the double implements).
EXTERNAL_HOST and ZULIP_ADMINISTRATOR have no default: settings.py must set
them (zerver/checks.py, zulip.E001)."""

AUTHENTICATION_BACKENDS: tuple = ()

# Services: empty host = this host (PostgreSQL over its Unix socket).
REMOTE_POSTGRES_HOST = ""
REMOTE_POSTGRES_PORT = ""
REMOTE_POSTGRES_SSLMODE = ""
MEMCACHED_LOCATION = "127.0.0.1:11211"
MEMCACHED_USERNAME = "zulip@localhost"
RABBITMQ_HOST = "127.0.0.1"
RABBITMQ_PORT = 5672
RABBITMQ_USERNAME = "zulip"
RABBITMQ_VHOST = "/"
RABBITMQ_USE_TLS = False
REDIS_HOST = "127.0.0.1"
REDIS_PORT = 6379

# Uploads: None selects the S3 backend (zerver/lib/upload.py).
LOCAL_UPLOADS_DIR = None
S3_AUTH_UPLOADS_BUCKET = ""
S3_AVATAR_BUCKET = ""
S3_REGION = None
S3_ENDPOINT_URL = None
S3_ADDRESSING_STYLE = "auto"
MAX_FILE_UPLOAD_SIZE = 25  # MiB
# Link previews (the embed_links queue worker). Zulip's organizations also
# have a switch for them (off by default there); the double has no such
# organization setting: previews follow this server setting alone.
INLINE_URL_EMBED_PREVIEW = True
# Images linked in messages are shown through Camo at this path (Zulip's
# prod_settings_template.py sets "/external_content/"); "" shows them directly.
CAMO_URI = ""

ALLOWED_HOSTS: list = []
SYSTEM_BOT_REALM = "zulipinternal"
REALM_CREATION_LINK_VALIDITY_DAYS = 7
STATIC_URL = None  # computed: https://EXTERNAL_HOST/static/
