#!/usr/bin/python3
"""Runs the PKCS#11 fault table of tests/integration/21-pkcs11-faults.sh.

Each case runs the plugin once through tests/lib/p11shim.c with one fault
(NK_SHIM_FAIL) or one hostile answer, then checks: the expected result
(exit 0 and a response, or exit 1, empty stdout and one error JSON with the
expected errorCode, its message naming the injected CKR_ value), strict
UTF-8 JSON, no signal and no sanitizer report, the fault really reached
(the shim's call count), at most one C_Login(CKU_USER) and one
C_Login(CKU_CONTEXT_SPECIFIC), and C_Finalize called whenever a
C_Initialize succeeded. Prints "PASS name" / "FAIL name (why)" lines and
the matrix.

usage: p11faults.py TABLE   (environment: see 21-pkcs11-faults.sh)
"""
import json
import os
import re
import subprocess
import sys

ENV = os.environ
BIN = ENV["NK_BIN"]
TMP = ENV["FAULTS_TMP"]
COUNT = os.path.join(TMP, "count")
REDUCED = ENV.get("FAULTS_REDUCED") == "1"
# FAULTS_ONLY=REGEX runs only the cases whose name matches (while working
# on one of them).
ONLY = re.compile(ENV.get("FAULTS_ONLY", ""))

# rv.c's mapping, the rule the table checks (docs/pkcs11.md "Token faults").
ACCESS = set("""PIN_INCORRECT PIN_INVALID PIN_LEN_RANGE PIN_EXPIRED PIN_LOCKED
USER_NOT_LOGGED_IN USER_PIN_NOT_INITIALIZED USER_TYPE_INVALID
USER_ANOTHER_ALREADY_LOGGED_IN USER_TOO_MANY_TYPES FUNCTION_CANCELED
FUNCTION_REJECTED""".split())
VALIDATION = set("""KEY_FUNCTION_NOT_PERMITTED KEY_TYPE_INCONSISTENT
KEY_SIZE_RANGE KEY_HANDLE_INVALID MECHANISM_INVALID MECHANISM_PARAM_INVALID
DATA_LEN_RANGE DATA_INVALID TOKEN_NOT_RECOGNIZED""".split())


def mapped(rv):
    if rv in ACCESS:
        return "ACCESS_DENIED"
    if rv in VALIDATION:
        return "VALIDATION_ERROR"
    return "ERROR"


def commands():
    """name -> (kind, argv, stdin bytes); kind is plugin or cli."""
    shim, ca = ENV["FAULTS_SHIM"], ENV["FAULTS_CA"]
    payload = "eA=="

    def kid(obj):
        return "pkcs11:token=nk-test;object=%s?module-path=%s" % (obj, shim)

    def sign(obj, spec):
        return json.dumps({
            "contractVersion": "1.0", "keyId": kid(obj), "keySpec": spec,
            "hashAlgorithm": "SHA-256", "payload": payload,
            "pluginConfig": {"ca-certs": ca}}).encode()

    anytoken = "pkcs11:object=ec256?module-path=" + shim
    return {
        "describe": ("plugin", [BIN, "describe-key"], json.dumps(
            {"contractVersion": "1.0", "keyId": kid("ec256")}).encode()),
        "describe-any": ("plugin", [BIN, "describe-key"], json.dumps(
            {"contractVersion": "1.0", "keyId": anytoken}).encode()),
        "sign-ec": ("plugin", [BIN, "generate-signature"],
                    sign("ec256", "EC-256")),
        "sign-rsa": ("plugin", [BIN, "generate-signature"],
                     sign("rsa2048", "RSA-2048")),
        "sign-aa": ("plugin", [BIN, "generate-signature"],
                    sign("always", "EC-256")),
        "sign-any": ("plugin", [BIN, "generate-signature"], json.dumps({
            "contractVersion": "1.0", "keyId": anytoken, "keySpec": "EC-256",
            "hashAlgorithm": "SHA-256", "payload": payload,
            "pluginConfig": {"ca-certs": ca}}).encode()),
        "keys": ("cli", [BIN, "keys", "--module", shim, "--json"], b""),
        "store": ("cli", [BIN, "cert", "generate-test", "--id", kid("store"),
                          "faultcert", "--store", "--json", "--out",
                          os.path.join(TMP, "faultcert.crt")], b""),
    }


def parse_nth(s):
    """"3" -> (3, 3); "2-5" -> (2, 5); "2+" -> (2, inf)."""
    if s.endswith("+"):
        return int(s[:-1]), float("inf")
    if "-" in s:
        a, b = s.split("-")
        return int(a), int(b)
    return int(s), int(s)


