#!/usr/bin/python3
"""A loopback mock of the EC2 instance metadata service, IMDSv2 only:
  PUT /latest/api/token  (X-aws-ec2-metadata-token-ttl-seconds) -> token
  GET /latest/meta-data/iam/security-credentials/        -> role name
  GET /latest/meta-data/iam/security-credentials/<role>  -> credentials JSON
  GET /latest/meta-data/placement/region                 -> region
  GET /container/credentials   (ECS/EKS container endpoint; needs
      Authorization equal to --container-token)          -> credentials JSON
Every metadata GET needs X-aws-ec2-metadata-token with a token it issued (else 401,
as IMDS does with v1 turned off). The credentials served are read from the
JSON file given (AccessKeyId, SecretAccessKey, Token), e.g. a moto user.
Each request is logged to --log as one JSON line {method, path, token}
(token: whether a valid one came).

usage: imds_mock.py --port PORT --creds FILE [--role NAME] [--region R]
                    [--log FILE] [--bind ADDR] [--container-token T]
"""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

opts = {"role": "notation-ci", "region": "us-east-1", "log": None,
        "bind": "127.0.0.1", "container-token": None}
issued = set()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, text, ctype="text/plain"):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log(self, ok):
        if opts["log"]:
            with open(opts["log"], "a") as f:
                f.write(json.dumps({"method": self.command, "path": self.path,
                                    "token": ok}) + "\n")

    def do_PUT(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        if self.path != "/latest/api/token":
            self.log(False)
            return self.reply(404, "not found")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        if not ttl or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            self.log(False)
            return self.reply(400, "bad ttl")
        tok = "imds-" + os.urandom(12).hex()
        issued.add(tok)
        self.log(True)
        self.reply(200, tok)

    def creds(self):
        with open(opts["creds"]) as f:
            c = json.load(f)
        c.update({"Code": "Success", "Type": "AWS-HMAC",
                  "LastUpdated": "2026-01-01T00:00:00Z",
                  "Expiration": time.strftime(
                      "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))})
        return json.dumps(c)

    def do_GET(self):
        if self.path == "/container/credentials":
            ok = (opts["container-token"] is not None and
                  self.headers.get("Authorization") == opts["container-token"])
            self.log(ok)
            if not ok:
                return self.reply(403, "")
            return self.reply(200, self.creds(), "application/json")
        ok = self.headers.get("X-aws-ec2-metadata-token") in issued
        self.log(ok)
        if not ok:
            return self.reply(401, "")
        base = "/latest/meta-data/iam/security-credentials/"
        if self.path == base:
            return self.reply(200, opts["role"])
        if self.path == base + opts["role"]:
            return self.reply(200, self.creds(), "application/json")
        if self.path == "/latest/meta-data/placement/region":
            return self.reply(200, opts["region"])
        self.reply(404, "")


def main():
    argv, port = sys.argv[1:], None
    while argv:
        a = argv.pop(0)
        if a == "--port":
            port = int(argv.pop(0))
        elif a in ("--creds", "--role", "--region", "--log", "--bind",
                   "--container-token"):
            opts[a[2:]] = argv.pop(0)
        else:
            sys.exit(f"imds_mock: unknown argument {a}")
    if port is None or "creds" not in opts:
        sys.exit(__doc__)
    srv = ThreadingHTTPServer((opts["bind"], port), Handler)
    srv.daemon_threads = True
    srv.timeout = 1
    deadline = time.time() + float(os.environ.get("IMDS_MOCK_LIFETIME", "300"))
    while time.time() < deadline:
        srv.handle_request()


if __name__ == "__main__":
    main()
