#!/usr/bin/python3
# Stand-in for Smokescreen (github.com/stripe/smokescreen), Zulip's outgoing
# HTTP proxy, for the zulip.server collection's tests (NOT Smokescreen). It
# keeps what Zulip relies on: an HTTP proxy (CONNECT and absolute-URI
# requests) on --listen-ip:--listen-port (4750) that refuses destinations that
# resolve to non-public addresses unless --allow-address/--allow-range lets
# them through, refuses --deny-address/--deny-range, and logs one JSON
# CANONICAL-PROXY-DECISION line per request. Unknown flags are errors.
import http.server
import ipaddress
import json
import select
import socket
import socketserver
import sys
import time
import urllib.parse

LIST_FLAGS = ("allow-address", "allow-range", "deny-address", "deny-range")
VALUE_FLAGS = ("listen-ip", "listen-port") + LIST_FLAGS


def parse(argv):
    opts = {"listen-ip": "", "listen-port": "4750", **{name: [] for name in LIST_FLAGS}}
    args = list(argv)
    while args:
        arg = args.pop(0)
        name, eq, value = arg.lstrip("-").partition("=")
        if not arg.startswith("-") or name not in VALUE_FLAGS:
            sys.exit(f"Incorrect Usage. flag provided but not defined: {arg}")
        if not eq:
            if not args:
                sys.exit(f"flag needs an argument: {arg}")
            value = args.pop(0)
        if name in LIST_FLAGS:
            opts[name].append(value)
        else:
            opts[name] = value
    return opts


def networks(values, single):
    out = []
    for value in values:
        try:
            if single:
                host = value.rsplit(":", 1)[0] if value.count(":") == 1 else value.strip("[]")
                out.append(ipaddress.ip_network(host))
            else:
                out.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            sys.exit(f"invalid {'address' if single else 'range'}: {value}")
    return out


OPTS = parse(sys.argv[1:])
ALLOW = networks(OPTS["allow-address"], True) + networks(OPTS["allow-range"], False)
DENY = networks(OPTS["deny-address"], True) + networks(OPTS["deny-range"], False)


def classify(ip):
    """(allowed, reason), Smokescreen's order: allow rules, deny rules, then non-public addresses."""
    if any(ip in net for net in ALLOW):
        return True, "Allow: User Configured"
    if any(ip in net for net in DENY):
        return False, "Deny: User Configured"
    if ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified:
        return False, "Deny: Not Global Unicast"
    if not ip.is_global:
        return False, "Deny: Private Range"
    return True, "Allow: Default"


def log(**fields):
    print(json.dumps({"level": "info", "msg": "CANONICAL-PROXY-DECISION", "time": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                      time.gmtime()), **fields}), flush=True)


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def decide(self, host, port, proxy_type):
        try:
            ip = ipaddress.ip_address(socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)[0][4][0])
        except (OSError, ValueError) as e:
            log(allow=False, decision_reason=f"could not resolve {host}: {e}", proxy_type=proxy_type,
                requested_host=f"{host}:{port}")
            return None
        allowed, reason = classify(ip)
        log(allow=allowed, decision_reason=reason, proxy_type=proxy_type, requested_host=f"{host}:{port}",
            resolved_addr=str(ip))
        return str(ip) if allowed else None

    def refuse(self, host, port):
        body = f"Request to {host}:{port} rejected by proxy\n".encode()
        self.send_response(503)
        self.send_header("X-Smokescreen-Error", "Request rejected by proxy")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_CONNECT(self):
        host, _, port = self.path.rpartition(":")
        host, port = host.strip("[]"), int(port or 443)
        ip = self.decide(host, port, "connect")
        if ip is None:
            return self.refuse(host, port)
        try:
            upstream = socket.create_connection((ip, port), timeout=10)
        except OSError:
            self.send_error(502)
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        pump(self.connection, upstream)
        self.close_connection = True

    def forward(self):
        url = urllib.parse.urlsplit(self.path)
        if url.scheme != "http" or not url.hostname:
            self.send_error(400, "absolute http:// URL expected")
            return
        port = url.port or 80
        ip = self.decide(url.hostname, port, "http")
        if ip is None:
            return self.refuse(url.hostname, port)
        try:
            upstream = socket.create_connection((ip, port), timeout=10)
        except OSError:
            self.send_error(502)
            return
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        head = [f"{self.command} {path} HTTP/1.1"]
        head += [f"{k}: {v}" for k, v in self.headers.items()
                 if not k.lower().startswith("proxy-") and k.lower() != "connection"]
        head += ["Connection: close", "", ""]
        upstream.sendall("\r\n".join(head).encode("latin-1"))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            upstream.sendall(self.rfile.read(length))
        pump(self.connection, upstream)
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = forward


def pump(client, upstream):
    sockets = [client, upstream]
    try:
        while True:
            readable, _, _ = select.select(sockets, [], [], 60)
            if not readable:
                return
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                (upstream if sock is client else client).sendall(data)
    finally:
        upstream.close()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    server = Server((OPTS["listen-ip"], int(OPTS["listen-port"])), Proxy)
    print(json.dumps({"level": "info", "msg": f"starting on {OPTS['listen-ip'] or '*'}:{OPTS['listen-port']}"}),
          flush=True)
    server.serve_forever()
