# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""Upload backends, chosen as Zulip chooses them (zerver/lib/upload/):
local files when settings.LOCAL_UPLOADS_DIR is set, else S3.  Local files
live under LOCAL_UPLOADS_DIR/files/<path_id>, with path_id
<realm_id>/<2 hex>/<random>/<sanitized name>; nginx serves them through its
internal location /internal/local/uploads/ after Django checked access."""
import os
import re
import secrets
import unicodedata

from django.conf import settings


class UploadError(Exception):
    pass


def sanitize_name(name):
    name = unicodedata.normalize("NFKC", os.path.basename(name))
    name = re.sub(r"[^\w\s.-]", "", name).strip()
    name = re.sub(r"[-\s]+", "-", name)[:255]
    return name if name not in ("", ".", "..") else "uploaded-file"


class LocalUploadBackend:
    def write(self, realm_id, name, data):
        path_id = f"{realm_id}/{secrets.randbelow(256):x}/{secrets.token_urlsafe(18)}/{sanitize_name(name)}"
        path = os.path.join(settings.LOCAL_FILES_DIR, path_id)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path_id

    def exists(self, path_id):
        return os.path.isfile(os.path.join(settings.LOCAL_FILES_DIR, path_id))

    def internal_url(self, path_id):
        return f"/internal/local/uploads/{path_id}"


class S3UploadBackend:
    """The double speaks no S3: without a bucket it fails as Zulip's would
    (no bucket to write to); with one it says it cannot."""

    def write(self, realm_id, name, data):
        if not settings.S3_AUTH_UPLOADS_BUCKET:
            raise UploadError("S3_AUTH_UPLOADS_BUCKET is not set (and LOCAL_UPLOADS_DIR is not set either)")
        raise UploadError("the test double does not implement the S3 upload backend")

    def exists(self, path_id):
        return False

    def internal_url(self, path_id):
        raise UploadError("the test double does not implement the S3 upload backend")


def get_upload_backend():
    return LocalUploadBackend() if settings.LOCAL_UPLOADS_DIR is not None else S3UploadBackend()
