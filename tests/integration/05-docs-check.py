#!/usr/bin/python3
"""Checks that the documentation and the code agree.

usage: 05-docs-check.py REPO_ROOT

1. Every pluginConfig key and environment variable the program reads (the C
   sources the Makefile builds into notation-keystore: plugin/, pkcs11/,
   kms/) is in docs/configuration.md's tables and in the man page, and every
   key or variable those tables list is really read. In configuration.md the
   names in backticks in the first column of the first table under
   "## pluginConfig keys" / "## Environment variables" count; "## Read by
   other programs" holds variables only libraries read (SoftHSM, libcurl),
   which the man page may mention too. In the man page the names in the .TP
   tags of PLUGIN CONFIGURATION and ENVIRONMENT count, not running text.
2. README.md stays short, and relative links in the Markdown files resolve.

Reads are found from the read sites: nk_config_get/str/bool/seconds (key is
the second argument) and getenv/secure_getenv (the first). A read whose
name is not a string literal is followed back: a function parameter to the
literal arguments of every call, a local or static array to what is
assigned to it (array initialisers and ternaries included), an snprintf'd
buffer to its format with each %s expanded. A read that cannot be followed
is a failure, so a new indirect read cannot slip past; ALLOW below names the
few expressions this resolver cannot follow and what stands behind them.

Prints one "PASS <name>" or "FAIL <name>" line per check; exits 1 when any
check failed.
"""
import glob
import os
import re
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else "."
SRC_DIRS = ("plugin", "pkcs11", "kms")
CONFIG_READERS = {"nk_config_get": 1, "nk_config_str": 1, "nk_config_bool": 1,
                  "nk_config_seconds": 1}
ENV_READERS = {"getenv": 0, "secure_getenv": 0}
# Lower-case words joined by "-"; the three azure-kv keys keep azure-kv's
# spelling, so its users' stored pluginConfig works unchanged.
KEY_RE = re.compile(r"^(?:[a-z][a-z0-9]*(?:-[a-z0-9]+)*|ca_certs|self_signed|credential_type)$")
VAR_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
README_MAX = 150

# (file, function, expression) -> identifiers in the same file that hold
# every value the expression can take. Only for what the resolver cannot
# follow; an entry that is no longer used fails the check.
ALLOW = {
    # nk_vault_conn_init sets c->prefixes to one of these two arrays; the
    # resolver does not follow struct fields.
    ("kms/vault_conn.c", "nk_vault_env", "c->prefixes"): ("vault_first", "bao_first"),
}

results = []


def report(ok, name):
    results.append(("PASS " if ok else "FAIL ") + name)


# ---- C source model ----

