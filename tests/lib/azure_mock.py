#!/usr/bin/python3
"""A loopback mock of Azure Key Vault and the token services in front of
it, for the Azure tests: a contract test against a mock, not interop. Real
keys (python3-cryptography), the documented shapes (kms.md 1.2), and each
token checked the way the service checks it. Signatures are made here but
never judged here: the tests verify them with Python cryptography.

Key Vault (api-version=7.4 required, Authorization: Bearer <token> issued
below for resource https://vault.azure.net):
  GET  /keys/<name>[/<version>]            {"key": JWK with kid, key_ops},
                                           "attributes"}
  POST /keys/<name>/<version>/sign         {"alg", "value"} -> {"kid",
                                           "value"}: PS* with salt = hash
                                           length, ES* raw r||s, base64url
  GET  /certificates/<name>[/<version>]    {"id", "kid", "sid", "x5t",
                                           "cer" (std base64 DER), ...}
  GET  /secrets/<name>[/<version>]         {"value", "contentType", "kid",
                                           "managed": true, ...}
  Errors as Key Vault writes them: {"error": {"code", "message",
  "innererror": {"code"}}} with x-ms-request-id; 401 with
  WWW-Authenticate; 403 ForbiddenByRbac (reader: no sign) or
  ForbiddenByPolicy (nosecrets: no secrets get); 404 KeyNotFound,
  CertificateNotFound, SecretNotFound; key "throttled": 429 Throttled with
  Retry-After: 1 for every sign; key "flaky": 500 for its first sign.
Microsoft Entra ID v2.0:
  POST /<tenant>/oauth2/v2.0/token  client_credentials with client_secret,
  or client_assertion (a certificate credential: PS256/RS256 JWT whose
  signature, x5t#S256, aud = this URL, iss = sub = client_id, nbf, exp and
  unused jti are checked; or a federated token: ES256 JWT of the mock's
  issuer with aud api://AzureADTokenExchange). Errors with AADSTS codes and
  trace ids, 400/401 as Entra answers.
Managed identity:
  GET [/<mode>]/metadata/identity/oauth2/token (IMDS: Metadata: true,
  api-version 2018-02-01, resource, optional client_id of the user-assigned
  identity). mode "noid": 400 Identity not found; "gone-once": 410 for the
  first request of each client, then tokens.
  GET /msi/token (App Service: X-IDENTITY-HEADER, api-version 2019-08-01).
Control (no auth): POST /_mock/revoke-all forgets every token issued.

Principals: signer (all rights), reader (no sign), nosecrets (no secrets
get), uami (the user-assigned identity, all rights).

usage: azure_mock.py --setup FILE --dir DIR [--http PORT]
                     [--https PORT CERT KEY] [--log FILE] [--only SPEC,..]
DIR receives the test PKI (ca-root.pem, ca-inter.pem, ca-certs.pem,
<name>-chain.pem), the client certificate credentials (client.pem,
client-enc.pem, client.pfx, client-legacy.pfx) and federated token files.
FILE (JSON) is written when the server is ready: tenant, clients,
managed identity settings, the CLI's token, and every key's public keys
by name and version. --log gets one JSON line per request (kind, method,
path, principal, status; never a secret).
The server exits after AZURE_MOCK_LIFETIME seconds (default 900).
"""
import base64
import datetime
import hashlib
import json
import os
import secrets
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mockserve import https_listener, serve
from testkeys import rsa_key

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
RESOURCE = "https://vault.azure.net"
SPECS = {"rsa-2048": ("RSA", 2048), "rsa-3072": ("RSA", 3072),
         "rsa-4096": ("RSA", 4096), "ec-256": ("EC", "P-256"),
         "ec-384": ("EC", "P-384"), "ec-521": ("EC", "P-521")}
CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1,
          "P-521": ec.SECP521R1, "P-256K": ec.SECP256K1}
ALGS = {"PS256": hashes.SHA256, "PS384": hashes.SHA384,
        "PS512": hashes.SHA512, "ES256": hashes.SHA256,
        "ES384": hashes.SHA384, "ES512": hashes.SHA512}
