#!/usr/bin/python3
"""A loopback HTTP(S) server that misbehaves on purpose, for the HTTP
layer's fault tests through the plugin. It answers Vault-style key reads
(GET .../v1/<mount>/keys/<name>, one EC P-256 key) and AWS-style errors.

The first two path segments pick the behaviour and a run id:
  /<scenario>/<run>/v1/...   (point VAULT_ADDR or an AWS endpoint there)
Counters are per (scenario, run), so every test run starts afresh.

scenarios:
  ok            always the key read
  retry-after   429 with Retry-After: 2 once, then ok
  500-once      500 once, then ok
  503           always 503 with a Vault error body
  aws-throttle  always 400 ThrottlingException (AWS JSON 1.1 shape)
  reset-once    connection reset (RST) once, then ok
  reset         always reset
  hang          read the request, never answer (closes after 30 s)
  truncated     Content-Length larger than the body, then close
  big           a 2 MiB JSON body (over the plugin's cap)
Each request is logged to --log as a JSON line {"t", "scenario", "run", "n"}.

usage: fault_server.py --setup FILE [--http PORT] [--https PORT CERT KEY]
                       [--log FILE]
--setup FILE gets {"pub": PEM} when the server is ready.

Matrix mode (tests/integration/53-fault-matrix.sh): named listeners in
front of the real mocks, each with its own fault, set over a control port,
so that several clients can be tested at once.

usage: fault_server.py --setup FILE --ctl PORT
           [--listen NAME ADDR PORT [UPSTREAM_PORT]]...
           [--listen-tls NAME PORT CERT KEY]...
  GET /set/<listener>/<mode> on the control port makes that listener
  misbehave as <mode> from then on and zeroes its request counter;
  GET /hits/<listener> answers the number of requests it saw since;
  GET /gap/<listener> the milliseconds from its first request to its
  second since then (-1 before the second).
  Requests the mode lets through go to the listener's upstream, byte for
  byte, Host included (SigV4 signs it). The listener "tls-good" always
  redirects to plain http (to the listener "other"); other TLS listeners
  answer 500 (their clients must never get past the handshake).
modes:
  ok          forwarded
  reset-hdr   part of the status line and headers, then RST
  reset-body  headers (Content-Length 4096), 100 bytes of body, then RST
  drip        a response one byte per second
  hang        reads the request, never answers
  chunked     an endless chunked body (256 KiB chunks, as fast as read)
  big         a 33 MiB body with its Content-Length (over every cap)
  trunc-json  the upstream's answer cut in half (Content-Length fixed)
  bad-json    200, the upstream's content type, a body that is not JSON,
              DER nor XML
  ctype       the upstream's answer relabelled text/html
  redir-host  302 to the same path on the listener "other" (127.0.0.2)
  redir-file  302 to file:///etc/passwd
  429-1       429 with Retry-After: 1, always
  429-huge    429 with Retry-After: 86400, always
  429-200     429 with Retry-After: 1 for the first request, then forwarded
  500-200     500 for the first request, then forwarded
  503         503 always
"""
import json
import os
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

KEY = ec.generate_private_key(ec.SECP256R1())
PUB = KEY.public_key().public_bytes(
    serialization.Encoding.PEM,
    serialization.PublicFormat.SubjectPublicKeyInfo).decode()
lock = threading.Lock()
counts = {}
log_file = None


def key_read():
    return json.dumps({"data": {
        "type": "ecdsa-p256", "name": "k", "latest_version": 1,
        "supports_signing": True,
        "keys": {"1": {"public_key": PUB, "name": "P-256"}}}}).encode()


