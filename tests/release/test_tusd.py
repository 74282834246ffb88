"""The tusd stand-in (deps/tusd/tusd) keeps tusd 2.x's contract as Zulip 10
uses it (zerver/management/commands/runtusd.py, zerver/views/tusd.py): the
tus protocol, its filestore layout, and its HTTP hooks."""

import base64
import http.client
import http.server
import json
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

TUSD = os.path.join(os.path.dirname(__file__), "deps", "tusd", "tusd")
BASE = "/api/v1/tus/"
TUS = {"Tus-Resumable": "1.0.0"}
PATH_ID = "2/4f/Zm9vYmFyYmF6cXV4eHl6/cat.png"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hook(http.server.BaseHTTPRequestHandler):
    """The hook endpoint: records each call (its headers and JSON), answers
    with what `answer(payload)` gives: (status, JSON-able body)."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.calls.append((dict(self.headers), payload))
        status, body = self.server.answer(payload)
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def zulip_like(payload):
    """What Zulip's hook answers (zerver/views/tusd.py): a path_id for
    pre-create, the upload's URL for pre-finish, always HTTP 200."""
    if payload["Type"] == "pre-create":
        return 200, {"ChangeFileInfo": {"ID": PATH_ID}}
    upload = payload["Event"]["Upload"]
    body = json.dumps({"url": f"/user_uploads/{upload['ID']}", "filename": upload["MetaData"]["filename"]})
    return 200, {"HttpResponse": {"StatusCode": 200, "Body": body, "Header": {"Content-Type": "application/json"}}}


@pytest.fixture
def hook():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    server.calls, server.answer = [], zulip_like
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/api/internal/tusd"
    yield server
    server.shutdown()
    server.server_close()


class Tusd:
    def __init__(self, tmp_path, *args):
        self.port = free_port()
        self.dir = tmp_path / "files"
        self.log = open(tmp_path / "tusd.log", "w+")
        self.process = subprocess.Popen(
            [TUSD, "-host=127.0.0.1", f"-port={self.port}", f"-upload-dir={self.dir}", *args],
            stdout=self.log, stderr=subprocess.STDOUT, env={k: v for k, v in os.environ.items()
                                                           if not k.lower().endswith("_proxy")})
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                assert self.process.poll() is None, self.output()
                assert time.monotonic() < deadline, "the stand-in did not listen within 10 s"
                time.sleep(0.05)

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def request(self, method, path, body=b"", headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            answer = conn.getresponse()
            return answer.status, answer.headers, answer.read()
        finally:
            conn.close()

    def create(self, size, metadata=None, headers=None):
        meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in (metadata or {}).items())
        return self.request("POST", BASE, headers={**TUS, "Upload-Length": str(size), "Upload-Metadata": meta,
                                                   **(headers or {})})

    def patch(self, location, offset, data, headers=None):
        return self.request("PATCH", location, data, {**TUS, "Upload-Offset": str(offset),
                                                      "Content-Type": "application/offset+octet-stream",
                                                      **(headers or {})})

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=10)
        self.log.close()


@pytest.fixture
def start(tmp_path):
    started = []

    def run(*args):
        started.append(Tusd(tmp_path, f"-base-path={BASE}", *args))
        return started[-1]

    yield run
    for tusd in started:
        tusd.stop()


def zulip_flags(hook):
    """The flags Zulip 10.0's runtusd passes (but -upload-dir, -host, -port)."""
    return ["-behind-proxy", f"-hooks-http={hook.url}", "-hooks-http-forward-headers=Cookie,Authorization",
            "--hooks-enabled-events=pre-create,pre-finish", "-disable-download", "--show-startup-logs=false",
            "-hooks-http-retry=1"]


def path_of(location):
    return "/" + location.split("/", 3)[3]


