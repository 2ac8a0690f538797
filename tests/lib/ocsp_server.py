#!/usr/bin/env python3
"""Loopback OCSP responder for answers `openssl ocsp` will not give.

  ocsp_server.py PORT ISSUER.pem ISSUER.key CERT.pem...

Answers "good" for the listed certificates, signed by the issuer; the
request path picks the flavour:
  /good     current (thisUpdate 1 min ago, nextUpdate in 1 h), nonce echoed
  /stale    thisUpdate 2 h ago, nextUpdate 1 h ago, nonce echoed
  /replay   current, but with another nonce (as a replayed answer has)
"""
import datetime
import http.server
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

PORT = int(sys.argv[1])
ISSUER = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
KEY = serialization.load_pem_private_key(open(sys.argv[3], "rb").read(), None)
CERTS = {}
for path in sys.argv[4:]:
    c = x509.load_pem_x509_certificate(open(path, "rb").read())
    CERTS[c.serial_number] = c


def answer(flavour, req):
    now = datetime.datetime.utcnow()
    this_up, next_up = now - datetime.timedelta(minutes=1), now + datetime.timedelta(hours=1)
    if flavour == "/stale":
        this_up, next_up = now - datetime.timedelta(hours=2), now - datetime.timedelta(hours=1)
    b = ocsp.OCSPResponseBuilder().add_response(
        cert=CERTS[req.serial_number], issuer=ISSUER, algorithm=hashes.SHA1(),
        cert_status=ocsp.OCSPCertStatus.GOOD, this_update=this_up, next_update=next_up,
        revocation_time=None, revocation_reason=None,
    ).responder_id(ocsp.OCSPResponderEncoding.HASH, ISSUER)
    try:
        nonce = req.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        nonce = None
    if flavour == "/replay":
        nonce = os.urandom(16)
    if nonce is not None:
        b = b.add_extension(x509.OCSPNonce(nonce), False)
    return b.sign(KEY, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        req = ocsp.load_der_ocsp_request(body)
        if self.path not in ("/good", "/stale", "/replay") or req.serial_number not in CERTS:
            self.send_error(404)
            return
        data = answer(self.path, req)
        self.send_response(200)
        self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def main():
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    with http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler) as srv:
        srv.serve_forever()


if __name__ == "__main__":
    main()
