#!/usr/bin/python3
"""Checks every file under manifests/: trust policies against notation's
rules (trust-store-trust-policy spec, notation-go v1.3 trustpolicy.go),
signingkeys.json examples against notation's file format and our key id
syntax and pluginConfig keys, and CI pipelines: YAML parses, and every
notation / notation-keystore command they run names a real subcommand and
real flags. Prints one "PASS name" or "FAIL name: why" line per check.

usage: 60-manifests-check.py REPO_ROOT NOTATION_KEYSTORE_BINARY
"""
import glob
import json
import os
import re
import shlex
import subprocess
import sys

import yaml

ROOT, BIN = sys.argv[1], sys.argv[2]
MANIFESTS = os.path.join(ROOT, "manifests")
results = []


def report(name, problems):
    if problems:
        results.append(False)
        print("FAIL %s: %s" % (name, "; ".join(problems)))
    else:
        results.append(True)
        print("PASS %s" % name)


# ---- trust policy (notation v1.3, section 5.2 of the reference) ----

LEVELS = {"strict", "permissive", "audit", "skip"}
OVERRIDE_KEYS = {"authenticity", "authenticTimestamp", "expiry", "revocation"}
STORE_TYPES = {"ca", "signingAuthority", "tsa"}
STORE_NAME = re.compile(r"^[a-zA-Z0-9_.-]+$")
# OCI distribution reference grammar: domain "/" path, no tag or digest.
DOMAIN = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?"
COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
SCOPE = re.compile(r"^%s(?:/%s)+$" % (DOMAIN, COMPONENT))


def split_dn(dn):
    """RFC 4514 DN -> list of (attr, value); raises ValueError."""
    parts, cur, esc = [], "", False
    for ch in dn:
        if esc:
            cur += ch
            esc = False
        elif ch == "\\":
            cur += ch
            esc = True
        elif ch == ",":
            parts.append(cur)
            cur = ""
        elif ch == "+":
            raise ValueError("multi-valued RDN in %r" % dn)
        else:
            cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        if "=" not in p:
            raise ValueError("%r is not attr=value" % p.strip())
        k, v = p.split("=", 1)
        k, v = k.strip(), v.strip()
        if not k or not v or v.startswith("#"):
            raise ValueError("bad attribute %r" % p.strip())
        out.append((k.upper(), v))
    return out


def check_identities(ids, where):
    probs, dns = [], []
    if "*" in ids and len(ids) != 1:
        probs.append("%s: '*' must be the only trusted identity" % where)
    for ident in ids:
        if ident == "*":
            continue
        if ":" not in ident:
            probs.append("%s: identity %r lacks a prefix" % (where, ident))
            continue
        prefix, value = ident.split(":", 1)
        if prefix.strip() != "x509.subject":
            continue  # meant for a verification plugin
        try:
            attrs = split_dn(value.strip())
        except ValueError as e:
            probs.append("%s: %s" % (where, e))
            continue
        keys = [k for k, _ in attrs]
        if len(set(keys)) != len(keys):
            probs.append("%s: duplicate attribute in %r" % (where, value))
        have = set(keys)
        if "C" not in have or "O" not in have or not have & {"ST", "S"}:
            probs.append("%s: %r must contain C, ST (or S) and O" % (where, value.strip()))
        dns.append(set(attrs))
    for i, a in enumerate(dns):
        for b in dns[i + 1:]:
            if a <= b or b <= a:
                probs.append("%s: overlapping x509.subject identities" % where)
    return probs


