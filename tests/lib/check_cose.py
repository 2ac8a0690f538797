#!/usr/bin/python3
"""Independent check of a notation COSE_Sign1 envelope made by
notation-keystore, with cbor2 and cryptography (none of the plugin's code).
Same options as check_jws.py; exits 0 and prints "ok", or 1 with a
message."""
import datetime
import os
import sys

import cbor2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_jws import (AGENT, EXPIRY, PAYLOAD_TYPE, SCHEME, SPECS,  # noqa
                       TIME, TST, VPLUGIN, VPLUGIN_MIN, check_chain,
                       check_times, expected_crit, main, need, verify_raw)
import re  # noqa: E402


def epoch(v, what):
    need(isinstance(v, datetime.datetime) and v.tzinfo is not None,
         "%s is not a tag 1 time" % what)
    need(v.microsecond == 0, "%s has fractional seconds" % what)
    return int(v.timestamp())


def check_protected(raw, args):
    prot = cbor2.loads(raw)
    need(isinstance(prot, dict), "protected header is not a map")
    # Re-encoding canonically with tag 1 integer times must give the same
    # bytes: proves deterministic encoding and integer epoch times.
    again = cbor2.dumps(prot, canonical=True, datetime_as_timestamp=True,
                        timezone=datetime.timezone.utc)
    need(again == raw, "protected header is not deterministic CBOR with "
         "tag 1 integer times")
    vplugin = not args.no_vplugin
    want = {1, 2, 3, SCHEME, TIME}
    if args.expiry is not None:
        want.add(EXPIRY)
    if vplugin:
        want |= {VPLUGIN, VPLUGIN_MIN}
    need(set(prot) == want, "protected keys %r, expected %r" %
         (sorted(map(str, prot)), sorted(map(str, want))))
    need(prot[1] == SPECS[args.keyspec][4], "alg %r" % prot[1])
    need(prot[3] == PAYLOAD_TYPE, "content type %r" % prot[3])
    need(prot[SCHEME] == "notary.x509", "signing scheme %r" % prot[SCHEME])
    crit = expected_crit(args.expiry, vplugin)
    need(prot[2] == crit, "crit %r, expected %r" % (prot[2], crit))
    for name in prot[2]:
        need(isinstance(name, str) and name in prot,
             "crit names %r, which is absent" % name)
    if vplugin:
        need(prot[VPLUGIN] == "keystore", "verificationPlugin %r" %
             prot[VPLUGIN])
        need(re.fullmatch(r"\d+\.\d+\.\d+", prot[VPLUGIN_MIN]),
             "verificationPluginMinVersion %r" % prot[VPLUGIN_MIN])
    signing = epoch(prot[TIME], "signing time")
    expiry_at = epoch(prot[EXPIRY], "expiry") if EXPIRY in prot else None
    check_times(signing, expiry_at, args)


def check_unprotected(u, args):
    want = {33, AGENT} | ({TST} if args.timestamp else set())
    need(isinstance(u, dict) and set(u) == want,
         "unprotected keys %r, expected %r" % (sorted(map(str, u)),
                                               sorted(map(str, want))))
    need(isinstance(u[33], list) and u[33] and
         all(isinstance(c, bytes) for c in u[33]),
         "x5chain (label 33) is not an array of byte strings")
    need(re.fullmatch(r"notation-keystore/\d+\.\d+\.\d+\S*", u[AGENT]),
         "signing agent %r" % u[AGENT])
    if args.timestamp:
        need(isinstance(u[TST], bytes), "timestamp is not a byte string")
        return u[33], u[TST]
    return u[33], None


def check(args):
    with open(args.envelope, "rb") as f:
        raw = f.read()
    top = cbor2.loads(raw)
    need(isinstance(top, cbor2.CBORTag) and top.tag == 18,
         "not a COSE_Sign1_Tagged (tag 18)")
    arr = top.value
    need(isinstance(arr, list) and len(arr) == 4, "not a 4-element array")
    prot_raw, unprot, payload, sig = arr
    need(isinstance(prot_raw, bytes) and isinstance(payload, bytes) and
         isinstance(sig, bytes), "protected, payload or signature is not "
         "a byte string")
    with open(args.payload, "rb") as f:
        need(payload == f.read(), "payload changed")
    check_protected(prot_raw, args)
    ders, tst = check_unprotected(unprot, args)
    certs = check_chain(ders, args.keyspec, args.root)
    tbs = cbor2.dumps(["Signature1", prot_raw, b"", payload])
    verify_raw(certs[0].public_key(), args.keyspec, tbs, sig)
    if args.sig_out:
        with open(args.sig_out, "wb") as f:
            f.write(sig)
    if args.tst_out and tst is not None:
        with open(args.tst_out, "wb") as f:
            f.write(tst)


if __name__ == "__main__":
    sys.exit(main(check, "check_cose"))
