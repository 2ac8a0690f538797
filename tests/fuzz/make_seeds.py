#!/usr/bin/python3
"""Seed inputs for the libFuzzer harnesses, made from real data.

    /usr/bin/python3 tests/fuzz/make_seeds.py OUTDIR

Writes OUTDIR/<harness>/<case> and rewrites tests/fuzz/fixtures.h, the
fixed PKI the harnesses are built with: a root CA with a code-signing leaf
(CRL distribution point and OCSP responder), a timestamp authority root and
the fixed timestamp request the TSA replies answer. The seeds are what the
real producers make: CRLs and OCSP responses from python3-cryptography,
TSA replies from `openssl ts -reply`, KMS answers from the mocks in
tests/lib (aws_mock.py, vault_mock.py, imds_mock.py's format). Every run
makes new keys, so the committed corpora are merged again afterwards (see
HACKING.md, Fuzzing).
"""
import base64
import datetime
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlencode

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import aws_mock  # noqa: E402
import azure_mock  # noqa: E402
import gcp_mock  # noqa: E402
import vault_mock  # noqa: E402

NOW = 1700000000  # the harnesses' fixed verification time
T = datetime.datetime.utcfromtimestamp
NOT_BEFORE = datetime.datetime(2020, 1, 1)
NOT_AFTER = datetime.datetime(2045, 1, 1)
CRL_URL = "http://crl.nk.test/root.crl"
OCSP_URL = "http://ocsp.nk.test/"
OCSP_NONCE = bytes(range(0x10, 0x20))
TSA_NONCE = 0x4E4B46555A5A
TSA_DATA = b"notation-keystore fuzz signature"

out_dir = None
counts = {}


def seed(harness, name, data):
    d = os.path.join(out_dir, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
    counts[harness] = counts.get(harness, 0) + 1


def name(cn, org="NK Fuzz"):
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "WA"),
        x509.NameAttribute(NameOID.LOCALITY_NAME, "Seattle"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def key():
    return ec.generate_private_key(ec.SECP256R1())


def cert(subject, pub, issuer, ikey, serial, ca=False, ku=None, eku=None,
         eku_critical=False, extra=()):
    b = (x509.CertificateBuilder().subject_name(subject)
         .issuer_name(issuer.subject if issuer else subject)
         .public_key(pub).serial_number(serial)
         .not_valid_before(NOT_BEFORE).not_valid_after(NOT_AFTER)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None),
                        critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub),
                        critical=False))
    if issuer is not None:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                issuer.public_key()), critical=False)
    if ku is not None:
        b = b.add_extension(ku, critical=True)
    if eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage(eku),
                            critical=eku_critical)
    for ext in extra:
        b = b.add_extension(ext, critical=False)
    return b.sign(ikey, hashes.SHA256())


def ku(sign=False, ca=False):
    return x509.KeyUsage(digital_signature=sign, content_commitment=False,
                         key_encipherment=False, data_encipherment=False,
                         key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def der(c):
    return c.public_bytes(serialization.Encoding.DER)


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM).decode()


# ---- the fixed PKI -------------------------------------------------------

def make_pki():
    p = {}
    p["root_key"] = key()
    p["root"] = cert(name("NK Fuzz Root"), p["root_key"].public_key(), None,
                     p["root_key"], 1, ca=True, ku=ku(ca=True))
    p["leaf_key"] = key()
    dp = x509.DistributionPoint(
        full_name=[x509.UniformResourceIdentifier(CRL_URL)],
        relative_name=None, reasons=None, crl_issuer=None)
    aia = x509.AuthorityInformationAccess([x509.AccessDescription(
        x509.oid.AuthorityInformationAccessOID.OCSP,
        x509.UniformResourceIdentifier(OCSP_URL))])
    p["leaf"] = cert(name("NK Fuzz Signer"), p["leaf_key"].public_key(),
                     p["root"], p["root_key"], 0x1234, ku=ku(sign=True),
                     eku=[ExtendedKeyUsageOID.CODE_SIGNING],
                     extra=[x509.CRLDistributionPoints([dp]), aia])
    p["responder_key"] = key()
    p["responder"] = cert(name("NK Fuzz OCSP"), p["responder_key"].public_key(),
                          p["root"], p["root_key"], 0x2001, ku=ku(sign=True),
                          eku=[ExtendedKeyUsageOID.OCSP_SIGNING])
    p["noeku_key"] = key()
    p["noeku"] = cert(name("NK Fuzz OCSP no EKU"),
                      p["noeku_key"].public_key(), p["root"], p["root_key"],
                      0x2002, ku=ku(sign=True))
    p["other_key"] = key()
    p["other"] = cert(name("NK Fuzz Other Root"),
                      p["other_key"].public_key(), None, p["other_key"], 3,
                      ca=True, ku=ku(ca=True))
    p["tsa_root_key"] = key()
    p["tsa_root"] = cert(name("NK Fuzz TSA Root", "NK Fuzz TSA"),
                         p["tsa_root_key"].public_key(), None,
                         p["tsa_root_key"], 1, ca=True, ku=ku(ca=True))
    p["tsa_key"] = key()
    p["tsa"] = cert(name("NK Fuzz TSA", "NK Fuzz TSA"),
                    p["tsa_key"].public_key(), p["tsa_root"],
                    p["tsa_root_key"], 0x3001, ku=ku(sign=True),
                    eku=[ExtendedKeyUsageOID.TIME_STAMPING],
                    eku_critical=True)
    return p


# ---- a little DER for the hand-made timestamp structures ------------------

def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + body


