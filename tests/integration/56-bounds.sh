#!/usr/bin/env bash
# Peak RSS at the input bounds (the figures `make bench` prints, from
# tests/lib/bounds.sh), capped with headroom; each figure is taken over the
# same command on a small input in the same run, so the caps do not depend
# on the machine's libraries:
#   generate-signature, 3,000,000-byte payload (a 4,000,2xx-byte request,
#     just under the 4 MiB cap): at most 2.5 x the request over a small one
#     (read buffer + cJSON's copy of the payload string is 2 x);
#   a request refused at the cap: at most 1.5 x the cap over a refused
#     1-byte request (the read buffer, which stops at the cap + 1 byte);
#   verify-signature with a 100,000-entry CRL (3.5 MB DER), cold and warm
#     CRL cache: at most 350 bytes an entry over small CRLs (OpenSSL's
#     parsed CRL takes about 230 bytes an entry, the DER buffer 37).
# Also: the signature checks with Python cryptography, the refusal is a
# VALIDATION_ERROR, the CRL verifications succeed and the warm one needs no
# CRL server. Figures are printed as "# name: KiB over small (cap)".
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/pki.sh"
. "$NK_ROOT/tests/lib/bounds.sh"

[ -x /usr/bin/time ] || { fail "bounds: /usr/bin/time is missing (Debian package time)"; exit 1; }
D=$NK_TMP/b
mkdir -p "$D"
bounds_sign_setup "$D" >"$NK_TMP/setup.log" 2>&1 ||
    { fail "bounds: SoftHSM set-up"; cat "$NK_TMP/setup.log"; exit 1; }
bounds_crl_setup "$D" "$(free_port)" >"$NK_TMP/setup.log" 2>&1 ||
    { fail "bounds: CRL set-up"; cat "$NK_TMP/setup.log"; exit 1; }
bounds_crl_start || { fail "bounds: CRL server did not start"; exit 1; }
at_exit bounds_crl_stop
export XDG_CACHE_HOME=$NK_TMP/cache

# within NAME PEAK BASE CAP-KiB: PEAK - BASE <= CAP (all KiB, none empty).
within() {
    local d
    if [ -z "$2" ] || [ -z "$3" ]; then
        fail "bounds: $1: no peak RSS measured"
        return
    fi
    d=$(($2 - $3))
    echo "# $1: $d KiB over small ($2 - $3), cap $4 KiB"
    if [ "$d" -le "$4" ]; then
        pass "bounds: $1: peak RSS within its cap"
    else
        fail "bounds: $1: peak RSS $d KiB over small > cap $4 KiB"
    fi
}
sig_ok() { "$NK_PY" "$NK_ROOT/tests/lib/check_sigs.py" "$1" >/dev/null; }

# --- the request cap ---
req=$(stat -c %s "$D/big.json")
peak_rss "$D/small.json" "$NK_TMP/small.out" "$NK_BIN" generate-signature
base=$RSS
check "bounds: small generate-signature works (control)" [ "$RC" = 0 ]
peak_rss "$D/big.json" "$D/big.out" "$NK_BIN" generate-signature
check "bounds: generate-signature of a request just under the cap succeeds" [ "$RC" = 0 ]
check "bounds: its signature checks with Python cryptography" sig_ok "$D/big.line"
echo "# request: $req bytes"
within "generate-signature, request just under the cap" "$RSS" "$base" $((req * 5 / 2 / 1024))

echo '{' >"$NK_TMP/bad.json"
peak_rss "$NK_TMP/bad.json" "$NK_TMP/bad.out" "$NK_BIN" generate-signature
base=$RSS
peak_rss "$D/over.json" "$NK_TMP/over.out" "$NK_BIN" generate-signature
check "bounds: a request over the 4 MiB cap is refused (VALIDATION_ERROR, limit named)" \
    bash -c '[ "$0" = 1 ] && [ ! -s "$1" ] && jq -e ".errorCode==\"VALIDATION_ERROR\" and
        (.errorMessage|test(\"exceeds the limit of 4194304 bytes\"))" "$1.err" >/dev/null' \
    "$RC" "$NK_TMP/over.out"
within "request refused at the 4 MiB cap" "$RSS" "$base" $((4096 * 3 / 2))

# --- a 100,000-entry CRL ---
echo "# CRL: $BOUNDS_CRL_ENTRIES entries, $(stat -c %s "$D/rev/www/idp.crl") bytes DER"
cap=$((BOUNDS_CRL_ENTRIES * 350 / 1024))
for c in cold warm; do
    # warm: the small request's own CRLs into the cache first
    [ $c = cold ] && rm -rf "$XDG_CACHE_HOME" ||
        "$NK_BIN" verify-signature <"$D/crl-small.json" >/dev/null 2>&1
    peak_rss "$D/crl-small.json" "$NK_TMP/cs.out" "$NK_BIN" verify-signature
    base=$RSS
    check "bounds: verify-signature with small CRLs, $c cache (control)" crl_good "$NK_TMP/cs.out"
    [ $c = cold ] && rm -rf "$XDG_CACHE_HOME"
    [ $c = warm ] && bounds_crl_stop # warm: from the cache alone
    peak_rss "$D/crl-big.json" "$NK_TMP/cb.out" "$NK_BIN" verify-signature
    check "bounds: verify-signature with a $BOUNDS_CRL_ENTRIES-entry CRL, $c cache" \
        crl_good "$NK_TMP/cb.out"
    within "verify-signature, $BOUNDS_CRL_ENTRIES-entry CRL, $c cache" "$RSS" "$base" "$cap"
done
h=$(printf '%s' "http://127.0.0.1:$BOUNDS_CRL_PORT/idp.crl" | sha256sum | cut -d' ' -f1)
check "bounds: the large CRL's cache entry holds the served CRL" \
    cmp -s <(printf 'nk-crl-cache 1\nhttp://127.0.0.1:%s/idp.crl\n' "$BOUNDS_CRL_PORT" |
        cat - "$D/rev/www/idp.crl") "$XDG_CACHE_HOME/notation-keystore/crl/$h"
