#!/usr/bin/python3
"""Independent check of a notation JWS envelope made by notation-keystore.

Uses jwcrypto (signature), cryptography (chain, strict PSS salt) and only
the standard library otherwise: none of the plugin's code. Exits 0 and
prints "ok" when every rule holds; exits 1 with a message otherwise.

  check_jws.py ENVELOPE --payload FILE --keyspec EC-256 [--expiry SECONDS]
      [--no-vplugin] [--timestamp] [--root PEM] [--not-before EPOCH]
      [--not-after EPOCH] [--sig-out FILE] [--tst-out FILE]
"""
import argparse
import base64
import binascii
import datetime
import json
import re
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import \
    encode_dss_signature

PAYLOAD_TYPE = "application/vnd.cncf.notary.payload.v1+json"
SCHEME = "io.cncf.notary.signingScheme"
TIME = "io.cncf.notary.signingTime"
EXPIRY = "io.cncf.notary.expiry"
VPLUGIN = "io.cncf.notary.verificationPlugin"
VPLUGIN_MIN = "io.cncf.notary.verificationPluginMinVersion"
AGENT = "io.cncf.notary.signingAgent"
TST = "io.cncf.notary.timestampSignature"

# keySpec -> (key type, size, hash, JWS alg, COSE alg)
SPECS = {
    "RSA-2048": ("rsa", 2048, hashes.SHA256, "PS256", -37),
    "RSA-3072": ("rsa", 3072, hashes.SHA384, "PS384", -38),
    "RSA-4096": ("rsa", 4096, hashes.SHA512, "PS512", -39),
    "EC-256": ("ec", 256, hashes.SHA256, "ES256", -7),
    "EC-384": ("ec", 384, hashes.SHA384, "ES384", -35),
    "EC-521": ("ec", 521, hashes.SHA512, "ES512", -36),
}


class Bad(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise Bad(msg)


def std_b64(s, what):
    need(isinstance(s, str), "%s is not a string" % what)
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError) as e:
        raise Bad("%s is not standard base64: %s" % (what, e))
    need(base64.b64encode(raw).decode() == s,
         "%s is not canonical padded standard base64" % what)
    return raw


def url_b64(s, what):
    need(isinstance(s, str) and re.fullmatch(r"[A-Za-z0-9_-]*", s),
         "%s is not unpadded base64url" % what)
    need(len(s) % 4 != 1, "%s has an impossible base64url length" % what)
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def verify_by(cert, issuer):
    """cert's signature checks out under issuer's public key."""
    pub = issuer.public_key()
    h = cert.signature_hash_algorithm
    try:
        if isinstance(pub, rsa.RSAPublicKey):
            pub.verify(cert.signature, cert.tbs_certificate_bytes,
                       padding.PKCS1v15(), h)
        else:
            pub.verify(cert.signature, cert.tbs_certificate_bytes,
                       ec.ECDSA(h))
    except Exception as e:
        raise Bad("certificate %s is not signed by %s: %r" %
                  (cert.subject.rfc4514_string(),
                   issuer.subject.rfc4514_string(), e))


def check_chain(ders, keyspec, root_pem=None):
    """Leaf first, each issued and signed by the next, ending self-signed;
    the leaf key is the key spec's. Returns the certificates."""
    need(isinstance(ders, list) and ders, "certificate chain is empty")
    certs = [x509.load_der_x509_certificate(d) for d in ders]
    for i in range(len(certs) - 1):
        need(certs[i].issuer == certs[i + 1].subject,
             "certificate %d is not issued by certificate %d" % (i, i + 1))
        verify_by(certs[i], certs[i + 1])
    last = certs[-1]
    need(last.issuer == last.subject, "chain does not end in a root")
    verify_by(last, last)
    if root_pem:
        with open(root_pem, "rb") as f:
            root = x509.load_pem_x509_certificates(f.read())[-1] \
                if hasattr(x509, "load_pem_x509_certificates") \
                else x509.load_pem_x509_certificate(f.read())
        need(last.public_bytes(serialization.Encoding.DER) ==
             root.public_bytes(serialization.Encoding.DER),
             "chain does not end in the expected root")
    kind, size, _, _, _ = SPECS[keyspec]
    pub = certs[0].public_key()
    if kind == "rsa":
        need(isinstance(pub, rsa.RSAPublicKey) and pub.key_size == size,
             "leaf key is not RSA-%d" % size)
    else:
        need(isinstance(pub, ec.EllipticCurvePublicKey) and
             pub.curve.key_size == size, "leaf key is not EC P-%d" % size)
    return certs