def integer(v):
    return tlv(0x02, v.to_bytes(v.bit_length() // 8 + 1, "big"))


SHA256_ALG = tlv(0x30, tlv(0x06, bytes.fromhex("608648016503040201")) +
                 b"\x05\x00")


def ts_req(nonce=TSA_NONCE, data=TSA_DATA, cert_req=True):
    imprint = tlv(0x30, SHA256_ALG + tlv(0x04, hashlib.sha256(data).digest()))
    body = integer(1) + imprint + integer(nonce)
    if cert_req:
        body += tlv(0x01, b"\xff")
    return tlv(0x30, body)


def ts_status(status, text=None):
    body = integer(status)
    if text is not None:
        body += tlv(0x30, tlv(0x0C, text.encode()))
    return tlv(0x30, tlv(0x30, body))


# ---- fixtures.h ----------------------------------------------------------

def c_bytes(b):
    lines = []
    for i in range(0, len(b), 12):
        lines.append("    " + ", ".join("0x%02x" % x for x in b[i:i + 12]) +
                     ",")
    return "\n".join(lines)


def c_string(s):
    return "\n".join('    "%s\\n"' % line for line in s.strip().split("\n"))


def write_fixtures(p):
    root_key = p["root_key"].private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    text = """/* Generated by tests/fuzz/make_seeds.py: the fixed PKI of the harnesses.
 * Test material only: the key below signs nothing but fuzz inputs. */
#ifndef NK_FUZZ_FIXTURES_H
#define NK_FUZZ_FIXTURES_H

/* Verification time of the revocation harnesses (2023-11-14). */
#define FX_NOW %dLL

/* Root CA (also issues the OCSP responders), and its key: the CRL and
 * OCSP harnesses re-sign fuzzed structures with it to get past the
 * signature check. */
static const char FX_ROOT_PEM[] =
%s;
static const char FX_ROOT_KEY_PEM[] =
%s;

/* Code-signing leaf: CRL distribution point %s, OCSP %s. */
static const char FX_LEAF_PEM[] =
%s;

/* Root of the timestamp authority. */
static const char FX_TSA_ROOT_PEM[] =
%s;

/* The DER timestamp request the TSA replies answer (nonce 0x%X). */
static const unsigned char FX_TSA_REQ[] = {
%s
};

/* The nonce of the OCSP request. */
static const unsigned char FX_OCSP_NONCE[] = {
%s
};

#endif
""" % (NOW, c_string(pem(p["root"])), c_string(root_key), CRL_URL, OCSP_URL,
       c_string(pem(p["leaf"])), c_string(pem(p["tsa_root"])), TSA_NONCE,
       c_bytes(ts_req()), c_bytes(OCSP_NONCE))
    with open(os.path.join(HERE, "fixtures.h"), "w") as f:
        f.write(text)


# ---- OCSP ----------------------------------------------------------------

def ocsp_resp(p, status=ocsp.OCSPCertStatus.GOOD, signer="root",
              nonce=OCSP_NONCE, this=NOW - 3600, nxt=NOW + 86400,
              rev_time=None, reason=None, subject="leaf"):
    skey = p[signer + "_key"]
    b = ocsp.OCSPResponseBuilder().add_response(
        cert=p[subject], issuer=p["root"], algorithm=hashes.SHA1(),
        cert_status=status, this_update=T(this),
        next_update=T(nxt) if nxt is not None else None,
        revocation_time=T(rev_time) if rev_time else None,
        revocation_reason=reason)
    b = b.responder_id(ocsp.OCSPResponderEncoding.HASH, p[signer])
    if nonce is not None:
        b = b.add_extension(x509.OCSPNonce(nonce), critical=False)
    return b.sign(skey, hashes.SHA256()).public_bytes(
        serialization.Encoding.DER)


def ocsp_seeds(p):
    S = ocsp.OCSPCertStatus
    R = x509.ReasonFlags
    seed("fuzz_ocsp", "good", ocsp_resp(p))
    seed("fuzz_ocsp", "revoked", ocsp_resp(
        p, S.REVOKED, rev_time=NOW - 7200, reason=R.key_compromise))
    seed("fuzz_ocsp", "revoked-noreason", ocsp_resp(
        p, S.REVOKED, rev_time=NOW - 7200))
    seed("fuzz_ocsp", "unknown", ocsp_resp(p, S.UNKNOWN))
    # fuzz_ocsp passes an authentic signing time for odd-sized inputs
    seed("fuzz_ocsp", "revoked-invalidity", with_invalidity_date(ocsp_resp(
        p, S.REVOKED, rev_time=NOW - 7200, reason=R.key_compromise),
        NOW - 86400))
    seed("fuzz_ocsp", "revoked-invalidity-noreason", with_invalidity_date(
        ocsp_resp(p, S.REVOKED, rev_time=NOW - 7200), NOW - 86400))
    seed("fuzz_ocsp", "delegated", ocsp_resp_delegated(p, "responder"))
    seed("fuzz_ocsp", "delegated-noeku", ocsp_resp_delegated(p, "noeku"))
    seed("fuzz_ocsp", "other-signer", ocsp_resp_delegated(p, "other"))
    seed("fuzz_ocsp", "nonce-other", ocsp_resp(p, nonce=b"\x01" * 16))
    seed("fuzz_ocsp", "nonce-none", ocsp_resp(p, nonce=None))
    seed("fuzz_ocsp", "stale", ocsp_resp(p, this=NOW - 90000, nxt=NOW - 3600))
    seed("fuzz_ocsp", "no-next-update", ocsp_resp(p, nxt=None))
    seed("fuzz_ocsp", "future", ocsp_resp(p, this=NOW + 86400,
                                          nxt=NOW + 90000))
    seed("fuzz_ocsp", "other-cert", ocsp_resp(p, subject="responder"))
    for st in (ocsp.OCSPResponseStatus.TRY_LATER,
               ocsp.OCSPResponseStatus.UNAUTHORIZED,
               ocsp.OCSPResponseStatus.MALFORMED_REQUEST):
        seed("fuzz_ocsp", "status-" + st.name.lower(),
             ocsp.OCSPResponseBuilder.build_unsuccessful(st).public_bytes(
                 serialization.Encoding.DER))


def der_items(b):
    """The TLVs of DER content b, as (tag, content) pairs."""
    out, i = [], 0
    while i < len(b):
        tag, n = b[i], b[i + 1]
        i += 2
        if n & 0x80:
            k = n & 0x7f
            n = int.from_bytes(b[i:i + k], "big")
            i += k
        out.append((tag, b[i:i + n]))
        i += n
    return out


def with_invalidity_date(resp, when):
    """resp (DER OCSPResponse) with an invalidityDate extension in its one
    SingleResponse. The signature no longer matches: fuzz_ocsp re-signs
    every input (python3-cryptography cannot write single extensions)."""
    (_, top), = der_items(resp)
    status, (rb_tag, rb) = der_items(top)
    (_, rbseq), = der_items(rb)
    oid, (_, basic_der) = der_items(rbseq)
    (_, basic), = der_items(basic_der)
    (tbs_tag, tbs), *rest = der_items(basic)
    items = der_items(tbs)
    for k, (tag, body) in enumerate(items):
        if tag == 0x30 and der_items(body)[0][0] == 0x30:  # responses
            (_, single), = der_items(body)
            gt = tlv(0x18, time.strftime("%Y%m%d%H%M%SZ",
                                         time.gmtime(when)).encode())
            ext = tlv(0x30, tlv(0x06, bytes.fromhex("551d18")) +
                      tlv(0x04, gt))
            single += tlv(0xA1, tlv(0x30, ext))
            items[k] = (tag, tlv(0x30, single))
    tbs = b"".join(tlv(t, c) for t, c in items)
    basic = tlv(tbs_tag, tbs) + b"".join(tlv(t, c) for t, c in rest)
    rbseq = tlv(oid[0], oid[1]) + tlv(0x04, tlv(0x30, basic))
    return tlv(0x30, tlv(status[0], status[1]) +
               tlv(rb_tag, tlv(0x30, rbseq)))


def ocsp_resp_delegated(p, who):
    b = ocsp.OCSPResponseBuilder().add_response(
        cert=p["leaf"], issuer=p["root"], algorithm=hashes.SHA1(),
        cert_status=ocsp.OCSPCertStatus.GOOD, this_update=T(NOW - 60),
        next_update=T(NOW + 3600), revocation_time=None,
        revocation_reason=None)
    b = b.responder_id(ocsp.OCSPResponderEncoding.NAME, p[who])
    b = b.add_extension(x509.OCSPNonce(OCSP_NONCE), critical=False)
    b = b.certificates([p[who]])
    return b.sign(p[who + "_key"], hashes.SHA256()).public_bytes(
        serialization.Encoding.DER)


# ---- CRL -----------------------------------------------------------------

def crl(p, entries=(), idp=None, this=NOW - 3600, nxt=NOW + 86400,
        signer="root", issuer=None, exts=(), aki=True):
    skey = p[signer + "_key"]
    b = (x509.CertificateRevocationListBuilder()
         .issuer_name(issuer or p["root"].subject)
         .last_update(T(this)))
    if nxt is not None:
        b = b.next_update(T(nxt))
    if aki:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                p[signer].public_key()), critical=False)
    b = b.add_extension(x509.CRLNumber(7), critical=False)
    if idp is not None:
        b = b.add_extension(idp, critical=True)
    for ext, crit in exts:
        b = b.add_extension(ext, critical=crit)
    for serial, reason, inv, extra in entries:
        rb = (x509.RevokedCertificateBuilder().serial_number(serial)
              .revocation_date(T(NOW - 86400)))
        if reason is not None:
            rb = rb.add_extension(x509.CRLReason(reason), critical=False)
        if inv is not None:
            rb = rb.add_extension(x509.InvalidityDate(T(inv)),
                                  critical=False)
        for ext, crit in extra:
            rb = rb.add_extension(ext, critical=crit)
        b = b.add_revoked_certificate(rb.build())
    if not entries:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(0x9999)
            .revocation_date(T(NOW - 86400)).build())
    return b.sign(skey, hashes.SHA256()).public_bytes(
        serialization.Encoding.DER)


