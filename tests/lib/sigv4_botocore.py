#!/usr/bin/python3
"""Signs a set of requests with botocore's SigV4Auth (Debian's
python3-botocore) and prints them as JSON, so tests/unit/test_sigv4.c can
check our signer against botocore itself, with or without the published
test suite beside the project.

Each case: method, target (path?query as sent), headers ([name, value]),
body (base64), access_key, secret_key, token, region, service, amz_date,
and what botocore computed: creq, sts, signature, authorization.

usage: sigv4_botocore.py [SEED]   (the cases vary with SEED; default 1)
"""
import base64
import datetime
import json
import random
import sys

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SEED = int(sys.argv[1]) if len(sys.argv) > 1 else 1
rng = random.Random(SEED)


def word(n, alphabet="abcdefghijklmnopqrstuvwxyz0123456789"):
    return "".join(rng.choice(alphabet) for _ in range(n))


# Path segments and query values that exercise encoding: unreserved
# characters, spaces, reserved characters and UTF-8.
SEGMENTS = ["keys", "a b", "caf\u00e9", "x~y_z.-", "v1", "%41", "a+b", "=", "\u2713"]
QVALUES = ["", "1", "a b", "x/y", "a+b", "\u00e9", "~-._", "a=b&c", "%20"]


def make_case(i):
    service, host, method, target, headers, body = case_shape(i)
    when = datetime.datetime(2015 + rng.randrange(12), 1 + rng.randrange(12),
                             1 + rng.randrange(28), rng.randrange(24),
                             rng.randrange(60), rng.randrange(60))
    region = rng.choice(["us-east-1", "eu-west-3", "ap-southeast-2", "us-gov-west-1"])
    access_key = "AKIA" + word(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    secret_key = word(40, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/")
    token = word(rng.randrange(40, 300)) if rng.random() < 0.5 else None

    req = AWSRequest(method=method, url="https://" + host + target,
                     data=body, headers=dict(headers))
    auth = botocore.auth.SigV4Auth(Credentials(access_key, secret_key, token),
                                   service, region)
    # SigV4Auth.add_auth's steps, with our time instead of utcnow().
    req.context["timestamp"] = when.strftime(botocore.auth.SIGV4_TIMESTAMP)
    auth._modify_request_before_signing(req)
    creq = auth.canonical_request(req)
    sts = auth.string_to_sign(req, creq)
    signature = auth.signature(sts, req)
    auth._inject_signature_to_request(req, signature)
    return {
        "name": "botocore-%d-%d" % (SEED, i),
        "method": method, "target": target,
        "headers": [["Host", host]] + headers,
        "body": base64.b64encode(body).decode(),
        "access_key": access_key, "secret_key": secret_key, "token": token,
        "region": region, "service": service,
        "amz_date": req.context["timestamp"],
        "creq": creq, "sts": sts, "signature": signature,
        "authorization": req.headers["Authorization"],
    }


def case_shape(i):
    """One request as KMS, STS or a generic GET service would get it."""
    kind = i % 3
    if kind == 0:  # KMS JSON 1.1
        op = rng.choice(["Sign", "GetPublicKey", "DescribeKey"])
        body = json.dumps({"KeyId": "alias/" + word(8),
                           "Message": base64.b64encode(rng.randbytes(32)).decode(),
                           "MessageType": "DIGEST"}).encode()
        headers = [["Content-Type", "application/x-amz-json-1.1"],
                   ["X-Amz-Target", "TrentService." + op]]
        return "kms", "kms.%s.amazonaws.com" % word(6), "POST", "/", headers, body
    if kind == 1:  # STS query form
        body = ("Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2F"
                + word(10) + "&RoleSessionName=" + word(12)).encode()
        headers = [["Content-Type", "application/x-www-form-urlencoded; charset=utf-8"]]
        return "sts", "sts.amazonaws.com", "POST", "/", headers, body
    # A GET with an encoded path and a query, odd header values.
    from urllib.parse import quote
    path = "/" + "/".join(quote(rng.choice(SEGMENTS), safe="") for _ in range(rng.randrange(1, 4)))
    params = sorted({word(rng.randrange(1, 6)): rng.choice(QVALUES) for _ in range(rng.randrange(0, 4))}.items())
    query = "&".join(quote(k, safe="") + "=" + quote(v, safe="") for k, v in params)
    headers = [["X-Amz-Meta-" + word(4), "  spaced   value  "], ["Accept", "*/*"]]
    return "service", "example.amazonaws.com", "GET", path + ("?" + query if query else ""), headers, b""


print(json.dumps([make_case(i) for i in range(24)], indent=1))
