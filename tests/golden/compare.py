#!/usr/bin/python3
"""Compares a plugin's JSON output with a golden file.

Golden strings may be patterns: "@ANY@" matches any string, "@B64@" any
non-empty standard padded base64 string, "@B64LIST@" a non-empty list of
them, "@B64URL@" non-empty unpadded base64url, "@RFC3339@" a time such as
"2026-01-02T03:04:05Z". A golden object with one of these keys decodes the
string and matches the result against the key's value:
  {"@B64JSON@": W}     standard base64 of JSON
  {"@B64URLJSON@": W}  unpadded base64url of JSON
  {"@B64COSE@": W}     standard base64 of a tag-18 COSE_Sign1, as
                       {"protected": {...}, "unprotected": {...},
                        "payload": "<base64>", "signature": "<base64>"}
                       (labels as strings, byte strings as standard base64,
                       CBOR times as RFC 3339)
Objects must have exactly the golden keys. Exit 0 on match."""
import base64
import binascii
import datetime
import json
import re
import sys

B64 = re.compile(r'^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$')
B64URL = re.compile(r'^[A-Za-z0-9_-]+$')
RFC3339 = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$')


def is_b64(v):
    if not isinstance(v, str) or not v or not B64.match(v):
        return False
    base64.b64decode(v, validate=True)
    return True


def b64url(v):
    if not isinstance(v, str) or not v or not B64URL.match(v) or len(v) % 4 == 1:
        raise ValueError("not unpadded base64url")
    return base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))


def cose_plain(v):
    """A decoded CBOR item in JSON terms."""
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    if isinstance(v, datetime.datetime):
        return v.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(v, dict):
        return {str(k): cose_plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [cose_plain(x) for x in v]
    return v


def cose(v):
    import cbor2
    item = cbor2.loads(base64.b64decode(v, validate=True))
    if not isinstance(item, cbor2.CBORTag) or item.tag != 18 or len(item.value) != 4:
        raise ValueError("not a tagged COSE_Sign1")
    prot, unprot, payload, sig = item.value
    return {"protected": cose_plain(cbor2.loads(prot)), "unprotected": cose_plain(unprot),
            "payload": cose_plain(payload), "signature": cose_plain(sig)}


DECODERS = {
    "@B64JSON@": lambda v: json.loads(base64.b64decode(v, validate=True)),
    "@B64URLJSON@": lambda v: json.loads(b64url(v)),
    "@B64COSE@": cose,
}


def match(want, got, path):
    if want == "@ANY@":
        return isinstance(got, str) or f"{path}: want a string"
    if want == "@B64@":
        return is_b64(got) or f"{path}: want standard base64, got {got!r}"
    if want == "@B64LIST@":
        ok = isinstance(got, list) and got and all(is_b64(x) for x in got)
        return ok or f"{path}: want a list of base64 strings"
    if want == "@B64URL@":
        ok = isinstance(got, str) and bool(got) and bool(B64URL.match(got))
        return ok or f"{path}: want unpadded base64url, got {got!r}"
    if want == "@RFC3339@":
        ok = isinstance(got, str) and bool(RFC3339.match(got))
        return ok or f"{path}: want an RFC 3339 time, got {got!r}"
    if isinstance(want, dict) and len(want) == 1 and next(iter(want)) in DECODERS:
        name, inner = next(iter(want.items()))
        if not isinstance(got, str):
            return f"{path}: want a string for {name}, got {got!r}"
        try:
            decoded = DECODERS[name](got)
        except (ValueError, binascii.Error, ImportError) as e:
            return f"{path}: {name}: {e}"
        except Exception as e:  # cbor2 raises its own decode errors
            return f"{path}: {name}: {type(e).__name__}: {e}"
        return match(inner, decoded, f"{path}<{name}>")
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return f"{path}: want an object, got {got!r}"
        if set(want) != set(got):
            return f"{path}: keys {sorted(got)} != {sorted(want)}"
        for k in want:
            r = match(want[k], got[k], f"{path}.{k}")
            if r is not True:
                return r
        return True
    if isinstance(want, list):
        if not isinstance(got, list) or len(want) != len(got):
            return f"{path}: want {want!r}, got {got!r}"
        for i, (w, g) in enumerate(zip(want, got)):
            r = match(w, g, f"{path}[{i}]")
            if r is not True:
                return r
        return True
    return want == got or f"{path}: want {want!r}, got {got!r}"


def main():
    want = json.load(open(sys.argv[1]))
    text = open(sys.argv[2]).read()
    lines = [l for l in text.splitlines() if l.strip()]
    if len(lines) != 1:
        print(f"want exactly one JSON line, got {len(lines)}: {text[:300]!r}")
        return 1
    try:
        got = json.loads(lines[0])
    except ValueError as e:
        print(f"output is not JSON: {e}: {text[:300]!r}")
        return 1
    r = match(want, got, "$")
    if r is not True:
        print(r)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
