#!/usr/bin/python3
"""A loopback mock of Google Cloud KMS and of the Google token endpoints,
for the gcpkms:// tests: real keys, the documented REST shapes and CRC32C
integrity fields, Google's error model, and token endpoints that check
what a real one checks (the JWT-bearer assertion's RS256 signature, iss,
aud, scope, iat and exp; refresh tokens; STS token exchange with an OIDC
subject token; service account impersonation; the metadata server's
Metadata-Flavor header). A contract test against a mock, not interop.

Endpoints (every one on each listener):
  GET  /v1/<version name>/publicKey      pem, pemCrc32c, algorithm, name
  GET  /v1/<version name>                state, algorithm
  POST /v1/<version name>:asymmetricSign digest + digestCrc32c -> DER/PSS
  POST /token                            grant_type jwt-bearer | refresh_token
  POST /sts/v1/token                     RFC 8693 token exchange
  POST /iam/v1/projects/-/serviceAccounts/<email>:generateAccessToken
  GET  /computeMetadata/v1/instance/service-accounts/default/token
  GET  /oidc/token                       a CI job's OIDC token (GitHub-like:
                                         Bearer job token -> {"value": jwt})
  POST /ctl/revoke                       forgets every access token issued
KMS calls need "Authorization: Bearer <token>" from one of the token
endpoints; each principal has permissions (signer: all, viewer:
viewPublicKey only, the federated CI identity: none but impersonating the
signer). User credentials must send x-goog-user-project.

Keys (project nk-test, location global, key ring notation): rsa-2048,
rsa-4096, ec-256, ec-384 (the four notation can use), rsa-3072 (PSS SHA-256),
pkcs1, k256 (secp256k1), decrypt (RSA OAEP), symmetric, rotated (versions
1 DISABLED, 2 ENABLED, 3 DESTROYED, 4 DESTROY_SCHEDULED). Key ring faults:
bad-pem-crc, flaky-pem-crc, bad-sig-crc, flaky-sig-crc, unverified (never
says verifiedDigestCrc32c), wrong-name, liar (signs with another key),
throttled (always 429 RESOURCE_EXHAUSTED), busy-once (503 once), proxy-page
(502 with a proxy's HTML page instead of Google's error JSON). "flaky"
keys answer wrongly to every odd-numbered request.

usage: gcp_mock.py --setup FILE --dir DIR [--http PORT]
                   [--https PORT CERT KEY] [--log FILE] [--only KEY,...]
--only limits the keys to those named (RSA-4096 takes seconds to make).
Writes ready credential files into DIR (sa-signer.json, sa-viewer.json,
user.json, ext-file.json, ext-url.json, ext-direct.json,
impersonated.json, oidc.jwt), pointing at the first https listener (else
http), then FILE (JSON: keys with their public keys, emails, audiences,
secrets the tests look for in logs). Each request is logged to --log as
one JSON line (no secrets).
"""
import base64
import binascii
import json
import os
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from mockserve import https_listener, serve
from testkeys import rsa_key

PROJECT, LOCATION, RING = "nk-test", "global", "notation"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
SIGNER = "signer@nk-test.iam.gserviceaccount.com"
VIEWER = "viewer@nk-test.iam.gserviceaccount.com"
GCE = "gce-default@nk-test.iam.gserviceaccount.com"
USER = {"client_id": "764086051850-mock.apps.googleusercontent.com",
        "client_secret": "d-FL95Q19q7MQmFpd7hHD0Ty",
        "refresh_token": "1//mock-refresh-token-8c1f2e"}
QUOTA = "nk-quota"
POOL = "projects/123456/locations/global/workloadIdentityPools/ci/providers"
AUD = {"github": f"//iam.googleapis.com/{POOL}/github",
       "direct": f"//iam.googleapis.com/{POOL}/direct"}
