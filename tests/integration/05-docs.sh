#!/usr/bin/env bash
# The documentation against the code (05-docs-check.py): every pluginConfig
# key and environment variable the program reads is in docs/configuration.md
# and the man page, and they list nothing the code never reads; README.md
# stays short; relative links resolve. Then the checker is shown to fail on
# copies of the tree with one thing broken at a time.
. "$(dirname "$0")/../lib/harness.sh"
CHECKER=$NK_ROOT/tests/integration/05-docs-check.py

"$NK_PY" "$CHECKER" "$NK_ROOT" >"$NK_TMP/check.out" 2>&1
rc=$?
cat "$NK_TMP/check.out"
grep -E '^(PASS|FAIL) ' "$NK_TMP/check.out" | sed "s/^\(PASS\|FAIL\) /&$NK_CHECK_PREFIX/" >>"$NK_RESULTS"
if ! grep -Eq '^(PASS|FAIL) ' "$NK_TMP/check.out" ||
    { [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$NK_TMP/check.out"; }; then
    fail "docs: checker exited $rc without reporting"
fi

# A fresh copy of what the checker reads.
fresh() {
    rm -rf "$NK_TMP/t" && mkdir -p "$NK_TMP/t" &&
        cp -r "$NK_ROOT"/plugin "$NK_ROOT"/pkcs11 "$NK_ROOT"/kms "$NK_ROOT"/docs \
            "$NK_ROOT"/doc "$NK_ROOT"/manifests "$NK_ROOT"/README.md "$NK_ROOT"/HACKING.md "$NK_TMP/t/"
}
# rejects NAME EDIT-COMMAND REGEX: after the edit, a FAIL line matches REGEX.
rejects() {
    local name=$1 edit=$2 re=$3 out
    fresh || { fail "docs: checker $name (cannot copy the tree)"; return; }
    if ! (cd "$NK_TMP/t" && eval "$edit"); then
        fail "docs: checker $name (the edit failed)"
        return
    fi
    out=$("$NK_PY" "$CHECKER" "$NK_TMP/t" 2>&1)
    if printf '%s\n' "$out" | grep -Eq -- "^FAIL docs: $re"; then
        pass "docs: checker $name"
    else
        fail "docs: checker $name (no FAIL line matching \"$re\"; got: $(printf '%s' "$out" | grep '^FAIL' | head -3))"
    fi
}

rejects "names a key read by the code but missing from configuration.md" \
    "sed -i '/^| \`vault-kv-field\` |/d' docs/configuration.md && ! grep -q '\`vault-kv-field\` |' docs/configuration.md" \
    'pluginConfig key vault-kv-field is read \(kms/vault\.c:[0-9]+\) but missing from docs/configuration\.md'
rejects "names a key configuration.md documents that the code never reads" \
    "sed -i 's/^| \`mode\` |/| \`no-such-key\` | any | – | made up |\n&/' docs/configuration.md" \
    'docs/configuration\.md documents key no-such-key, which the code never reads'
rejects "names a variable read by the code but missing from both" \
    "printf '%s\n' 'const char *nk_docs_probe(void);' 'const char *nk_docs_probe(void)' '{' '    return getenv(\"NK_DOCS_PROBE\");' '}' >>plugin/common/log.c" \
    'environment variable NK_DOCS_PROBE is read \(plugin/common/log\.c:[0-9]+\) but missing from docs/configuration\.md'
rejects "names a variable read through a name list but missing from the man page" \
    "sed -i 's/^\.BR AWS_REGION \", \" AWS_DEFAULT_REGION$/.B AWS_REGION/' doc/notation-keystore.1 && ! grep -q AWS_DEFAULT_REGION doc/notation-keystore.1" \
    'environment variable AWS_DEFAULT_REGION is read \(kms/aws_kms\.c:[0-9]+\) but missing from the man page'
rejects "names a key missing from the man page" \
    "sed -i 's/^\.BR vault-kv-path \", \" /.BR /' doc/notation-keystore.1 && ! grep -q '^\.BR.*vault-kv-path' doc/notation-keystore.1" \
    'pluginConfig key vault-kv-path is read \(kms/vault\.c:[0-9]+\) but missing from the man page'
rejects "names a variable the man page documents that the code never reads" \
    "sed -i 's/^\.B XDG_CACHE_HOME$/.BR XDG_CACHE_HOME \", \" NK_NOT_READ/' doc/notation-keystore.1" \
    'the man page documents variable NK_NOT_READ, which the code never reads'
rejects "refuses a read whose name it cannot follow" \
    "printf '%s\n' 'const char *nk_docs_probe(const char *(*f)(void));' 'const char *nk_docs_probe(const char *(*f)(void))' '{' '    return getenv(f());' '}' >>plugin/common/log.c" \
    'indirect read not followed: plugin/common/log\.c:[0-9]+: cannot follow .f\(\).'
rejects "follows a name through a parameter to its call sites" \
    "sed -i 's/\"AWS_CONFIG_FILE\", \"config\"/\"NK_DOCS_VIA_PARAM\", \"config\"/' kms/aws_config.c" \
    'environment variable NK_DOCS_VIA_PARAM is read \(kms/aws_config\.c:[0-9]+\) but missing'
rejects "names a broken link" \
    "printf '%s\n' 'See [nowhere](docs/no-such-page.md).' >>README.md" \
    'broken link README\.md -> docs/no-such-page\.md'
rejects "names a link to a missing heading" \
    "printf '%s\n' 'See [x](docs/pkcs11.md#no-such-heading).' >>HACKING.md" \
    'broken link HACKING\.md -> docs/pkcs11\.md#no-such-heading \(no such heading\)'
