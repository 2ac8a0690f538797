#!/usr/bin/env bash
# verify-signature against a test PKI with the real `openssl ocsp` responder
# and a CRL server on loopback: OCSP/CRL good and revoked, fallbacks,
# unreachable and forged answers, stale and forged CRLs, the CRL cache
# (warm, damaged, shared by parallel runs), and the request/response shapes.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/ocsp.sh"

P=$NK_TMP/pki
OCSP_PORT=$(free_port)
CRL_PORT=$(free_port)
ROGUE_PORT=$(free_port)
HANG_PORT=$(free_port)
PYOCSP_PORT=$(free_port)
ID_OK='"x509.subject: C=US, ST=WA, O=Notation Keystore Revocation Test"'
REV='"SIGNATURE_VERIFIER.REVOCATION_CHECK"'
IDC='"SIGNATURE_VERIFIER.TRUSTED_IDENTITY"'

if ! rev_pki "$P" "$OCSP_PORT" "$CRL_PORT" "$ROGUE_PORT" "$HANG_PORT" ||
    ! rev_pki_more "$P" "$CRL_PORT" "$PYOCSP_PORT"; then
    fail "verify: cannot build the test PKI"
    exit 1
fi

start_crl() {
    "$NK_PY" "$NK_ROOT/tests/lib/verify_server.py" "$CRL_PORT" "$P/www" &
    CRL_PID=$!
    wait_port "$CRL_PORT"
}
stop_crl() { kill "$CRL_PID" 2>/dev/null; wait "$CRL_PID" 2>/dev/null; return 0; }

rev_responder "$P" "$OCSP_PORT" ocsp "$NK_TMP/ocsp.log" ||
    { fail "verify: OCSP responder did not start"; exit 1; }
OCSP_PID=$REV_PID
at_exit 'kill $OCSP_PID'
rev_responder "$P" "$ROGUE_PORT" rogue "$NK_TMP/rogue.log" ||
    { fail "verify: rogue OCSP responder did not start"; exit 1; }
ROGUE_PID=$REV_PID
at_exit 'kill $ROGUE_PID'
"$NK_PY" "$NK_ROOT/tests/lib/verify_server.py" "$HANG_PORT" --hang &
HANG_PID=$!
at_exit 'kill $HANG_PID'
start_crl
at_exit 'stop_crl'
"$NK_PY" "$NK_ROOT/tests/lib/ocsp_server.py" "$PYOCSP_PORT" "$P/inter.pem" "$P/inter.key" \
    "$P/leaf-ogood.pem" "$P/leaf-ostale.pem" "$P/leaf-oreplay.pem" &
PYOCSP_PID=$!
at_exit 'kill $PYOCSP_PID'
wait_port "$PYOCSP_PORT" || { fail "verify: Python OCSP responder did not start"; exit 1; }
wait_port "$HANG_PORT" || { fail "verify: hanging server did not start"; exit 1; }

# req CAPS IDS CONFIG CERT...: a verify-signature request as notation-go
# builds it (null unprocessedAttributes, zero expiry).
req() {
    local caps=$1 ids=$2 cfg=$3 chain="" c
    shift 3
    for c in "$@"; do chain="$chain\"$(cat "$P/$c.b64")\","; done
    printf '{"contractVersion":"1.0","signature":{"criticalAttributes":{"contentType":"application/vnd.cncf.notary.payload.v1+json","signingScheme":"notary.x509","expiry":"0001-01-01T00:00:00Z"},"unprocessedAttributes":null,"certificateChain":[%s]},"trustPolicy":{"trustedIdentities":[%s],"signatureVerification":[%s]},"pluginConfig":%s}' \
        "${chain%,}" "$ids" "$caps" "$cfg"
}

NOCACHE='{"crl-cache":"false"}'

# expect_rev NAME WANT(true|false) REASON-REGEX LEAF [ISSUER] [CONFIG]
expect_rev() {
    local name=$1 want=$2 re=$3 leaf=$4 inter=${5:-inter} cfg=${6:-$NOCACHE}
    local got reason
    plugin verify-signature "$(req "$REV" "$ID_OK" "$cfg" "$leaf" "$inter" root)"
    got=$(printf '%s' "$OUT" | jq -r ".verificationResults[$REV].success")
    reason=$(printf '%s' "$OUT" | jq -r ".verificationResults[$REV].reason")
    if [ "$RC" = 0 ] && [ "$got" = "$want" ] && printf '%s' "$reason" | grep -Eq -- "$re"; then
        pass "verify: $name"
    else
        fail "verify: $name (rc=$RC success=$got reason=${reason:0:300} err=${ERR:0:200})"
    fi
}

