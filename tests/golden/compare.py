#!/usr/bin/python3
"""Compares a plugin's JSON output with a golden file.

Golden strings may be patterns: "@ANY@" matches any string, "@B64@" any
non-empty standard padded base64 string, "@B64LIST@" a non-empty list of
them. Objects must have exactly the golden keys. Exit 0 on match."""
import base64
import json
import re
import sys

B64 = re.compile(r'^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$')


def is_b64(v):
    if not isinstance(v, str) or not v or not B64.match(v):
        return False
    base64.b64decode(v, validate=True)
    return True


def match(want, got, path):
    if want == "@ANY@":
        return isinstance(got, str) or f"{path}: want a string"
    if want == "@B64@":
        return is_b64(got) or f"{path}: want standard base64, got {got!r}"
    if want == "@B64LIST@":
        ok = isinstance(got, list) and got and all(is_b64(x) for x in got)
        return ok or f"{path}: want a list of base64 strings"
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
