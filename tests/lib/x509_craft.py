#!/usr/bin/env python3
"""Crafts the CRLs and certificates the verifier tests need and that the
openssl CLI cannot make (Python cryptography does the ASN.1 and signing).

  x509_craft.py crl CA.pem CA.key OUT.der [options]
      --revoke CERT.pem      list CERT (reason keyCompromise); repeatable
      --idp-url URL          IssuingDistributionPoint (critical) naming URL
      --only-ca | --only-user | --some-reasons | --indirect
                             IssuingDistributionPoint flags
      --this-update T --next-update T   YYYYMMDDhhmmssZ (default now-1h,
                             now+7d)
      --no-next-update       leave nextUpdate out (re-signed by hand: the
                             library insists on one)
      --aki HEX              this AuthorityKeyIdentifier instead of CA's SKI
      --pad N                N more entries with random 16-byte serials (a
                             large CRL; DER built here and signed again, the
                             library's builder is quadratic in the entries)
  x509_craft.py leaf CA.pem CA.key OUT.pem --o O [--pub PUB.der] [--cn CN]
      a code-signing leaf "C=US, ST=WA, O=<O>, CN=<CN>"; "\\0" in O becomes
      a NUL byte; the key is PUB.der or a fresh P-256 key
  x509_craft.py entry URL CRL.der OUT   a CRL cache entry for URL
Exits non-zero on any error, so a test never runs on a missing file.
"""
import datetime
import secrets
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.utcnow().replace(microsecond=0)


def load_ca(cert_path, key_path):
    cert = x509.load_pem_x509_certificate(open(cert_path, "rb").read())
    key = serialization.load_pem_private_key(open(key_path, "rb").read(), None)
    return cert, key


def gtime(s):
    return datetime.datetime.strptime(s, "%Y%m%d%H%M%SZ")


def der_item(buf, i):
    """(tag, start of value, end) of the DER item at buf[i]."""
    n = buf[i + 1]
    if n < 0x80:
        return buf[i], i + 2, i + 2 + n
    k = n & 0x7F
    n = int.from_bytes(buf[i + 2:i + 2 + k], "big")
    return buf[i], i + 2 + k, i + 2 + k + n


def der(tag, content):
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(ln)]) + ln + content


def sign(key, data):
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def drop_next_update(crl, key):
    """The CRL's TBSCertList without nextUpdate, signed again by key."""
    tbs = crl.tbs_certlist_bytes
    _, start, end = der_item(tbs, 0)
    items, i = [], start
    while i < end:
        tag, _, nxt = der_item(tbs, i)
        items.append((tag, tbs[i:nxt]))
        i = nxt
    # version, signature, issuer, thisUpdate, nextUpdate, ...
    if items[4][0] not in (0x17, 0x18):
        raise SystemExit("x509_craft: no nextUpdate where expected")
    sigalg = items[1][1]
    new_tbs = der(0x30, b"".join(raw for k, (_, raw) in enumerate(items) if k != 4))
    out = der(0x30, new_tbs + sigalg + der(0x03, b"\x00" + sign(key, new_tbs)))
    x509.load_der_x509_crl(out)  # must parse
    return out


def utc_time(t):
    return der(0x17, t.strftime("%y%m%d%H%M%SZ").encode())


def pad_entries(crl, key, n):
    """The CRL with n more revoked entries (random 16-byte serials, revoked
    two hours ago, no entry extensions), signed again by key."""
    tbs = crl.tbs_certlist_bytes
    _, start, end = der_item(tbs, 0)
    items, i = [], start
    while i < end:
        tag, _, nxt = der_item(tbs, i)
        items.append((tag, tbs[i:nxt]))
        i = nxt
    # version, signature, issuer, thisUpdate, [nextUpdate], [revoked], [0] exts
    when = utc_time(NOW - datetime.timedelta(hours=2))
    extra = b"".join(
        der(0x30, der(0x02, b"\x01" + secrets.token_bytes(15)) + when)
        for _ in range(n))
    k = 4 if items[4][0] not in (0x17, 0x18) else 5
    if k < len(items) and items[k][0] == 0x30:
        _, vs, ve = der_item(items[k][1], 0)
        items[k] = (0x30, der(0x30, items[k][1][vs:ve] + extra))
    else:
        items.insert(k, (0x30, der(0x30, extra)))
    sigalg = items[1][1]
    new_tbs = der(0x30, b"".join(raw for _, raw in items))
    out = der(0x30, new_tbs + sigalg + der(0x03, b"\x00" + sign(key, new_tbs)))
    x509.load_der_x509_crl(out)  # must parse
    return out