class Handler(socketserver.StreamRequestHandler):
    timeout = 35

    def send(self, status, body, extra=(), ctype="application/json",
             length=None):
        head = [f"HTTP/1.1 {status} X", f"Content-Type: {ctype}",
                f"Content-Length: {len(body) if length is None else length}",
                "X-Vault-Request-Id: fault-req-1"]
        head += list(extra)
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        self.wfile.flush()

    def reset(self):
        # SO_LINGER 0: close() sends RST instead of FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.connection.close()

    def read_request(self):
        line = self.rfile.readline(8192)
        if not line:
            return None
        headers = {}
        while True:
            h = self.rfile.readline(8192)
            if h in (b"\r\n", b"\n", b""):
                break
            k, _, v = h.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        if n:
            self.rfile.read(n)
        return line.decode("latin-1").split(" ")[1]

    def handle(self):
        while True:
            try:
                path = self.read_request()
            except (OSError, ValueError):
                return
            if path is None:
                return
            parts = path.strip("/").split("/")
            scen = parts[0]
            run = parts[1] if len(parts) > 1 else ""
            with lock:
                n = counts.get((scen, run), 0) + 1
                counts[(scen, run)] = n
                if log_file:
                    with open(log_file, "a") as f:
                        f.write(json.dumps({"t": time.time(), "scenario": scen,
                                            "run": run, "n": n}) + "\n")
            if not self.answer(scen, n):
                return

    def answer(self, scen, n):
        """Answers one request; False when the connection is gone."""
        if scen == "retry-after" and n == 1:
            self.send(429, b'{"errors":["request rate limit exceeded"]}',
                      ["Retry-After: 2"])
        elif scen == "500-once" and n == 1:
            self.send(500, b'{"errors":["internal error"]}')
        elif scen == "503":
            self.send(503, b'{"errors":["Vault is sealed"]}')
        elif scen == "aws-throttle":
            self.send(400, b'{"__type":"ThrottlingException","message":'
                      b'"Rate exceeded"}', ["x-amzn-RequestId: aws-rid-42"],
                      "application/x-amz-json-1.1")
        elif (scen == "reset-once" and n == 1) or scen == "reset":
            self.reset()
            return False
        elif scen == "hang":
            time.sleep(30)
            return False
        elif scen == "truncated":
            body = key_read()
            self.send(200, body[:len(body) // 2], length=len(body))
            self.connection.shutdown(socket.SHUT_RDWR)
            return False
        elif scen == "big":
            self.send(200, b'{"data":"' + b"x" * (2 * 1024 * 1024) + b'"}')
        else:
            self.send(200, key_read())
        return True


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class TLSServer(Server):
    ctx = None

    def get_request(self):
        sock, addr = super().get_request()
        sock.settimeout(5)
        try:
            return self.ctx.wrap_socket(sock, server_side=True), addr
        except (ssl.SSLError, OSError):
            sock.close()
            with lock:
                if log_file:
                    with open(log_file, "a") as f:
                        f.write(json.dumps({"t": time.time(), "scenario":
                                            "tls-failed", "run": "", "n": 0})
                                + "\n")
            raise


# ---- matrix mode ----

class Matrix:
    """The fault of each listener and the requests it saw since it was set."""
    modes = {}      # listener name -> mode
    hits = {}       # listener name -> requests since the last /set
    times = {}      # listener name -> arrival times of its first two
    ports = {}      # listener name -> port


def matrix_count(key):
    with lock:
        Matrix.hits[key] = Matrix.hits.get(key, 0) + 1
        t = Matrix.times.setdefault(key, [])
        if len(t) < 2:
            t.append(time.monotonic())
        return Matrix.hits[key]


JUNK = b'{"data": {"keys": [}} <html> \x00\x01 not JSON, DER nor XML'


class MatrixHandler(socketserver.StreamRequestHandler):
    timeout = 60

    def read_raw(self):
        """(method, path, header lines, body) of one request, or None."""
        line = self.rfile.readline(8192)
        if not line or not line.strip():
            return None
        method, path = line.decode("latin-1").split(" ")[:2]
        headers, n = [], 0
        while True:
            h = self.rfile.readline(8192)
            if h in (b"\r\n", b"\n", b""):
                break
            k, _, v = h.decode("latin-1").partition(":")
            if k.strip().lower() == "content-length":
                n = int(v.strip())
            if k.strip().lower() not in ("connection", "keep-alive",
                                         "content-length"):
                headers.append(h.decode("latin-1").rstrip("\r\n"))
        body = self.rfile.read(n) if n else b""
        return method, path, headers, body

    def head(self, status, headers, length=None):
        lines = [f"HTTP/1.1 {status} X"] + headers
        if length is not None:
            lines.append(f"Content-Length: {length}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def reply(self, status, body, headers=()):
        self.wfile.write(self.head(status, ["Content-Type: application/json"]
                                   + list(headers), len(body)) + body)
        self.wfile.flush()

    def reset(self):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.connection.close()

    def forward(self, req):
        """The upstream's answer to req: (status, headers, body)."""
        method, path, headers, body = req
        up = self.server.upstream
        if up is None:
            return 502, ["Content-Type: text/plain"], b"no upstream"
        raw = [f"{method} {path} HTTP/1.1"] + headers + [
            "Connection: close", f"Content-Length: {len(body)}"]
        with socket.create_connection(("127.0.0.1", up), timeout=30) as s:
            s.sendall(("\r\n".join(raw) + "\r\n\r\n").encode("latin-1") + body)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        top, _, rbody = data.partition(b"\r\n\r\n")
        lines = top.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        keep = []
        chunked = False
        for h in lines[1:]:
            k = h.partition(":")[0].strip().lower()
            if k == "transfer-encoding" and "chunked" in h.lower():
                chunked = True
            if k not in ("content-length", "transfer-encoding", "connection",
                         "keep-alive"):
                keep.append(h)
        if chunked:
            rbody = unchunk(rbody)
        return status, keep, rbody

    def handle(self):
        while True:
            try:
                req = self.read_raw()
            except (OSError, ValueError):
                return
            if req is None:
                return
            try:
                if not self.answer(req):
                    return
            except OSError:
                return

    def answer(self, req):
        name = self.server.name
        n = matrix_count(name)
        with lock:
            mode = Matrix.modes.get(name, "ok")
        if name == "tls-good":
            loc = f"http://127.0.0.2:{Matrix.ports.get('other')}{req[1]}"
            self.reply(302, b"", [f"Location: {loc}"])
            return True
        if self.server.tls:
            self.reply(500, b'{"errors":["this handshake should have failed"]}')
            return True
        if mode == "reset-hdr":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: appl")
            self.wfile.flush()
            time.sleep(0.05)
            self.reset()
            return False
        if mode == "reset-body":
            self.wfile.write(self.head(200, ["Content-Type: application/json"],
                                       4096) + b'{"data":' + b" " * 92)
            self.wfile.flush()
            time.sleep(0.05)
            self.reset()
            return False
        if mode == "drip":
            text = self.head(200, ["Content-Type: application/json"], 64) + \
                b"{" + b" " * 62 + b"}"
            for i in range(len(text)):
                self.wfile.write(text[i:i + 1])
                self.wfile.flush()
                time.sleep(1)
            return False
        if mode == "hang":
            self.connection.settimeout(60)
            try:
                while self.connection.recv(4096):
                    pass
            except OSError:
                pass
            return False
        if mode == "chunked":
            self.wfile.write(self.head(200, ["Content-Type: application/json",
                                             "Transfer-Encoding: chunked"]))
            piece = b'{"data":"' + b"x" * (256 * 1024 - 9)
            frame = b"%x\r\n" % len(piece) + piece + b"\r\n"
            for _ in range(512):  # stops at 128 MiB whatever happens
                self.wfile.write(frame)
            return False
        if mode == "big":
            size = 33 * 1024 * 1024
            self.wfile.write(self.head(200, ["Content-Type: application/json"],
                                       size))
            block = b"x" * (1024 * 1024)
            for _ in range(33):
                self.wfile.write(block)
            self.wfile.flush()
            return True
        if mode in ("429-1", "429-huge") or (mode == "429-200" and n == 1):
            wait = "86400" if mode == "429-huge" else "1"
            self.reply(429, b'{"errors":["rate limit exceeded"]}',
                       [f"Retry-After: {wait}"])
            return True
        if mode == "503" or (mode == "500-200" and n == 1):
            code = 503 if mode == "503" else 500
            self.reply(code, b'{"errors":["injected %d"]}' % code)
            return True
        if mode.startswith("redir-"):
            path = req[1]
            loc = {"redir-host": f"http://127.0.0.2:{Matrix.ports.get('other')}{path}",
                   "redir-file": "file:///etc/passwd"}[mode]
            self.reply(302, b"", [f"Location: {loc}"])
            return True
        status, headers, body = self.forward(req)
        if mode == "trunc-json":
            body = body[:len(body) // 2]
        elif mode == "bad-json":
            body = JUNK
        elif mode == "ctype":
            headers = [h for h in headers
                       if not h.lower().startswith("content-type")]
            headers.append("Content-Type: text/html; charset=utf-8")
        self.wfile.write(self.head(status, headers, len(body)) + body)
        self.wfile.flush()
        return True


def unchunk(data):
    out = b""
    while data:
        size, _, data = data.partition(b"\r\n")
        n = int(size.split(b";")[0], 16)
        if n == 0:
            break
        out += data[:n]
        data = data[n + 2:]
    return out


class MatrixServer(Server):
    name, upstream, tls, ctx = "", None, False, None

    def get_request(self):
        sock, addr = super().get_request()
        if not self.tls:
            return sock, addr
        sock.settimeout(5)
        try:
            tls = self.ctx.wrap_socket(sock, server_side=True)
        except (ssl.SSLError, OSError):
            sock.close()
            raise
        tls.settimeout(None)
        return tls, addr


class Control(socketserver.StreamRequestHandler):
    def handle(self):
        line = self.rfile.readline(8192).decode("latin-1")
        while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
            pass
        parts = line.split(" ")[1].strip("/").split("/")
        if parts[0] == "set" and len(parts) == 3:
            with lock:
                Matrix.modes[parts[1]] = parts[2]
                Matrix.hits[parts[1]] = 0
                Matrix.times[parts[1]] = []
            body = b"ok"
        elif parts[0] == "hits" and len(parts) == 2:
            with lock:
                body = b"%d" % Matrix.hits.get(parts[1], 0)
        elif parts[0] == "gap" and len(parts) == 2:
            with lock:
                t = Matrix.times.get(parts[1], [])
                body = b"%d" % (int((t[1] - t[0]) * 1000)
                                if len(t) == 2 else -1)
        else:
            body = b"unknown"
        self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n"
                         % len(body) + body)


def matrix_listener(name, addr, port, upstream=None, cert=None, key=None):
    s = MatrixServer((addr, port), MatrixHandler)
    s.name, s.upstream = name, upstream
    if cert is not None:
        s.tls = True
        s.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        s.ctx.load_cert_chain(cert, key)
    Matrix.ports[name] = port
    return s


def main():
    global log_file
    argv, servers, setup = sys.argv[1:], [], None
    while argv:
        a = argv.pop(0)
        if a == "--setup":
            setup = argv.pop(0)
        elif a == "--log":
            log_file = argv.pop(0)
        elif a == "--http":
            servers.append(Server(("127.0.0.1", int(argv.pop(0))), Handler))
        elif a == "--ctl":
            servers.append(Server(("127.0.0.1", int(argv.pop(0))), Control))
        elif a == "--listen":
            name, addr, port = argv.pop(0), argv.pop(0), int(argv.pop(0))
            up = None
            if argv and argv[0].isdigit():
                up = int(argv.pop(0))
            servers.append(matrix_listener(name, addr, port, up))
        elif a == "--listen-tls":
            name, port, cert, key = argv.pop(0), int(argv.pop(0)), \
                argv.pop(0), argv.pop(0)
            servers.append(matrix_listener(name, "127.0.0.1", port, None,
                                           cert, key))
        elif a == "--https":
            port, cert, key = int(argv.pop(0)), argv.pop(0), argv.pop(0)
            s = TLSServer(("127.0.0.1", port), Handler)
            s.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            s.ctx.load_cert_chain(cert, key)
            servers.append(s)
        else:
            sys.exit(f"fault_server: unknown argument {a}")
    if setup is None or not servers:
        sys.exit(__doc__)
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    with open(setup + ".tmp", "w") as f:
        json.dump({"pub": PUB}, f)
    os.rename(setup + ".tmp", setup)
    time.sleep(float(os.environ.get("FAULT_SERVER_LIFETIME", "300")))


if __name__ == "__main__":
    main()