def verify_raw(pub, keyspec, data, sig):
    """Strict notation rules: PSS with salt = hash length, ECDSA r||s."""
    kind, size, hcls, _, _ = SPECS[keyspec]
    h = hcls()
    try:
        if kind == "rsa":
            need(len(sig) == size // 8, "RSA signature has the wrong size")
            pub.verify(sig, data, padding.PSS(mgf=padding.MGF1(h),
                                              salt_length=h.digest_size), h)
        else:
            w = (size + 7) // 8
            need(len(sig) == 2 * w, "ECDSA signature is not %d-byte r||s"
                 % (2 * w))
            der = encode_dss_signature(int.from_bytes(sig[:w], "big"),
                                       int.from_bytes(sig[w:], "big"))
            pub.verify(der, data, ec.ECDSA(h))
    except Bad:
        raise
    except Exception as e:
        raise Bad("signature does not verify with the leaf key: %r" % e)


def expected_crit(expiry, vplugin):
    crit = [SCHEME]
    if vplugin:
        crit += [VPLUGIN, VPLUGIN_MIN]
    if expiry is not None:
        crit.append(EXPIRY)
    return crit


def check_times(signing, expiry_at, args):
    """signing/expiry as epoch seconds (ints)."""
    if args.not_before is not None:
        need(signing >= args.not_before, "signing time %d before %d" %
             (signing, args.not_before))
    if args.not_after is not None:
        need(signing <= args.not_after, "signing time %d after %d" %
             (signing, args.not_after))
    if args.expiry is None:
        need(expiry_at is None, "expiry present but none was asked for")
    else:
        need(expiry_at is not None, "expiry missing")
        need(expiry_at == signing + args.expiry,
             "expiry %s is not signing time + %d" % (expiry_at, args.expiry))


def rfc3339(s, what):
    need(isinstance(s, str) and
         re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s),
         "%s %r is not RFC 3339 UTC in whole seconds" % (what, s))
    t = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
    return int(t.replace(tzinfo=datetime.timezone.utc).timestamp())


def check_protected(raw, args):
    hdr = json.loads(raw)
    need(raw == json.dumps(hdr, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False).encode(),
         "protected header is not compact JSON with sorted keys")
    vplugin = not args.no_vplugin
    want = {"alg", "crit", "cty", SCHEME, TIME}
    if args.expiry is not None:
        want.add(EXPIRY)
    if vplugin:
        want |= {VPLUGIN, VPLUGIN_MIN}
    need(set(hdr) == want, "protected members %s, expected %s" %
         (sorted(hdr), sorted(want)))
    need(hdr["alg"] == SPECS[args.keyspec][3], "alg %r" % hdr["alg"])
    need(hdr["cty"] == PAYLOAD_TYPE, "cty %r" % hdr["cty"])
    need(hdr[SCHEME] == "notary.x509", "signing scheme %r" % hdr[SCHEME])
    need(hdr["crit"] == expected_crit(args.expiry, vplugin),
         "crit %r, expected %r" % (hdr["crit"],
                                   expected_crit(args.expiry, vplugin)))
    need(len(set(hdr["crit"])) == len(hdr["crit"]), "duplicate in crit")
    for name in hdr["crit"]:
        need(name in hdr, "crit names %r, which is absent" % name)
    if vplugin:
        need(hdr[VPLUGIN] == "keystore", "verificationPlugin %r" %
             hdr[VPLUGIN])
        need(re.fullmatch(r"\d+\.\d+\.\d+", hdr[VPLUGIN_MIN] or ""),
             "verificationPluginMinVersion %r" % hdr[VPLUGIN_MIN])
    signing = rfc3339(hdr[TIME], "signing time")
    expiry_at = rfc3339(hdr[EXPIRY], "expiry") if EXPIRY in hdr else None
    check_times(signing, expiry_at, args)
    return hdr