# --- revocation outcomes ---
expect_rev "all good (leaf OCSP, intermediate CRL)" true \
    'Good Leaf" good via OCSP; .*Rev Inter" good via CRL' leaf-good
expect_rev "leaf revoked by OCSP" false \
    'Revoked Leaf" \(serial [0-9A-F]+\) is revoked since 20[0-9-]+T.*reason keyCompromise \(OCSP responder' leaf-revoked
expect_rev "intermediate revoked by CRL only" false \
    'Rev Inter 2" \(serial [0-9A-F]+\) is revoked .*reason cACompromise \(CRL ".*root.crl"' leaf-i2 inter2
expect_rev "OCSP unknown falls back to a revoking CRL" false \
    'Unknown Leaf" .*is revoked .*reason keyCompromise \(CRL ".*inter.crl"' leaf-unknown
expect_rev "CRL-only leaf good" true 'CRL Leaf" good via CRL' leaf-crl
expect_rev "CRL-only leaf revoked" false 'CRL Revoked Leaf".*reason superseded' leaf-crlrev
expect_rev "no OCSP and no CRL: not revocable" true \
    'Bare Leaf" has no OCSP responder or CRL distribution point and is treated as not revocable' leaf-bare
expect_rev "OCSP response signed by a foreign key" false \
    'Rogue Leaf".*is unknown: OCSP responder.*signature cannot be verified' leaf-rogue
expect_rev "stale CRL" false 'Stale Leaf".*is unknown: CRL.*stale' leaf-stale
expect_rev "CRL signed by another key" false \
    'Badsig Leaf".*is unknown: CRL.*signature does not verify' leaf-badsig

# Responder that never answers: bounded by ocsp-timeout.
t0=$(date +%s%N)
expect_rev "unresponsive OCSP responder gives unknown" false \
    'Down Leaf".*is unknown: OCSP responder' leaf-down inter '{"crl-cache":"false","ocsp-timeout":"1"}'
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "verify: unresponsive responder bounded (${ms} ms < 2500 ms)" [ "$ms" -lt 2500 ]

# OCSP answers the openssl responder will not give (tests/lib/ocsp_server.py).
expect_rev "OCSP good from the Python responder (control)" true \
    'Py OCSP good Leaf" good via OCSP' leaf-ogood
expect_rev "OCSP answer whose nextUpdate passed an hour ago" false \
    'Py OCSP stale Leaf".*is unknown: OCSP responder.*expired' leaf-ostale
expect_rev "OCSP answer with another nonce (a replay)" false \
    'Py OCSP replay Leaf".*is unknown: OCSP responder.*nonce does not match' leaf-oreplay

# --- CRL scope and age (RFC 5280 6.3.3) ---
# Crafted CRLs, all signed by the real issuer, served as idp.crl for
# leaf-idp; over plain http anyone on the path could serve any of them.
CRAFT=$NK_ROOT/tests/lib/x509_craft.py
W=$P/www
IDP_URL=http://127.0.0.1:$CRL_PORT/idp.crl
idp_crl() { "$NK_PY" "$CRAFT" crl "$P/inter.pem" "$P/inter.key" "$W/idp.crl" "$@"; }
idp_case() { # NAME WANT REGEX CRAFT-OPTIONS...
    local name=$1 want=$2 re=$3
    shift 3
    if idp_crl "$@"; then
        expect_rev "$name" "$want" "$re" leaf-idp
    else
        fail "verify: $name (cannot craft the CRL)"
    fi
}
idp_case "CRL with a matching IDP still revokes" false \
    'IDP Leaf".*is revoked .*reason keyCompromise' \
    --idp-url "$IDP_URL" --only-user --revoke "$P/leaf-idp.pem"
idp_case "CRL with a matching IDP, leaf not listed (control)" true \
    'IDP Leaf" good via CRL' --idp-url "$IDP_URL" --only-user
idp_case "onlyContainsCACerts CRL does not clear a leaf" false \
    'IDP Leaf".*is unknown: CRL.*CA certificates only' --only-ca
idp_case "CRL of another partition does not clear a leaf" false \
    'IDP Leaf".*is unknown: CRL.*another partition' \
    --idp-url "http://127.0.0.1:$CRL_PORT/other-part.crl"
