#!/usr/bin/python3
"""A loopback mock of AWS KMS and STS for the AWS tests, from Debian
packages only (python3-cryptography, python3-botocore): a contract test
against a mock, not interop. It answers as real KMS does (kms.md 1.1), not
as moto does: JSON 1.1 errors with __type and message, HTTP 400.

KMS (POST /, X-Amz-Target: TrentService.<Op>, SigV4 service "kms"):
  GetPublicKey, DescribeKey, Sign (MessageType RAW or DIGEST, PSS salt =
  digest length, ECDSA answers in DER). KeyId: key id, key ARN, alias/NAME
  or alias ARN. Keys live in us-east-1; any other valid region is empty.
STS (POST /, form-encoded Action=...):
  AssumeRoleWithWebIdentity, unsigned as in AWS (the token is the
  credential); the token "invalid-token" is refused (InvalidIdentityToken).
  AssumeRole and GetCallerIdentity, SigV4-signed (service "sts", checked
  like KMS requests). AssumeRole honours each role's trust (which callers
  may assume it), ExternalId, the RoleSessionName rules and the one-hour
  cap on DurationSeconds for role chaining.
  They hand out ASIA... keys with a session token that KMS then requires.
IAM Identity Center portal (GET /federation/credentials?role_name=&
  account_id=, bearer token in x-amz-sso_bearer_token, no SigV4):
  GetRoleCredentials for the tokens and account roles in the setup; an
  unknown token is 401 UnauthorizedException, a role the token may not use
  403 ForbiddenException.

Every KMS request's Authorization header is checked: the request is rebuilt
as a botocore AWSRequest from the signed headers and signed again with
SigV4Auth using the secret of the access key named in the credential scope;
the scope's service, region and date and the X-Amz-Date skew (5 minutes)
are checked too, and a temporary key needs the session token it was issued
with. Then IAM: each principal has a list of allowed actions.

Principals written to --setup FILE (JSON) when ready, with the keys:
  signer  {id, secret}  kms:* and sts:*
  nobody  {id, secret}  no KMS rights (AccessDeniedException)
  pubsign {id, secret}  kms:GetPublicKey and kms:Sign only
  role_arn              role notation-signer (kms:*) for web identity,
                        assumable by signer and by sessions of chain-hop
                        and of the SSO role
  roles {hop, ext, ext_id, nokms}  chain-hop (may only assume roles;
                        trusts signer), ext-role (kms:*, needs ExternalId
                        ext_id), nokms-role (no KMS rights)
  sso {token, account, role, other_role}  a valid portal token and the
                        account role it may use (other_role: one it may not)
  keys    {"rsa-2048" ... "ec-521": {id, arn, pub (PEM)}}, plus aliases
          alias/enc (SYMMETRIC_DEFAULT), alias/secp256k1, alias/disabled
          (ECC_NIST_P256, disabled) and alias/pending (pending deletion).
--log FILE gets one JSON line per request: method, path, service, target
(KMS operation, STS action or GetRoleCredentials), akid (from the
credential scope, or null), status, error (__type or STS code, or null),
detail (AssumeRole: the role ARN, session name and ExternalId; the portal:
role and account), issued (the access key id handed out, or null), peer
(the client's port: one port for several requests is one kept-alive
connection).

usage: aws_mock.py --port PORT --setup FILE [--log FILE] [--bind ADDR]
The server exits after AWS_MOCK_LIFETIME seconds (default 900).
"""
import base64
import datetime
import fnmatch
import json
import os
import re
import secrets
import socket
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
from testkeys import rsa_key

ACCOUNT = "123456789012"
HOME_REGION = "us-east-1"
SKEW = 300
CORAL = "com.amazon.coral.service#"
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$")
HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
RSA_ALGS = ["RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384",
            "RSASSA_PKCS1_V1_5_SHA_512", "RSASSA_PSS_SHA_256",
            "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512"]