def check_statement(st, i):
    probs, where = [], "trustPolicies[%d]" % i
    known = {"name", "registryScopes", "signatureVerification", "trustStores", "trustedIdentities"}
    for k in st:
        if k not in known:
            probs.append("%s: unknown field %r" % (where, k))
    if not isinstance(st.get("name"), str) or not st["name"].strip():
        probs.append("%s: name is required" % where)
    scopes = st.get("registryScopes")
    if not isinstance(scopes, list) or not scopes:
        probs.append("%s: registryScopes needs at least one entry" % where)
        scopes = []
    if "*" in scopes and len(scopes) != 1:
        probs.append("%s: '*' must be the only scope of its statement" % where)
    for s in scopes:
        if s != "*" and not SCOPE.match(s):
            probs.append("%s: scope %r is not a fully qualified repository "
                         "(domain/repo, no scheme, tag, digest or wildcard)" % (where, s))
    sv = st.get("signatureVerification")
    if not isinstance(sv, dict) or sv.get("level") not in LEVELS:
        probs.append("%s: signatureVerification.level must be one of %s" % (where, sorted(LEVELS)))
        return probs, scopes
    level = sv["level"]
    for k in sv:
        if k not in {"level", "override", "verifyTimestamp"}:
            probs.append("%s: unknown signatureVerification field %r" % (where, k))
    ov = sv.get("override", {})
    if ov and level == "skip":
        probs.append("%s: level skip cannot be overridden" % where)
    for k, v in ov.items():
        if k not in OVERRIDE_KEYS:
            probs.append("%s: override %r is not one of %s" % (where, k, sorted(OVERRIDE_KEYS)))
        elif v not in ({"enforce", "log", "skip"} if k == "revocation" else {"enforce", "log"}):
            probs.append("%s: override %s=%r is not allowed" % (where, k, v))
    if sv.get("verifyTimestamp", "always") not in {"always", "afterCertExpiry"}:
        probs.append("%s: verifyTimestamp must be always or afterCertExpiry" % where)
    stores, ids = st.get("trustStores"), st.get("trustedIdentities")
    if level == "skip":
        if stores or ids:
            probs.append("%s: a skip statement must not list trustStores or trustedIdentities" % where)
        return probs, scopes
    if not isinstance(stores, list) or not stores:
        probs.append("%s: trustStores is required for level %s" % (where, level))
        stores = []
    if not isinstance(ids, list) or not ids:
        probs.append("%s: trustedIdentities is required for level %s" % (where, level))
        ids = []
    for s in stores:
        t, _, n = s.partition(":")
        if t not in STORE_TYPES or not STORE_NAME.match(n):
            probs.append("%s: trust store %r is not <ca|signingAuthority|tsa>:<name>" % (where, s))
    probs += check_identities(ids, where)
    return probs, scopes


def check_policy(path):
    try:
        doc = json.load(open(path))
    except ValueError as e:
        return ["not JSON: %s" % e]
    probs = []
    if doc.get("version") != "1.0":
        probs.append('version must be "1.0"')
    for k in doc:
        if k not in {"version", "trustPolicies"}:
            probs.append("unknown top-level field %r" % k)
    pols = doc.get("trustPolicies")
    if not isinstance(pols, list) or not pols:
        return probs + ["trustPolicies must be a non-empty list"]
    names, seen_scopes, wild = set(), set(), 0
    for i, st in enumerate(pols):
        p, scopes = check_statement(st, i)
        probs += p
        if st.get("name") in names:
            probs.append("statement name %r is not unique" % st.get("name"))
        names.add(st.get("name"))
        for s in scopes:
            if s == "*":
                wild += 1
            elif s in seen_scopes:
                probs.append("scope %r is in more than one statement" % s)
            seen_scopes.add(s)
    if wild > 1:
        probs.append("only one statement may use the '*' scope")
    return probs


# ---- signingkeys.json ----

def config_keys():
    """pluginConfig keys the code reads (literal keys of nk_config_* calls)."""
    keys = set()
    pat = re.compile(r'(?:nk_config_\w+\([^,]+|cfg),\s*"([a-z][a-z0-9_-]+)"')
    for f in glob.glob(os.path.join(ROOT, "*", "**", "*.c"), recursive=True):
        keys |= set(pat.findall(open(f, errors="replace").read()))
    return keys


KEY_ID = re.compile(r"^(pkcs11:[^\s]+|awskms://[^/\s]*/\S+|(hashivault|openbao)://\w(?:[\w.-]*\w)?"
                    r"|azurekms://[\w.-]+(?::\d+)?/[\w-]+(?:/[0-9a-f]{32})?"
                    r"|https://[\w-]+\.(?:vault\.azure\.net|vault\.azure\.cn|vault\.usgovcloudapi\.net"
                    r"|managedhsm\.azure\.net)/(?:keys|certificates)/[\w-]+(?:/[0-9a-f]{32})?"
                    r"|gcpkms://projects/[\w.:-]+/locations/[\w-]+/keyRings/[\w-]+/cryptoKeys/[\w-]+"
                    r"/cryptoKeyVersions/[1-9][0-9]*)$")