idp_case "onlySomeReasons CRL does not clear a leaf" false \
    'IDP Leaf".*is unknown: CRL.*only some revocation reasons' --some-reasons
idp_case "indirect CRL is not used" false \
    'IDP Leaf".*is unknown: CRL.*indirect' --indirect
idp_case "CRL without nextUpdate (from 2020) is not used" false \
    'IDP Leaf".*is unknown: CRL.*no nextUpdate' --no-next-update --this-update 20200101000000Z
idp_case "CRL whose authority key id is not the issuer's" false \
    'IDP Leaf".*is unknown: CRL.*authority key identifier' --aki 0102030405060708090a
if "$NK_PY" "$CRAFT" crl "$P/inter-nocrl.pem" "$P/inter-nocrl.key" "$W/nocrl.crl"; then
    expect_rev "CRL of an issuer whose keyUsage lacks cRLSign" false \
        'NoCRLSign Leaf".*is unknown: CRL.*cRLSign' leaf-nocrl inter-nocrl
else
    fail "verify: cannot craft the cRLSign CRL"
fi

# Two distribution points: the first one decides unless it says good.
"$NK_PY" "$CRAFT" crl "$P/inter.pem" "$P/inter.key" "$W/empty.crl" &&
    "$NK_PY" "$CRAFT" crl "$P/inter.pem" "$P/inter.key" "$W/rev-2dp.crl" \
        --revoke "$P/leaf-2dp-rev.pem" ||
    fail "verify: cannot craft the two-DP CRLs"
expect_rev "first of two CDPs revokes, second says good" false \
    'Two DP Revoked Leaf".*is revoked .*rev-2dp.crl' leaf-2dp-rev
expect_rev "first of two CDPs unreachable, second says good" false \
    'Two DP Down Leaf".*is unknown: CRL.*missing.crl.*404' leaf-2dp-down

# Responder and CRL URLs with user:password@ and a key in the query (both
# unreachable): the reason, stderr and the trace log name them without.
DEAD_PORT=$(free_port)
rev_leaf_ext "$P/cred.ext" "http://u:s3cret@127.0.0.1:$DEAD_PORT/ocsp?key=s3cret2" \
    "http://u:s3cret@127.0.0.1:$DEAD_PORT/inter.crl?key=s3cret2"
if rev_issue "$P/interca" "$P/inter.key" "$P/inter.pem" leaf-cred "Cred Leaf" "$P/cred.ext" "$P" &&
    openssl x509 -in "$P/leaf-cred.pem" -noout -text | grep -q 'u:s3cret@' &&
    openssl x509 -in "$P/leaf-cred.pem" -outform DER | base64 -w0 >"$P/leaf-cred.b64"; then
    NOTATION_KEYSTORE_LOG=debug NOTATION_KEYSTORE_LOG_FILE=$NK_TMP/cred.log \
        expect_rev "credentials in OCSP and CRL URLs are not shown" false \
        'Cred Leaf".*unknown: OCSP responder "http://127.0.0.1:'"$DEAD_PORT"'/ocsp": .*CRL "http://127.0.0.1:'"$DEAD_PORT"'/inter.crl"' \
        leaf-cred
    check "verify: the credential run was traced" grep -q "ocsp http://127.0.0.1:$DEAD_PORT/ocsp:" "$NK_TMP/cred.log"
    check "verify: no URL password or key in the reason, stderr or the log" \
        bash -c '! printf "%s\n%s\n" "$0" "$1" | cat - "$2" | grep -qF s3cret' "$OUT" "$ERR" "$NK_TMP/cred.log"
else
    fail "verify: cannot issue the leaf with credentials in its URLs"
fi

# --- trusted identity and shapes ---
shape() { # NAME JQ-EXPR REQUEST
    plugin verify-signature "$3"
    if [ "$RC" = 0 ] && printf '%s' "$OUT" | jq -e "$2" >/dev/null 2>&1; then
        pass "verify: $1"
    else
        fail "verify: $1 (rc=$RC out=${OUT:0:300} err=${ERR:0:200})"
    fi
}
IDR=".verificationResults[$IDC]"
shape "identity match, only identity answered, processedAttributes []" \
    "($IDR.success == true) and (.verificationResults | keys == [$IDC]) and (.processedAttributes == [])" \
    "$(req "$IDC" "$ID_OK" '{}' leaf-bare inter root)"
shape "identity mismatch fails with reason" \
    "($IDR.success == false) and ($IDR.reason | test(\"matches none\"))" \
    "$(req "$IDC" '"x509.subject: C=US, ST=WA, O=Someone Else"' '{}' leaf-bare inter root)"
