# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""The endpoint tusd's HTTP hooks call, /api/internal/tusd (10.x releases
only: build.py leaves this module out of 9.x), as Zulip 10's
zerver/views/tusd.py answers it (tusd runs as `manage.py runtusd` with
-hooks-enabled-events=pre-create,pre-finish and forwards the client's Cookie
and Authorization headers):

* the request must come from 127.0.0.1 or ::1 (Zulip's is_local_addr,
  zerver/lib/rate_limiter.py), else 403;
* the user is the one of the forwarded HTTP Basic API key; without one the
  upload is rejected with 401 "Unauthenticated upload" (the double has no
  login sessions, so a session cookie alone never authenticates);
* every answer tusd reads is HTTP 200 with a JSON hook response
  (tusd_json_response); a refusal sets RejectUpload and an HttpResponse
  whose status is not 400 (uppy retries a 400);
* pre-create: a deferred or missing size is rejected 411, a size above
  MAX_FILE_UPLOAD_SIZE MiB 413; else ChangeFileInfo.ID is a new path_id
  (the upload backend's scheme, the file name sanitized strictly: tusd's IDs
  are ASCII), so tusd's filestore writes LOCAL_FILES_DIR/<path_id>;
* pre-finish: the Attachment of the file tusd wrote there (it must exist:
  tusd's -upload-dir must be LOCAL_FILES_DIR), answered with HttpResponse 200
  and {"url": "/user_uploads/<path_id>", "filename"};
* any other hook type: 404 (tusd turns that into a 500 for its client).
The S3 backend is not implemented (pre-finish fails)."""
import json
import mimetypes

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseNotFound
from django.views.decorators.csrf import csrf_exempt

from zerver.lib.upload import UploadError, get_upload_backend, sanitize_name
from zerver.models import Attachment
from zerver.views import JsonableError, authenticate_api, json_error, logger

LOCAL_ADDRESSES = ("127.0.0.1", "::1")
# The hook request tusd sends (hooks.HookRequest): JSON types of its fields.
UPLOAD_FIELDS = {"ID": (str,), "Size": (int, type(None)), "SizeIsDeferred": (bool,), "Offset": (int,),
                 "MetaData": (dict,), "IsPartial": (bool,), "IsFinal": (bool,),
                 "PartialUploads": (list, type(None)), "Storage": (dict, type(None))}
REQUEST_FIELDS = {"Method": (str,), "URI": (str,), "RemoteAddr": (str,), "Header": (dict,)}


def compact(data):
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def tusd_json_response(data):
    return HttpResponse(compact(data) + "\n", content_type="application/json", status=200)


def reject_upload(message, status_code):
    return tusd_json_response({
        "HttpResponse": {"StatusCode": status_code, "Body": compact({"message": message}),
                         "Header": {"Content-Type": "application/json"}},
        "RejectUpload": True,
    })


def parse_hook(body):
    """The hook request, checked as Zulip's typed model checks it; None when
    it is not one."""
    try:
        payload = json.loads(body)
        event = payload["Event"]
        upload, request = event["Upload"], event["HTTPRequest"]
        if not isinstance(payload["Type"], str):
            return None
        for data, fields in ((upload, UPLOAD_FIELDS), (request, REQUEST_FIELDS)):
            for name, types in fields.items():
                value = data[name]
                if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
                    return None
        if not all(isinstance(v, str) for v in upload["MetaData"].values()):
            return None
    except (ValueError, KeyError, TypeError):
        return None
    return payload


def authenticate_user(request):
    """The forwarded API key's user (as Zulip's authenticated_rest_api_view),
    or None."""
    if "Authorization" not in request.headers:
        return None
    try:
        return authenticate_api(request)
    except JsonableError:
        return None


def pre_create(user, upload):
    if upload["SizeIsDeferred"] or upload["Size"] is None:
        return reject_upload("SizeIsDeferred is not supported", 411)
    if upload["Size"] > settings.MAX_FILE_UPLOAD_SIZE * 1024 * 1024:
        return reject_upload(f"Uploaded file is larger than the allowed limit of "
                             f"{settings.MAX_FILE_UPLOAD_SIZE} MiB", 413)
    file_name = sanitize_name(upload["MetaData"].get("filename", ""), strict=True)
    path_id = get_upload_backend().generate_message_upload_path(str(user.realm_id), file_name)
    return tusd_json_response({"ChangeFileInfo": {"ID": path_id}})


def pre_finish(user, upload):
    # With S3, tusd appends "+<multipart id>" to the ID; path_ids have no "+".
    path_id = upload["ID"].partition("+")[0]
    filename = upload["MetaData"].get("filename", "")
    if filename in ("", ".", ".."):
        filename = "uploaded-file"
    content_type = (upload["MetaData"].get("filetype") or mimetypes.guess_type(filename)[0]
                    or "application/octet-stream")
    backend = get_upload_backend()
    try:
        if not backend.exists(path_id):
            raise UploadError(f"tusd's upload {path_id} is not in the upload backend "
                              f"(tusd's -upload-dir must be {settings.LOCAL_FILES_DIR})")
        size = backend.size(path_id)
        with transaction.atomic():
            Attachment.objects.create(realm_id=user.realm_id, owner=user, file_name=filename, path_id=path_id,
                                      content_type=content_type, size=size)
    except (UploadError, OSError, IntegrityError) as e:
        # Zulip's create_attachment raises: Django answers 500, tusd its client 500.
        logger.error("tusd pre-finish failed: %s", e)
        return HttpResponse(f"Internal server error: {e}\n", content_type="text/plain", status=500)
    return tusd_json_response({
        "HttpResponse": {"StatusCode": 200, "Body": compact({"url": f"/user_uploads/{path_id}", "filename": filename}),
                         "Header": {"Content-Type": "application/json"}},
    })


@csrf_exempt
def handle_tusd_hook(request):
    payload = parse_hook(request.body)
    if payload is None:
        return json_error("Malformed tusd hook request", "BAD_REQUEST", 400)
    if request.META.get("REMOTE_ADDR") not in LOCAL_ADDRESSES:
        return json_error("Access denied", "ACCESS_DENIED", 403)
    user = authenticate_user(request)
    if user is None:
        return reject_upload("Unauthenticated upload", 401)
    upload = payload["Event"]["Upload"]
    if payload["Type"] == "pre-create":
        return pre_create(user, upload)
    if payload["Type"] == "pre-finish":
        return pre_finish(user, upload)
    return HttpResponseNotFound()