def idp(full=CRL_URL, relative=None, user=False, ca=False, reasons=None,
        indirect=False, attr=False):
    return x509.IssuingDistributionPoint(
        full_name=[x509.UniformResourceIdentifier(full)] if full else None,
        relative_name=relative, only_contains_user_certs=user,
        only_contains_ca_certs=ca, only_some_reasons=reasons,
        indirect_crl=indirect, only_contains_attribute_certs=attr)


def crl_seeds(p):
    R = x509.ReasonFlags
    leaf = p["leaf"].serial_number
    unknown = x509.UnrecognizedExtension(
        x509.ObjectIdentifier("1.3.6.1.4.1.99999.7"), b"\x05\x00")
    seed("fuzz_crl", "good-no-idp", crl(p))
    seed("fuzz_crl", "revoked", crl(p, [(leaf, R.key_compromise, None, ())]))
    seed("fuzz_crl", "revoked-invalidity", crl(
        p, [(leaf, R.superseded, NOW - 3 * 86400, ())]))
    seed("fuzz_crl", "revoked-entry-critical", crl(
        p, [(leaf, None, None, [(unknown, True)])]))
    seed("fuzz_crl", "idp-match", crl(p, [(leaf, None, None, ())],
                                      idp=idp()))
    seed("fuzz_crl", "idp-other-point", crl(
        p, idp=idp(full="http://crl.nk.test/other.crl")))
    seed("fuzz_crl", "idp-relative", crl(p, idp=idp(
        full=None, relative=x509.RelativeDistinguishedName([
            x509.NameAttribute(NameOID.COMMON_NAME, "part1")]))))
    seed("fuzz_crl", "idp-user", crl(p, idp=idp(user=True)))
    seed("fuzz_crl", "idp-ca", crl(p, idp=idp(ca=True)))
    seed("fuzz_crl", "idp-reasons", crl(p, idp=idp(
        reasons=frozenset([R.key_compromise]))))
    seed("fuzz_crl", "idp-indirect", crl(p, idp=idp(indirect=True)))
    seed("fuzz_crl", "idp-attr", crl(p, idp=idp(full=None, attr=True)))
    seed("fuzz_crl", "delta", crl(p, exts=[(x509.DeltaCRLIndicator(6),
                                            True)]))
    seed("fuzz_crl", "freshest", crl(p, exts=[(x509.FreshestCRL([
        x509.DistributionPoint([x509.UniformResourceIdentifier(
            "http://crl.nk.test/delta.crl")], None, None, None)]), False)]))
    seed("fuzz_crl", "unknown-critical", crl(p, exts=[(unknown, True)]))
    seed("fuzz_crl", "stale", crl(p, this=NOW - 90000, nxt=NOW - 60))
    seed("fuzz_crl", "future", crl(p, this=NOW + 86400, nxt=NOW + 90000))
    seed("fuzz_crl", "other-signer", crl(p, signer="other"))
    seed("fuzz_crl", "other-issuer", crl(p, issuer=p["other"].subject,
                                         signer="other"))
    seed("fuzz_crl", "no-aki", crl(p, aki=False))


