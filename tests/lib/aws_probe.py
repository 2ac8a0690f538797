#!/usr/bin/python3
"""Sends one AWS KMS JSON 1.1 request signed by botocore's SigV4Auth (not by
our C signer) and prints the answer as JSON {"status", "body"}, so a test
can check what tests/lib/aws_mock.py accepts and refuses: a good signature,
a wrong secret, a body changed after signing, a stale date, another
service's scope.

usage: aws_probe.py URL OPERATION BODY-JSON AKID SECRET [options]
  --token T        session token (X-Amz-Security-Token, signed)
  --region R       credential scope region (default us-east-1)
  --service S      credential scope service (default kms)
  --skew SECONDS   sign with the clock moved by SECONDS
  --tamper         change the body after signing
"""
import datetime
import json
import sys
import urllib.error
import urllib.request

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def main():
    args = sys.argv[1:]
    if len(args) < 5:
        sys.exit(__doc__)
    url, op, body, akid, secret = args[:5]
    opt = {"token": None, "region": "us-east-1", "service": "kms",
           "skew": "0", "tamper": False}
    rest = args[5:]
    while rest:
        a = rest.pop(0)
        if a == "--tamper":
            opt["tamper"] = True
        elif a[2:] in opt and rest:
            opt[a[2:]] = rest.pop(0)
        else:
            sys.exit(__doc__)
    data = body.encode()
    req = AWSRequest(method="POST", url=url, data=data, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "TrentService." + op})
    auth = botocore.auth.SigV4Auth(Credentials(akid, secret, opt["token"]),
                                   opt["service"], opt["region"])
    when = datetime.datetime.utcnow() + datetime.timedelta(
        seconds=int(opt["skew"]))
    # SigV4Auth.add_auth's steps, with our clock instead of utcnow().
    req.context["timestamp"] = when.strftime(botocore.auth.SIGV4_TIMESTAMP)
    auth._modify_request_before_signing(req)
    creq = auth.canonical_request(req)
    auth._inject_signature_to_request(
        req, auth.signature(auth.string_to_sign(req, creq), req))
    if opt["tamper"]:
        data = data.replace(b"}", b',"GrantTokens":[]}', 1)
    http = urllib.request.Request(url, data=data, method="POST",
                                  headers=dict(req.headers.items()))
    try:
        with urllib.request.urlopen(http, timeout=10) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    print(json.dumps({"status": status, "body": json.loads(text)}))


if __name__ == "__main__":
    main()