JOB_TOKEN = "ghs-mock-job-request-token-5d1"
ISSUER = "https://token.actions.example"
PERMS = {  # principal -> KMS permissions
    "sa:" + SIGNER: {"useToSign", "viewPublicKey", "get"},
    "sa:" + VIEWER: {"viewPublicKey"},
    "sa:" + GCE: {"useToSign", "viewPublicKey", "get"},
    "user:dev@example.com": {"useToSign", "viewPublicKey", "get"},
    "principal:direct": {"useToSign", "viewPublicKey", "get"},
    "principal:github": set(),
}
IMPERSONATE = {("principal:github", SIGNER), ("user:dev@example.com", SIGNER)}

lock = threading.Lock()
tokens = {}    # access token -> (principal, expiry)
keys = {}      # version name -> {"alg", "state", "priv", "fault"}
counts = {}    # (version name, call) -> requests served (flaky faults)
sa_keys = {}   # email -> (private key, key id)
issuer_key = ec.generate_private_key(ec.SECP256R1())
log_file = None
base_url = None
only = None


# ---- helpers ----

def crc32c(data):
    """CRC-32C (Castagnoli, reflected 0x82F63B78), written here
    independently of the plugin's C version."""
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64url_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def pem_of(pub):
    return pub.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo
                            ).decode()


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".123456Z"


class Fail(Exception):
    """A Google-style error answer."""

    def __init__(self, code, status, message, permission=None, oauth=None,
                 headers=None, raw=None):
        super().__init__(message)
        self.code, self.status, self.message = code, status, message
        self.permission, self.oauth = permission, oauth
        self.headers = headers or {}
        self.raw = raw  # bytes sent as they are: a proxy's page

    def body(self, rid):
        if self.raw is not None:
            return self.raw
        if self.oauth is not None:  # OAuth endpoints answer RFC 6749 style
            return {"error": self.oauth, "error_description": self.message}
        details = [{"@type": "type.googleapis.com/google.rpc.RequestInfo",
                    "requestId": rid}]
        if self.permission:
            details.insert(0, {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "IAM_PERMISSION_DENIED",
                "domain": "cloudkms.googleapis.com",
                "metadata": {"permission": self.permission}})
        return {"error": {"code": self.code, "message": self.message,
                          "status": self.status, "details": details}}


def issue(principal, lifetime=3600):
    tok = "ya29.mock-" + secrets.token_urlsafe(24)
    with lock:
        tokens[tok] = (principal, time.time() + lifetime)
    return tok


# ---- keys ----

def new_priv(alg):
    if alg.startswith("EC_SIGN_P256") or alg in ("EC_SIGN_P256_SHA256",):
        return ec.generate_private_key(ec.SECP256R1())
    if alg.startswith("EC_SIGN_P384"):
        return ec.generate_private_key(ec.SECP384R1())
    if alg.startswith("EC_SIGN_SECP256K1"):
        return ec.generate_private_key(ec.SECP256K1())
    for bits in ("2048", "3072", "4096"):
        if bits in alg:
            return rsa_key(int(bits))
    return None  # symmetric


def vname(ring, key, ver):
    return (f"projects/{PROJECT}/locations/{LOCATION}/keyRings/{ring}/"
            f"cryptoKeys/{key}/cryptoKeyVersions/{ver}")


def add(ring, key, alg, ver=1, state="ENABLED", fault=None, priv=None):
    if only is not None and key not in only:
        return
    keys[vname(ring, key, ver)] = {
        "alg": alg, "state": state, "fault": fault,
        "priv": priv if priv is not None else new_priv(alg)}


def make_keys():
    add(RING, "rsa-2048", "RSA_SIGN_PSS_2048_SHA256")
    add(RING, "rsa-4096", "RSA_SIGN_PSS_4096_SHA512")
    add(RING, "ec-256", "EC_SIGN_P256_SHA256")
    add(RING, "ec-384", "EC_SIGN_P384_SHA384")
    add(RING, "rsa-3072", "RSA_SIGN_PSS_3072_SHA256")
    add(RING, "pkcs1", "RSA_SIGN_PKCS1_2048_SHA256")
    add(RING, "k256", "EC_SIGN_SECP256K1_SHA256")
    add(RING, "decrypt", "RSA_DECRYPT_OAEP_2048_SHA256")
    add(RING, "symmetric", "GOOGLE_SYMMETRIC_ENCRYPTION")
    for ver, state in ((1, "DISABLED"), (2, "ENABLED"), (3, "DESTROYED"),
                       (4, "DESTROY_SCHEDULED")):
        add(RING, "rotated", "EC_SIGN_P256_SHA256", ver, state)
    for fault in ("bad-pem-crc", "flaky-pem-crc", "bad-sig-crc",
                  "flaky-sig-crc", "unverified", "wrong-name", "liar",
                  "throttled", "busy-once", "wait-once", "error-once",
                  "proxy-page"):
        add("faults", fault, "EC_SIGN_P256_SHA256", fault=fault)