# KeySpec -> (key generator, signing algorithms KMS allows for it).
SPECS = {
    "RSA_2048": (lambda: rsa_key(2048), RSA_ALGS),
    "RSA_3072": (lambda: rsa_key(3072), RSA_ALGS),
    "RSA_4096": (lambda: rsa_key(4096), RSA_ALGS),
    "ECC_NIST_P256": (lambda: ec.generate_private_key(ec.SECP256R1()),
                      ["ECDSA_SHA_256"]),
    "ECC_NIST_P384": (lambda: ec.generate_private_key(ec.SECP384R1()),
                      ["ECDSA_SHA_384"]),
    "ECC_NIST_P521": (lambda: ec.generate_private_key(ec.SECP521R1()),
                      ["ECDSA_SHA_512"]),
    "ECC_SECG_P256K1": (lambda: ec.generate_private_key(ec.SECP256K1()),
                        ["ECDSA_SHA_256"]),
    "SYMMETRIC_DEFAULT": (lambda: os.urandom(32), []),
}
NAMED = {"rsa-2048": "RSA_2048", "rsa-3072": "RSA_3072",
         "rsa-4096": "RSA_4096", "ec-256": "ECC_NIST_P256",
         "ec-384": "ECC_NIST_P384", "ec-521": "ECC_NIST_P521"}
ROLE = "notation-signer"

lock = threading.Lock()
keys = {}       # (region, key id) -> key dict
aliases = {}    # (region, "alias/NAME") -> key id
principals = {}  # access key id -> {secret, token, arn, allow, expires,
#                  role (the role ARN of an assumed-role session)}
roles = {}      # role ARN -> {allow, trust (caller ARN globs), external_id}
sso_tokens = {}  # portal access token -> {(account, role name): allow}
opts = {"log": None, "bind": "127.0.0.1"}
tls = threading.local()  # .issued: keys handed out by this thread's request


