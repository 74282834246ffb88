# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip (and not Tornado: a threaded http.server).
"""`manage.py runtornado`: the real-time events server stand-in."""
import json
import logging
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import version

logger = logging.getLogger("zulip.tornado")
POLL_SECONDS = 1.0
EVENT_PATHS = ("/json/events", "/api/v1/events")


class Handler(BaseHTTPRequestHandler):
    server_version = f"ZulipTestDoubleTornado/{version.ZULIP_VERSION}"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("tornado: %s - %s\n" % (self.address_string(), fmt % args))

    def _send(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _params(self):
        parsed = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(parsed.query))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            params.update(urllib.parse.parse_qsl(self.rfile.read(length).decode("utf-8", "replace")))
        return parsed.path.rstrip("/"), params

    def do_GET(self):
        path, params = self._params()
        if path in ("/health", "/api/v1/health"):
            self._send(200, {"result": "success", "msg": "", "server": "tornado"})
        elif path in EVENT_PATHS:
            if params.get("dont_block", "false") != "true":
                time.sleep(POLL_SECONDS)
            queue_id = params.get("queue_id") or f"{int(time.time())}:0"
            self._send(200, {"result": "success", "msg": "", "queue_id": queue_id,
                             "events": [{"type": "heartbeat", "id": 0}]})
        else:
            self._send(404, {"result": "error", "msg": "Not found", "code": "NOT_FOUND"})

    def do_POST(self):
        # scripts/reload-clients: tell the connected clients to reload (the
        # double keeps no event queues: it counts and logs the request).
        path, params = self._params()
        if path != "/api/internal/web_reload_clients":
            self._send(404, {"result": "error", "msg": "Not found", "code": "NOT_FOUND"})
            return
        from django.conf import settings

        if params.get("secret") != settings.SHARED_SECRET:
            self._send(403, {"result": "error", "msg": "Access denied", "code": "UNAUTHORIZED"})
            return
        self.server.reloads += 1
        logger.info("web_reload_clients: reload events requested (%d so far)", self.server.reloads)
        self._send(200, {"result": "success", "msg": "", "sent_events": 0, "complete": True})

    def do_DELETE(self):
        path, _ = self._params()
        if path in EVENT_PATHS:
            self._send(200, {"result": "success", "msg": ""})
        else:
            self._send(404, {"result": "error", "msg": "Not found", "code": "NOT_FOUND"})


def run(addrport):
    host, _, port = addrport.rpartition(":")
    server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Handler)
    server.daemon_threads = True
    server.reloads = 0

    def stop(signum, frame):
        sys.stderr.write(f"tornado: received signal {signum}, shutting down\n")
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stderr.write(f"tornado: Zulip test double {version.ZULIP_VERSION} listening on {host}:{port}\n")
    sys.stderr.flush()
    server.serve_forever()
    server.server_close()
    return 0