shape "identity wildcard" "$IDR.success == true" "$(req "$IDC" '"*"' '{}' leaf-bare inter root)"
shape "malformed identity fails closed" \
    "($IDR.success == false) and ($IDR.reason | test(\"malformed\"))" \
    "$(req "$IDC" '"x509.subject: C=US, ST=WA"' '{}' leaf-bare inter root)"
shape "only foreign identities fail" \
    "($IDR.success == false) and ($IDR.reason | test(\"no trusted identity\"))" \
    "$(req "$IDC" '"arn:aws:signer:us-east-1:1:/signing-profiles/x"' '{}' leaf-bare inter root)"
# A NUL byte in O: "...Revocation Test\0.evil.example" is not the O the
# policy names, however C string functions read it.
CRAFT=$NK_ROOT/tests/lib/x509_craft.py
craft_leaf() { # NAME O
    "$NK_PY" "$CRAFT" leaf "$P/inter.pem" "$P/inter.key" "$P/$1.pem" --o "$2" &&
        openssl x509 -in "$P/$1.pem" -outform DER | base64 -w0 >"$P/$1.b64"
}
craft_leaf leaf-nul 'Notation Keystore Revocation Test\0.evil.example' &&
    craft_leaf leaf-crafted 'Notation Keystore Revocation Test' ||
    fail "verify: cannot craft the identity leaves"
shape "crafted leaf with the policy's O matches (control)" "$IDR.success == true" \
    "$(req "$IDC" "$ID_OK" '{}' leaf-crafted inter root)"
shape "NUL byte in the leaf's O does not match the policy's O" \
    "($IDR.success == false) and ($IDR.reason | test(\"NUL\"))" \
    "$(req "$IDC" "$ID_OK" '{}' leaf-nul inter root)"
shape "NUL escape in a trusted identity is malformed" \
    "($IDR.success == false) and ($IDR.reason | test(\"malformed.*NUL\"))" \
    "$(req "$IDC" '"x509.subject: C=US, ST=WA, O=Notation Keystore Revocation Test\\00.evil.example"' '{}' leaf-bare inter root)"
base=$(req "$IDC,$REV" "$ID_OK" "$NOCACHE" leaf-bare inter root)
shape "unknown attributes are not processed" \
    '(.processedAttributes == []) and (.verificationResults | length == 2)' \
    "$(printf '%s' "$base" | jq -c '.signature.unprocessedAttributes=["com.example.crit"] | .signature.criticalAttributes.extendedAttributes={"com.example.crit":"x"}')"
shape "expiry with offset and fraction, absent expiry" \
    ".verificationResults | length == 2" \
    "$(printf '%s' "$base" | jq -c '.signature.criticalAttributes.expiry="2999-01-02T03:04:05.123+08:00"')"
shape "expired signature noted in the reason" \
    "$IDR.reason | test(\"signature expired on 2001-01-01\")" \
    "$(printf '%s' "$base" | jq -c '.signature.criticalAttributes.expiry="2001-01-01T00:00:00Z"')"
shape "absent expiry" ".verificationResults | length == 2" \
    "$(printf '%s' "$base" | jq -c 'del(.signature.criticalAttributes.expiry)')"
expect_error "verify: bad expiry" VALIDATION_ERROR verify-signature \
    "$(printf '%s' "$base" | jq -c '.signature.criticalAttributes.expiry="tomorrow"')" 'expiry.*RFC 3339'
expect_error "verify: empty chain" VALIDATION_ERROR verify-signature \
    "$(printf '%s' "$base" | jq -c '.signature.certificateChain=[]')" 'certificateChain'
expect_error "verify: empty signatureVerification" VALIDATION_ERROR verify-signature \
    "$(printf '%s' "$base" | jq -c '.trustPolicy.signatureVerification=[]')" 'signatureVerification'
expect_error "verify: no signingScheme" VALIDATION_ERROR verify-signature \
    "$(printf '%s' "$base" | jq -c 'del(.signature.criticalAttributes.signingScheme)')" 'signingScheme'
expect_error "verify: contract version" UNSUPPORTED_CONTRACT_VERSION verify-signature \
    "$(printf '%s' "$base" | jq -c '.contractVersion="2.0"')"
expect_error "verify: bad ocsp-timeout" VALIDATION_ERROR verify-signature \
    "$(printf '%s' "$base" | jq -c '.pluginConfig={"ocsp-timeout":"soon"}')" 'ocsp-timeout'