def hash_of(alg):
    for h, cls in (("SHA512", hashes.SHA512), ("SHA384", hashes.SHA384),
                   ("SHA256", hashes.SHA256)):
        if alg.endswith(h):
            return h.lower(), cls()
    return None, None


# ---- KMS ----

PERM_NAMES = {"useToSign": "cloudkms.cryptoKeyVersions.useToSign",
              "viewPublicKey": "cloudkms.cryptoKeyVersions.viewPublicKey",
              "get": "cloudkms.cryptoKeyVersions.get"}


def authorize(principal, name, perm):
    if perm not in PERMS.get(principal, set()):
        raise Fail(403, "PERMISSION_DENIED",
                   f"Permission '{PERM_NAMES[perm]}' denied on resource "
                   f"'{name}' (or it may not exist).", PERM_NAMES[perm])
    k = keys.get(name)
    if k is None:
        raise Fail(404, "NOT_FOUND", f"CryptoKeyVersion {name} not found.")
    return k


def usable(name, k):
    if k["state"] != "ENABLED":
        raise Fail(400, "FAILED_PRECONDITION",
                   f"{name} is not enabled, current state is: {k['state']}.")
    if k["priv"] is None:
        raise Fail(400, "FAILED_PRECONDITION",
                   f"{name} has purpose ENCRYPT_DECRYPT, not an asymmetric "
                   "purpose.")


def count(name, call):
    with lock:
        counts[(name, call)] = counts.get((name, call), 0) + 1
        return counts[(name, call)]


def public_key(name, k):
    usable(name, k)
    n = count(name, "publicKey")
    if k["fault"] == "throttled":
        raise Fail(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota "
                   "metric 'Read requests' and limit 'Read requests per "
                   "minute' of service 'cloudkms.googleapis.com'.")
    if k["fault"] == "busy-once" and n == 1:
        raise Fail(503, "UNAVAILABLE", "The service is currently "
                   "unavailable.")
    if k["fault"] == "proxy-page":
        raise Fail(502, None, "Bad Gateway", raw=b"<html><body><h1>502 Bad "
                   b"Gateway</h1></body></html>\n")
    pem = pem_of(k["priv"].public_key())
    crc = crc32c(pem.encode())
    if k["fault"] == "bad-pem-crc" or (k["fault"] == "flaky-pem-crc" and
                                       n % 2 == 1):
        crc ^= 1
    return {"pem": pem, "algorithm": k["alg"], "pemCrc32c": str(crc),
            "name": name, "protectionLevel": "HSM"}