class Table:
    def __init__(self, path):
        self.matrix, self.expects, self.sweeps, self.hostile = [], [], [], []
        self.leaky = set()
        for line in open(path):
            words = line.split("#")[0].split()
            if not words:
                continue
            if words[0] == "expect":
                spec, _, cmd = words[1].partition("@")
                fn, _, nth = spec.partition(":")
                self.expects.append((fn, parse_nth(nth) if nth else None,
                                     cmd or None, words[2], words[3]))
            elif words[0] == "sweep":
                self.sweeps.append((words[1], words[2], words[3:]))
            elif words[0] == "leaky":
                self.leaky.update(words[1:])
            elif words[0] == "hostile":
                env = dict(w.split("=", 1) for w in words[4:])
                self.hostile.append((words[1], words[2], words[3], env))
            else:
                fn, _, nth = words[0].partition(":")
                self.matrix.append((fn, int(nth or 1), words[1], words[2:]))

    def expect(self, fn, nth, cmd, rv):
        """The most specific expect line (a command, then calls, then a
        named rv before "*"); else the mapping."""
        best, score = None, -1
        for efn, enth, ecmd, erv, res in self.expects:
            if efn != fn or (erv != "*" and erv != rv):
                continue
            if enth is not None and not enth[0] <= nth <= enth[1]:
                continue
            if ecmd is not None and ecmd != cmd:
                continue
            s = (4 if ecmd is not None else 0) + \
                (2 if enth is not None else 0) + (1 if erv != "*" else 0)
            if s > score:
                best, score = res, s
        return best if best is not None else mapped(rv)


def run(cmd, extra):
    kind, argv, stdin = CMDS[cmd]
    env = dict(ENV)
    env.update(extra)
    env["NK_SHIM_COUNT"] = COUNT
    try:
        os.unlink(COUNT)
    except FileNotFoundError:
        pass
    p = subprocess.run(argv, input=stdin, capture_output=True, env=env,
                       timeout=60)
    counts = {}
    try:
        for line in open(COUNT):
            k, v = line.split()
            counts[k] = int(v)
    except FileNotFoundError:
        counts = None
    return kind, p.returncode, p.stdout, p.stderr, counts


def strict_json(b):
    """The JSON document b holds (strict UTF-8), or None."""
    try:
        return json.loads(b.decode("utf-8", errors="strict"))
    except (UnicodeDecodeError, ValueError):
        return None


def libp11_leaks(err):
    """err without a LeakSanitizer report all of whose leaks libp11 itself
    allocated; None when there is no such report."""
    at = err.find(b"ERROR: LeakSanitizer")
    if at < 0:
        return None
    report = err[at:].decode(errors="replace")
    for block in report.split("leak of")[1:]:
        frames = [f for f in block.splitlines()[1:] if f.strip().startswith("#")]
        mine = [f for f in frames if "malloc" not in f and "calloc" not in f
                and "libcrypto" not in f]
        if not mine or "libp11.so" not in mine[0]:
            return None
    return err[:err.rfind(b"\n", 0, err.rfind(b"====", 0, at)) + 1]


def outcome(kind, rc, out, err, leaky=False):
    """(result, message): result is ok, an errorCode, or a description of
    what is wrong with the output. With leaky, leaks of libp11's own are
    not a sanitizer report."""
    if leaky and libp11_leaks(err) is not None:
        err = libp11_leaks(err)
    if rc not in (0, 1):
        return "exit %d" % rc, ""
    if b"Sanitizer" in err or b"runtime error" in err:
        return "sanitizer report", err.decode(errors="replace")[:300]
    if kind == "plugin":
        if rc == 0:
            doc = strict_json(out)
            if not isinstance(doc, dict) or err.strip():
                return "bad response", (out + err)[:200].decode(
                    errors="replace")
            return "ok", ""
        doc = strict_json(err)
        if out or not isinstance(doc, dict) or "errorCode" not in doc:
            return "bad error output", (out + err)[:300].decode(
                errors="replace")
        return doc["errorCode"], doc.get("errorMessage", "")
    doc = strict_json(out)
    if not isinstance(doc, dict):
        return "bad JSON output", (out + err)[:300].decode(errors="replace")
    if rc == 0:
        return ("ok", "") if "error" not in doc else ("error with exit 0", "")
    e = doc.get("error") or {}
    return e.get("code", "no error code"), e.get("message", "")