def check_signingkeys(path, known):
    try:
        doc = json.load(open(path))
    except ValueError as e:
        return ["not JSON: %s" % e]
    probs, names = [], []
    keys = doc.get("keys")
    if not isinstance(keys, list) or not keys:
        return ["keys must be a non-empty list"]
    for i, k in enumerate(keys):
        where = "keys[%d]" % i
        for f in ("name", "id", "pluginName"):
            if not isinstance(k.get(f), str) or not k[f]:
                probs.append("%s: %s is required" % (where, f))
        if "keyPath" in k or "certPath" in k:
            probs.append("%s: keyPath/certPath are for local keys, not plugin keys" % where)
        if k.get("pluginName") != "keystore":
            probs.append("%s: pluginName must be keystore" % where)
        if not KEY_ID.match(k.get("id", "")):
            probs.append("%s: id %r is not a pkcs11:, awskms://, hashivault://, openbao://, azurekms://, Key Vault or gcpkms:// key id" % (where, k.get("id")))
        if "pin-value=" in k.get("id", ""):
            probs.append("%s: a PIN must not be stored in signingkeys.json" % where)
        for ck, cv in (k.get("pluginConfig") or {}).items():
            if not isinstance(cv, str) or not cv or not ck:
                probs.append("%s: pluginConfig %r needs a non-empty string" % (where, ck))
            if known and ck not in known:
                probs.append("%s: pluginConfig key %r is not read by the plugin" % (where, ck))
        names.append(k.get("name"))
    if len(set(names)) != len(names):
        probs.append("key names are not unique")
    if "default" in doc and doc["default"] not in names:
        probs.append("default %r names no key" % doc["default"])
    return probs


# ---- pipelines ----

# notation CLI v1.3 subcommands and flags used in pipelines (from the
# reference: sections 1.3, 3.1, 4.6, 5.1, 5.3).
NOTATION = {
    ("key", "add"): {"--plugin", "--id", "--plugin-config", "--default"},
    ("key", "ls"): set(),
    ("sign",): {"--key", "--signature-format", "--oci-layout", "--plugin-config",
                "--timestamp-url", "--timestamp-root-cert", "--plugin", "--id"},
    ("verify",): {"--oci-layout", "--scope", "--plugin-config"},
    ("policy", "import"): {"--force"},
    ("policy", "show"): set(),
    ("cert", "add"): {"--type", "--store"},
    ("cert", "ls"): set(),
    ("plugin", "install"): {"--file", "--url", "--sha256sum", "--force"},
    ("plugin", "ls"): set(),
}
SEPARATORS = {"&&", "||", ";", "|", "&", "(", ")"}
REDIRECTS = {">", ">>", "<", "2>", "<<"}


def commands(script):
    """Simple commands of a shell script: lists of words."""
    text = re.sub(r"\\\n", " ", script)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        lex = shlex.shlex(line, posix=True, punctuation_chars=True)
        lex.whitespace_split = True
        lex.commenters = ""
        cur, skip = [], False
        for tok in lex:
            if tok in SEPARATORS:
                out.append(cur)
                cur = []
            elif tok in REDIRECTS:
                skip = True
            elif skip:
                skip = False
            else:
                cur.append(tok)
        out.append(cur)
    return [c for c in out if c]


help_cache = {}


def keystore_flags(sub):
    if sub not in help_cache:
        p = subprocess.run([BIN] + list(sub) + ["--help"], capture_output=True, text=True)
        help_cache[sub] = (set(re.findall(r"--[a-z][a-z0-9-]*", p.stdout + p.stderr))
                           if p.returncode == 0 else None)
    return help_cache[sub]


def flags_of(words):
    return [w.split("=", 1)[0] for w in words if w.startswith("--")]