def asymmetric_sign(name, k, body):
    usable(name, k)
    n = count(name, "sign")
    if k["fault"] == "throttled":
        raise Fail(429, "RESOURCE_EXHAUSTED", "Quota exceeded.")
    if k["fault"] == "wait-once" and n == 1:
        raise Fail(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota "
                   "metric 'Cryptographic requests'.",
                   headers={"Retry-After": "2"})
    if k["fault"] == "error-once" and n == 1:
        raise Fail(500, "INTERNAL", "Internal error encountered.")
    hname, h = hash_of(k["alg"])
    d = (body.get("digest") or {})
    if list(d) != [hname]:
        raise Fail(400, "INVALID_ARGUMENT", f"The digest type does not "
                   f"match the algorithm {k['alg']}: expected {hname}.")
    try:
        digest = base64.b64decode(d[hname], validate=True)
    except (binascii.Error, ValueError):
        raise Fail(400, "INVALID_ARGUMENT", "Invalid value at "
                   f"'digest.{hname}': not base64.")
    if len(digest) != h.digest_size:
        raise Fail(400, "INVALID_ARGUMENT", "Digest has the wrong length.")
    given = body.get("digestCrc32c")
    if given is not None and str(given) != str(crc32c(digest)):
        raise Fail(400, "INVALID_ARGUMENT", "The checksum in field "
                   "digest_crc32c did not match the data in field digest.")
    priv = k["priv"]
    if k["fault"] == "liar":  # a key that is not the one described
        priv = ec.generate_private_key(ec.SECP256R1())
    if isinstance(priv, rsa.RSAPrivateKey):
        # Cloud KMS PSS: MGF1 with the same hash, salt = digest length.
        sig = priv.sign(digest, padding.PSS(
            mgf=padding.MGF1(h), salt_length=h.digest_size),
            utils.Prehashed(h))
    else:
        sig = priv.sign(digest, ec.ECDSA(utils.Prehashed(h)))
    crc = crc32c(sig)
    if k["fault"] == "bad-sig-crc" or (k["fault"] == "flaky-sig-crc" and
                                       n % 2 == 1):
        crc ^= 0x10
    out = {"signature": base64.b64encode(sig).decode(),
           "signatureCrc32c": str(crc),
           "verifiedDigestCrc32c": given is not None and
           k["fault"] != "unverified",
           "name": name, "protectionLevel": "HSM"}
    if k["fault"] == "wrong-name":
        out["name"] = name[:-1] + "2"
    return out


def kms(method, path, body, principal):
    p = path[len("/v1/"):]
    if method == "GET" and p.endswith("/publicKey"):
        name = p[:-len("/publicKey")]
        return public_key(name, authorize(principal, name, "viewPublicKey"))
    if method == "POST" and p.endswith(":asymmetricSign"):
        name = p[:-len(":asymmetricSign")]
        return asymmetric_sign(name, authorize(principal, name, "useToSign"),
                               body)
    if method == "GET" and "/cryptoKeyVersions/" in p:
        k = authorize(principal, p, "get")
        return {"name": p, "state": k["state"], "algorithm": k["alg"],
                "protectionLevel": "HSM", "createTime": rfc3339(0)}
    raise Fail(404, "NOT_FOUND", f"Method not found: {method} {path}")


# ---- token endpoints ----

def jwt_bearer(form, url):
    a = form.get("assertion", "")
    parts = a.split(".")
    if len(parts) != 3:
        raise Fail(400, "", "Invalid JWT: not three parts.",
                   oauth="invalid_grant")
    hdr = json.loads(b64url_dec(parts[0]))
    claims = json.loads(b64url_dec(parts[1]))
    email = claims.get("iss")
    if email not in sa_keys:
        raise Fail(400, "", "Invalid JWT: unknown issuer.",
                   oauth="invalid_grant")
    priv, kid = sa_keys[email]
    if hdr.get("alg") != "RS256" or hdr.get("typ") != "JWT" or \
            hdr.get("kid") != kid:
        raise Fail(400, "", f"Invalid JWT header {hdr}.",
                   oauth="invalid_grant")
    try:
        priv.public_key().verify(b64url_dec(parts[2]),
                                 (parts[0] + "." + parts[1]).encode(),
                                 padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        raise Fail(400, "", "Invalid JWT Signature.", oauth="invalid_grant")
    now = time.time()
    iat, exp = claims.get("iat", 0), claims.get("exp", 0)
    if claims.get("aud") != url:
        raise Fail(400, "", f"Invalid JWT: aud must be {url}.",
                   oauth="invalid_grant")
    if SCOPE not in str(claims.get("scope", "")).split():
        raise Fail(400, "", "Invalid JWT: no cloud-platform scope.",
                   oauth="invalid_scope")
    if abs(iat - now) > 60 or exp <= now or exp - iat > 3600:
        raise Fail(400, "", "Invalid JWT: Token must be a short-lived "
                   "token (60 minutes) and in a reasonable timeframe.",
                   oauth="invalid_grant")
    return {"access_token": issue("sa:" + email), "expires_in": 3599,
            "token_type": "Bearer"}


def refresh(form):
    if any(form.get(k) != v for k, v in USER.items()):
        raise Fail(400, "", "Token has been expired or revoked.",
                   oauth="invalid_grant")
    return {"access_token": issue("user:dev@example.com"),
            "expires_in": "3599", "token_type": "Bearer",
            "scope": SCOPE, "id_token": "eyJ.mock.idt"}


def oidc_token(aud, lifetime=300):
    now = int(time.time())
    hdr = b64url(json.dumps({"alg": "ES256", "typ": "JWT",
                             "kid": "mock-1"}).encode())
    claims = b64url(json.dumps({
        "iss": ISSUER, "sub": "repo:acme/app:ref:refs/heads/main",
        "aud": aud, "iat": now, "exp": now + lifetime}).encode())
    der = issuer_key.sign((hdr + "." + claims).encode(),
                          ec.ECDSA(hashes.SHA256()))
    r, s = utils.decode_dss_signature(der)
    return hdr + "." + claims + "." + b64url(r.to_bytes(32, "big") +
                                             s.to_bytes(32, "big"))


def check_oidc(tok, audience):
    try:
        h, c, s = tok.split(".")
        raw = b64url_dec(s)
        der = utils.encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                         int.from_bytes(raw[32:], "big"))
        issuer_key.public_key().verify(der, (h + "." + c).encode(),
                                       ec.ECDSA(hashes.SHA256()))
        claims = json.loads(b64url_dec(c))
    except Exception:
        raise Fail(400, "", "Invalid subject token signature.",
                   oauth="invalid_grant")
    if claims.get("exp", 0) < time.time():
        raise Fail(400, "", "The subject token has expired.",
                   oauth="invalid_grant")
    if claims.get("aud") != "https:" + audience:
        raise Fail(400, "", "The audience in the subject token does not "
                   "match the provider.", oauth="invalid_grant")