def invariants(counts, fn, nth):
    """Problems with the shim's counts: login retried, C_Finalize missed,
    the fault never reached."""
    if counts is None:
        return ["no call counts (the shim never unloaded)"]
    bad = []
    if counts["login_user"] > 1:
        bad.append("%d C_Login(CKU_USER)" % counts["login_user"])
    if counts["login_context"] > 1:
        bad.append("%d C_Login(CKU_CONTEXT_SPECIFIC)" %
                   counts["login_context"])
    if counts["init_ok"] > 0 and counts["finalize"] == 0:
        bad.append("C_Initialize succeeded but no C_Finalize")
    if fn is not None and counts.get(fn, 0) < nth:
        bad.append("fault not reached (%d calls of %s)" %
                   (counts.get(fn, 0), fn))
    return bad


def check(name, cmd, extra, want, fn=None, nth=1, rv=None):
    """Runs one case; returns the result for the matrix."""
    if not ONLY.search(name) and not name.endswith("without faults"):
        return "not run"
    kind, rc, out, err, counts = run(cmd, extra)
    got, msg = outcome(kind, rc, out, err, fn in TABLE.leaky)
    bad = invariants(counts, fn, nth)
    code = want.rstrip("~")
    if got != code:
        bad.insert(0, "want %s, got %s %s" % (code, got, msg[:250]))
    elif code != "ok" and rv and not want.endswith("~") and rv not in msg:
        bad.append("message does not name %s: %s" % (rv, msg[:250]))
    if bad:
        print("FAIL pkcs11-faults %s (%s)" % (name, "; ".join(bad)))
    else:
        print("PASS pkcs11-faults %s -> %s" % (name, got))
    sys.stdout.flush()
    return got if not bad else got + "!"


def clean_counts(cmd):
    """The calls cmd makes without faults; the first run leaves the token
    as every later run finds it (store writes a certificate)."""
    run(cmd, {})
    kind, rc, out, err, counts = run(cmd, {})
    if rc != 0 or counts is None:
        print("FAIL pkcs11-faults %s without faults (rc=%d %s)" %
              (cmd, rc, err[:300]))
        return {}
    return counts


def main():
    global CMDS, TABLE
    CMDS = commands()
    TABLE = table = Table(sys.argv[1])
    rows = []  # (row label, {result: [rv, ...]})
    for cmd in CMDS:
        check("%s without faults" % cmd, cmd, {}, "ok")
    for fn, nth, cmd, rvs in table.matrix:
        seen, res = set(), {}
        for rv in rvs:
            # "+RV": the call reaches the module, then answers RV.
            after = "+" if rv.startswith("+") else ""
            rv = rv.lstrip("+")
            want = table.expect(fn, nth, cmd, rv)
            # Under a sanitizer, one rv per distinct expected result: the
            # others take the same path.
            if REDUCED and want in seen and not after:
                continue
            seen.add(want)
            got = check("%s:%d %sCKR_%s %s" % (fn, nth, after, rv, cmd), cmd,
                        {"NK_SHIM_FAIL": "%s:%sCKR_%s:%d" %
                         (fn, after, rv, nth)}, want, fn, nth, "CKR_" + rv)
            res.setdefault(got, []).append(after + rv)
        rows.append(("%s:%d (%s)" % (fn, nth, cmd), res))
    for cmd, rv, fns in table.sweeps:
        counts = clean_counts(cmd)
        for fn in fns:
            res = {}
            for nth in range(1, counts.get(fn, 0) + 1):
                want = table.expect(fn, nth, cmd, rv)
                got = check("%s:%d CKR_%s %s (sweep)" % (fn, nth, rv, cmd),
                            cmd, {"NK_SHIM_FAIL": "%s:CKR_%s:%d" %
                                  (fn, rv, nth)}, want, fn, nth, "CKR_" + rv)
                res.setdefault(got, []).append(str(nth))
            if res:
                rows.append(("%s each call, CKR_%s (%s)" % (fn, rv, cmd),
                             res))
    res = {}
    for name, cmd, want, env in table.hostile:
        got = check("hostile %s %s" % (name, cmd), cmd, env, want)
        res.setdefault(got, []).append("%s(%s)" % (name, cmd))
    rows.append(("hostile answers", res))
    print("\nPKCS#11 fault matrix (function:call (command): result: CKR_ "
          "values; '!' marks a failed case)")
    for label, res in rows:
        print("  " + label)
        for got in sorted(res):
            print("      %-18s %s" % (got, " ".join(res[got])))


if __name__ == "__main__":
    main()