class Fault(Exception):
    """An error answer: HTTP status, code, message."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def rand_id(prefix, n=16):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(n))


def role_arn(name):
    return "arn:aws:iam::%s:role/%s" % (ACCOUNT, name)


def session_arn(role_name, session):
    return "arn:aws:sts::%s:assumed-role/%s/%s" % (ACCOUNT, role_name,
                                                    session)


def new_session(arn, allow, dur, role=None):
    """A temporary principal (ASIA key, secret, session token)."""
    akid = rand_id("ASIA")
    cred = {"secret": new_secret(),
            "token": base64.b64encode(os.urandom(240)).decode(),
            "arn": arn, "allow": allow, "expires": time.time() + dur,
            "role": role}
    with lock:
        principals[akid] = cred
    return akid, cred


def new_secret():
    return base64.b64encode(os.urandom(30)).decode()


def add_principal(kind, name, allow):
    akid = rand_id("AKIA")
    principals[akid] = {"secret": new_secret(), "token": None,
                        "arn": "arn:aws:iam::%s:%s/%s" % (ACCOUNT, kind, name),
                        "allow": allow, "expires": None}
    return {"id": akid, "secret": principals[akid]["secret"]}


def add_key(spec, alias, usage="SIGN_VERIFY", state="Enabled"):
    kid = str(uuid.uuid4())
    priv = SPECS[spec][0]()
    keys[(HOME_REGION, kid)] = {
        "id": kid, "arn": "arn:aws:kms:%s:%s:key/%s" % (HOME_REGION, ACCOUNT,
                                                        kid),
        "spec": spec, "usage": usage, "state": state, "priv": priv,
        "created": time.time()}
    aliases[(HOME_REGION, "alias/" + alias)] = kid
    return keys[(HOME_REGION, kid)]


def pub_der(key):
    return key["priv"].public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)


def setup(path):
    out = {"account": ACCOUNT, "region": HOME_REGION, "keys": {}}
    out["signer"] = add_principal("user", "signer", ["kms:*", "sts:*"])
    out["nobody"] = add_principal("user", "nobody", ["s3:ListBucket"])
    out["pubsign"] = add_principal("user", "pubsign",
                                   ["kms:GetPublicKey", "kms:Sign"])
    out["role_arn"] = role_arn(ROLE)
    signer_arn = principals[out["signer"]["id"]]["arn"]
    roles[out["role_arn"]] = {"allow": ["kms:*"], "trust": [
        signer_arn, session_arn("chain-hop", "*"),
        session_arn("AWSReservedSSO_*", "*")], "external_id": None}
    out["roles"] = {"hop": role_arn("chain-hop"), "ext": role_arn("ext-role"),
                    "ext_id": "ext-42", "nokms": role_arn("nokms-role")}
    roles[role_arn("chain-hop")] = {"allow": ["sts:AssumeRole"],
                                    "trust": [signer_arn],
                                    "external_id": None}
    roles[role_arn("ext-role")] = {"allow": ["kms:*"], "trust": [signer_arn],
                                   "external_id": "ext-42"}
    roles[role_arn("nokms-role")] = {"allow": ["s3:ListBucket"],
                                     "trust": [signer_arn],
                                     "external_id": None}
    tok = "aoa" + base64.b64encode(os.urandom(48)).decode()
    sso_tokens[tok] = {(ACCOUNT, "SignerAccess"): ["kms:*", "sts:AssumeRole"]}
    out["sso"] = {"token": tok, "account": ACCOUNT, "role": "SignerAccess",
                  "other_role": "AdminAccess"}
    for name, spec in NAMED.items():
        k = add_key(spec, name)
        pem = k["priv"].public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        out["keys"][name] = {"id": k["id"], "arn": k["arn"], "pub": pem}
    add_key("SYMMETRIC_DEFAULT", "enc", usage="ENCRYPT_DECRYPT")
    add_key("ECC_SECG_P256K1", "secp256k1")
    add_key("ECC_NIST_P256", "disabled", state="Disabled")
    add_key("ECC_NIST_P256", "pending", state="PendingDeletion")
    return out


# ---- SigV4 ---------------------------------------------------------------

AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256 +Credential=([^,]+), *"
                     r"SignedHeaders=([^,]+), *Signature=([0-9a-f]{64})$")


def bad_sig(message):
    return Fault(400, CORAL + "InvalidSignatureException", message)


def unrecognized():
    return Fault(400, CORAL + "UnrecognizedClientException",
                 "The security token included in the request is invalid.")


def parse_auth(h):
    """Authorization -> (akid, date, region, service, signed, signature)."""
    auth = h.get("Authorization")
    if auth is None:
        raise Fault(400, CORAL + "MissingAuthenticationTokenException",
                    "Missing Authentication Token")
    m = AUTH_RE.match(auth.strip())
    scope = m.group(1).split("/") if m else []
    if not m or len(scope) != 5 or scope[4] != "aws4_request":
        raise Fault(400, CORAL + "IncompleteSignatureException",
                    "Authorization header requires 'Credential', "
                    "'Signature' and 'SignedHeaders' parameters with a "
                    "credential scope <key>/<date>/<region>/<service>/"
                    "aws4_request. Authorization=%s" % auth.split(" ")[0])
    return scope[0], scope[1], scope[2], scope[3], m.group(2), m.group(3)


def stamp(t):
    return t.strftime("%Y%m%dT%H%M%SZ")


def check_date(amz_date, scope_date):
    try:
        when = datetime.datetime.strptime(amz_date or "", "%Y%m%dT%H%M%SZ")
    except ValueError:
        raise Fault(400, CORAL + "IncompleteSignatureException",
                    "Authorization header requires existence of either a "
                    "'X-Amz-Date' or a 'Date' header.")
    if scope_date != amz_date[:8]:
        raise bad_sig("Date in Credential scope does not match YYYYMMDD "
                      "from ISO-8601 version of date from HTTP: '%s' != "
                      "'%s', from '%s'." % (scope_date, amz_date[:8],
                                            amz_date))
    now = datetime.datetime.utcnow().replace(microsecond=0)
    lo, hi = (now - datetime.timedelta(seconds=SKEW),
              now + datetime.timedelta(seconds=SKEW))
    if when < lo:
        raise bad_sig("Signature expired: %s is now earlier than %s (%s - "
                      "5 min.)" % (amz_date, stamp(lo), stamp(now)))
    if when > hi:
        raise bad_sig("Signature not yet current: %s is still later than "
                      "%s (%s + 5 min.)" % (amz_date, stamp(hi), stamp(now)))


def authenticate(handler, body, service):
    """The principal whose secret signed this request, or a Fault."""
    h = handler.headers
    akid, sdate, region, svc, signed, sig = parse_auth(h)
    handler.akid = akid
    if svc != service:
        raise bad_sig("Credential should be scoped to correct service: "
                      "'%s'. " % service)
    if not REGION_RE.match(region):
        raise bad_sig("Credential should be scoped to a valid region, not "
                      "'%s'. " % region)
    names = signed.split(";")
    if "host" not in names:
        raise Fault(400, CORAL + "IncompleteSignatureException",
                    "'Host' or ':authority' must be a 'SignedHeader' in the "
                    "AWS Authorization.")
    with lock:
        p = principals.get(akid)
        p = dict(p) if p else None
    if p is None:
        raise unrecognized()
    token = h.get("X-Amz-Security-Token")
    if p["token"] is not None or token is not None:
        if token != p["token"]:
            raise unrecognized()
        if p["expires"] is not None and time.time() > p["expires"]:
            raise Fault(400, CORAL + "ExpiredTokenException",
                        "The security token included in the request is "
                        "expired")
    check_date(h.get("X-Amz-Date"), sdate)
    # Rebuild the request from exactly the headers the client signed and
    # let botocore sign it again with the secret we hold for akid.
    req = AWSRequest(method=handler.command,
                     url="http://%s%s" % (h.get("Host", ""), handler.path),
                     data=body)
    for n in names:
        for v in h.get_all(n) or []:
            req.headers[n] = v  # appends: repeated headers stay repeated
    req.context["timestamp"] = h.get("X-Amz-Date")
    auth = SigV4Auth(Credentials(akid, p["secret"], token), svc, region)
    creq = auth.canonical_request(req)
    want = auth.signature(auth.string_to_sign(req, creq), req)
    if not secrets.compare_digest(want, sig) or \
            auth.signed_headers(auth.headers_to_sign(req)) != signed:
        raise bad_sig("The request signature we calculated does not match "
                      "the signature you provided. Check your AWS Secret "
                      "Access Key and signing method. Consult the service "
                      "documentation for details.")
    p["region"] = region
    return p


def authorize(p, action, resource):
    if any(fnmatch.fnmatchcase(action, a) for a in p["allow"]):
        return
    raise Fault(400, "AccessDeniedException",
                "User: %s is not authorized to perform: %s on resource: %s "
                "because no identity-based policy allows the %s action"
                % (p["arn"], action, resource, action))


# ---- KMS -----------------------------------------------------------------

def validation(message):
    return Fault(400, "ValidationException", message)


def find_key(region, ref):
    if not isinstance(ref, str) or not ref:
        raise validation("1 validation error detected: Value null at "
                         "'keyId' failed to satisfy constraint: Member must "
                         "not be null")
    name = ref
    if ref.startswith("arn:"):
        m = re.match(r"^arn:aws:kms:([^:]+):([0-9]{12}):((key|alias)/.+)$",
                     ref)
        if not m:
            raise Fault(400, "InvalidArnException",
                        "ARN does not contain a valid resource: %s" % ref)
        if m.group(1) != region or m.group(2) != ACCOUNT:
            raise Fault(400, "NotFoundException",
                        "Key '%s' does not exist" % ref)
        name = m.group(3)
        if name.startswith("key/"):
            name = name[4:]
    with lock:
        if name.startswith("alias/"):
            kid = aliases.get((region, name))
            if kid is None:
                raise Fault(400, "NotFoundException",
                            "Alias arn:aws:kms:%s:%s:%s is not found."
                            % (region, ACCOUNT, name))
        else:
            kid = name
        key = keys.get((region, kid))
    if key is None:
        if not re.match(r"^([0-9a-f-]{36}|mrk-[0-9a-f]{32})$", kid):
            raise Fault(400, "NotFoundException", "Invalid keyId '%s'" % ref)
        raise Fault(400, "NotFoundException", "Key 'arn:aws:kms:%s:%s:key/%s'"
                    " does not exist" % (region, ACCOUNT, kid))
    return key


def usable(key, op):
    """Refuses a key that is not Enabled, as KMS does for crypto calls."""
    if key["state"] == "Disabled":
        raise Fault(400, "DisabledException", "%s is disabled." % key["arn"])
    if key["state"] != "Enabled":
        raise Fault(400, "KMSInvalidStateException", "%s is pending "
                    "deletion." % key["arn"])
    if key["usage"] != "SIGN_VERIFY":
        raise Fault(400, "UnsupportedOperationException" if op ==
                    "GetPublicKey" else "InvalidKeyUsageException",
                    "%s key usage is %s (key spec %s) which is not valid for "
                    "%s." % (key["arn"], key["usage"], key["spec"], op))


def metadata(key):
    md = {"AWSAccountId": ACCOUNT, "KeyId": key["id"], "Arn": key["arn"],
          "CreationDate": key["created"], "Enabled": key["state"] == "Enabled",
          "Description": "", "KeyUsage": key["usage"],
          "KeyState": key["state"], "Origin": "AWS_KMS",
          "KeyManager": "CUSTOMER", "CustomerMasterKeySpec": key["spec"],
          "KeySpec": key["spec"], "MultiRegion": False}
    if key["usage"] == "SIGN_VERIFY":
        md["SigningAlgorithms"] = SPECS[key["spec"]][1]
    else:
        md["EncryptionAlgorithms"] = ["SYMMETRIC_DEFAULT"]
    if key["state"] == "PendingDeletion":
        md["DeletionDate"] = key["created"] + 7 * 86400
    return md


def kms_sign(key, req):
    usable(key, "Sign")
    alg = req.get("SigningAlgorithm")
    if alg not in RSA_ALGS + ["ECDSA_SHA_256", "ECDSA_SHA_384",
                              "ECDSA_SHA_512"]:
        raise validation("1 validation error detected: Value '%s' at "
                         "'signingAlgorithm' failed to satisfy constraint: "
                         "Member must satisfy enum value set" % alg)
    if alg not in SPECS[key["spec"]][1]:
        raise Fault(400, "InvalidKeyUsageException", "Algorithm %s is "
                    "incompatible with key spec %s." % (alg, key["spec"]))
    mtype = req.get("MessageType", "RAW")
    if mtype not in ("RAW", "DIGEST"):
        raise validation("MessageType %s is not valid for %s." % (mtype, alg))
    try:
        msg = base64.b64decode(req.get("Message") or "", validate=True)
    except ValueError:
        raise Fault(400, "SerializationException", "Message is not base64")
    h = HASHES[alg[-3:]]()
    if not msg or (mtype == "RAW" and len(msg) > 4096):
        raise validation("1 validation error detected: Value at 'message' "
                         "failed to satisfy constraint: Member must have "
                         "length between 1 and 4096")
    if mtype == "DIGEST":
        if len(msg) != h.digest_size:
            raise validation("Digest is invalid length for algorithm %s."
                             % alg)
        algo = utils.Prehashed(h)
    else:
        algo = h
    if alg.startswith("ECDSA"):
        sig = key["priv"].sign(msg, ec.ECDSA(algo))
    elif alg.startswith("RSASSA_PSS"):
        sig = key["priv"].sign(msg, padding.PSS(
            mgf=padding.MGF1(h), salt_length=h.digest_size), algo)
    else:
        sig = key["priv"].sign(msg, padding.PKCS1v15(), algo)
    return {"KeyId": key["arn"], "Signature": base64.b64encode(sig).decode(),
            "SigningAlgorithm": alg}


def kms(handler, body):
    op = handler.target
    p = authenticate(handler, body, "kms")
    if op not in ("GetPublicKey", "DescribeKey", "Sign"):
        raise Fault(400, CORAL + "UnknownOperationException", "")
    try:
        req = json.loads(body or b"{}")
        if not isinstance(req, dict):
            raise ValueError
    except ValueError:
        raise Fault(400, "SerializationException", "Start of structure or "
                    "map found where not expected.")
    key = find_key(p["region"], req.get("KeyId"))
    authorize(p, "kms:" + op, key["arn"])
    if op == "DescribeKey":
        return {"KeyMetadata": metadata(key)}
    if op == "Sign":
        return kms_sign(key, req)
    usable(key, op)
    return {"KeyId": key["arn"],
            "PublicKey": base64.b64encode(pub_der(key)).decode(),
            "CustomerMasterKeySpec": key["spec"], "KeySpec": key["spec"],
            "KeyUsage": key["usage"],
            "SigningAlgorithms": SPECS[key["spec"]][1]}


# ---- STS -----------------------------------------------------------------

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


def sts_xml(action, result, rid):
    inner = "".join("    %s\n" % line for line in result)
    return ('<%sResponse xmlns="%s">\n  <%sResult>\n%s  </%sResult>\n'
            '  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n'
            '  </ResponseMetadata>\n</%sResponse>\n'
            % (action, STS_NS, action, inner, action, rid, action))


def web_identity(form):
    def one(name):
        v = form.get(name, [""])[0]
        if not v:
            raise Fault(400, "MissingParameter", "The request must contain "
                        "the parameter %s" % name)
        return v
    role, sess, tok = (one("RoleArn"), one("RoleSessionName"),
                       one("WebIdentityToken"))
    if not re.match(r"^[\w+=,.@-]{2,64}$", sess):
        raise Fault(400, "ValidationError", "1 validation error detected: "
                    "Value '%s' at 'roleSessionName' failed to satisfy "
                    "constraint" % sess)
    if tok == "invalid-token" or len(tok) < 4:
        raise Fault(400, "InvalidIdentityToken",
                    "Couldn't verify the web identity token")
    with lock:
        r = roles.get(role)
    if r is None:
        raise Fault(403, "AccessDenied", "Not authorized to perform "
                    "sts:AssumeRoleWithWebIdentity")
    dur = int(form.get("DurationSeconds", ["3600"])[0])
    return ["<SubjectFromWebIdentityToken>ci</SubjectFromWebIdentityToken>",
            "<Audience>sts.amazonaws.com</Audience>"] + \
        issue(role, sess, r["allow"], dur) + ["<Provider>ci</Provider>"]


def issue(role, sess, allow, dur):
    """AssumedRoleUser and Credentials of a new session of role."""
    akid, cred = new_session(session_arn(role.rsplit("/", 1)[1], sess),
                             allow, dur, role)
    tls.issued.append(akid)
    exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(cred["expires"]))
    return [
        "<AssumedRoleUser>",
        "  <Arn>%s</Arn>" % escape(cred["arn"]),
        "  <AssumedRoleId>AROA%s:%s</AssumedRoleId>" % (akid[4:],
                                                        escape(sess)),
        "</AssumedRoleUser>",
        "<Credentials>",
        "  <SessionToken>%s</SessionToken>" % cred["token"],
        "  <SecretAccessKey>%s</SecretAccessKey>" % cred["secret"],
        "  <Expiration>%s</Expiration>" % exp,
        "  <AccessKeyId>%s</AccessKeyId>" % akid,
        "</Credentials>"]


def assume_role(handler, body, form):
    """sts:AssumeRole, signed by the caller whose trust the role names."""
    p = authenticate(handler, body, "sts")
    role = form.get("RoleArn", [""])[0]
    sess = form.get("RoleSessionName", [""])[0]
    ext = form.get("ExternalId", [None])[0]
    handler.detail = {"role": role, "session": sess, "external_id": ext}
    if not role or not sess:
        raise Fault(400, "MissingParameter", "The request must contain the "
                    "parameters RoleArn and RoleSessionName")
    if not re.match(r"^[\w+=,.@-]{2,64}$", sess):
        raise Fault(400, "ValidationError", "1 validation error detected: "
                    "Value '%s' at 'roleSessionName' failed to satisfy "
                    "constraint" % sess)
    with lock:
        r = roles.get(role)
    denied = Fault(403, "AccessDenied", "User: %s is not authorized to "
                   "perform: sts:AssumeRole on resource: %s" % (p["arn"],
                                                                role))
    if r is None or not any(fnmatch.fnmatchcase(p["arn"], t)
                            for t in r["trust"]):
        raise denied
    if r["external_id"] is not None and ext != r["external_id"]:
        raise denied
    authorize(p, "sts:AssumeRole", role)
    try:
        dur = int(form.get("DurationSeconds", ["3600"])[0])
    except ValueError:
        raise Fault(400, "ValidationError", "DurationSeconds is not a number")
    if not 900 <= dur <= 43200:
        raise Fault(400, "ValidationError", "1 validation error detected: "
                    "Value '%d' at 'durationSeconds' failed to satisfy "
                    "constraint: Member must have value between 900 and "
                    "43200" % dur)
    if p.get("role") is not None and dur > 3600:
        raise Fault(400, "ValidationError", "The requested DurationSeconds "
                    "exceeds the 1 hour session limit for roles assumed by "
                    "role chaining.")
    return issue(role, sess, r["allow"], dur)


def caller_identity(handler, body):
    p = authenticate(handler, body, "sts")
    return ["<Arn>%s</Arn>" % escape(p["arn"]),
            "<UserId>%s</UserId>" % handler.akid,
            "<Account>%s</Account>" % ACCOUNT]


def sts(handler, body, form):
    if handler.target == "AssumeRoleWithWebIdentity":
        return web_identity(form)
    if handler.target == "AssumeRole":
        return assume_role(handler, body, form)
    if handler.target == "GetCallerIdentity":
        return caller_identity(handler, body)
    raise Fault(400, "InvalidAction", "Could not find operation %s for "
                "version 2011-06-15" % handler.target)


# STS names the SigV4 faults that KMS calls *Exception.
STS_CODES = {"InvalidSignatureException": (403, "SignatureDoesNotMatch"),
             "IncompleteSignatureException": (400, "IncompleteSignature"),
             "UnrecognizedClientException": (403, "InvalidClientTokenId"),
             "ExpiredTokenException": (400, "ExpiredToken"),
             "MissingAuthenticationTokenException": (403,
                                                     "MissingAuthenticationToken")}


def sts_fault(f):
    status, code = STS_CODES.get(f.code.split("#")[-1], (f.status, f.code))
    return Fault(status, code, f.message)


# ---- IAM Identity Center portal --------------------------------------------

def role_credentials(handler, query):
    tok = handler.headers.get("x-amz-sso_bearer_token")
    role = query.get("role_name", [""])[0]
    acct = query.get("account_id", [""])[0]
    handler.detail = {"role": role, "account": acct,
                      "bearer": tok is not None}
    with lock:
        grants = sso_tokens.get(tok or "")
    if grants is None:
        raise Fault(401, "UnauthorizedException", "Session token not found "
                    "or invalid")
    allow = grants.get((acct, role))
    if allow is None:
        raise Fault(403, "ForbiddenException", "No access")
    akid, cred = new_session(session_arn("AWSReservedSSO_" + role + "_0a1b",
                                         "sso-user"), allow, 3600)
    tls.issued.append(akid)
    return {"roleCredentials": {
        "accessKeyId": akid, "secretAccessKey": cred["secret"],
        "sessionToken": cred["token"],
        "expiration": int(cred["expires"] * 1000)}}


# ---- HTTP ----------------------------------------------------------------

def internal(e):
    """A bug in this mock: shown on stderr, answered as a 500."""
    traceback.print_exception(e)
    return Fault(500, "KMSInternalException", "mock error: %r" % e)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without this, Nagle and
        # the client's delayed ACK add 40 ms to every reused connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        pass

    def send(self, status, data, ctype, rid):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", rid)
        self.end_headers()
        self.wfile.write(data)

    def log(self, service, status, error):
        if not opts["log"]:
            return
        line = json.dumps({"method": self.command, "path": self.path,
                           "service": service, "target": self.target,
                           "akid": self.akid, "status": status,
                           "error": error,
                           "detail": getattr(self, "detail", None),
                           "issued": (getattr(tls, "issued", None) or [None])[-1],
                           "peer": self.client_address[1]})
        with lock, open(opts["log"], "a") as f:
            f.write(line + "\n")

    def do_GET(self):
        tls.issued = []
        self.target, self.akid, self.detail = None, None, None
        rid = str(uuid.uuid4())
        path, _, query = self.path.partition("?")
        if path != "/federation/credentials":
            self.log(None, 404, "NotFound")
            return self.send(404, b"", "text/plain", rid)
        self.target = "GetRoleCredentials"
        try:
            out = role_credentials(self, parse_qs(query))
        except Exception as e:
            f = e if isinstance(e, Fault) else internal(e)
            self.log("sso", f.status, f.code)
            return self.send(f.status, json.dumps({"message": f.message})
                             .encode(), "application/json", rid)
        self.log("sso", 200, None)
        self.send(200, json.dumps(out).encode(), "application/json", rid)

    def do_POST(self):
        tls.issued = []
        rid = str(uuid.uuid4())
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target") or ""
        self.akid, self.detail = None, None
        if target.startswith("TrentService."):
            self.target = target[len("TrentService."):]
            return self.answer_kms(body, rid)
        form = parse_qs(body.decode("utf-8", "replace"))
        self.target = form.get("Action", [None])[0]
        self.answer_sts(body, form, rid)

    def answer_kms(self, body, rid):
        ctype = "application/x-amz-json-1.1"
        try:
            out = kms(self, body)
        except Exception as e:  # a bug here: 500, never a dropped connection
            f = e if isinstance(e, Fault) else internal(e)
            self.log("kms", f.status, f.code.split("#")[-1])
            return self.send(f.status, json.dumps(
                {"__type": f.code, "message": f.message}).encode(), ctype, rid)
        self.log("kms", 200, None)
        self.send(200, json.dumps(out).encode(), ctype, rid)

    def answer_sts(self, body, form, rid):
        try:
            result = sts(self, body, form)
        except Exception as e:
            f = sts_fault(e) if isinstance(e, Fault) else internal(e)
            self.log("sts", f.status, f.code)
            xml = ('<ErrorResponse xmlns="%s">\n  <Error>\n    <Type>Sender'
                   '</Type>\n    <Code>%s</Code>\n    <Message>%s</Message>\n'
                   '  </Error>\n  <RequestId>%s</RequestId>\n'
                   '</ErrorResponse>\n' % (STS_NS, f.code, escape(f.message),
                                            rid))
            return self.send(f.status, xml.encode(), "text/xml", rid)
        self.log("sts", 200, None)
        self.send(200, sts_xml(self.target, result, rid).encode(),
                  "text/xml", rid)


def main():
    argv, port, path = sys.argv[1:], None, None
    while argv:
        a = argv.pop(0)
        if a == "--port" and argv:
            port = int(argv.pop(0))
        elif a == "--setup" and argv:
            path = argv.pop(0)
        elif a in ("--log", "--bind") and argv:
            opts[a[2:]] = argv.pop(0)
        else:
            sys.exit(__doc__)
    if port is None or path is None:
        sys.exit(__doc__)
    out = setup(path)
    srv = ThreadingHTTPServer((opts["bind"], port), Handler)
    srv.daemon_threads = True
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f)
    os.rename(tmp, path)
    lifetime = float(os.environ.get("AWS_MOCK_LIFETIME", "900"))
    timer = threading.Timer(lifetime, srv.shutdown)
    timer.daemon = True
    timer.start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