# ---- TSA -----------------------------------------------------------------

def openssl(*args, data=None):
    return subprocess.run(["openssl"] + list(args), input=data, check=True,
                          stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE).stdout


def tsa_seeds(p, tmp):
    for n in ("tsa",):
        with open(os.path.join(tmp, n + ".pem"), "w") as f:
            f.write(pem(p[n]))
        with open(os.path.join(tmp, n + ".key"), "wb") as f:
            f.write(p[n + "_key"].private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()))
    cnf = ["[ tsa ]", "default_tsa = ok", ""]
    # openssl ts refuses to sign with a certificate whose extended key
    # usage is not timeStamping alone, so there is no such seed.
    for sect, n, ess in (("ok", "tsa", "sha256"), ("ess1", "tsa", "sha1")):
        with open(os.path.join(tmp, sect + ".serial"), "w") as f:
            f.write("01\n")
        cnf += ["[ %s ]" % sect, "serial = %s/%s.serial" % (tmp, sect),
                "crypto_device = builtin",
                "signer_cert = %s/%s.pem" % (tmp, n),
                "signer_key = %s/%s.key" % (tmp, n),
                "signer_digest = sha256", "default_policy = 1.2.3.4.1",
                "digests = sha256, sha384, sha512", "accuracy = secs:1",
                "ordering = yes", "tsa_name = yes",
                "ess_cert_id_chain = no", "ess_cert_id_alg = %s" % ess, ""]
    with open(os.path.join(tmp, "tsa.cnf"), "w") as f:
        f.write("\n".join(cnf))

    def reply(req, section):
        path = os.path.join(tmp, "req.der")
        with open(path, "wb") as f:
            f.write(req)
        return openssl("ts", "-reply", "-queryfile", path, "-config",
                       os.path.join(tmp, "tsa.cnf"), "-section", section)

    seed("fuzz_tsa", "granted", reply(ts_req(), "ok"))
    seed("fuzz_tsa", "ess-v1", reply(ts_req(), "ess1"))
    seed("fuzz_tsa", "no-cert", reply(ts_req(cert_req=False), "ok"))
    seed("fuzz_tsa", "other-nonce", reply(ts_req(nonce=12345), "ok"))
    seed("fuzz_tsa", "other-imprint", reply(ts_req(data=b"other"), "ok"))
    seed("fuzz_tsa", "rejection", ts_status(2, "bad request"))
    seed("fuzz_tsa", "granted-no-token", ts_status(0))
    seed("fuzz_tsa", "waiting", ts_status(3))


# ---- certificates, DNs, verify-signature ---------------------------------

def cert_seeds(p):
    seed("fuzz_certs", "leaf-root.pem", pem(p["leaf"]) + pem(p["root"]))
    seed("fuzz_certs", "root-leaf.pem", pem(p["root"]) + pem(p["leaf"]))
    seed("fuzz_certs", "leaf.der", der(p["leaf"]))
    seed("fuzz_certs", "tsa-chain.pem", pem(p["tsa"]) + pem(p["tsa_root"]))


def dn_seeds(p):
    seed("fuzz_dn", "leaf-subject.der", p["leaf"].subject.public_bytes())
    seed("fuzz_dn", "rdn-multi.der", x509.Name([
        x509.RelativeDistinguishedName([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "WA")]),
        x509.RelativeDistinguishedName([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "NK")])])
         .public_bytes())
    seed("fuzz_dn", "dup-o.der", x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "WA"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "A"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "B")]).public_bytes())
    for i, s in enumerate([
            "x509.subject: C=US, ST=WA, O=NK Fuzz",
            "x509.subject: C=US, ST=WA, L=Seattle, O=NK Fuzz, "
            "CN=NK Fuzz Signer",
            "x509.subject:C=US,ST=WA,O=NK Fuzz\n*",
            "x509.subject: C=US, S=WA, O=Acme\\, Inc., CN=a\\+b",
            "x509.subject: C=US+ST=WA, O=x",
            "x509.subject: C=US, ST=WA, O=#04024869",
            "x509.subject: C=US, ST=WA, O=\\4E\\4B Fuzz",
            "x509.subject: C=US, ST=WA, O=a\\00b",
            "x509.subject: 2.5.4.6=US, 2.5.4.8=WA, 2.5.4.10=NK Fuzz",
            "x509.subject: C=US, ST=WA, O= \\ spaced\\ , CN=\"q\"",
            "x509.subject: C=US; ST=WA; O=semi",
            "other.kind: anything\nx509.subject: C=DE, ST=BE, O=Other"]):
        seed("fuzz_dn", "id-%02d" % i, s)


