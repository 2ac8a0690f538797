#!/usr/bin/env python3
"""moto_server for the KMS tests, with moto's two signing bugs fixed
(kms.md 3.2): Sign honours MessageType DIGEST (moto hashes again), and PSS
uses salt = digest length (moto uses the maximum). Before serving it creates,
in-process (SigV4 checking is on from the first request), an IAM user with
an access key allowed kms:*, a user with no KMS rights, a role
notation-signer (kms:*) for web identity, and one KMS key per notation key
spec with aliases alias/rsa-2048 ... alias/ec-521. Writes them as JSON to
--setup FILE.

A third fix: STS AssumeRoleWithWebIdentity (and WithSAML) are unsigned by
design (the web identity token is the credential), but moto's SigV4 check
refuses every unsigned request once checking is on; they are let through
here as AWS does. A WebIdentityToken of "invalid-token" is refused with
InvalidIdentityToken, as STS refuses a token it cannot validate.

usage: moto_launcher.py --setup FILE -H 127.0.0.1 -p PORT
"""
import contextvars
import json
import os
import sys

os.environ.setdefault("INITIAL_NO_AUTH_ACTION_COUNT", "0")

from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils  # noqa: E402
import moto.server  # noqa: E402
from moto.core.authorization import ActionAuthenticatorMixin  # noqa: E402
from moto.core.exceptions import _RESTError  # noqa: E402
from moto.iam.models import iam_backends  # noqa: E402
from moto.kms import responses as kms_responses  # noqa: E402
from moto.kms import utils as kms_utils  # noqa: E402
from moto.kms.exceptions import ValidationException  # noqa: E402
from moto.kms.models import kms_backends  # noqa: E402

ACCOUNT = "123456789012"
REGION = "us-east-1"
_mtype = contextvars.ContextVar("message_type", default="RAW")
HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}

_orig_sign = kms_responses.KmsResponse.sign


def _resp_sign(self):
    mt = self._get_param("MessageType") or "RAW"
    if mt not in ("RAW", "DIGEST"):
        raise ValidationException(f"MessageType {mt} is not supported")
    tok = _mtype.set(mt)
    try:
        return _orig_sign(self)
    finally:
        _mtype.reset(tok)


def _hash_of(alg):
    return HASHES[alg[-3:]]()


def _prehashed(message, h):
    if _mtype.get() != "DIGEST":
        return message, h
    if len(message) != h.digest_size:
        raise ValidationException(
            f"Digest is invalid length for algorithm {h.name}.")
    return message, utils.Prehashed(h)


def _rsa_sign(self, message, alg):
    kms_utils.validate_signing_algorithm(
        alg, kms_utils.SigningAlgorithm.rsa_signing_algorithms())
    h = _hash_of(alg)
    if "PSS" in alg:
        pad = padding.PSS(mgf=padding.MGF1(_hash_of(alg)),
                          salt_length=padding.PSS.DIGEST_LENGTH)
    else:
        pad = padding.PKCS1v15()
    message, algo = _prehashed(message, h)
    return self.private_key.sign(message, pad, algo)


def _ec_sign(self, message, alg):
    kms_utils.validate_signing_algorithm(alg, self.valid_signing_algorithms)
    message, algo = _prehashed(message, _hash_of(alg))
    return self.private_key.sign(message, ec.ECDSA(algo))


class InvalidIdentityToken(_RESTError):
    code = 400

    def __init__(self):
        super().__init__("InvalidIdentityToken",
                         "Couldn't verify the web identity token")


UNSIGNED_STS = {"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"}
_orig_auth = ActionAuthenticatorMixin._authenticate_and_authorize_action


def _auth(self, iam_request_cls, resource="*"):
    if (self._get_action() in UNSIGNED_STS and
            "Authorization" not in self.headers):
        if self._get_param("WebIdentityToken") == "invalid-token":
            raise InvalidIdentityToken()
        return None
    return _orig_auth(self, iam_request_cls, resource)


ActionAuthenticatorMixin._authenticate_and_authorize_action = _auth
kms_responses.KmsResponse.sign = _resp_sign
kms_utils.RSAPrivateKey.sign = _rsa_sign
kms_utils.ECDSAPrivateKey.sign = _ec_sign

SPECS = {"RSA_2048": "rsa-2048", "RSA_3072": "rsa-3072",
         "RSA_4096": "rsa-4096", "ECC_NIST_P256": "ec-256",
         "ECC_NIST_P384": "ec-384", "ECC_NIST_P521": "ec-521"}


def setup(path):
    iam = iam_backends[ACCOUNT]["global"]
    out = {"keys": {}}
    iam.create_user(REGION, "signer")
    iam.put_user_policy("signer", "kms", json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["kms:*", "sts:*"],
                       "Resource": "*"}]}))
    k = iam.create_access_key("signer")
    out["signer"] = {"id": k.access_key_id, "secret": k.secret_access_key}
    iam.create_user(REGION, "nobody")
    iam.put_user_policy("nobody", "none", json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:ListBucket"],
                       "Resource": "*"}]}))
    k = iam.create_access_key("nobody")
    out["nobody"] = {"id": k.access_key_id, "secret": k.secret_access_key}
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": "arn:aws:iam::%s:oidc-provider/ci" % ACCOUNT}}]}
    role = iam.create_role("notation-signer", json.dumps(trust), "/", None,
                           "", [], None)
    iam.put_role_policy("notation-signer", "kms", json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["kms:*"],
                       "Resource": "*"}]}))
    out["role_arn"] = role.arn
    kms = kms_backends[ACCOUNT][REGION]
    for spec, name in SPECS.items():
        key = kms.create_key(None, "SIGN_VERIFY", spec, name, None)
        kms.create_alias(key.id, "alias/" + name)
        pub = key.private_key.private_key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        out["keys"][name] = {"id": key.id, "arn": key.arn, "pub": pub}
    enc = kms.create_key(None, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", "enc",
                         None)
    kms.create_alias(enc.id, "alias/enc")
    k1 = kms.create_key(None, "SIGN_VERIFY", "ECC_SECG_P256K1", "k1", None)
    kms.create_alias(k1.id, "alias/secp256k1")
    dis = kms.create_key(None, "SIGN_VERIFY", "ECC_NIST_P256", "dis", None)
    kms.create_alias(dis.id, "alias/disabled")
    kms.disable_key(dis.id)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f)
    os.rename(tmp, path)


def main():
    argv = sys.argv[1:]
    i = argv.index("--setup")
    path = argv[i + 1]
    del argv[i:i + 2]
    setup(path)
    moto.server.main(argv)


if __name__ == "__main__":
    main()
