"""The go-camo stand-in (deps/go-camo/go-camo) keeps go-camo's contract:
signed URLs only, no internal destinations without a proxy, images only."""

import hashlib
import hmac
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

CAMO = os.path.join(os.path.dirname(__file__), "deps", "go-camo", "go-camo")
KEY = "lab-camo-key"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def camo_path(url, key=KEY):
    return "/" + hmac.new(key.encode(), url.encode(), hashlib.sha1).hexdigest() + "/" + url.encode().hex()


class Upstream(http.server.BaseHTTPRequestHandler):
    """An origin reached as a proxy: it answers absolute-URI requests."""
    seen: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        Upstream.seen.append(self.path)
        body, kind = ((PNG, "image/png") if self.path.endswith(".png") else
                      (PNG, "image/png, text/html") if self.path.endswith(".mixed") else (b"<html></html>", "text/html"))
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def proxy():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def start(env_extra, *args):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(GOCAMO_HMAC=KEY, **env_extra)
    process = subprocess.Popen([sys.executable, CAMO, f"--listen=127.0.0.1:{port}", "-H", "X-Frame-Options: DENY",
                                *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "the stand-in did not listen within 10 s"
            time.sleep(0.05)
    return process, f"http://127.0.0.1:{port}"


def get(url):
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=10) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@pytest.fixture(scope="module")
def direct():
    process, base = start({})
    yield base
    process.terminate()
    process.wait()


@pytest.fixture(scope="module")
def proxied(proxy):
    process, base = start({"HTTP_PROXY": proxy})
    yield base
    process.terminate()
    process.wait()


def test_a_signed_image_is_fetched_through_the_proxy(proxied):
    status, headers, body = get(proxied + camo_path("http://images.example/cat.png"))
    assert (status, body) == (200, PNG)
    assert headers["Content-Type"] == "image/png"
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    assert "http://images.example/cat.png" in Upstream.seen


def test_a_bad_signature_is_refused_before_any_request(proxied):
    before = len(Upstream.seen)
    assert get(proxied + camo_path("http://images.example/cat.png", key="other"))[0] == 403
    assert get(proxied + "/00/zz")[0] == 403
    assert len(Upstream.seen) == before


def test_only_images_are_passed_on(proxied):
    assert get(proxied + camo_path("http://images.example/page.html"))[0] == 400
    assert get(proxied + camo_path("http://images.example/cat.mixed"))[0] == 400


def test_urls_with_credentials_are_refused(proxied):
    before = len(Upstream.seen)
    assert get(proxied + camo_path("http://user:secret@images.example/cat.png"))[0] == 404
    assert len(Upstream.seen) == before


def test_the_proxy_itself_and_localhost_are_refused(proxied, proxy):
    assert get(proxied + camo_path(proxy + "/cat.png"))[0] == 404
    assert get(proxied + camo_path("http://localhost/cat.png"))[0] == 404
    assert get(proxied + camo_path("file:///etc/passwd"))[0] == 404


def test_without_a_proxy_internal_addresses_are_refused(direct, proxy):
    """The upstream listens on 127.0.0.1: reachable, but not global."""
    before = len(Upstream.seen)
    assert get(direct + camo_path(proxy + "/cat.png"))[0] == 404
    assert get(direct + camo_path("http://10.1.2.3/cat.png"))[0] == 404
    assert len(Upstream.seen) == before


def test_loopback_and_no_proxy_destinations_are_dialed_directly_and_refused(proxy):
    """As Go's proxy selection: no proxy for loopback addresses or NO_PROXY
    hosts; go-camo then refuses them itself."""
    process, base = start({"HTTP_PROXY": proxy, "NO_PROXY": "internal.example"})
    try:
        before = len(Upstream.seen)
        assert get(base + camo_path("http://127.0.0.2/cat.png"))[0] == 404
        assert get(base + camo_path("http://images.internal.example/cat.png"))[0] == 404
        assert len(Upstream.seen) == before
        assert get(base + camo_path("http://images.example/cat.png"))[0] == 200
    finally:
        process.terminate()
        process.wait()


def test_a_missing_key_or_an_unknown_flag_stops_it():
    env = {k: v for k, v in os.environ.items() if k != "GOCAMO_HMAC"}
    missing = subprocess.run([sys.executable, CAMO, "--listen=127.0.0.1:0"], env=env, capture_output=True, text=True)
    assert missing.returncode != 0 and "HMAC key required" in missing.stderr
    unknown = subprocess.run([sys.executable, CAMO, "-k", "x", "--bogus"], capture_output=True, text=True)
    assert unknown.returncode != 0 and "unknown flag" in unknown.stderr