def verify_req(p, caps, ids, scheme="notary.x509", chain=None, extra=None,
               config=None):
    crit = {"contentType": "application/vnd.cncf.notary.payload.v1+json",
            "signingScheme": scheme}
    if extra:
        crit.update(extra)
    req = {"contractVersion": "1.0",
           "signature": {"criticalAttributes": crit,
                         "unprocessedAttributes": ["io.cncf.notary.x"],
                         "certificateChain": chain if chain is not None else [
                             base64.b64encode(der(p["leaf"])).decode(),
                             base64.b64encode(der(p["root"])).decode()]},
           "trustPolicy": {"trustedIdentities": ids,
                           "signatureVerification": caps}}
    if config is not None:
        req["pluginConfig"] = config
    return json.dumps(req, indent=1)


def verify_seeds(p):
    ID = "SIGNATURE_VERIFIER.TRUSTED_IDENTITY"
    REV = "SIGNATURE_VERIFIER.REVOCATION_CHECK"
    good = "x509.subject: C=US, ST=WA, O=NK Fuzz"
    seed("fuzz_verify", "identity-ok", verify_req(p, [ID], [good]))
    seed("fuzz_verify", "identity-star", verify_req(p, [ID, REV], ["*"]))
    seed("fuzz_verify", "identity-mismatch", verify_req(
        p, [ID], ["x509.subject: C=US, ST=WA, O=Else"]))
    seed("fuzz_verify", "identity-bad-dn", verify_req(
        p, [ID], ["x509.subject: C=US+ST=WA"]))
    seed("fuzz_verify", "authority", verify_req(
        p, [ID, "other.cap"], [good], scheme="notary.x509.signingAuthority",
        extra={"authenticSigningTime": "2023-11-14T22:13:20Z",
               "expiry": "2030-01-02T03:04:05.5+08:00"}))
    seed("fuzz_verify", "expired", verify_req(
        p, [ID], [good], extra={"expiry": "2001-01-01T00:00:00Z"},
        config={"crl-cache": "false", "ocsp-timeout": "1"}))
    seed("fuzz_verify", "chain-bad", verify_req(
        p, [ID], [good], chain=["AAAA", "!!"]))
    seed("fuzz_verify", "scheme-bad", verify_req(p, [ID], [good],
                                                 scheme="x509"))
    seed("fuzz_verify", "go-zero-time", verify_req(
        p, [ID], [good], extra={"expiry": "0001-01-01T00:00:00Z"}))


# ---- KMS answers, as the mocks produce them ------------------------------

class FakeHandler:
    """Stands in for aws_mock.Handler: records what it would send."""

    def __init__(self, target):
        self.target = target
        self.sent = None

    def log(self, *args):
        pass

    def send(self, status, data, ctype, rid):
        self.sent = (status, data)


AWS_STATUS = [200, 400, 403, 404, 429, 500, 503]
AWS_OPS = ["GetPublicKey", "DescribeKey", "Sign"]
AWS_SPECS = ["RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256",
             "ECC_NIST_P384", "ECC_NIST_P521"]


def aws_seeds():
    # Authentication is not what these seeds are about: let every caller in.
    aws_mock.authenticate = lambda h, body, svc: {"region": "us-east-1"}
    aws_mock.authorize = lambda prin, action, res: None
    aws_mock.HOME_REGION = "us-east-1"

    def answer(op, body, spec_i=0):
        h = FakeHandler(op)
        aws_mock.Handler.answer_kms(h, json.dumps(body).encode(), "rid-1")
        status, data = h.sent
        return bytes([AWS_OPS.index(op) + 3 * spec_i,
                      AWS_STATUS.index(status)]) + data

    for i, spec in enumerate(AWS_SPECS):
        k = aws_mock.add_key(spec, "k%d" % i)
        seed("fuzz_awskms", "getpublickey-" + spec.lower(),
             answer("GetPublicKey", {"KeyId": k["arn"]}, i))
        alg = {"RSA": "RSASSA_PSS_SHA_", "ECC": "ECDSA_SHA_"}[spec[:3]] + \
            {"2048": "256", "3072": "384", "4096": "512", "P256": "256",
             "P384": "384", "P521": "512"}[spec.split("_")[-1]]
        n = int(alg[-3:]) // 8
        seed("fuzz_awskms", "sign-" + spec.lower(), answer(
            "Sign", {"KeyId": k["id"], "SigningAlgorithm": alg,
                     "MessageType": "DIGEST",
                     "Message": base64.b64encode(b"\x11" * n).decode()}, i))
    k = aws_mock.add_key("ECC_NIST_P256", "d")
    seed("fuzz_awskms", "describekey", answer("DescribeKey",
                                              {"KeyId": "alias/d"}))
    k = aws_mock.add_key("ECC_NIST_P256", "off", state="Disabled")
    seed("fuzz_awskms", "describekey-disabled", answer(
        "DescribeKey", {"KeyId": k["id"]}))
    seed("fuzz_awskms", "sign-disabled", answer(
        "Sign", {"KeyId": k["id"], "SigningAlgorithm": "ECDSA_SHA_256"}, 3))
    k = aws_mock.add_key("SYMMETRIC_DEFAULT", "enc", usage="ENCRYPT_DECRYPT")
    seed("fuzz_awskms", "getpublickey-symmetric", answer(
        "GetPublicKey", {"KeyId": k["id"]}))
    seed("fuzz_awskms", "describekey-symmetric", answer(
        "DescribeKey", {"KeyId": k["id"]}))
    seed("fuzz_awskms", "notfound", answer("GetPublicKey",
                                           {"KeyId": "alias/none"}))
    seed("fuzz_awskms", "bad-arn", answer("GetPublicKey",
                                          {"KeyId": "arn:aws:kms:x"}))
    # What moto and the services answer besides: auth errors in XML, a
    # throttle, a 5xx with no body.
    seed("fuzz_awskms", "xml-denied", bytes([0, 2]) + (
        b"<ErrorResponse><Error><Code>AccessDenied</Code><Message>no"
        b"</Message></Error><RequestId>r-2</RequestId></ErrorResponse>"))
    seed("fuzz_awskms", "throttled", bytes([2, 4]) + json.dumps(
        {"__type": "ThrottlingException", "message": "Rate exceeded"})
        .encode())
    seed("fuzz_awskms", "coral-denied", bytes([0, 1]) + json.dumps(
        {"__type": aws_mock.CORAL + "AccessDeniedException:http://x",
         "Message": "User is not authorized"}).encode())
    seed("fuzz_awskms", "unavailable-empty", bytes([1, 6]))


