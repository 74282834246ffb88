# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
# The KaTeX server of Zulip >= 9.0 (web/server/katex_server.ts), bundled after
# katex.py into webpack-bundles/katex_server.js and run by supervisor's
# zulip-katex as `node katex_server.js [port]` with SHARED_SECRET set:
#   POST / (form: content, is_display, shared_secret) -> 200 HTML, 400 on a
#   TeX parse error or a missing argument, 403 on a bad secret;
#   GET /metrics -> 200, unauthenticated; anything else 404.
import hmac
import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNTS = {"ok": 0, "error": 0}
COUNTS_LOCK = threading.Lock()


class KatexHandler(BaseHTTPRequestHandler):
    def answer(self, status, body="", content_type="text/plain; charset=utf-8"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with COUNTS_LOCK:
            COUNTS["ok" if status == 200 else "error"] += 1

    def do_GET(self):
        if self.path == "/metrics":
            with COUNTS_LOCK:
                ok, error = COUNTS["ok"], COUNTS["error"]
            self.answer(200, "# TYPE katex_requests_total counter\n"
                        f'katex_requests_total{{status="ok"}} {ok}\nkatex_requests_total{{status="error"}} {error}\n')
        else:
            self.answer(404)

    def do_POST(self):
        if urllib.parse.urlsplit(self.path).path != "/":
            return self.answer(404)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8", "replace")
        if not body:
            return self.answer(400, "Missing POST body")
        form = urllib.parse.parse_qs(body, keep_blank_values=True)
        secret = form.get("shared_secret", [""])[0]
        if not hmac.compare_digest(secret.encode(), self.server.shared_secret.encode()):
            return self.answer(403, "Invalid 'shared_secret' argument")
        if "content" not in form:
            return self.answer(400, "Invalid 'content' argument")
        try:
            rendered = render_to_string(form["content"][0], display_mode=form.get("is_display") == ["true"])  # noqa: F821
        except ParseError as e:  # noqa: F821
            return self.answer(400, str(e))
        self.answer(200, rendered, "text/html; charset=utf-8")


def main(argv):
    port_arg = argv[1] if len(argv) > 1 else "9700"
    if not port_arg.isdigit():
        sys.stderr.write("TypeError: Invalid port\n")
        return 1
    secret = os.environ.get("SHARED_SECRET")
    if not secret:
        print("No SHARED_SECRET set!", flush=True)
        return 1
    server = ThreadingHTTPServer(("127.0.0.1", int(port_arg)), KatexHandler)
    server.daemon_threads = True
    server.shared_secret = secret
    print(f"Server started on http://localhost:{port_arg}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
