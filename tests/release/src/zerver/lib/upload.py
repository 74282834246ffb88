# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""Upload backends, chosen as Zulip chooses them (zerver/lib/upload/):
local files when settings.LOCAL_UPLOADS_DIR is set, else S3.  Local files
live under LOCAL_UPLOADS_DIR/files/<path_id>, with path_id
<realm_id>/<2 hex>/<random>/<sanitized name>; nginx serves them through its
internal location /internal/local/uploads/ after Django checked access.
Zulip 10's tusd hook (zerver/tusd.py) asks a backend for a path_id only
(generate_message_upload_path) and finds tusd's file there."""
import os
import re
import secrets
import unicodedata

from django.conf import settings


class UploadError(Exception):
    pass


def sanitize_name(name, strict=False):
    """As Zulip's (zerver/lib/upload/__init__.py): strict keeps ASCII word
    characters only, for tusd, whose upload IDs are ASCII."""
    if strict:
        name = re.sub(r"[^A-Za-z0-9_ .-]", "", os.path.basename(name)).strip()
    else:
        name = unicodedata.normalize("NFKC", os.path.basename(name))
        name = re.sub(r"[^\w\s.-]", "", name).strip()
    name = re.sub(r"[-\s]+", "-", name)[:255]
    return name if name not in ("", ".", "..") else "uploaded-file"


def generate_message_upload_path(realm_id, sanitized_name):
    return f"{realm_id}/{secrets.randbelow(256):x}/{secrets.token_urlsafe(18)}/{sanitized_name}"


class LocalUploadBackend:
    def generate_message_upload_path(self, realm_id, sanitized_name):
        return generate_message_upload_path(realm_id, sanitized_name)

    def write(self, realm_id, name, data):
        path_id = self.generate_message_upload_path(realm_id, sanitize_name(name))
        path = os.path.join(settings.LOCAL_FILES_DIR, path_id)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path_id

    def exists(self, path_id):
        return os.path.isfile(os.path.join(settings.LOCAL_FILES_DIR, path_id))

    def size(self, path_id):
        return os.path.getsize(os.path.join(settings.LOCAL_FILES_DIR, path_id))

    def internal_url(self, path_id):
        return f"/internal/local/uploads/{path_id}"


class S3UploadBackend:
    """The double speaks no S3: without a bucket it fails as Zulip's would
    (no bucket to write to); with one it says it cannot."""

    def generate_message_upload_path(self, realm_id, sanitized_name):
        return generate_message_upload_path(realm_id, sanitized_name)

    def write(self, realm_id, name, data):
        if not settings.S3_AUTH_UPLOADS_BUCKET:
            raise UploadError("S3_AUTH_UPLOADS_BUCKET is not set (and LOCAL_UPLOADS_DIR is not set either)")
        raise UploadError("the test double does not implement the S3 upload backend")

    def exists(self, path_id):
        return False

    def size(self, path_id):
        raise UploadError("the test double does not implement the S3 upload backend")

    def internal_url(self, path_id):
        raise UploadError("the test double does not implement the S3 upload backend")


def get_upload_backend():
    return LocalUploadBackend() if settings.LOCAL_UPLOADS_DIR is not None else S3UploadBackend()