def sts(form):
    want = {"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "requested_token_type":
            "urn:ietf:params:oauth:token-type:access_token",
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "scope": SCOPE}
    for k, v in want.items():
        if form.get(k) != v:
            raise Fail(400, "", f"Invalid {k}: {form.get(k)!r}.",
                       oauth="invalid_request")
    aud = form.get("audience")
    prov = [p for p, a in AUD.items() if a == aud]
    if not prov:
        raise Fail(400, "", "Invalid value for \"audience\".",
                   oauth="invalid_target")
    check_oidc(form.get("subject_token", ""), aud)
    return {"access_token": issue("principal:" + prov[0]),
            "issued_token_type":
            "urn:ietf:params:oauth:token-type:access_token",
            "token_type": "Bearer", "expires_in": 3600}


def impersonate(path, body, principal):
    email = path.split("/serviceAccounts/")[1].split(":")[0]
    if (principal, email) not in IMPERSONATE:
        raise Fail(403, "PERMISSION_DENIED", "Permission "
                   "'iam.serviceAccounts.getAccessToken' denied on resource "
                   "(or it may not exist).",
                   "iam.serviceAccounts.getAccessToken")
    if body.get("scope") != [SCOPE]:
        raise Fail(400, "INVALID_ARGUMENT", "scope must be cloud-platform.")
    life = str(body.get("lifetime", "3600s"))
    if not life.endswith("s") or not 0 < int(life[:-1]) <= 3600:
        raise Fail(400, "INVALID_ARGUMENT", "bad lifetime.")
    exp = time.time() + int(life[:-1])
    return {"accessToken": issue("sa:" + email, int(life[:-1])),
            "expireTime": rfc3339(exp)}


