"""A resumable upload through nginx to Zulip's TUS endpoint (Zulip 10+), as
the bot of /home/zulip/credentials/ops.zuliprc, sent in two PATCH requests,
then downloaded back. Runs inside an app server (the lab's names resolve
there only):
    python3 tus_upload.py <external host> <file name> <content, hex>
Prints JSON: each step's status, and the downloaded file's sha256."""
import base64
import configparser
import hashlib
import json
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

site, name, content = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])
rc = configparser.ConfigParser()
rc.read("/home/zulip/credentials/ops.zuliprc")
auth = "Basic " + base64.b64encode(f"{rc['api']['email']}:{rc['api']['key']}".encode()).decode()
context = ssl._create_unverified_context()  # the request goes to 127.0.0.1; the Host header names the site


def call(method, path, headers=None, body=None):
    request = urllib.request.Request("https://127.0.0.1" + path, data=body, method=method,
                                     headers={"Host": site, "Authorization": auth, **(headers or {})})
    try:
        with urllib.request.urlopen(request, context=context, timeout=20) as reply:
            return reply.status, reply.headers, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def b64(text):
    return base64.b64encode(text.encode()).decode()


tus = {"Tus-Resumable": "1.0.0"}
out = {}
status, headers, _ = call("POST", "/api/v1/tus/", {**tus, "Upload-Length": str(len(content)),
                                                   "Upload-Metadata": f"filename {b64(name)},filetype {b64('application/octet-stream')}"})
out["create"] = status
upload = urllib.parse.urlsplit(headers.get("Location") or "").path
half = len(content) // 2
patch = {**tus, "Content-Type": "application/offset+octet-stream"}
status, headers, _ = call("PATCH", upload, {**patch, "Upload-Offset": "0"}, content[:half])
out["first"] = [status, headers.get("Upload-Offset")]
status, headers, body = call("PATCH", upload, {**patch, "Upload-Offset": str(half)}, content[half:])
out["last"] = status
finished = json.loads(body or b"{}") if body.startswith(b"{") else {}
out["url"] = finished.get("url")
if out["url"]:
    status, _, data = call("GET", out["url"])
    out["download"] = [status, hashlib.sha256(data).hexdigest()]
print(json.dumps(out))