EC_ALG_CURVE = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
RIGHTS = {"signer": {"keys/get", "keys/sign", "certificates/get",
                     "secrets/get"},
          "uami": {"keys/get", "keys/sign", "certificates/get",
                   "secrets/get"},
          "reader": {"keys/get", "certificates/get", "secrets/get"},
          "nosecrets": {"keys/get", "keys/sign", "certificates/get"}}
ACTIONS = {"keys/get": "Microsoft.KeyVault/vaults/keys/read",
           "keys/sign": "Microsoft.KeyVault/vaults/keys/sign/action",
           "certificates/get": "Microsoft.KeyVault/vaults/certificates/read",
           "secrets/get": "Microsoft.KeyVault/vaults/secrets/getSecret/action"}

lock = threading.Lock()
tokens = {}      # access token -> (principal, resource, expiry)
jtis = set()     # client assertion ids seen
counts = {}      # per-fault counters
objects = {}     # name -> {"versions": [..], "v": {version: entry}}
state = {"log": None, "dir": None}
clients = {}     # client id -> {"principal", "secret"?, "cert"?, "fed"?,
                 #               "life"}
ISSUER_KEY = ec.generate_private_key(ec.SECP256R1())
ISSUER = "https://oidc.mock.example/issuer"
NOW = datetime.datetime.utcnow


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def new_key(kind, size):
    if kind == "RSA":
        return rsa_key(size)
    return ec.generate_private_key(CURVES[size]())


def name_of(cn):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                      x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "WA"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME,
                                         "Notation Keystore Azure Tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_cert(subject, pub, issuer, issuer_key, ca, days=30):
    now = NOW()
    b = (x509.CertificateBuilder().subject_name(subject)
         .issuer_name(issuer).public_key(pub)
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=days))
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), False))
    if ca:
        b = (b.add_extension(x509.BasicConstraints(ca=True, path_length=None),
                             True)
             .add_extension(x509.KeyUsage(False, False, False, False, False,
                                          True, True, False, False), True))
    else:
        b = (b.add_extension(x509.BasicConstraints(ca=False, path_length=None),
                             False)
             .add_extension(x509.KeyUsage(True, False, False, False, False,
                                          False, False, False, False), True)
             .add_extension(x509.ExtendedKeyUsage(
                 [ExtendedKeyUsageOID.CODE_SIGNING]), False))
    return b.sign(issuer_key, hashes.SHA384())


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def pub_pem(priv):
    return priv.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo).decode()


class PKI:
    def __init__(self):
        self.root_key = ec.generate_private_key(ec.SECP384R1())
        self.root = make_cert(name_of("Azure Mock Root"),
                              self.root_key.public_key(),
                              name_of("Azure Mock Root"), self.root_key, True,
                              days=60)
        self.inter_key = ec.generate_private_key(ec.SECP384R1())
        self.inter = make_cert(name_of("Azure Mock Intermediate"),
                               self.inter_key.public_key(), self.root.subject,
                               self.root_key, True, days=45)

    def leaf(self, priv, cn, self_signed=False):
        if self_signed:
            return make_cert(name_of(cn), priv.public_key(), name_of(cn),
                             priv, False)
        return make_cert(name_of(cn), priv.public_key(), self.inter.subject,
                         self.inter_key, False)


def secret_pem(priv, chain):
    key = priv.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()
    return key + "".join(pem(c) for c in chain)


def secret_pfx(priv, chain, legacy):
    if not legacy:
        return base64.b64encode(pkcs12.serialize_key_and_certificates(
            None, priv, chain[0], chain[1:],
            serialization.NoEncryption())).decode()
    # RC2-40 certificate bags and 3DES key bag, empty password: what old
    # Windows exports look like (needs OpenSSL's legacy provider).
    d = state["dir"]
    with open(f"{d}/.k.pem", "w") as f:
        f.write(secret_pem(priv, chain[:1]))
    with open(f"{d}/.c.pem", "w") as f:
        f.write("".join(pem(c) for c in chain[1:]))
    out = subprocess.run(["openssl", "pkcs12", "-export", "-legacy",
                          "-inkey", f"{d}/.k.pem", "-in", f"{d}/.k.pem",
                          "-certfile", f"{d}/.c.pem", "-passout", "pass:"],
                         check=True, capture_output=True).stdout
    os.unlink(f"{d}/.k.pem")
    os.unlink(f"{d}/.c.pem")
    return base64.b64encode(out).decode()