def check_command(words, env, policies, probs):
    if words[0] == "notation":
        sub = tuple(words[1:3]) if tuple(words[1:3]) in NOTATION else tuple(words[1:2])
        if sub not in NOTATION:
            probs.append("unknown notation command %r" % " ".join(words[:3]))
            return
        for f in flags_of(words[1 + len(sub):]):
            if f not in NOTATION[sub]:
                probs.append("notation %s has no flag %s" % (" ".join(sub), f))
        fl = set(flags_of(words))
        if "--url" in fl and "--sha256sum" not in fl:
            probs.append("notation plugin install --url needs --sha256sum")
        if ("--timestamp-url" in fl) != ("--timestamp-root-cert" in fl):
            probs.append("--timestamp-url and --timestamp-root-cert go together")
        if "--oci-layout" in fl and env.get("NOTATION_EXPERIMENTAL") != "1":
            probs.append("--oci-layout needs NOTATION_EXPERIMENTAL=1 in the job")
        if sub == ("verify",) and "--oci-layout" in fl:
            if "--scope" not in fl:
                probs.append("notation verify --oci-layout needs --scope")
            scope = words[words.index("--scope") + 1] if "--scope" in words else None
            if policies and scope and not any(scope in p or "*" in p for p in policies):
                probs.append("no imported trust policy has scope %r" % scope)
        if sub == ("policy", "import"):
            f = [w for w in words[3:] if not w.startswith("--")]
            path = os.path.join(ROOT, f[0]) if f else ""
            if not os.path.isfile(path):
                probs.append("policy file %r is not in the repository" % (f[0] if f else ""))
            else:
                doc = json.load(open(path))
                policies.extend(st.get("registryScopes", []) for st in doc["trustPolicies"])
    elif words[0] == "notation-keystore":
        sub = tuple(words[1:3]) if words[1:2] == ["cert"] else tuple(words[1:2])
        allowed = keystore_flags(sub)
        if allowed is None:
            probs.append("notation-keystore %s --help failed" % " ".join(sub))
            return
        for f in flags_of(words[1 + len(sub):]):
            if f not in allowed:
                probs.append("notation-keystore %s has no flag %s" % (" ".join(sub), f))


def check_job(name, scripts, env):
    probs, policies, count = [], [], 0
    for s in scripts:
        for words in commands(s):
            if words[0] in ("notation", "notation-keystore"):
                count += 1
                check_command(words, env, policies, probs)
    return ["%s: %s" % (name, p) for p in probs], count


def as_list(v):
    return v if isinstance(v, list) else ([v] if v else [])


def check_github(path):
    doc = yaml.safe_load(open(path))
    probs, n = [], 0
    jobs = doc.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        return ["no jobs"], 0
    for jname, job in jobs.items():
        env = dict(doc.get("env") or {})
        env.update(job.get("env") or {})
        runs = [st["run"] for st in job.get("steps", []) if "run" in st]
        p, c = check_job(jname, runs, {k: str(v) for k, v in env.items()})
        probs += p
        n += c
        for st in job.get("steps", []):
            if "uses" in st and "@" not in st["uses"]:
                probs.append("%s: action %r is not pinned to a version" % (jname, st["uses"]))
    if "id-token" not in (doc.get("permissions") or {}):
        probs.append("OIDC needs permissions: id-token: write")
    return probs, n


def check_gitlab(path):
    doc = yaml.safe_load(open(path))
    probs, n = [], 0
    for jname, job in doc.items():
        if jname.startswith(".") or not isinstance(job, dict) or "script" not in job:
            continue
        env = dict(doc.get("variables") or {})
        env.update(job.get("variables") or {})
        scripts = []
        for k in ("before_script", "script", "after_script"):
            scripts += as_list(job.get(k))
        p, c = check_job(jname, scripts, {k: str(v) for k, v in env.items()})
        probs += p
        n += c
    return probs, n


def main():
    policies = sorted(glob.glob(os.path.join(MANIFESTS, "trustpolicy", "*.json")))
    keys = sorted(glob.glob(os.path.join(MANIFESTS, "signingkeys", "*.json")))
    report("manifests: trust policies present", [] if len(policies) >= 4 else ["want >= 4"])
    for p in policies:
        report("manifests: trust policy %s" % os.path.basename(p), check_policy(p))
    known = config_keys()
    for k in keys:
        report("manifests: signing keys %s" % os.path.basename(k), check_signingkeys(k, known))
    for backend in ("pkcs11-softhsm", "pkcs11-yubikey", "awskms", "hashivault", "azure", "gcpkms"):
        f = os.path.join(MANIFESTS, "signingkeys", backend + ".json")
        report("manifests: signingkeys example for %s" % backend,
               [] if os.path.isfile(f) else ["missing %s" % f])
    for name, fn in (("github-actions.yml", check_github), ("gitlab-ci.yml", check_gitlab)):
        path = os.path.join(MANIFESTS, "ci", name)
        try:
            probs, n = fn(path)
        except (OSError, yaml.YAMLError) as e:
            probs, n = [str(e)], 0
        if n == 0:
            probs.append("runs no notation command")
        report("manifests: pipeline %s (%d notation commands)" % (name, n), probs)
        text = open(path).read() if os.path.isfile(path) else ""
        for need in ("awskms://", "hashivault://", "softhsm", "id_token" if "gitlab" in name else "id-token"):
            report("manifests: pipeline %s covers %s" % (name, need),
                   [] if need in text else ["%s not found" % need])
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