def check_unprotected(h, args):
    want = {"x5c", AGENT} | ({TST} if args.timestamp else set())
    need(isinstance(h, dict) and set(h) == want,
         "unprotected header members %s, expected %s" %
         (sorted(h) if isinstance(h, dict) else h, sorted(want)))
    need(re.fullmatch(r"notation-keystore/\d+\.\d+\.\d+\S*", h[AGENT]),
         "signing agent %r" % h[AGENT])
    ders = [std_b64(c, "x5c entry") for c in h["x5c"]]
    tst = std_b64(h[TST], "timestamp token") if args.timestamp else None
    return ders, tst


def jwcrypto_verify(text, leaf, crit):
    from jwcrypto import jwk, jws
    from jwcrypto.common import JWSEHeaderParameter
    reg = {n: JWSEHeaderParameter("notary", True, True, None) for n in crit}
    key = jwk.JWK.from_pyca(leaf.public_key())
    obj = jws.JWS(header_registry=reg)
    try:
        obj.deserialize(text)
        obj.verify(key)
    except Exception as e:
        raise Bad("jwcrypto rejects the signature: %r" % e)


def check(args):
    with open(args.envelope, "rb") as f:
        text = f.read().decode()
    env = json.loads(text)
    need(isinstance(env, dict) and
         set(env) == {"payload", "protected", "header", "signature"},
         "top-level members %s" % (sorted(env) if isinstance(env, dict)
                                   else type(env)))
    payload = url_b64(env["payload"], "payload")
    with open(args.payload, "rb") as f:
        need(payload == f.read(), "payload changed")
    prot_raw = url_b64(env["protected"], "protected")
    hdr = check_protected(prot_raw, args)
    sig = url_b64(env["signature"], "signature")
    ders, tst = check_unprotected(env["header"], args)
    certs = check_chain(ders, args.keyspec, args.root)
    signing_input = (env["protected"] + "." + env["payload"]).encode()
    verify_raw(certs[0].public_key(), args.keyspec, signing_input, sig)
    jwcrypto_verify(text, certs[0], hdr["crit"])
    if args.sig_out:
        with open(args.sig_out, "wb") as f:
            f.write(sig)
    if args.tst_out and tst is not None:
        with open(args.tst_out, "wb") as f:
            f.write(tst)


def parser(prog):
    p = argparse.ArgumentParser(prog=prog)
    p.add_argument("envelope")
    p.add_argument("--payload", required=True)
    p.add_argument("--keyspec", required=True, choices=sorted(SPECS))
    p.add_argument("--expiry", type=int)
    p.add_argument("--no-vplugin", action="store_true")
    p.add_argument("--timestamp", action="store_true")
    p.add_argument("--root")
    p.add_argument("--not-before", type=int)
    p.add_argument("--not-after", type=int)
    p.add_argument("--sig-out")
    p.add_argument("--tst-out")
    return p


def main(check_fn, prog):
    args = parser(prog).parse_args()
    try:
        check_fn(args)
    except Bad as e:
        print("%s: %s: %s" % (prog, args.envelope, e), file=sys.stderr)
        return 1
    except Exception as e:  # malformed input of any other kind
        print("%s: %s: cannot check: %r" % (prog, args.envelope, e),
              file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(check, "check_jws"))