def crl_cmd(args):
    cert, key = load_ca(args[0], args[1])
    out = args[2]
    opts = args[3:]
    b = x509.CertificateRevocationListBuilder().issuer_name(cert.subject)
    this_up, next_up = NOW - datetime.timedelta(hours=1), NOW + datetime.timedelta(days=7)
    idp = {"url": None, "user": False, "ca": False, "reasons": None, "indirect": False}
    aki = None
    no_next = False
    pad = 0
    i = 0
    while i < len(opts):
        o = opts[i]
        if o == "--revoke":
            r = x509.load_pem_x509_certificate(open(opts[i + 1], "rb").read())
            b = b.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(r.serial_number)
                .revocation_date(NOW - datetime.timedelta(hours=2))
                .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), False)
                .build())
            i += 2
        elif o == "--idp-url":
            idp["url"] = opts[i + 1]
            i += 2
        elif o == "--only-ca":
            idp["ca"] = True
            i += 1
        elif o == "--only-user":
            idp["user"] = True
            i += 1
        elif o == "--some-reasons":
            idp["reasons"] = frozenset([x509.ReasonFlags.key_compromise])
            i += 1
        elif o == "--indirect":
            idp["indirect"] = True
            i += 1
        elif o == "--this-update":
            this_up = gtime(opts[i + 1])
            i += 2
        elif o == "--next-update":
            next_up = gtime(opts[i + 1])
            i += 2
        elif o == "--no-next-update":
            no_next = True
            i += 1
        elif o == "--aki":
            aki = bytes.fromhex(opts[i + 1])
            i += 2
        elif o == "--pad":
            pad = int(opts[i + 1])
            i += 2
        else:
            raise SystemExit("x509_craft: unknown option " + o)
    b = b.last_update(this_up).next_update(next_up)
    b = b.add_extension(x509.CRLNumber(int(NOW.timestamp())), False)
    if aki is None:
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        aki_ext = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    else:
        aki_ext = x509.AuthorityKeyIdentifier(aki, None, None)
    b = b.add_extension(aki_ext, False)
    if idp["url"] or idp["user"] or idp["ca"] or idp["reasons"] or idp["indirect"]:
        full = [x509.UniformResourceIdentifier(idp["url"])] if idp["url"] else None
        b = b.add_extension(x509.IssuingDistributionPoint(
            full, None, idp["user"], idp["ca"], idp["reasons"], idp["indirect"], False), True)
    crl = b.sign(key, hashes.SHA256())
    data = crl.public_bytes(serialization.Encoding.DER)
    if no_next:
        data = drop_next_update(crl, key)
    if pad:
        data = pad_entries(x509.load_der_x509_crl(data), key, pad)
    open(out, "wb").write(data)


def leaf_cmd(args):
    cert, key = load_ca(args[0], args[1])
    out = args[2]
    opts = dict(zip(args[3::2], args[4::2]))
    org = opts["--o"].replace("\\0", "\x00")
    if "--pub" in opts:
        pub = serialization.load_der_public_key(open(opts["--pub"], "rb").read())
    else:
        pub = ec.generate_private_key(ec.SECP256R1()).public_key()
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "WA"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(NameOID.COMMON_NAME, opts.get("--cn", "Crafted Leaf")),
    ])
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    c = (x509.CertificateBuilder().subject_name(name).issuer_name(cert.subject)
         .public_key(pub).serial_number(x509.random_serial_number())
         .not_valid_before(NOW - datetime.timedelta(hours=1))
         .not_valid_after(NOW + datetime.timedelta(days=30))
         .add_extension(x509.BasicConstraints(False, None), False)
         .add_extension(x509.KeyUsage(True, False, False, False, False, False, False,
                                      False, False), True)
         .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                        False)
         .sign(key, hashes.SHA256()))
    open(out, "wb").write(c.public_bytes(serialization.Encoding.PEM))


def entry_cmd(args):
    url, crl, out = args
    data = open(crl, "rb").read()
    x509.load_der_x509_crl(data)
    open(out, "wb").write(b"nk-crl-cache 1\n" + url.encode() + b"\n" + data)


def main():
    cmds = {"crl": crl_cmd, "leaf": leaf_cmd, "entry": entry_cmd}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        raise SystemExit(__doc__)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