def test_unknown_flags_and_hook_events_are_refused(tmp_path):
    unknown = subprocess.run([TUSD, "-bogus"], capture_output=True, text=True)
    assert unknown.returncode == 2
    assert "flag provided but not defined: -bogus" in unknown.stderr and "Usage of tusd" in unknown.stderr
    missing = subprocess.run([TUSD, "-port"], capture_output=True, text=True)
    assert missing.returncode == 2 and "flag needs an argument: -port" in missing.stderr
    boolean = subprocess.run([TUSD, "-behind-proxy=maybe"], capture_output=True, text=True)
    assert boolean.returncode == 2
    events = subprocess.run([TUSD, "-hooks-enabled-events=pre-create,pre-finish,pre-flight",
                             f"-upload-dir={tmp_path}"], capture_output=True, text=True)
    assert events.returncode == 1 and "Unknown hook event type" in events.stderr
    s3 = subprocess.run([TUSD, "-s3-bucket=uploads", f"-upload-dir={tmp_path}"], capture_output=True, text=True)
    assert s3.returncode == 1 and "no S3" in s3.stderr
    version = subprocess.run([TUSD, "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and "v2.8.0" in version.stdout


def test_requests_need_tus_resumable_but_options(start, hook):
    tusd = start(*zulip_flags(hook))
    status, headers, body = tusd.request("POST", BASE, headers={"Upload-Length": "3"})
    assert status == 412 and body.startswith(b"ERR_UNSUPPORTED_VERSION")
    assert headers["Tus-Resumable"] == "1.0.0"
    status, headers, _ = tusd.request("OPTIONS", BASE)
    assert status == 200 and headers["Tus-Version"] == "1.0.0"
    assert "creation" in headers["Tus-Extension"].split(",")
    assert hook.calls == []
    # Upload-Length is required (Upload-Defer-Length: 1 aside).
    assert tusd.request("POST", BASE, headers=TUS)[0] == 400


def test_pre_create_gets_the_forwarded_headers_and_metadata(start, hook):
    tusd = start(*zulip_flags(hook))
    auth = "Basic " + base64.b64encode(b"iago@zulip.example:apikey").decode()
    status, headers, _ = tusd.create(
        11, {"filename": "cat.png", "filetype": "image/png"},
        {"Authorization": auth, "Cookie": "sessionid=abc", "X-Forwarded-Proto": "https",
         "X-Forwarded-Host": "chat.zulip.example"})
    assert status == 201, tusd.output()
    assert headers["Location"] == f"https://chat.zulip.example{BASE}{PATH_ID}"
    (hook_headers, payload), = hook.calls
    assert hook_headers["Authorization"] == auth and hook_headers["Cookie"] == "sessionid=abc"
    assert hook_headers["Content-Type"] == "application/json"
    assert payload["Type"] == "pre-create"
    upload = payload["Event"]["Upload"]
    assert upload == {"ID": "", "Size": 11, "SizeIsDeferred": False, "Offset": 0,
                      "MetaData": {"filename": "cat.png", "filetype": "image/png"}, "IsPartial": False,
                      "IsFinal": False, "PartialUploads": None, "Storage": None}
    request = payload["Event"]["HTTPRequest"]
    assert request["Method"] == "POST" and request["URI"] == BASE
    assert request["RemoteAddr"].startswith("127.0.0.1:")
    assert request["Header"]["Tus-Resumable"] == ["1.0.0"] and request["Header"]["Authorization"] == [auth]
    # ChangeFileInfo.ID, slashes and all, is where the filestore puts it.
    stored = tusd.dir / PATH_ID
    assert stored.is_file() and stored.stat().st_size == 0
    info = json.loads((tusd.dir / (PATH_ID + ".info")).read_text())
    assert info["ID"] == PATH_ID and info["Size"] == 11
    assert info["Storage"] == {"InfoPath": f"{stored}.info", "Path": str(stored), "Type": "filestore"}


def test_a_rejected_upload_answers_what_the_hook_says(start, hook):
    message = json.dumps({"message": "Uploaded file is larger than the allowed limit of 25 MiB"})
    hook.answer = lambda payload: (200, {
        "HttpResponse": {"StatusCode": 413, "Body": message, "Header": {"Content-Type": "application/json"}},
        "RejectUpload": True})
    tusd = start(*zulip_flags(hook))
    status, headers, body = tusd.create(10 ** 9, {"filename": "big.iso"})
    assert (status, body.decode()) == (413, message)
    assert headers["Content-Type"] == "application/json"
    assert not tusd.dir.exists() or not any(tusd.dir.iterdir())


def test_patch_offsets_completion_and_pre_finish(start, hook):
    tusd = start(*zulip_flags(hook))
    status, headers, _ = tusd.create(11, {"filename": "cat.png", "filetype": "image/png"})
    location = path_of(headers["Location"])
    assert location == BASE + PATH_ID
    status, headers, _ = tusd.request("HEAD", location, headers=TUS)
    assert (status, headers["Upload-Offset"], headers["Upload-Length"]) == (200, "0", "11")
    assert headers["Cache-Control"] == "no-store"
    assert tusd.request("HEAD", BASE + "2/no/such/upload", headers=TUS)[0] == 404
    assert tusd.patch(location, 3, b"hello")[0] == 409
    assert tusd.request("PATCH", location, b"hello", {**TUS, "Upload-Offset": "0"})[0] == 400
    status, headers, _ = tusd.patch(location, 0, b"hello")
    assert (status, headers["Upload-Offset"]) == (204, "5")
    assert tusd.patch(location, 5, b" world, and more")[0] == 413
    assert len(hook.calls) == 1  # pre-create only, so far
    status, headers, body = tusd.patch(location, 5, b" world")
    assert status == 200, tusd.output()
    assert json.loads(body) == {"url": f"/user_uploads/{PATH_ID}", "filename": "cat.png"}
    assert headers["Content-Type"] == "application/json" and headers["Upload-Offset"] == "11"
    _, payload = hook.calls[-1]
    assert payload["Type"] == "pre-finish"
    upload = payload["Event"]["Upload"]
    assert (upload["ID"], upload["Size"], upload["Offset"]) == (PATH_ID, 11, 11)
    assert upload["Storage"]["Type"] == "filestore" and upload["Storage"]["Path"] == str(tusd.dir / PATH_ID)
    assert payload["Event"]["HTTPRequest"]["Method"] == "PATCH"
    assert (tusd.dir / PATH_ID).read_bytes() == b"hello world"
    # A finished upload is not finished twice.
    status, headers, _ = tusd.patch(location, 11, b"")
    assert (status, headers["Upload-Offset"], len(hook.calls)) == (204, "11", 2)


def test_without_pre_finish_the_last_patch_is_204(start, hook):
    tusd = start(f"-hooks-http={hook.url}", "-hooks-http-retry=1")
    _, headers, _ = tusd.create(2, {"filename": "a.txt"})
    status, headers, _ = tusd.patch(path_of(headers["Location"]), 0, b"ab")
    assert (status, headers["Upload-Offset"]) == (204, "2")
    assert [payload["Type"] for _, payload in hook.calls][0] == "pre-create"


def test_a_failing_hook_is_a_500(start, hook, tmp_path):
    hook.answer = lambda payload: (404, {})
    assert start(*zulip_flags(hook)).create(3, {"filename": "a.txt"})[0] == 500
    hook.answer = lambda payload: (200, b"not json")
    assert start(*zulip_flags(hook)).create(3, {"filename": "a.txt"})[0] == 500
    gone = f"http://127.0.0.1:{free_port()}/api/internal/tusd"
    tusd = start("-hooks-http-retry=2", "-hooks-http-backoff=10ms", f"-hooks-http={gone}")
    status, _, body = tusd.create(3, {"filename": "a.txt"})
    assert status == 500 and body.startswith(b"ERR_INTERNAL_SERVER_ERROR")


def test_downloads_are_405_with_disable_download(start, hook):
    tusd = start(*zulip_flags(hook))
    _, headers, _ = tusd.create(2, {"filename": "a.txt"})
    location = path_of(headers["Location"])
    tusd.patch(location, 0, b"ab")
    assert tusd.request("GET", location)[0] == 405
    open_tusd = start()
    _, headers, _ = open_tusd.create(2)
    location = path_of(headers["Location"])
    open_tusd.patch(location, 0, b"ab")
    status, _, body = open_tusd.request("GET", location)
    assert (status, body) == (200, b"ab")


def test_it_stops_cleanly_on_sigint(start):
    tusd = start()
    tusd.process.send_signal(signal.SIGINT)
    assert tusd.process.wait(timeout=10) == 0
    assert "Goodbye" in tusd.output()