def strip_comments(text):
    """Blanks comments (keeping newlines), leaves string literals intact."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def skip_string(text, i):
    """Index just past the string or char literal starting at text[i]."""
    q, j = text[i], i + 1
    while j < len(text) and text[j] != q:
        j += 2 if text[j] == "\\" else 1
    return j + 1


def split_top(text, seps):
    """Splits at separators outside brackets and literals."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        c = text[i]
        if c in "\"'":
            i = skip_string(text, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and c in seps:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def call_args(text, open_paren):
    """The argument strings of a call whose '(' is at open_paren."""
    depth, i = 0, open_paren
    while i < len(text):
        c = text[i]
        if c in "\"'":
            i = skip_string(text, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return [a.strip() for a in split_top(text[open_paren + 1:i], ",")]
        i += 1
    return []


class Func:
    def __init__(self, src, name, params, start, end):
        self.src, self.name, self.params = src, name, params
        self.start, self.end = start, end      # body offsets in src.text

    @property
    def body(self):
        return self.src.text[self.start:self.end]


class Source:
    def __init__(self, path):
        self.path = os.path.relpath(path, ROOT)
        with open(path, errors="replace") as f:
            self.text = strip_comments(f.read())
        self.funcs = []
        self.find_funcs()

    def line(self, off):
        return self.text.count("\n", 0, off) + 1

    def find_funcs(self):
        """Top-level '{' preceded by a parameter list and no '=' is a body."""
        t, depth, i, last = self.text, 0, 0, 0
        while i < len(t):
            c = t[i]
            if c in "\"'":
                i = skip_string(t, i)
                continue
            if c == "{":
                if depth == 0:
                    self.maybe_func(t[last:i], i)
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    last = i + 1
                    if self.funcs and self.funcs[-1].end is None:
                        self.funcs[-1].end = i
            elif c == ";" and depth == 0:
                last = i + 1
            i += 1

    def maybe_func(self, head, brace):
        head = re.sub(r"^\s*#.*$", "", head, flags=re.M).strip()
        m = re.search(r"(\w+)\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)\s*$", head)
        if not m or "=" in head:
            return
        params = []
        for p in split_top(m.group(2), ","):
            p = re.sub(r"\[[^\]]*\]", "", p).strip()
            ids = re.findall(r"[A-Za-z_]\w*", p)
            if ids and p != "void":
                params.append(ids[-1])
        self.funcs.append(Func(self, m.group(1), params, brace + 1, None))

    def func_at(self, off):
        for f in self.funcs:
            if f.start <= off <= f.end:
                return f
        return None

    def file_scope(self):
        """The text outside function bodies."""
        t, parts, prev = self.text, [], 0
        for f in self.funcs:
            parts.append(t[prev:f.start])
            prev = f.end
        parts.append(t[prev:])
        return "".join(parts)


SOURCES = []
for d in SRC_DIRS:
    for p in sorted(glob.glob(os.path.join(ROOT, d, "**", "*.[ch]"), recursive=True)):
        SOURCES.append(Source(p))


def calls_of(name):
    """(Source, Func, args, offset) of every call of name inside a body."""
    out = []
    pat = re.compile(r"(?<![\w.>])" + re.escape(name) + r"\s*\(")
    for s in SOURCES:
        for m in pat.finditer(s.text):
            f = s.func_at(m.start())
            if f is not None:
                out.append((s, f, call_args(s.text, m.end() - 1), m.start()))
    return out


class Resolver:
    def __init__(self):
        self.problems = []
        self.used_allow = set()

    def literal(self, expr):
        """The value of one or more adjacent string literals, else None."""
        if not re.fullmatch(r'(\s*"(?:[^"\\]|\\.)*"\s*)+', expr):
            return None
        return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', expr))

    def resolve(self, expr, fn, where, depth=0):
        """The set of strings expr can hold: {value: 'file:line'}."""
        expr = expr.strip()
        expr = re.sub(r"^\((?:const\s+)?(?:char|void)\s*\*\s*(?:const\s*)?\)", "", expr).strip()
        if depth > 12:
            self.problems.append("%s: %r is resolved too deeply" % (where, expr))
            return {}
        lit = self.literal(expr)
        if lit is not None:
            return {lit: where}
        if expr in ("NULL", "0"):
            return {}
        if expr.startswith("{") and expr.endswith("}"):
            vals = {}
            for e in split_top(expr[1:-1], ","):
                if e.strip():
                    vals.update(self.resolve(e, fn, where, depth + 1))
            return vals
        parts = split_top(expr, "?")
        if len(parts) == 2:
            branches = split_top(parts[1], ":")
            if len(branches) == 2:
                vals = self.resolve(branches[0], fn, where, depth + 1)
                vals.update(self.resolve(branches[1], fn, where, depth + 1))
                return vals
        key = (fn.src.path, fn.name, expr)
        if key in ALLOW:
            self.used_allow.add(key)
            vals = {}
            for ident in ALLOW[key]:
                vals.update(self.ident_file_scope(ident, fn, where, depth + 1))
            return vals
        m = re.fullmatch(r"\*?\s*([A-Za-z_]\w*)", expr)
        if m:
            return self.ident(m.group(1), fn, where, depth)
        self.problems.append("%s: cannot follow %r in %s()" % (where, expr, fn.name))
        return {}

    def ident(self, name, fn, where, depth):
        vals, found = {}, False
        if name in fn.params:
            found = True
            idx = fn.params.index(name)
            sites = calls_of(fn.name)
            if not sites:
                self.problems.append("%s: parameter %s of %s() has no call site"
                                     % (where, name, fn.name))
            for s, caller, args, off in sites:
                if idx < len(args):
                    vals.update(self.resolve(args[idx], caller,
                                             "%s:%d" % (s.path, s.line(off)), depth + 1))
        got = self.assigned(name, fn.body, fn.start, fn, depth)
        if got is not None:
            found = True
            vals.update(got)
        if not found:
            got = self.ident_file_scope(name, fn, where, depth)
            if got is None:
                self.problems.append("%s: cannot find what %s() puts in %s"
                                     % (where, fn.name, name))
                return {}
            vals.update(got)
        return vals

    def ident_file_scope(self, name, fn, where, depth):
        got = self.assigned(name, fn.src.file_scope(), None, fn, depth)
        if got is None:
            self.problems.append("%s: %s is not set at file scope in %s"
                                 % (where, name, fn.src.path))
        return got

    def assigned(self, name, text, base, fn, depth):
        """Values assigned to name in text, a function body starting at
        offset base (None: file scope); None when name is never set."""
        vals, found = {}, False
        pat = re.compile(r"(?<![\w.>])" + re.escape(name) + r"\s*(?:\[[^\]]*\])*\s*=(?!=)")
        for m in pat.finditer(text):
            found = True
            rest = text[m.end():]
            rhs = split_top(rest, ",;")[0]
            where = self.where(fn, base, m.start(), name)
            vals.update(self.resolve(rhs, fn, where, depth + 1))
        for m in re.finditer(r"(?<![\w.>])snprintf\s*\(", text):
            args = call_args(text, m.end() - 1)
            if len(args) < 3 or args[0] != name:
                continue
            found = True
            where = self.where(fn, base, m.start(), name)
            vals.update(self.expand(args[2], args[3:], fn, where, depth))
        return vals if found else None

    @staticmethod
    def where(fn, base, off, name):
        if base is None:
            m = re.search(r"(?<![\w.>])" + re.escape(name) + r"\s*(?:\[[^\]]*\])*\s*=(?!=)", fn.src.text)
            return "%s:%d" % (fn.src.path, fn.src.line(m.start()) if m else 0)
        return "%s:%d" % (fn.src.path, fn.src.line(base + off))

    def expand(self, fmt, args, fn, where, depth):
        f = self.literal(fmt)
        convs = re.findall(r"%[^%]", f or "")
        if f is None or any(c != "%s" for c in convs) or len(convs) != len(args):
            self.problems.append("%s: cannot expand snprintf format %s" % (where, fmt))
            return {}
        # Each name is reported where its last part comes from (for a
        # parameter, the call site that passes it).
        outs = [(f.replace("%%", "\x00"), where)]
        for a in args:
            choices = self.resolve(a, fn, where, depth + 1)
            outs = [(o.replace("%s", c, 1), w) for o, _ in outs for c, w in choices.items()]
        return {o.replace("\x00", "%"): w for o, w in outs}


def reads(readers, resolver):
    """{name: set of 'file:line'} for every read by the given functions."""
    found = {}
    for fname, idx in readers.items():
        for s, fn, args, off in calls_of(fname):
            if fn.name in readers or idx >= len(args):
                continue  # the accessors themselves, not reads
            where = "%s:%d" % (s.path, s.line(off))
            for val, src in resolver.resolve(args[idx], fn, where).items():
                found.setdefault(val, set()).add(src)
    return found


# ---- documentation ----

def md_table(path, heading):
    """Names in backticks in the first column of the first table under heading."""
    names = {}
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        report(False, "docs: cannot read %s: %s" % (path, e.strerror))
        return None
    try:
        i = next(k for k, l in enumerate(lines) if l.strip() == heading)
    except StopIteration:
        report(False, "docs: %s has no heading %r" % (os.path.relpath(path, ROOT), heading))
        return None
    while i < len(lines) and not lines[i].startswith("|"):
        i += 1
    rows = []
    while i < len(lines) and lines[i].startswith("|"):
        rows.append(lines[i])
        i += 1
    for n, row in enumerate(rows[2:], start=3):
        cell = row.split("|")[1]
        for name in re.findall(r"`([^`]+)`", cell):
            names[name] = n
    return names


def man_section_names(path, section, pattern):
    """Names in the .TP tags of a man page section."""
    names = set()
    text = open(path).read().splitlines()
    inside = False
    for k, line in enumerate(text):
        if line.startswith(".SH "):
            inside = line[4:].strip().strip('"') == section
            continue
        if inside and line.strip() == ".TP" and k + 1 < len(text):
            tag = text[k + 1].replace("\\-", "-").replace("\\fB", " ").replace("\\fR", " ")
            tag = re.sub(r"^\.\w+\s*", "", tag)
            for tok in re.findall(r'"[^"]*"|\S+', tag):
                tok = tok.strip('"').strip(" ,")
                if pattern.match(tok):
                    names.add(tok)
    return names


def compare(kind, code, table, table_name, man, extra_ok=()):
    short = {"pluginConfig key": "key", "environment variable": "variable"}[kind]
    missing = sorted(set(code) - set(table))
    for k in missing:
        report(False, "docs: %s %s is read (%s) but missing from %s"
               % (kind, k, ", ".join(sorted(code[k])), table_name))
    if not missing:
        report(True, "docs: every %s the code reads (%d) is in %s" % (kind, len(code), table_name))
    unread = sorted(set(table) - set(code))
    for k in unread:
        report(False, "docs: %s documents %s %s, which the code never reads"
               % (table_name, short, k))
    if not unread:
        report(True, "docs: every %s in %s is read by the code" % (short, table_name))
    man_missing = sorted(set(code) - man)
    for k in man_missing:
        report(False, "docs: %s %s is read (%s) but missing from the man page"
               % (kind, k, ", ".join(sorted(code[k]))))
    if not man_missing:
        report(True, "docs: every %s the code reads is in the man page" % kind)
    man_unread = sorted(man - set(code) - set(extra_ok))
    for k in man_unread:
        report(False, "docs: the man page documents %s %s, which the code never reads"
                      % (short, k))
    if not man_unread:
        report(True, "docs: every %s in the man page is read by the code" % short)


def check_config_docs():
    res = Resolver()
    keys = reads(CONFIG_READERS, res)
    env = reads(ENV_READERS, res)
    for p in res.problems:
        report(False, "docs: indirect read not followed: " + p)
    for k in sorted(set(ALLOW) - res.used_allow):
        report(False, "docs: allow-list entry %s is no longer used" % (k,))
    if not res.problems:
        report(True, "docs: every indirect pluginConfig/environment read is followed to its names")
    for name in sorted(keys):
        if not KEY_RE.match(name):
            report(False, "docs: odd pluginConfig key %r read at %s" % (name, ", ".join(sorted(keys[name]))))
    for name in sorted(env):
        if not VAR_RE.match(name):
            report(False, "docs: odd environment variable %r read at %s" % (name, ", ".join(sorted(env[name]))))
    # A check that found nothing proves nothing.
    report(len(keys) >= 20 and len(env) >= 20,
           "docs: the code scan finds reads (%d pluginConfig keys, %d variables)"
           % (len(keys), len(env)))
    print("pluginConfig keys read: " + " ".join(sorted(keys)))
    print("environment variables read: " + " ".join(sorted(env)))

    conf = os.path.join(ROOT, "docs", "configuration.md")
    man = os.path.join(ROOT, "doc", "notation-keystore.1")
    t_keys = md_table(conf, "## pluginConfig keys")
    t_env = md_table(conf, "## Environment variables")
    t_other = md_table(conf, "## Read by other programs")
    if t_keys is None or t_env is None or t_other is None:
        return
    m_keys = man_section_names(man, "PLUGIN CONFIGURATION", KEY_RE)
    m_env = man_section_names(man, "ENVIRONMENT", VAR_RE)
    report(len(t_keys) > 0 and len(t_env) > 0 and len(m_keys) > 0 and len(m_env) > 0,
           "docs: configuration.md and the man page tables are found and not empty")
    compare("pluginConfig key", keys, t_keys, "docs/configuration.md", m_keys)
    compare("environment variable", env, t_env, "docs/configuration.md", m_env,
            extra_ok=t_other)
    both = sorted(set(t_other) & set(env))
    for v in both:
        report(False, "docs: %s is read by the code: move it from \"Read by other "
                      "programs\" to \"Environment variables\"" % v)
    if not both:
        report(True, "docs: \"Read by other programs\" lists no variable the code reads")


# ---- README length and links ----

def anchors(path):
    out = set()
    for line in open(path).read().splitlines():
        m = re.match(r"#+\s+(.*)", line)
        if m:
            a = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            out.add(a)
    return out


def check_readme_and_links():
    readme = os.path.join(ROOT, "README.md")
    n = len(open(readme).read().splitlines())
    report(n <= README_MAX, "docs: README.md has at most %d lines (%d)" % (README_MAX, n))
    files = [readme, os.path.join(ROOT, "HACKING.md")]
    files += sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    files += sorted(glob.glob(os.path.join(ROOT, "manifests", "*.md")))
    bad, count = [], 0
    for f in files:
        if not os.path.exists(f):
            bad.append("%s is missing" % os.path.relpath(f, ROOT))
            continue
        text = re.sub(r"```.*?```", "", open(f).read(), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            count += 1
            path, _, frag = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(f), path)) if path else f
            where = "%s -> %s" % (os.path.relpath(f, ROOT), target)
            if not os.path.exists(dest):
                bad.append(where + " (no such file)")
            elif frag and dest.endswith(".md") and frag not in anchors(dest):
                bad.append(where + " (no such heading)")
    for b in bad:
        report(False, "docs: broken link " + b)
    if not bad:
        report(count > 0, "docs: every relative link in README, HACKING and docs/ resolves (%d)" % count)


check_config_docs()
check_readme_and_links()
for r in results:
    print(r)
sys.exit(1 if any(r.startswith("FAIL") for r in results) else 0)
