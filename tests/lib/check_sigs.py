#!/usr/bin/python3
"""Checks many generate-signature responses at once, with Python
cryptography only (never the plugin, never the key store):

  check_sigs.py LIST

LIST has one line per response: "SPEC KEY.pem PAYLOAD RESPONSE.json
[DESCRIBE.json [METADATA.json]]", where KEY.pem is the signer's
certificate or public key and PAYLOAD the bytes that were sent (before
base64). Each generate-signature response must name the algorithm of SPEC,
carry the signer's certificate first in certificateChain, and hold a
notation raw signature (RSASSA-PSS with salt = hash length, or ECDSA r||s)
that verifies over PAYLOAD. A describe-key response given must name SPEC,
a get-plugin-metadata response the SIGNATURE_GENERATOR.RAW capability. Prints the number checked; exits 1 naming the
first bad line, so an empty LIST or a missing file is a failure too.
"""
import base64
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

HASH = {"RSA-2048": hashes.SHA256, "RSA-3072": hashes.SHA384,
        "RSA-4096": hashes.SHA512, "EC-256": hashes.SHA256,
        "EC-384": hashes.SHA384, "EC-521": hashes.SHA512}
ALG = {"RSA-2048": "RSASSA-PSS-SHA-256", "RSA-3072": "RSASSA-PSS-SHA-384",
       "RSA-4096": "RSASSA-PSS-SHA-512", "EC-256": "ECDSA-SHA-256",
       "EC-384": "ECDSA-SHA-384", "EC-521": "ECDSA-SHA-512"}


def load_pub(path):
    data = open(path, "rb").read()
    if b"CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    return serialization.load_pem_public_key(data)


def spki(pub):
    return pub.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def check(spec, key_path, payload_path, resp_path, desc_path=None,
          meta_path=None):
    if desc_path and json.load(open(desc_path)).get("keySpec") != spec:
        raise ValueError("describe-key did not answer keySpec " + spec)
    if meta_path and "SIGNATURE_GENERATOR.RAW" not in \
            json.load(open(meta_path)).get("capabilities", []):
        raise ValueError("get-plugin-metadata without SIGNATURE_GENERATOR.RAW")
    pub = load_pub(key_path)
    data = open(payload_path, "rb").read()
    resp = json.load(open(resp_path))
    if resp.get("signingAlgorithm") != ALG[spec]:
        raise ValueError("signingAlgorithm %r" % resp.get("signingAlgorithm"))
    leaf = x509.load_der_x509_certificate(
        base64.b64decode(resp["certificateChain"][0], validate=True))
    if spki(leaf.public_key()) != spki(pub):
        raise ValueError("certificateChain[0] is not the signer's")
    sig = base64.b64decode(resp["signature"], validate=True)
    h = HASH[spec]()
    if isinstance(pub, rsa.RSAPublicKey):
        if len(sig) != pub.key_size // 8:
            raise ValueError("RSA signature of %d bytes" % len(sig))
        pub.verify(sig, data, padding.PSS(mgf=padding.MGF1(h),
                                          salt_length=h.digest_size), h)
    else:
        w = (pub.curve.key_size + 7) // 8
        if len(sig) != 2 * w:
            raise ValueError("not a fixed-width r||s")
        r, s = int.from_bytes(sig[:w], "big"), int.from_bytes(sig[w:], "big")
        pub.verify(utils.encode_dss_signature(r, s), data, ec.ECDSA(h))


def main():
    n = 0
    for line in open(sys.argv[1]):
        if not line.strip():
            continue
        try:
            check(*line.split())
        except Exception as e:  # any failure names its line
            sys.exit("check_sigs: %s: %s: %s" % (line.strip(), type(e).__name__, e))
        n += 1
    if n == 0:
        sys.exit("check_sigs: nothing to check")
    print(n)


if __name__ == "__main__":
    main()
