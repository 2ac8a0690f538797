#!/usr/bin/env bash
# manifests/: trust policies, signingkeys.json examples and CI pipelines,
# checked by 60-manifests-check.py (notation's policy rules, key id syntax,
# and every notation / notation-keystore command and flag a pipeline runs).
. "$(dirname "$0")/../lib/harness.sh"

if ! "$NK_PY" -c 'import yaml' 2>/dev/null; then
    fail "manifests: python3-yaml is not installed"
    exit 0
fi
"$NK_PY" "$NK_ROOT/tests/integration/60-manifests-check.py" "$NK_ROOT" "$NK_BIN" \
    >"$NK_TMP/check.out" 2>&1
rc=$?
cat "$NK_TMP/check.out"
grep -E '^(PASS|FAIL) ' "$NK_TMP/check.out" >>"$NK_RESULTS"
if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$NK_TMP/check.out"; then
    fail "manifests: checker exited $rc"
fi

# A policy the checker must reject, so it is known to look.
mkdir -p "$NK_TMP/bad/manifests/trustpolicy"
printf '%s' '{"version":"1.0","trustPolicies":[{"name":"a","registryScopes":["https://r.example/x:1"],"signatureVerification":{"level":"strict"},"trustStores":["ca"],"trustedIdentities":["x509.subject: CN=x"]}]}' \
    >"$NK_TMP/bad/manifests/trustpolicy/bad.json"
bad_rejected() {
    local out
    out=$("$NK_PY" "$NK_ROOT/tests/integration/60-manifests-check.py" "$NK_TMP/bad" "$NK_BIN" 2>&1)
    printf '%s' "$out" | grep -q 'FAIL manifests: trust policy bad.json:.*scope.*trust store.*C, ST'
}
check "manifests: checker rejects a bad trust policy" bad_rejected
