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