# --- the CRL cache ---
export XDG_CACHE_HOME=$NK_TMP/cache
CDIR=$XDG_CACHE_HOME/notation-keystore/crl
CACHED='{}'
expect_rev "cold cache fetches" true 'CRL Leaf" good via CRL' leaf-crl inter "$CACHED"
check "verify: cache dir is 0700" [ "$(stat -c %a "$CDIR")" = 700 ]
check "verify: two cache entries written" [ "$(find "$CDIR" -type f | wc -l)" = 2 ]
h=$(printf '%s' "http://127.0.0.1:$CRL_PORT/inter.crl" | sha256sum | cut -d' ' -f1)
check "verify: entry named by sha256 of the URL" [ -s "$CDIR/$h" ]
stop_crl
expect_rev "warm cache works with the CRL server stopped" true 'CRL Leaf" good via CRL' \
    leaf-crl inter "$CACHED"
expect_rev "warm cache still finds a revoked leaf offline" false 'reason superseded' \
    leaf-crlrev inter "$CACHED"
LD_DEBUG=files LD_DEBUG_OUTPUT=$NK_TMP/ld plugin verify-signature \
    "$(req "$REV" "$ID_OK" "$CACHED" leaf-crl inter root)"
check "verify: warm cache never loads libcurl" \
    bash -c "! grep -qs 'file=libcurl' $NK_TMP/ld.*"
