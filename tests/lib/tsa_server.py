#!/usr/bin/python3
"""A test RFC 3161 timestamp authority on 127.0.0.1: `openssl ts -reply`
behind a tiny HTTP server. The URL path picks the behaviour:

  /ok        a proper reply (section tsa_ok of the config)
  /badeku    signed by a TSA certificate with an extra extended key usage
  /ess1      only the ESS signing-certificate (v1, SHA-1) attribute
  /nonce     a granted reply to a different query (wrong nonce)
  /othernonce  a granted reply to this query but another nonce: a proper
             reply in every other respect
  /garbage   HTTP 200, application/timestamp-reply, but not DER
  /slow      sleeps --slow seconds, then a proper reply
  /status500 HTTP 500
  /ctype     a proper reply labelled text/plain

  tsa_server.py --port N --config tsa.cnf [--slow 5]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
LOCK = threading.Lock()  # openssl ts updates the serial file


def ts_reply(section, query):
    with tempfile.TemporaryDirectory() as d:
        q, r = os.path.join(d, "q.tsq"), os.path.join(d, "r.tsr")
        with open(q, "wb") as f:
            f.write(query)
        with LOCK:
            p = subprocess.run(["openssl", "ts", "-reply", "-config",
                                ARGS.config, "-section", section,
                                "-queryfile", q, "-out", r],
                               capture_output=True)
        if p.returncode != 0:
            sys.stderr.write(p.stderr.decode(errors="replace"))
            return None
        with open(r, "rb") as f:
            return f.read()


def der_len(b, i):
    """(length, offset of the contents) for the DER length at b[i]."""
    if b[i] < 0x80:
        return b[i], i + 1
    k = b[i] & 0x7F
    return int.from_bytes(b[i + 1:i + 1 + k], "big"), i + 1 + k


def other_nonce(query):
    """query with one bit of its nonce flipped (TimeStampReq: version,
    messageImprint, reqPolicy?, nonce?, certReq?, extensions?)."""
    q = bytearray(query)
    _, i = der_len(q, 1)
    seen = 0
    while i < len(q):
        n, c = der_len(q, i + 1)
        if q[i] == 0x02:  # INTEGER: version first, then the nonce
            seen += 1
            if seen == 2:
                q[c + n - 1] ^= 0x02  # low byte: sign and size unchanged
                return bytes(q)
        i = c + n
    raise ValueError("the query has no nonce")


def other_query():
    """A fresh query (own random nonce) over other data."""
    p = subprocess.run(["openssl", "ts", "-query", "-digest", "00" * 32,
                        "-sha256", "-cert"], capture_output=True, check=True)
    return p.stdout


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        if ARGS.verbose:
            sys.stderr.write("tsa: " + fmt % a + "\n")

    def answer(self, code, body, ctype="application/timestamp-reply"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        query = self.rfile.read(n)
        # A query (an API key, say) does not change the behaviour.
        mode = self.path.split("?")[0].strip("/") or "ok"
        if self.headers.get("Content-Type") != "application/timestamp-query":
            return self.answer(415, b"want application/timestamp-query",
                               "text/plain")
        if mode == "status500":
            return self.answer(500, b"boom", "text/plain")
        if mode == "garbage":
            return self.answer(200, b"\x30\x03garbage, not a reply")
        if mode == "slow":
            time.sleep(ARGS.slow)
        section = {"badeku": "tsa_badeku", "ess1": "tsa_ess1"}.get(
            mode, "tsa_ok")
        if mode == "nonce":
            query = other_query()
        if mode == "othernonce":
            query = other_nonce(query)
        reply = ts_reply(section, query)
        if reply is None:
            return self.answer(500, b"openssl ts failed", "text/plain")
        if mode == "ctype":
            return self.answer(200, reply, "text/plain")
        return self.answer(200, reply)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--slow", type=float, default=5.0)
    p.add_argument("--verbose", action="store_true")
    ARGS = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()