def add_object(name, priv, chain=None, fmt="pem", attrs=None, key_ops=None,
               jwk=None):
    ver = secrets.token_hex(16)
    e = {"priv": priv, "chain": chain, "fmt": fmt, "attrs": attrs or {},
         "key_ops": key_ops or ["sign", "verify"], "jwk": jwk}
    if chain is not None:
        e["secret"] = (secret_pem(priv, chain) if fmt == "pem"
                       else secret_pfx(priv, chain, fmt == "pfx-legacy"))
    o = objects.setdefault(name, {"versions": [], "v": {}})
    o["versions"].append(ver)
    o["v"][ver] = e
    return ver


def jwk_of(priv):
    pub = priv.public_key()
    if isinstance(pub, rsa.RSAPublicKey):
        n = pub.public_numbers()
        return {"kty": "RSA", "n": b64u(n.n.to_bytes((n.n.bit_length() + 7)
                                                     // 8, "big")),
                "e": b64u(n.e.to_bytes(3, "big"))}
    n = pub.public_numbers()
    crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521",
           "secp256k1": "P-256K"}[pub.curve.name]
    w = (pub.curve.key_size + 7) // 8
    return {"kty": "EC", "crv": crv, "x": b64u(n.x.to_bytes(w, "big")),
            "y": b64u(n.y.to_bytes(w, "big"))}


def setup_objects(pki, only):
    for spec, (kind, size) in SPECS.items():
        if only and spec not in only:
            continue
        priv = new_key(kind, size)
        add_object(f"cert-{spec}", priv,
                   [pki.leaf(priv, f"azure {spec}"), pki.inter, pki.root])
    p = new_key("EC", "P-256")
    add_object("cert-pfx", p, [pki.leaf(p, "azure pfx"), pki.inter, pki.root],
               fmt="pfx")
    p = new_key("EC", "P-256")
    add_object("cert-pfx-legacy", p,
               [pki.leaf(p, "azure pfx legacy"), pki.inter, pki.root],
               fmt="pfx-legacy")
    p = new_key("EC", "P-384")
    add_object("selfsigned", p, [pki.leaf(p, "azure self-signed", True)])
    for i in (1, 2):
        p = new_key("EC", "P-256")
        add_object("rotated", p, [pki.leaf(p, f"azure rotated v{i}"),
                                  pki.inter, pki.root])
    for name in ("plainkey", "throttled", "flaky"):
        add_object(name, new_key("EC", "P-256"))
    add_object("disabled", new_key("EC", "P-256"), attrs={"enabled": False})
    add_object("expired", new_key("EC", "P-256"),
               attrs={"exp": int(time.time()) - 3600})
    add_object("nosign", new_key("EC", "P-256"), key_ops=["verify"])
    add_object("k256k", new_key("EC", "P-256K"))
    add_object("rsa1024", new_key("RSA", 1024))
    add_object("aes", None, jwk={"kty": "oct-HSM"})


def issue_token(principal, resource, life):
    tok = "eyJ0eXAiOiJKV1QifQ." + b64u(secrets.token_bytes(24)) + ".mock"
    with lock:
        tokens[tok] = (principal, resource, time.time() + life)
    return tok


def log(entry):
    if state["log"]:
        with lock, open(state["log"], "a") as f:
            f.write(json.dumps(entry) + "\n")


class Fail(Exception):
    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def kv_error(status, code, msg, inner=None, headers=None):
    e = {"code": code, "message": msg}
    if inner:
        e["innererror"] = {"code": inner}
    return Fail(status, {"error": e}, headers)


def entra_error(status, error, code, text):
    trace = str(uuid.uuid4())
    return Fail(status, {
        "error": error,
        "error_description": f"AADSTS{code}: {text}\r\nTrace ID: {trace}\r\n"
                             f"Correlation ID: {uuid.uuid4()}\r\nTimestamp: "
                             f"{NOW().isoformat()}Z",
        "error_codes": [code], "trace_id": trace,
        "correlation_id": str(uuid.uuid4())})


def jwt_parts(tok):
    try:
        h, c, s = tok.split(".")
        return (json.loads(unb64u(h)), json.loads(unb64u(c)), unb64u(s),
                f"{h}.{c}".encode())
    except Exception:
        raise entra_error(400, "invalid_client", 50027,
                          "JWT token is invalid or malformed.")


def check_cert_assertion(cl, tok, url):
    h, c, sig, signed = jwt_parts(tok)
    cert = cl["cert"]
    thumb = b64u(hashlib.sha256(cert.public_bytes(
        serialization.Encoding.DER)).digest())
    if h.get("x5t#S256") != thumb:
        raise entra_error(401, "invalid_client", 700027,
                          "The certificate with identifier used to sign the "
                          "client assertion is not registered on application.")
    try:
        if h.get("alg") == "PS256":
            cert.public_key().verify(sig, signed, padding.PSS(
                mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                hashes.SHA256())
        elif h.get("alg") == "RS256":
            cert.public_key().verify(sig, signed, padding.PKCS1v15(),
                                     hashes.SHA256())
        else:
            raise ValueError("alg")
    except Exception:
        raise entra_error(401, "invalid_client", 700027,
                          "Client assertion failed signature validation.")
    now = time.time()
    if c.get("aud") != url:
        raise entra_error(401, "invalid_client", 700212,
                          f"No matching federated identity record found for "
                          f"presented assertion audience '{c.get('aud')}'.")
    if c.get("iss") != cl["id"] or c.get("sub") != cl["id"]:
        raise entra_error(401, "invalid_client", 700021,
                          "Client assertion application identifier doesn't "
                          "match 'client_id' parameter.")
    if not (c.get("nbf", now + 999) <= now + 300 < c.get("exp", 0) + 300
            and c["exp"] - c["nbf"] <= 3600):
        raise entra_error(401, "invalid_client", 700024,
                          "Client assertion is not within its valid time "
                          "range.")
    with lock:
        if not c.get("jti") or c["jti"] in jtis:
            raise entra_error(401, "invalid_client", 7000222,
                              "The provided client assertion was replayed.")
        jtis.add(c["jti"])


def federated_token(sub, life):
    h = {"alg": "ES256", "typ": "JWT", "kid": "mock"}
    now = int(time.time())
    c = {"iss": ISSUER, "sub": sub, "aud": ["api://AzureADTokenExchange"],
         "iat": now, "nbf": now, "exp": now + life}
    signed = f"{b64u(json.dumps(h).encode())}.{b64u(json.dumps(c).encode())}"
    der = ISSUER_KEY.sign(signed.encode(), ec.ECDSA(hashes.SHA256()))
    r, s = utils.decode_dss_signature(der)
    return signed + "." + b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def check_federated(cl, tok):
    h, c, sig, signed = jwt_parts(tok)
    try:
        r = int.from_bytes(sig[:32], "big")
        s = int.from_bytes(sig[32:], "big")
        ISSUER_KEY.public_key().verify(utils.encode_dss_signature(r, s),
                                       signed, ec.ECDSA(hashes.SHA256()))
    except Exception:
        raise entra_error(400, "invalid_client", 700213,
                          "No matching federated identity record found for "
                          "presented assertion (bad signature).")
    if c.get("iss") != ISSUER or c.get("sub") != cl["fed"] or \
            "api://AzureADTokenExchange" not in c.get("aud", []):
        raise entra_error(400, "invalid_client", 70021,
                          "No matching federated identity record found for "
                          f"presented assertion. Assertion Issuer: "
                          f"'{c.get('iss')}'.")
    if c.get("exp", 0) < time.time():
        raise entra_error(400, "invalid_client", 700024,
                          "Client assertion is not within its valid time "
                          "range.")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AzureMock/1"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj, headers=None):
        data = json.dumps(obj).encode() if obj is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def base(self):
        tls = isinstance(self.connection, ssl.SSLSocket)
        return f"{'https' if tls else 'http'}://{self.headers.get('Host')}"

    # ---- dispatch ----
    def dispatch(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        u = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        entry = {"method": method, "path": u.path, "kind": "kv",
                 "principal": None}
        try:
            status, obj, headers = self.route(method, u.path, q, raw, entry)
        except Fail as f:
            status, obj, headers = f.status, f.body, f.headers
        except Exception as e:  # a bug in the mock: Key Vault's 500
            status, obj, headers = 500, {"error": {
                "code": "InternalError", "message": f"mock: {e!r}"}}, {}
        entry["status"] = status
        log(entry)
        self.reply(status, obj, headers)

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def route(self, method, path, q, raw, entry):
        parts = path.strip("/").split("/")
        if path == "/_mock/revoke-all" and method == "POST":
            entry["kind"] = "control"
            with lock:
                tokens.clear()
            return 200, {"revoked": True}, {}
        if path.endswith("/oauth2/v2.0/token") and method == "POST":
            entry["kind"] = "entra"
            return self.entra(parts[0], path, raw, entry)
        if path.endswith("/metadata/identity/oauth2/token"):
            entry["kind"] = "imds"
            return self.imds(path[:-len("/metadata/identity/oauth2/token")],
                             q, entry)
        if path == "/msi/token":
            entry["kind"] = "appservice"
            return self.app_service(q, entry)
        return self.keyvault(method, parts, q, raw, entry)

    # ---- Entra ----
    def entra(self, tenant, path, raw, entry):
        f = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        if tenant != TENANT:
            raise entra_error(400, "invalid_request", 90002,
                              f"Tenant '{tenant}' not found.")
        if f.get("grant_type") != "client_credentials":
            raise entra_error(400, "unsupported_grant_type", 70003,
                              "The app requested an unsupported grant type.")
        cl = clients.get(f.get("client_id"))
        if cl is None:
            raise entra_error(400, "unauthorized_client", 700016,
                              f"Application with identifier "
                              f"'{f.get('client_id')}' was not found in the "
                              f"directory.")
        if f.get("scope") != RESOURCE + "/.default":
            raise entra_error(400, "invalid_scope", 70011,
                              f"The provided value for scope "
                              f"{f.get('scope')} is not valid.")
        entry["principal"] = cl["principal"]
        if "client_secret" in f:
            entry["auth"] = "secret"
            if f["client_secret"] != cl.get("secret"):
                raise entra_error(401, "invalid_client", 7000215,
                                  "Invalid client secret provided.")
        elif f.get("client_assertion_type") == \
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            a = f.get("client_assertion", "")
            if "cert" in cl:
                entry["auth"] = "certificate"
                check_cert_assertion(cl, a, self.base() + path)
            elif "fed" in cl:
                entry["auth"] = "federated"
                check_federated(cl, a)
            else:
                raise entra_error(401, "invalid_client", 7000215,
                                  "No certificate or federated credential.")
        else:
            raise entra_error(401, "invalid_client", 7000218,
                              "The request body must contain the following "
                              "parameter: 'client_assertion' or "
                              "'client_secret'.")
        life = cl.get("life", 3599)
        return 200, {"token_type": "Bearer", "expires_in": life,
                     "ext_expires_in": life,
                     "access_token": issue_token(cl["principal"], RESOURCE,
                                                 life)}, {}

    # ---- managed identity ----
    def imds(self, mode, q, entry):
        if self.headers.get("Metadata") != "true":
            raise Fail(400, {"error": "invalid_request", "error_description":
                             "Required metadata header not specified"})
        if q.get("api-version") != "2018-02-01" or q.get("resource") != RESOURCE:
            raise Fail(400, {"error": "invalid_request", "error_description":
                             "bad api-version or resource"})
        if mode == "/noid":
            raise Fail(400, {"error": "invalid_request",
                             "error_description": "Identity not found"})
        if mode == "/gone-once":
            with lock:
                k = ("gone", q.get("client_id"))
                counts[k] = counts.get(k, 0) + 1
                first = counts[k] == 1
            if first:
                raise Fail(410, {"error": "unavailable"})
        cid = q.get("client_id")
        if cid is not None and cid != mi["uami"]:
            raise Fail(400, {"error": "invalid_request",
                             "error_description": "Identity not found"})
        principal = "uami" if cid else "signer"
        entry["principal"] = principal
        now = int(time.time())
        return 200, {"access_token": issue_token(principal, RESOURCE, 3599),
                     "client_id": cid or mi["system"], "expires_in": "3599",
                     "expires_on": str(now + 3599), "ext_expires_in": "3599",
                     "not_before": str(now), "resource": RESOURCE,
                     "token_type": "Bearer"}, {}

    def app_service(self, q, entry):
        if self.headers.get("X-IDENTITY-HEADER") != mi["header"]:
            raise Fail(401, {"statusCode": 401,
                             "message": "Unauthorized: missing or wrong "
                                        "X-IDENTITY-HEADER"})
        if q.get("api-version") != "2019-08-01" or q.get("resource") != RESOURCE:
            raise Fail(400, {"statusCode": 400, "message": "bad request"})
        entry["principal"] = "signer"
        return 200, {"access_token": issue_token("signer", RESOURCE, 3599),
                     "expires_on": str(int(time.time()) + 3599),
                     "resource": RESOURCE, "token_type": "Bearer",
                     "client_id": mi["system"]}, {}

    # ---- Key Vault ----
    def principal(self, entry):
        auth = self.headers.get("Authorization", "")
        challenge = {"WWW-Authenticate":
                     f'Bearer authorization="https://login.microsoftonline.com/'
                     f'{TENANT}", resource="{RESOURCE}"'}
        if not auth.startswith("Bearer "):
            raise kv_error(401, "Unauthorized", "AKV10000: Request is missing "
                           "a Bearer or PoP token.", headers=challenge)
        t = tokens.get(auth[7:])
        if t is None or t[2] < time.time():
            raise kv_error(401, "Unauthorized", "AKV10032: Invalid issuer or "
                           "an expired or revoked token.", headers=challenge)
        entry["principal"] = t[0]
        return t[0]

    def need(self, who, right):
        if right in RIGHTS[who]:
            return
        if right == "secrets/get":
            raise kv_error(403, "Forbidden", f"The user, group or application "
                           f"'appid={who};oid={who}' does not have secrets get "
                           f"permission on key vault 'mock;location=westus'. "
                           f"For help resolving this issue, please see "
                           f"https://go.microsoft.com/fwlink/?linkid=2125287",
                           "ForbiddenByPolicy")
        raise kv_error(403, "Forbidden", "Caller is not authorized to perform "
                       "action on resource.\r\nIf role assignments, deny "
                       "assignments or role definitions were changed recently"
                       f", please observe propagation time.\r\nCaller: "
                       f"appid={who};oid={who}\r\nAction: '{ACTIONS[right]}'"
                       f"\r\nResource: '/vaults/mock'\r\nAssignment: (not "
                       f"found)\r\n", "ForbiddenByRbac")

    def lookup(self, parts, kind, notfound):
        name = parts[1] if len(parts) > 1 else ""
        o = objects.get(name)
        ver = parts[2] if len(parts) > 2 and parts[2] else None
        if o is None or (ver is not None and ver not in o["v"]):
            what = {"keys": "key", "certificates": "certificate",
                    "secrets": "secret"}[kind]
            raise kv_error(404, notfound, f"A {what} with (name/id) {name}"
                           f"{'/' + ver if ver else ''} was not found in this "
                           f"key vault. If you recently deleted this {what} "
                           f"you may be able to recover it using the correct "
                           f"recovery command.")
        ver = ver or o["versions"][-1]
        return name, ver, o["v"][ver]

    def keyvault(self, method, parts, q, raw, entry):
        if q.get("api-version") != "7.4":
            raise kv_error(400, "BadParameter", "The specified version "
                           f"({q.get('api-version')}) is not recognized.")
        who = self.principal(entry)
        kind = parts[0]
        if kind == "keys" and len(parts) == 4 and parts[3] == "sign" and \
                method == "POST":
            self.need(who, "keys/sign")
            name, ver, e = self.lookup(parts[:3], "keys", "KeyNotFound")
            return self.sign(name, ver, e, json.loads(raw or b"{}"))
        if method != "GET" or len(parts) not in (2, 3) or \
                kind not in ("keys", "certificates", "secrets"):
            raise kv_error(404, "NotFound", "no such operation")
        self.need(who, f"{kind}/get")
        notfound = {"keys": "KeyNotFound", "certificates":
                    "CertificateNotFound", "secrets": "SecretNotFound"}[kind]
        name, ver, e = self.lookup(parts, kind, notfound)
        kid = f"{self.base()}/keys/{name}/{ver}"
        attrs = {"enabled": True, "created": 1700000000,
                 "updated": 1700000000, "recoveryLevel": "Recoverable"}
        attrs.update(e["attrs"])
        if kind == "keys":
            jwk = dict(e["jwk"] or jwk_of(e["priv"]))
            jwk.update({"kid": kid, "key_ops": e["key_ops"]})
            return 200, {"key": jwk, "attributes": attrs}, {}
        if e["chain"] is None:
            raise kv_error(404, notfound, f"A {kind[:-1]} with (name/id) "
                           f"{name} was not found in this key vault.")
        der = e["chain"][0].public_bytes(serialization.Encoding.DER)
        if kind == "certificates":
            return 200, {"id": f"{self.base()}/certificates/{name}/{ver}",
                         "kid": kid, "sid": f"{self.base()}/secrets/{name}/{ver}",
                         "x5t": b64u(hashlib.sha1(der).digest()),
                         "cer": base64.b64encode(der).decode(),
                         "attributes": attrs,
                         "policy": {"id": "p", "key_props": {
                             "exportable": True, "reuse_key": False}}}, {}
        return 200, {"value": e["secret"],
                     "contentType": "application/x-pem-file"
                     if e["fmt"] == "pem" else "application/x-pkcs12",
                     "id": f"{self.base()}/secrets/{name}/{ver}",
                     "managed": True, "attributes": attrs, "kid": kid}, {}

    def sign(self, name, ver, e, body):
        if name == "throttled":
            raise kv_error(429, "Throttled", "Request was not processed "
                           "because too many requests were received. Reason: "
                           "VaultRequestTypeLimitReached",
                           headers={"Retry-After": "1"})
        if name == "flaky":
            with lock:
                counts["flaky"] = counts.get("flaky", 0) + 1
                first = counts["flaky"] == 1
            if first:
                raise kv_error(500, "InternalServerError", "mock: once")
        alg, value = body.get("alg"), body.get("value", "")
        priv = e["priv"]
        if alg not in ALGS or priv is None:
            raise kv_error(400, "BadParameter", f"Invalid algorithm {alg}")
        h = ALGS[alg]()
        digest = unb64u(value)
        if len(digest) != h.digest_size:
            raise kv_error(400, "BadParameter", "Invalid digest length")
        if alg.startswith("PS"):
            if not isinstance(priv, rsa.RSAPrivateKey):
                raise kv_error(400, "BadParameter", "Key and algorithm do not "
                               "match")
            sig = priv.sign(digest, padding.PSS(mgf=padding.MGF1(h),
                                                salt_length=h.digest_size),
                            utils.Prehashed(h))
        else:
            if not isinstance(priv, ec.EllipticCurvePrivateKey) or \
                    jwk_of(priv)["crv"] != EC_ALG_CURVE[alg]:
                raise kv_error(400, "BadParameter", "Key and algorithm do not "
                               "match")
            r, s = utils.decode_dss_signature(
                priv.sign(digest, ec.ECDSA(utils.Prehashed(h))))
            w = (priv.curve.key_size + 7) // 8
            sig = r.to_bytes(w, "big") + s.to_bytes(w, "big")
        return 200, {"kid": f"{self.base()}/keys/{name}/{ver}",
                     "value": b64u(sig)}, {}


mi = {}


def client_credentials(d, pki):
    """Clients of the tenant, and their credential files in d."""
    def add(principal, **kw):
        cid = str(uuid.uuid4())
        clients[cid] = dict(principal=principal, id=cid, **kw)
        return cid

    out = {"tenant": TENANT}
    for who in ("signer", "reader", "nosecrets"):
        sec = "mock~" + secrets.token_urlsafe(24)
        out[who] = {"id": add(who, secret=sec), "secret": sec}
    sec = "mock~" + secrets.token_urlsafe(24)
    out["short"] = {"id": add("signer", secret=sec, life=120), "secret": sec}
    # Certificate credential: RSA key; PEM (plain and encrypted) and PFX.
    k = rsa_key(2048)
    c = make_cert(name_of("azure mock client"), k.public_key(),
                  name_of("azure mock client"), k, False, days=30)
    pw = "pfx-" + secrets.token_hex(6)
    plain = serialization.NoEncryption()
    enc = serialization.BestAvailableEncryption(pw.encode())
    files = {
        "client.pem": k.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8, plain)
        + c.public_bytes(serialization.Encoding.PEM),
        "client-enc.pem": k.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          enc)
        + c.public_bytes(serialization.Encoding.PEM),
        "client.pfx": pkcs12.serialize_key_and_certificates(b"c", k, c, None,
                                                            enc)}
    for f, data in files.items():
        with open(f"{d}/{f}", "wb") as fh:
            fh.write(data)
    subprocess.run(["openssl", "pkcs12", "-export", "-legacy", "-inkey",
                    f"{d}/client.pem", "-in", f"{d}/client.pem", "-passout",
                    f"pass:{pw}", "-out", f"{d}/client-legacy.pfx"],
                   check=True, capture_output=True)
    other = rsa_key(2048)
    oc = make_cert(name_of("not registered"), other.public_key(),
                   name_of("not registered"), other, False, days=30)
    with open(f"{d}/client-other.pem", "wb") as fh:
        fh.write(other.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8, plain)
                 + oc.public_bytes(serialization.Encoding.PEM))
    out["certapp"] = {"id": add("signer", cert=c), "password": pw}
    # Workload identity: a federated credential for a service account.
    sub = "system:serviceaccount:ci:notation"
    out["wi"] = {"id": add("signer", fed=sub)}
    for f, life in (("wi-token", 3600), ("wi-expired", -60)):
        with open(f"{d}/{f}", "w") as fh:
            fh.write(federated_token(sub, life) + "\n")
    with open(f"{d}/wi-other", "w") as fh:
        fh.write(federated_token("system:serviceaccount:x:y", 3600) + "\n")
    mi.update(system=str(uuid.uuid4()), uami=str(uuid.uuid4()),
              header="hdr-" + secrets.token_hex(12))
    out["mi"] = dict(mi)
    out["cli_token"] = issue_token("signer", RESOURCE, 3599)
    out["cli_reader_token"] = issue_token("reader", RESOURCE, 3599)
    return out