def sts_seeds():
    aws_mock.roles["arn:aws:iam::123456789012:role/r"] = {"allow": ["kms:*"]}
    form = {"RoleArn": ["arn:aws:iam::123456789012:role/r"],
            "RoleSessionName": ["notation-keystore"],
            "WebIdentityToken": ["eyJhbGciOiJSUzI1NiJ9.e30.c2ln"]}

    def answer(f):
        h = FakeHandler("AssumeRoleWithWebIdentity")
        aws_mock.tls.issued = []  # what do_POST sets per request
        aws_mock.Handler.answer_sts(h, urlencode(f, doseq=True).encode(), f,
                                    "rid-sts")
        status, data = h.sent
        return bytes([0, AWS_STATUS.index(status)]) + data

    seed("fuzz_awscreds", "sts-ok", answer(form))
    seed("fuzz_awscreds", "sts-invalid-token", answer(
        dict(form, WebIdentityToken=["invalid-token"])))
    seed("fuzz_awscreds", "sts-denied", answer(
        dict(form, RoleArn=["arn:aws:iam::1:role/none"])))
    seed("fuzz_awscreds", "sts-missing", answer(
        dict(form, RoleSessionName=[""])))
    seed("fuzz_awscreds", "sts-entities", bytes([0, 0]) + (
        b"<AccessKeyId>AS&amp;IA</AccessKeyId><SecretAccessKey>s&lt;&gt;"
        b"&quot;&apos;</SecretAccessKey><SessionToken>t</SessionToken>"))
    # instance metadata and container credentials (imds_mock.py's format)
    creds = {"AccessKeyId": "ASIAFUZZ", "SecretAccessKey": "c2VjcmV0",
             "Token": "dG9rZW4=", "Code": "Success", "Type": "AWS-HMAC",
             "LastUpdated": "2026-01-01T00:00:00Z",
             "Expiration": "2026-01-01T06:00:00Z"}
    seed("fuzz_awscreds", "imds-creds", bytes([1, 0]) +
         json.dumps(creds).encode())
    seed("fuzz_awscreds", "container-creds", bytes([2, 0]) + json.dumps(
        {k: creds[k] for k in ("AccessKeyId", "SecretAccessKey", "Token")})
        .encode())
    seed("fuzz_awscreds", "imds-denied", bytes([1, 2]))


VAULT_STATUS = [200, 204, 400, 403, 404, 429, 500, 503]
VAULT_TYPES = ["rsa-2048", "rsa-3072", "rsa-4096", "ecdsa-p256",
               "ecdsa-p384", "ecdsa-p521"]


def vault_seeds(p):
    def s(kind, sel, status, obj):
        data = json.dumps(obj).encode() if obj is not None else b""
        return bytes([kind | (sel << 2), VAULT_STATUS.index(status)]) + data

    for i, typ in enumerate(VAULT_TYPES):
        vault_mock.add_key("", "transit", "k", typ, versions=2)
        k = vault_mock.keys[("", "transit", "k")]
        seed("fuzz_vault", "key-" + typ, s(0, i % 3, 200, {
            "data": vault_mock.key_read(k, "k")}))
        h = {"rsa-2048": "sha2-256", "rsa-3072": "sha2-384",
             "rsa-4096": "sha2-512", "ecdsa-p256": "sha2-256",
             "ecdsa-p384": "sha2-384", "ecdsa-p521": "sha2-512"}[typ]
        n = int(h[-3:]) // 8
        body = {"input": base64.b64encode(b"\x22" * n).decode(),
                "prehashed": True, "marshaling_algorithm": "asn1",
                "key_version": 2, "signature_algorithm": "pss",
                "salt_length": "hash"}
        seed("fuzz_vault", "sign-" + typ, s(1, i, 200, {
            "data": vault_mock.sign(k, "k", body, h)}))
    vault_mock.add_key("", "transit", "aes", "aes256-gcm96")
    seed("fuzz_vault", "key-aes", s(0, 0, 200, {
        "data": vault_mock.key_read(vault_mock.keys[("", "transit", "aes")],
                                    "aes")}))
    vault_mock.add_key("", "transit", "ed", "ed25519")
    seed("fuzz_vault", "key-ed25519", s(0, 0, 200, {
        "data": vault_mock.key_read(vault_mock.keys[("", "transit", "ed")],
                                    "ed")}))
    seed("fuzz_vault", "kv-chain", s(2, 0, 200, {"data": {
        "data": {"certificate": pem(p["leaf"]) + pem(p["root"])},
        "metadata": {"version": 1}}}))
    seed("fuzz_vault", "kv-no-field", s(2, 0, 200, {"data": {"data": {}}}))
    seed("fuzz_vault", "login", s(3, 0, 200, vault_mock.login(
        "approle", dict(vault_mock.APPROLE), "")))
    for st, errs in ((403, ["permission denied"]), (404, []),
                     (400, ["invalid role or secret ID", "2nd"]),
                     (429, ["rate limited"]), (503, ["Vault is sealed"])):
        seed("fuzz_vault", "error-%d" % st, s(0, 0, st, {"errors": errs}))
    seed("fuzz_vault", "no-content", s(1, 0, 204, None))


