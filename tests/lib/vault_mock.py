#!/usr/bin/python3
"""A loopback mock of HashiCorp Vault / OpenBao for the KMS tests: the
documented Transit, auth and KV v2 endpoints with real keys and Vault's own
defaults (signature_algorithm pss, salt_length auto = maximum salt,
marshaling_algorithm asn1, key_version latest), so a test proves the plugin
asks for what it needs. A contract test against a mock, not interop.

Endpoints:
  GET  /v1/<mount>/keys/<name>                 key read (public keys)
  POST /v1/<mount>/keys/<name>/rotate          new version
  POST /v1/<mount>/sign/<name>[/<hash>]        sign
  POST /v1/auth/approle/login                  {"role_id","secret_id"}
  POST /v1/auth/jwt/login, auth/kubernetes/login   {"role","jwt"}
  POST /v1/auth/cert/login, auth/cert-ci/login  {"name"?}: TLS certificate
       auth: the connection must have presented a client certificate that
       --client-ca verified, with the common name of a role in CERT_ROLES
       (all roles when no name is given)
  POST /v1/auth/aws/login, auth/aws-ci/login   AWS auth, iam method: the
       signed sts:GetCallerIdentity request in the body is rebuilt with
       botocore and its SigV4 signature checked against the secret of the
       AWS user in the setup (role "signer"; role "strict" also needs the
       signed header X-Vault-AWS-IAM-Server-ID: vault.example.com)
  GET|POST /v1/<kv mount>/data/<path>          KV v2 read / write
Tokens: X-Vault-Token (or Authorization: Bearer); each token belongs to a
namespace (X-Vault-Namespace, "" for the root) and has a policy ("all",
"read" = no signing). Anything else is 403 {"errors":["permission denied"]}.
  POST /v1/auth/token/renew-self               renews the token's lease
Test control (not Vault's): POST /v1/mock/login-uses {"uses":[N,...],
"lease":S, "renewable":B, "delay":S} queues how many requests the next
logins' tokens answer before they are 403 (later logins: unlimited), and
sets the lease (seconds, enforced: 403 after it unless renewed) and
renewability of login tokens and a delay of key reads, until the next call.

usage: vault_mock.py --setup FILE [--http PORT] [--https PORT CERT KEY]
                     [--client-ca FILE] [--log FILE] [--only TYPE,...]
--client-ca: HTTPS listeners ask for a client certificate (optional) and
verify it against FILE.
--only limits the six per-type keys (transit/<type>) to those listed
(RSA-4096 takes seconds to generate).
Writes FILE (JSON: tokens, login material, every key's public keys) when
ready. Each request is logged to --log as one JSON line (method, path,
namespace, whether a token came, the body with secrets removed, the
client's port: one port for several requests is one kept-alive connection).
"""
import base64
import datetime
import json
import os
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, utils

from mockserve import https_listener, serve
from testkeys import rsa_key

ROOT_TOKEN = "hvs.mock-root-token-5b1f0c"
READ_TOKEN = "hvs.mock-read-only-token-77ae"
NS = "team-a"
NS_TOKEN = "hvs.mock-team-a-token-0c3d"
APPROLE = {"role_id": "7f1c-role-id", "secret_id": "approle-secret-9d2e41"}
JWT = {"role": "ci", "jwt": "eyJhbGciOiJSUzI1NiJ9.mock-ci-jwt.c2ln"}
K8S = {"role": "signer", "jwt": "eyJhbGciOiJSUzI1NiJ9.mock-k8s-sa.c2ln"}
AWS_USER = {"id": "AKIAVAULTMOCKUSER001",
            "secret": "vault-mock-aws-secret/kT9pQ2wX7zR4mN8bV3cL6hJ1"}
CERT_ROLES = {"signer": "notation-ci-client"}  # role -> certificate CN
AWS_ROLES = {"signer": None, "strict": "vault.example.com"}
STS_URL = "https://sts.amazonaws.com/"
STS_BODY = "Action=GetCallerIdentity&Version=2011-06-15"
HASHES = {"sha2-256": hashes.SHA256, "sha2-384": hashes.SHA384,
          "sha2-512": hashes.SHA512, "sha2-224": hashes.SHA224}
SIGNING_TYPES = ("rsa-2048", "rsa-3072", "rsa-4096", "ecdsa-p256",
                 "ecdsa-p384", "ecdsa-p521", "ed25519")