# ---- HTTP ----

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj, headers=None):
        raw = isinstance(obj, bytes)
        data = obj if raw else json.dumps(obj).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/html" if raw else
                         "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def principal(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        with lock:
            p = tokens.get(auth[7:])
        if p is None or p[1] < time.time():
            return None
        return p[0]

    def log(self, path, principal, extra):
        if not log_file:
            return
        entry = {"t": time.time(), "method": self.command, "path": path,
                 "principal": principal,
                 "tls": isinstance(self.connection, ssl.SSLSocket),
                 "flavor": self.headers.get("Metadata-Flavor"),
                 "quota": self.headers.get("x-goog-user-project")}
        entry.update(extra)
        with lock, open(log_file, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def handle_one(self):
        url = urllib.parse.urlsplit(self.path)
        path, raw = url.path, self.read_body()
        principal = self.principal()
        ctype = self.headers.get("Content-Type", "")
        form = dict(urllib.parse.parse_qsl(raw.decode())) \
            if "x-www-form-urlencoded" in ctype else {}
        body = json.loads(raw) if raw and "json" in ctype else {}
        scheme = "https" if isinstance(self.connection, ssl.SSLSocket) \
            else "http"
        here = f"{scheme}://{self.headers.get('Host')}{path}"
        self.log(path, principal, {
            "grant_type": form.get("grant_type"),
            "subject_token_type": form.get("subject_token_type"),
            "digestCrc32c": body.get("digestCrc32c"),
            "digest": list((body.get("digest") or {}).keys())})
        if path == "/ctl/revoke" and self.command == "POST":
            with lock:
                tokens.clear()
            return {}
        if path == "/token" and self.command == "POST":
            if form.get("grant_type") == \
                    "urn:ietf:params:oauth:grant-type:jwt-bearer":
                return jwt_bearer(form, here)
            if form.get("grant_type") == "refresh_token":
                return refresh(form)
            raise Fail(400, "", "Invalid grant_type.",
                       oauth="unsupported_grant_type")
        if path == "/sts/v1/token" and self.command == "POST":
            return sts(form)
        if path == ("/computeMetadata/v1/instance/service-accounts/default/"
                    "token"):
            if self.headers.get("Metadata-Flavor") != "Google" or \
                    self.headers.get("X-Forwarded-For"):
                raise Fail(403, "", "Missing Metadata-Flavor:Google header.",
                           oauth="forbidden")
            return {"access_token": issue("sa:" + GCE), "expires_in": 3599,
                    "token_type": "Bearer"}
        if path == "/oidc/token":
            if self.headers.get("Authorization") != "Bearer " + JOB_TOKEN:
                raise Fail(401, "", "Bad job token.", oauth="unauthorized")
            aud = dict(urllib.parse.parse_qsl(url.query)).get("audience", "")
            return {"count": 1, "value": oidc_token(aud)}
        if principal is None:
            raise Fail(401, "UNAUTHENTICATED", "Request had invalid "
                       "authentication credentials. Expected OAuth 2 access "
                       "token, login cookie or other valid authentication "
                       "credential.")
        if principal.startswith("user:") and \
                self.headers.get("x-goog-user-project") != QUOTA:
            raise Fail(403, "PERMISSION_DENIED", "Your application is "
                       "authenticating by using local Application Default "
                       "Credentials. The cloudkms.googleapis.com API "
                       "requires a quota project, which is not set by "
                       "default.")
        if path.startswith("/iam/v1/") and \
                path.endswith(":generateAccessToken"):
            return impersonate(path, body, principal)
        if path.startswith("/v1/"):
            return kms(self.command, path, body, principal)
        raise Fail(404, "NOT_FOUND", f"no such path {path}")

    def dispatch(self):
        rid = "mock-" + secrets.token_hex(6)
        try:
            self.reply(200, self.handle_one())
        except Fail as e:
            self.reply(e.code, e.body(rid), e.headers)
        except Exception as e:  # a bug in the mock: Google's 500 shape
            self.reply(500, {"error": {"code": 500, "status": "INTERNAL",
                                       "message": f"mock bug: {e!r}"}})

    do_GET = dispatch
    do_POST = dispatch


# ---- setup ----

def sa_file(email, priv, kid):
    pem = priv.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()
    return {"type": "service_account", "project_id": PROJECT,
            "private_key_id": kid, "private_key": pem, "client_email": email,
            "client_id": "1234567890", "token_uri": base_url + "/token",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "universe_domain": "googleapis.com"}


def write_files(d):
    files, secret_list = {}, []
    for email in (SIGNER, VIEWER):
        priv = rsa_key(2048)
        kid = secrets.token_hex(20)
        sa_keys[email] = (priv, kid)
        files[email.split("@")[0]] = sa_file(email, priv, kid)
        secret_list.append(files[email.split("@")[0]]["private_key"]
                           .splitlines()[5])
    imp = (f"{base_url}/iam/v1/projects/-/serviceAccounts/{SIGNER}"
           ":generateAccessToken")
    user = dict(USER, type="authorized_user", quota_project_id=QUOTA,
                token_uri=base_url + "/token",
                universe_domain="googleapis.com")
    ext = {"type": "external_account", "audience": AUD["github"],
           "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
           "token_url": base_url + "/sts/v1/token",
           "service_account_impersonation_url": imp,
           "credential_source": {"file": os.path.join(d, "oidc.jwt")},
           "universe_domain": "googleapis.com"}
    ext_url = dict(ext, credential_source={
        "url": f"{base_url}/oidc/token?audience=https:"
               f"{urllib.parse.quote(AUD['github'], safe='')}",
        "headers": {"Authorization": "Bearer " + JOB_TOKEN},
        "format": {"type": "json", "subject_token_field_name": "value"}})
    ext_direct = {k: v for k, v in ext.items()
                  if k != "service_account_impersonation_url"}
    ext_direct["audience"] = AUD["direct"]
    ext_direct["credential_source"] = {
        "file": os.path.join(d, "oidc-direct.jwt")}
    impersonated = {"type": "impersonated_service_account",
                    "service_account_impersonation_url": imp,
                    "source_credentials": user, "delegates": []}
    out = {"sa-signer.json": files["signer"], "sa-viewer.json":
           files["viewer"], "user.json": user, "ext-file.json": ext,
           "ext-url.json": ext_url, "ext-direct.json": ext_direct,
           "impersonated.json": impersonated}
    for name, obj in out.items():
        with open(os.path.join(d, name), "w") as f:
            json.dump(obj, f, indent=2)
    with open(os.path.join(d, "oidc.jwt"), "w") as f:
        f.write(oidc_token("https:" + AUD["github"], 600) + "\n")
    with open(os.path.join(d, "oidc-direct.jwt"), "w") as f:
        f.write(oidc_token("https:" + AUD["direct"], 600))
    return secret_list + [USER["client_secret"], USER["refresh_token"],
                          JOB_TOKEN]


def setup(path, d):
    make_keys()
    secret_list = write_files(d)
    out = {"project": PROJECT, "location": LOCATION, "ring": RING,
           "signer": SIGNER, "viewer": VIEWER, "gce": GCE, "audiences": AUD,
           "base": base_url, "secrets": secret_list, "keys": {}}
    for name, k in keys.items():
        short = name.split("/cryptoKeys/")[1].replace("/cryptoKeyVersions/",
                                                      "/")
        ring = name.split("/keyRings/")[1].split("/")[0]
        out["keys"][f"{ring}/{short}"] = {
            "name": name, "algorithm": k["alg"], "state": k["state"],
            "pub": pem_of(k["priv"].public_key()) if k["priv"] else None}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f)
    os.rename(tmp, path)


def main():
    global log_file, base_url, only
    argv = sys.argv[1:]
    setup_path, d, listeners = None, None, []
    while argv:
        a = argv.pop(0)
        if a == "--setup":
            setup_path = argv.pop(0)
        elif a == "--dir":
            d = argv.pop(0)
        elif a == "--log":
            log_file = argv.pop(0)
        elif a == "--only":
            only = set(argv.pop(0).split(","))
        elif a == "--http":
            listeners.append((int(argv.pop(0)), None))
        elif a == "--https":
            listeners.append(https_listener(argv))
        else:
            sys.exit(f"gcp_mock: unknown argument {a}")
    if setup_path is None or d is None or not listeners:
        sys.exit(__doc__)
    tls = [p for p, c in listeners if c is not None]
    base_url = (f"https://127.0.0.1:{tls[0]}" if tls else
                f"http://127.0.0.1:{listeners[0][0]}")
    os.makedirs(d, exist_ok=True)
    for port, ctx in listeners:
        serve(Handler, port, ctx)
    setup(setup_path, d)
    time.sleep(float(os.environ.get("GCP_MOCK_LIFETIME", "600")))


if __name__ == "__main__":
    main()