def kmsuri_seeds():
    for i, s in enumerate([
            "awskms:///alias/notation",
            "awskms:///arn:aws:kms:eu-west-1:123456789012:key/"
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "awskms://localhost:4566/alias/dev",
            "awskms://[::1]:4566/mrk-1234abcd12ab34cd56ef1234567890ab",
            "awskms:///arn:aws-cn:kms:cn-north-1:123456789012:alias/x",
            "hashivault://notation-key",
            "openbao://team.key_1",
            "hashivault://-bad",
            "vault:v1:MEUCIQDx",
            "vault:v12:c2ln",
            "arn:aws:kms:us-east-1:1:key/x",
            "azurekms://myvault.vault.azure.net/notation",
            "azurekms://myvault.vault.azure.net/notation/"
            "0123456789abcdef0123456789abcdef",
            "https://myvault.vault.azure.net/keys/notation/"
            "0123456789abcdef0123456789abcdef",
            "https://myvault.vault.azure.cn/certificates/signer",
            "https://myvault.vault.usgovcloudapi.net/certificates/signer/"
            "0123456789abcdef0123456789abcdef",
            "https://myhsm.managedhsm.azure.net/keys/k1",
            "http://127.0.0.1:8443/keys/dev",
            "https://[::1]:8443/keys/dev/v1",
            "https://fuzz.vault.azure.net/keys/K/0123456789abcdef",
            "gcpkms://projects/my-proj/locations/europe-west1/keyRings/ring/"
            "cryptoKeys/notation/cryptoKeyVersions/1",
            "gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k/"
            "versions/12",
            "gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k",
            "EC_SIGN_P384_SHA384",
            "RSA_SIGN_PKCS1_2048_SHA256"]):
        seed("fuzz_kmsuri", "uri-%02d" % i, s)


def awsconfig_seeds():
    seed("fuzz_awsconfig", "config", """[default]
region = eu-west-1
output = json

[profile dev]
region=us-east-2
role_arn = arn:aws:iam::123456789012:role/notation
web_identity_token_file = /var/run/secrets/token
aws_access_key_id = AKIAEXAMPLE
""")
    seed("fuzz_awsconfig", "credentials", """# comment
[default]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
; another comment
[dev]
aws_access_key_id=ASIAEXAMPLE
aws_secret_access_key=c2VjcmV0
aws_session_token = dG9rZW4=
""")
    seed("fuzz_awsconfig", "odd", "  [ default ]  \r\nregion\t=\tap-south-1\r\n"
         "[profile dev\nregion = = x\n[]\n=\n[dev]]\nkey\n")