state_lock = threading.Lock()
tokens = {ROOT_TOKEN: ("", "all"), READ_TOKEN: ("", "read"),
          NS_TOKEN: (NS, "all")}
uses_left = {}  # login token -> requests it still answers
uses_queue = []  # for the next logins' tokens (POST /v1/mock/login-uses)
login_opts = {}  # lease, renewable, delay (POST /v1/mock/login-uses)
token_end = {}  # login token -> time its lease ends (when a lease is set)
keys = {}   # (namespace, mount, name) -> {"type", "versions": {n: priv}}
kv = {}     # (namespace, mount, path) -> {"data": ..., "version": n}
log_file = None


def new_key(typ):
    if typ.startswith("rsa-"):
        return rsa_key(int(typ[4:]))
    if typ.startswith("ecdsa-"):
        curve = {"p256": ec.SECP256R1, "p384": ec.SECP384R1,
                 "p521": ec.SECP521R1}[typ[6:]]()
        return ec.generate_private_key(curve)
    if typ == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return os.urandom(32)  # aes256-gcm96 and other symmetric keys


def add_key(ns, mount, name, typ, versions=1):
    k = {"type": typ, "versions": {}, "created": time.time()}
    for v in range(1, versions + 1):
        k["versions"][v] = new_key(typ)
    keys[(ns, mount, name)] = k


def pub_pem(priv):
    return priv.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo).decode()


class VaultError(Exception):
    def __init__(self, status, *errors):
        super().__init__(status)
        self.status = status
        self.errors = list(errors)


def key_read(k, name):
    asym = k["type"] in SIGNING_TYPES
    vers = {}
    for v, priv in k["versions"].items():
        if asym:
            vers[str(v)] = {"creation_time": "2026-01-01T00:00:00Z",
                            "name": k["type"], "public_key": pub_pem(priv)}
        else:
            vers[str(v)] = int(k["created"])  # what Vault shows for AES
    latest = max(k["versions"])
    return {"type": k["type"], "name": name, "keys": vers,
            "latest_version": latest, "min_available_version": 0,
            "min_decryption_version": 1, "min_encryption_version": 0,
            "supports_signing": asym, "supports_encryption": not asym,
            "supports_decryption": not asym, "supports_derivation": not asym,
            "exportable": False, "deletion_allowed": False, "derived": False,
            "allow_plaintext_backup": False, "auto_rotate_period": 0,
            "imported_key": False}


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def salt_of(value, priv, h):
    """Vault's salt_length: "auto" (default) is the maximum when signing,
    "hash" the digest length, or a number."""
    if value in (None, "", "auto"):
        return padding.PSS.MAX_LENGTH
    if value == "hash":
        return padding.PSS.DIGEST_LENGTH
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise VaultError(400, f"invalid salt_length: {value}")
    max_salt = (priv.key_size + 7) // 8 - h.digest_size - 2
    if n < 0 or n > max_salt:
        raise VaultError(400, f"salt length {n} is out of range")
    return n


def sign(k, name, body, url_hash):
    if k["type"] not in SIGNING_TYPES:
        raise VaultError(400, f"key type {k['type']} does not support signing")
    latest = max(k["versions"])
    ver = int(body.get("key_version") or 0)
    if ver > latest:
        raise VaultError(400, "requested version for signing is higher "
                         "than the latest key version")
    ver = ver or latest
    priv = k["versions"][ver]
    halg = url_hash or body.get("hash_algorithm") or "sha2-256"
    if halg not in HASHES:
        raise VaultError(400, f"unsupported hash algorithm {halg}")
    h = HASHES[halg]()
    try:
        data = base64.b64decode(body.get("input", ""), validate=True)
    except ValueError:
        raise VaultError(400, "unable to decode input as base64")
    prehashed = body.get("prehashed") in (True, "true")
    if prehashed and len(data) != h.digest_size and k["type"] != "ed25519":
        raise VaultError(400, "crypto/rsa: input must be hashed with "
                         "given hash" if k["type"].startswith("rsa")
                         else "input length does not match the hash")
    marshal = body.get("marshaling_algorithm") or "asn1"
    if marshal not in ("asn1", "jws"):
        raise VaultError(400, f"invalid marshaling algorithm {marshal}")
    algo = utils.Prehashed(h) if prehashed else h
    if k["type"] == "ed25519":
        sig = priv.sign(data)
    elif k["type"].startswith("rsa-"):
        salg = body.get("signature_algorithm") or "pss"
        if salg == "pss":
            pad = padding.PSS(mgf=padding.MGF1(h),
                              salt_length=salt_of(body.get("salt_length"),
                                                  priv, h))
        elif salg == "pkcs1v15":
            pad = padding.PKCS1v15()
        else:
            raise VaultError(400, f"unsupported rsa signature algorithm {salg}")
        sig = priv.sign(data, pad, algo)
    else:
        sig = priv.sign(data, ec.ECDSA(algo))
        if marshal == "jws":
            r, s = utils.decode_dss_signature(sig)
            w = (priv.curve.key_size + 7) // 8
            sig = r.to_bytes(w, "big") + s.to_bytes(w, "big")
    enc = b64url(sig) if marshal == "jws" else base64.b64encode(sig).decode()
    return {"signature": f"vault:v{ver}:{enc}", "key_version": ver}