rm -f "$NK_TMP"/ld.*
expect_rev "crl-cache=false does not use the cache" false 'is unknown: CRL' leaf-crl inter "$NOCACHE"
for f in "$CDIR"/*; do head -c 100 /dev/urandom >"$f"; done
expect_rev "damaged cache entry is ignored (server down: unknown)" false 'is unknown: CRL' \
    leaf-crl inter "$CACHED"
start_crl
LD_DEBUG=files LD_DEBUG_OUTPUT=$NK_TMP/ld plugin verify-signature \
    "$(req "$REV" "$ID_OK" "$CACHED" leaf-crl inter root)"
check "verify: damaged cache entry refetched" \
    [ "$(printf '%s' "$OUT" | jq -r ".verificationResults[$REV].success")" = true ]
check "verify: a fetch loads libcurl (control)" grep -qs 'file=libcurl' "$NK_TMP"/ld.*
check "verify: refetched entry is a valid CRL again" \
    bash -c "tail -c +\$(( \$(head -2 '$CDIR/$h' | wc -c) + 1 )) '$CDIR/$h' | openssl crl -inform DER -noout"

# 8 processes share a cold cache.
rm -rf "$CDIR"
pids=()
for i in 1 2 3 4 5 6 7 8; do
    req "$REV" "$ID_OK" "$CACHED" leaf-crl inter root |
        "$NK_BIN" verify-signature >"$NK_TMP/par.$i" 2>&1 &
    pids+=($!)
done
wait "${pids[@]}"
ok=0
for i in 1 2 3 4 5 6 7 8; do
    jq -e ".verificationResults[$REV].success == true" "$NK_TMP/par.$i" >/dev/null 2>&1 && ok=$((ok + 1))
done
check "verify: 8 parallel runs succeed ($ok/8)" [ "$ok" = 8 ]
check "verify: no temp files left" [ "$(find "$CDIR" -name '*.tmp.*' | wc -l)" = 0 ]
stop_crl
expect_rev "cache written by parallel runs is valid" true 'CRL Leaf" good via CRL' \
    leaf-crl inter "$CACHED"

# --- who may put CRLs into the cache ---
# An old CRL the issuer really signed, from before leaf-crlrev was revoked:
# whoever plants it in the cache hides the revocation until its nextUpdate.
# So the cache is used only when it and its entries are the user's alone.
KSDIR=$XDG_CACHE_HOME/notation-keystore
"$NK_PY" "$CRAFT" crl "$P/inter.pem" "$P/inter.key" "$P/old.crl" &&
    "$NK_PY" "$CRAFT" entry "http://127.0.0.1:$CRL_PORT/inter.crl" "$P/old.crl" "$P/old.entry" ||
    fail "verify: cannot craft the planted CRL"
hr=$(printf '%s' "http://127.0.0.1:$CRL_PORT/root.crl" | sha256sum | cut -d' ' -f1)
cp "$CDIR/$hr" "$P/root.entry" || fail "verify: no cached root.crl to keep"
plant() { # a private cache: the root's CRL and the planted one for inter.crl
    rm -rf "$KSDIR" && mkdir -p "$CDIR" && chmod 700 "$KSDIR" "$CDIR" &&
        cp "$P/root.entry" "$CDIR/$hr" && cp "$P/old.entry" "$CDIR/$h" &&
        chmod 600 "$CDIR/$h"
}
CACHED1='{"crl-timeout":"1"}'
plant
expect_rev "own planted entry is used (control: the plant works)" true \
    'CRL Revoked Leaf" good via CRL' leaf-crlrev inter "$CACHED1"
plant && chown nobody "$CDIR/$h"
expect_rev "cache entry owned by another user is ignored" false \
    'CRL Revoked Leaf".*is unknown: CRL' leaf-crlrev inter "$CACHED1"
plant && chmod 666 "$CDIR/$h"
expect_rev "world-writable cache entry is ignored" false \
    'CRL Revoked Leaf".*is unknown: CRL' leaf-crlrev inter "$CACHED1"
plant && mv "$CDIR/$h" "$P/planted" && ln -s "$P/planted" "$CDIR/$h"
expect_rev "cache entry that is a symlink is ignored" false \
    'CRL Revoked Leaf".*is unknown: CRL' leaf-crlrev inter "$CACHED1"
plant && chmod 770 "$CDIR"
expect_rev "group-writable crl/ directory is not used" false \
    'CRL Revoked Leaf".*is unknown: CRL' leaf-crlrev inter "$CACHED1"
plant && chmod 777 "$KSDIR"
expect_rev "world-writable notation-keystore/ directory is not used" false \
    'CRL Revoked Leaf".*is unknown: CRL' leaf-crlrev inter "$CACHED1"
plant && chown nobody "$CDIR"
expect_rev "crl/ directory owned by another user is not used" false \
    'CRL Revoked Leaf".*is unknown: CRL' leaf-crlrev inter "$CACHED1"
plant && mv "$CDIR" "$KSDIR/elsewhere" && ln -s elsewhere "$CDIR"
expect_rev "crl/ as a symlink is not used" false \
    'CRL Revoked Leaf".*is unknown: CRL' leaf-crlrev inter "$CACHED1"
plant && chmod 770 "$CDIR"
start_crl
expect_rev "not-private cache: fetched instead" false \
    'CRL Revoked Leaf".*reason superseded' leaf-crlrev inter "$CACHED1"
check "verify: nothing written into a not-private cache" cmp -s "$P/old.entry" "$CDIR/$h"
stop_crl
# A FIFO as entry: opening it for reading would wait for a writer forever.
plant && rm -f "$CDIR/$h" && mkfifo "$CDIR/$h"
t0=$(date +%s%N)
NK_WRAP="timeout 20 $NK_WRAP" expect_rev "FIFO cache entry is ignored" false \
    'CRL Revoked Leaf".*is unknown: CRL' leaf-crlrev inter "$CACHED1"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "verify: FIFO cache entry does not hang (${ms} ms < 5000 ms)" [ "$ms" -lt 5000 ]
start_crl
NK_WRAP="timeout 20 $NK_WRAP" expect_rev "FIFO cache entry replaced by a fetched CRL" false \
    'reason superseded' leaf-crlrev inter "$CACHED1"
check "verify: FIFO replaced by a regular file" [ -f "$CDIR/$h" ] && [ ! -p "$CDIR/$h" ]
stop_crl

# A cache entry that no longer holds (stale, or signed by another key) is
# not used: unknown while the CRL server is down, replaced once it is up.
"$NK_PY" "$CRAFT" entry "http://127.0.0.1:$CRL_PORT/inter.crl" "$W/inter.crl" "$P/inter.entry" ||
    fail "verify: cannot build the fresh cache entry"
for bad in stale badsig; do
    "$NK_PY" "$CRAFT" entry "http://127.0.0.1:$CRL_PORT/inter.crl" "$W/$bad.crl" "$P/old.entry" ||
        fail "verify: cannot build the $bad cache entry"
    plant
    expect_rev "$bad cache entry not used (server down)" false \
        'CRL Leaf".*is unknown: CRL' leaf-crl inter "$CACHED1"
    start_crl
    expect_rev "$bad cache entry: fetched again (server up)" true \
        'CRL Leaf" good via CRL' leaf-crl inter "$CACHED1"
    check "verify: $bad cache entry replaced by the served CRL" cmp -s "$P/inter.entry" "$CDIR/$h"
    stop_crl
done