def cloud_seeds():
    """fuzz_cloudanswer: first byte picks the reader (see the harness)."""
    def s(kind, name, data):
        if isinstance(data, (dict, list)):
            data = json.dumps(data)
        if isinstance(data, str):
            data = data.encode()
        seed("fuzz_cloudanswer", "%d-%s" % (kind, name), bytes([kind]) + data)

    tok = "eyJ0eXAiOiJKV1QifQ.c2lnbmVk.mock"
    s(0, "google-sa", {"access_token": "ya29.mock-abc", "expires_in": 3599,
                       "token_type": "Bearer"})
    s(0, "google-user", {"access_token": "ya29.mock-def",
                         "expires_in": "3599", "token_type": "Bearer",
                         "scope": "https://www.googleapis.com/auth/"
                                  "cloud-platform"})
    s(0, "sts", {"access_token": "ya29.sts", "issued_token_type":
                 "urn:ietf:params:oauth:token-type:access_token",
                 "token_type": "Bearer", "expires_in": 3600})
    s(0, "oauth-error", {"error": "invalid_grant",
                         "error_description": "Invalid JWT Signature."})
    s(0, "google-error", gcp_mock.Fail(403, "PERMISSION_DENIED", "denied",
                                       "cloudkms.cryptoKeyVersions.useToSign"
                                       ).body("rid-1"))
    s(1, "entra", {"token_type": "Bearer", "expires_in": 3599,
                   "ext_expires_in": 3599, "access_token": tok})
    s(1, "imds", {"access_token": tok, "client_id": "cid",
                  "expires_in": "3599", "expires_on": str(NOW + 3599),
                  "ext_expires_in": "3599", "not_before": str(NOW),
                  "resource": "https://vault.azure.net",
                  "token_type": "Bearer"})
    s(1, "cli", {"accessToken": tok, "expires_on": NOW + 3599})
    pki = azure_mock.PKI()
    for spec, (kind, size) in [("rsa2048", ("RSA", 2048)),
                               ("ec256", ("EC", "P-256")),
                               ("ec384", ("EC", "P-384")),
                               ("ec521", ("EC", "P-521")),
                               ("k256", ("EC", "P-256K"))]:
        priv = azure_mock.new_key(kind, size)
        jwk = azure_mock.jwk_of(priv)
        jwk["kid"] = ("https://fuzz.vault.azure.net/keys/k/"
                      "0123456789abcdef")
        jwk["key_ops"] = ["sign", "verify"]
        s(2, spec, {"key": jwk, "attributes": {"enabled": True}})
    s(2, "oct", {"key": {"kty": "oct-HSM", "kid": "x"}})
    priv = azure_mock.new_key("EC", "P-256")
    chain = [pki.leaf(priv, "fuzz leaf"), pki.inter, pki.root]
    cer = base64.b64encode(chain[0].public_bytes(
        serialization.Encoding.DER)).decode()
    s(3, "cer", {"kid": "https://fuzz.vault.azure.net/keys/k/1", "cer": cer,
                 "attributes": {"enabled": True}})
    s(4, "pem", {"kid": "https://fuzz.vault.azure.net/keys/k/1",
                 "contentType": "application/x-pem-file",
                 "value": azure_mock.secret_pem(priv, chain)})
    pfx = azure_mock.secret_pfx(priv, chain, False)
    s(4, "pfx", {"kid": "https://fuzz.vault.azure.net/keys/k/1",
                 "contentType": "application/x-pkcs12", "value": pfx})
    s(5, "pfx", base64.b64decode(pfx))
    s(6, "time", gcp_mock.rfc3339(NOW))
    s(6, "time-offset", "2026-05-01T12:34:56+02:00")
    s(6, "key-pkcs8", priv.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    s(6, "key-rsa", azure_mock.new_key("RSA", 2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))
    s(7, "impersonate", "https://iamcredentials.googleapis.com/v1/projects/-/"
      "serviceAccounts/signer@my-proj.iam.gserviceaccount.com:"
      "generateAccessToken")


def cloudcreds_seeds(tmp):
    """fuzz_cloudcreds: first byte picks the reader (see the harness)."""
    def s(kind, name, data, file=None):
        if isinstance(data, (dict, list)):
            data = json.dumps(data, indent=2)
        if isinstance(data, str):
            data = data.encode()
        if file is not None:
            data += b"\0" + (file.encode() if isinstance(file, str) else file)
        seed("fuzz_cloudcreds", "%d-%s" % (kind, name), bytes([kind]) + data)

    # The ADC files gcp_mock.py writes for the Google tests, as gcloud and
    # the IAM console write them; a file source's subject token after NUL.
    gcp_mock.base_url = "https://oauth2.googleapis.com"
    gcp_mock.write_files(tmp)

    def f(name):
        with open(os.path.join(tmp, name)) as fh:
            return json.load(fh)
    with open(os.path.join(tmp, "oidc.jwt")) as fh:
        jwt = fh.read()
    s(0, "service-account", f("sa-signer.json"))
    s(0, "authorized-user", f("user.json"))
    s(0, "external-file", f("ext-file.json"), jwt)
    s(0, "external-file-json", dict(f("ext-file.json"), credential_source={
        "file": "/var/run/secrets/token.json",
        "format": {"type": "json", "subject_token_field_name": "id_token"}}),
        json.dumps({"id_token": jwt.strip()}))
    s(0, "external-url", f("ext-url.json"))
    s(0, "external-direct", f("ext-direct.json"), jwt)
    s(0, "impersonated", f("impersonated.json"))
    s(0, "impersonated-external", dict(f("impersonated.json"),
                                       source_credentials=f("ext-file.json")),
      jwt)
    s(0, "aws-source", dict(f("ext-file.json"), credential_source={
        "environment_id": "aws1", "region_url": "http://169.254.169.254"}))
    # What fake_az prints: the Azure CLI's answer (CLI 2.54 and later, and
    # older ones without expires_on) and its complaints on stderr. The
    # reader compares with the clock: an expiry in 2100, to reach success.
    exp = 4102444800
    out = {"accessToken": "eyJ0eXAiOiJKV1QifQ.c2lnbmVk.mock",
           "expiresOn": time.strftime("%Y-%m-%d %H:%M:%S.000000",
                                      time.localtime(exp)),
           "subscription": "00000000-0000-0000-0000-000000000000",
           "tenant": "72f988bf-86f1-41af-91ab-2d7cd011db47",
           "tokenType": "Bearer"}
    s(1, "cli-old", out)
    s(1, "cli", dict(out, expires_on=exp))
    s(1, "cli-string", dict(out, expires_on=str(exp)))
    s(2, "login", "WARNING: a warning first\n"
      "ERROR: Please run 'az login' to setup account.\n")
    s(2, "args", "ERROR: unrecognized arguments: --bogus\n")
    s(2, "utf8", "\u00e9chec \u2014 " + "\u00e9" * 150 + "\n")


def main():
    global out_dir
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out_dir = sys.argv[1]
    p = make_pki()
    write_fixtures(p)
    with tempfile.TemporaryDirectory() as tmp:
        tsa_seeds(p, tmp)
    ocsp_seeds(p)
    crl_seeds(p)
    cert_seeds(p)
    dn_seeds(p)
    verify_seeds(p)
    aws_seeds()
    sts_seeds()
    vault_seeds(p)
    kmsuri_seeds()
    awsconfig_seeds()
    cloud_seeds()
    with tempfile.TemporaryDirectory() as tmp:
        cloudcreds_seeds(tmp)
    for h in sorted(counts):
        print("%s: %d seeds" % (h, counts[h]))


if __name__ == "__main__":
    main()