def b64field(body, name):
    try:
        return base64.b64decode(body.get(name) or "", validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise VaultError(400, f"failed to base64 decode {name}")


def aws_check(body):
    """Vault's iam method: the unsent GetCallerIdentity request, re-signed
    with botocore and compared (a contract check, not STS)."""
    role = body.get("role")
    if role not in AWS_ROLES:
        raise VaultError(400, f"entry for role {role} not found")
    if body.get("iam_http_request_method") != "POST":
        raise VaultError(400, "invalid iam_http_request_method")
    url = b64field(body, "iam_request_url")
    data = b64field(body, "iam_request_body")
    if url != STS_URL or data != STS_BODY:
        raise VaultError(400, f"unexpected request {url!r} {data!r}")
    try:
        hdrs = json.loads(b64field(body, "iam_request_headers"))
        hdrs = {k: (v if isinstance(v, list) else [v]) for k, v in hdrs.items()}
        assert all(isinstance(x, str) for v in hdrs.values() for x in v)
    except (ValueError, AssertionError, AttributeError):
        raise VaultError(400, "iam_request_headers is not a JSON object of "
                         "header lists")
    low = {k.lower(): v for k, v in hdrs.items()}
    auth = (low.get("authorization") or [""])[0]
    m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/"
                 r"([^/]+)/aws4_request, SignedHeaders=([^,]+), "
                 r"Signature=([0-9a-f]{64})$", auth)
    if not m:
        raise VaultError(400, "no SigV4 Authorization header")
    akid, _, region, svc, signed, sig = m.groups()
    if akid != AWS_USER["id"] or svc != "sts" or region != "us-east-1":
        raise VaultError(400, "error making upstream request: "
                         "InvalidClientTokenId")
    names = signed.split(";")
    want_sid = AWS_ROLES[role]
    if want_sid is not None:
        got = low.get("x-vault-aws-iam-server-id")
        if got != [want_sid] or "x-vault-aws-iam-server-id" not in names:
            raise VaultError(400, "expected IAM server ID header "
                             f"{want_sid!r} to be signed")
    amz = (low.get("x-amz-date") or [""])[0]
    try:
        when = datetime.datetime.strptime(amz, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        raise VaultError(400, "no X-Amz-Date")
    if abs(time.time() - when.timestamp()) > 900:
        raise VaultError(400, "error making upstream request: "
                         "SignatureDoesNotMatch (date)")
    req = AWSRequest(method="POST", url=url, data=data)
    for n in names:
        for v in low.get(n) or []:
            req.headers[n] = v
    req.context["timestamp"] = amz
    token = (low.get("x-amz-security-token") or [None])[0]
    sa = SigV4Auth(Credentials(akid, AWS_USER["secret"], token), "sts", region)
    want = sa.signature(sa.string_to_sign(req, sa.canonical_request(req)), req)
    if want != sig:
        raise VaultError(400, "error making upstream request: "
                         "SignatureDoesNotMatch")


def cert_check(body, peer):
    cn = None
    for rdn in (peer or {}).get("subject", ()):
        for k, v in rdn:
            if k == "commonName":
                cn = v
    name = body.get("name")
    roles = [name] if name else list(CERT_ROLES)
    if cn is None or not any(CERT_ROLES.get(r) == cn for r in roles):
        raise VaultError(400, "invalid certificate or no client certificate "
                         "supplied")


def login(kind, body, ns, peer=None):
    if kind in ("cert", "cert-ci"):
        cert_check(body, peer)
    elif kind in ("aws", "aws-ci"):
        aws_check(body)
    elif kind == "approle":
        if (body.get("role_id") != APPROLE["role_id"] or
                body.get("secret_id") != APPROLE["secret_id"]):
            raise VaultError(400, "invalid role or secret ID")
    else:
        want = JWT if kind == "jwt" else K8S
        if body.get("role") != want["role"]:
            raise VaultError(400, f"role \"{body.get('role')}\" could not be found")
        if body.get("jwt") != want["jwt"]:
            raise VaultError(403 if kind == "kubernetes" else 400,
                             "error validating token: invalid signature")
    tok = "hvs.login-" + base64.b32encode(os.urandom(10)).decode().lower()
    with state_lock:
        tokens[tok] = (ns, "all")
        if uses_queue:
            uses_left[tok] = uses_queue.pop(0)
        lease = login_opts.get("lease")
        if lease:
            token_end[tok] = time.time() + lease
    return {"auth": {"client_token": tok, "accessor": "acc", "policies":
                     ["default", "signer"], "lease_duration": lease or 3600,
                     "renewable": login_opts.get("renewable", True),
                     "metadata": {"role": kind}}}


def redact(body):
    if not isinstance(body, dict):
        return body
    return {k: ("<redacted>" if k in ("secret_id", "jwt", "role_id",
                                      "iam_request_headers") else v)
            for k, v in body.items()}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "VaultMock/1"

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without this, Nagle and
        # the client's delayed ACK add 40 ms to every reused connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj):
        data = json.dumps(obj).encode() if obj is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Vault-Request-Id", "req-%08x" % (id(self) & 0xffffffff))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def token(self):
        t = self.headers.get("X-Vault-Token")
        auth = self.headers.get("Authorization", "")
        if not t and auth.startswith("Bearer "):
            t = auth[7:]
        return t

    def handle_one(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        body = {}
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                raise VaultError(400, "failed to parse JSON input")
        ns = (self.headers.get("X-Vault-Namespace") or "").strip("/")
        path = self.path.split("?")[0]
        if log_file:
            with state_lock, open(log_file, "a") as f:
                f.write(json.dumps({"method": method, "path": path, "ns": ns,
                                    "token": bool(self.token()),
                                    "body": redact(body),
                                    "peer": self.client_address[1]}) + "\n")
        if not path.startswith("/v1/"):
            raise VaultError(404)
        parts = path[4:].strip("/").split("/")
        if method == "POST" and parts == ["mock", "login-uses"]:
            with state_lock:
                uses_queue[:] = [int(u) for u in body.get("uses", [])]
                login_opts.clear()
                login_opts.update({k: body[k] for k in
                                   ("lease", "renewable", "delay")
                                   if k in body})
            return 200, {}
        if (method == "POST" and len(parts) == 3 and parts[0] == "auth" and
                parts[2] == "login" and parts[1] in ("approle", "jwt",
                                                     "kubernetes", "aws",
                                                     "aws-ci", "cert",
                                                     "cert-ci")):
            peer = (self.connection.getpeercert()
                    if hasattr(self.connection, "getpeercert") else None)
            return 200, login(parts[1], body, ns, peer)
        tok = tokens.get(self.token() or "")
        if tok is None or tok[0] != ns:
            raise VaultError(403, "permission denied")
        with state_lock:
            left = uses_left.get(self.token())
            if left is not None:
                uses_left[self.token()] = left - 1
        if left is not None and left <= 0:
            raise VaultError(403, "permission denied")
        end = token_end.get(self.token())
        if end is not None and time.time() > end:
            raise VaultError(403, "permission denied")
        if method in ("POST", "PUT") and parts == ["auth", "token",
                                                   "renew-self"]:
            if end is None or not login_opts.get("renewable", True):
                raise VaultError(400, "lease is not renewable")
            with state_lock:
                token_end[self.token()] = time.time() + login_opts["lease"]
            return 200, {"auth": {"client_token": self.token(),
                                  "lease_duration": login_opts["lease"],
                                  "renewable": True}}
        return self.route(method, parts, body, ns, tok[1])

    def route(self, method, parts, body, ns, policy):
        if len(parts) >= 3 and parts[1] == "keys":
            k = keys.get((ns, parts[0], parts[2]))
            if len(parts) == 3 and method == "GET":
                time.sleep(login_opts.get("delay", 0))
                if k is None:
                    raise VaultError(404)
                return 200, {"data": key_read(k, parts[2])}
            if len(parts) == 4 and parts[3] == "rotate" and method == "POST":
                if k is None:
                    raise VaultError(400, "key not found")
                with state_lock:
                    k["versions"][max(k["versions"]) + 1] = new_key(k["type"])
                return 200, {"data": key_read(k, parts[2])}
        if len(parts) in (3, 4) and parts[1] == "sign" and method in ("POST", "PUT"):
            if policy != "all":
                raise VaultError(403, "permission denied")
            k = keys.get((ns, parts[0], parts[2]))
            if k is None:
                raise VaultError(400, "signing key not found")
            return 200, {"data": sign(k, parts[2], body,
                                      parts[3] if len(parts) == 4 else None)}
        if len(parts) >= 3 and parts[1] == "data":
            where = (ns, parts[0], "/".join(parts[2:]))
            if method == "GET":
                e = kv.get(where)
                if e is None:
                    raise VaultError(404)
                return 200, {"data": {"data": e["data"], "metadata": {
                    "version": e["version"], "deletion_time": "",
                    "destroyed": False}}}
            if method in ("POST", "PUT"):
                if policy != "all":
                    raise VaultError(403, "permission denied")
                with state_lock:
                    old = kv.get(where, {"version": 0})
                    kv[where] = {"data": body.get("data", {}),
                                 "version": old["version"] + 1}
                return 200, {"data": {"version": kv[where]["version"]}}
        raise VaultError(404)

    def dispatch(self, method):
        try:
            status, obj = self.handle_one(method)
        except VaultError as e:
            status, obj = e.status, {"errors": e.errors}
        except Exception as e:  # a bug in the mock: Vault's 500 shape
            status, obj = 500, {"errors": [f"internal error: {e}"]}
        self.reply(status, obj)

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")


def setup(path, only=None):
    for t in ("rsa-2048", "rsa-3072", "rsa-4096", "ecdsa-p256",
              "ecdsa-p384", "ecdsa-p521"):
        if only is None or t in only:
            add_key("", "transit", t, t)
    add_key("", "transit", "rotated", "ecdsa-p256", versions=2)
    add_key("", "transit", "rotate-me", "ecdsa-p256")
    add_key("", "transit", "rotate-cc", "ecdsa-p256")
    add_key("", "transit", "aes", "aes256-gcm96")
    add_key("", "transit", "ed", "ed25519")
    add_key("", "signing-transit", "other", "ecdsa-p384")
    add_key(NS, "transit", "team-key", "ecdsa-p384")
    out = {"root_token": ROOT_TOKEN, "read_token": READ_TOKEN,
           "namespace": NS, "ns_token": NS_TOKEN, "approle": APPROLE,
           "jwt": JWT, "k8s": K8S, "aws": AWS_USER, "keys": {}}
    for (ns, mount, name), k in keys.items():
        if k["type"] in SIGNING_TYPES:
            out["keys"][f"{ns}/{mount}/{name}"] = {
                str(v): pub_pem(p) for v, p in k["versions"].items()}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f)
    os.rename(tmp, path)


def main():
    global log_file
    argv = sys.argv[1:]
    setup_path, threads, only = None, [], None
    listeners, client_ca = [], None
    while argv:
        a = argv.pop(0)
        if a == "--setup":
            setup_path = argv.pop(0)
        elif a == "--log":
            log_file = argv.pop(0)
        elif a == "--only":
            only = argv.pop(0).split(",")
        elif a == "--http":
            listeners.append((int(argv.pop(0)), None))
        elif a == "--client-ca":
            client_ca = argv.pop(0)
        elif a == "--https":
            listeners.append(https_listener(argv, client_ca))
        else:
            sys.exit(f"vault_mock: unknown argument {a}")
    if setup_path is None or not listeners:
        sys.exit(__doc__)
    # Keys first, so the setup file means "ready to serve".
    setup_tmp = setup_path + ".keys"
    setup(setup_tmp, only)
    for port, ctx in listeners:
        threads.append(serve(Handler, port, ctx))
    os.rename(setup_tmp, setup_path)
    # Bounded: a test that forgets to stop us does not leave us forever.
    time.sleep(float(os.environ.get("VAULT_MOCK_LIFETIME", "600")))


if __name__ == "__main__":
    main()