def write_pki(d, pki):
    with open(f"{d}/ca-root.pem", "w") as f:
        f.write(pem(pki.root))
    with open(f"{d}/ca-inter.pem", "w") as f:
        f.write(pem(pki.inter))
    with open(f"{d}/ca-certs.pem", "w") as f:
        f.write(pem(pki.inter) + pem(pki.root))
    for name, o in objects.items():
        for ver in o["versions"]:
            e = o["v"][ver]
            if e["chain"]:
                with open(f"{d}/{name}-{ver}-chain.pem", "w") as f:
                    f.write("".join(pem(c) for c in e["chain"]))


def setup(path, d, only):
    state["dir"] = d
    pki = PKI()
    setup_objects(pki, only)
    out = client_credentials(d, pki)
    write_pki(d, pki)
    out["keys"] = {name: {"versions": o["versions"],
                          "pub": {v: pub_pem(o["v"][v]["priv"])
                                  for v in o["versions"]
                                  if o["v"][v]["priv"] is not None}}
                   for name, o in objects.items()}
    out["dir"] = d
    with open(path + ".tmp", "w") as f:
        json.dump(out, f)
    return path + ".tmp"


def main():
    argv = sys.argv[1:]
    setup_path = d = None
    only, listeners = None, []
    while argv:
        a = argv.pop(0)
        if a == "--setup":
            setup_path = argv.pop(0)
        elif a == "--dir":
            d = argv.pop(0)
        elif a == "--log":
            state["log"] = argv.pop(0)
        elif a == "--only":
            only = argv.pop(0).split(",")
        elif a == "--http":
            listeners.append((int(argv.pop(0)), None))
        elif a == "--https":
            listeners.append(https_listener(argv))
        else:
            sys.exit(f"azure_mock: unknown argument {a}")
    if setup_path is None or d is None or not listeners:
        sys.exit(__doc__)
    os.makedirs(d, exist_ok=True)
    tmp = setup(setup_path, d, only)
    for port, ctx in listeners:
        serve(Handler, port, ctx)
    os.rename(tmp, setup_path)
    time.sleep(float(os.environ.get("AZURE_MOCK_LIFETIME", "900")))


if __name__ == "__main__":
    main()
