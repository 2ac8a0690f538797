#!/usr/bin/env bash
# One out-of-memory policy: every allocation the plugin, cJSON or libcbor
# makes is failed in turn (tests/lib/failmalloc.c, LD_PRELOAD, so not
# under ASan or valgrind), for the
# metadata command, JWS and COSE envelopes (cJSON and libcbor builders) on
# SoftHSM, and verify-signature. Each run must end either with a response
# or with one error JSON on stderr and exit status 1, stdout empty: never a
# signal, an abort without a word, or a partial response. At least one run
# per command must show the out-of-memory ERROR itself.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/softhsm.sh"

SHIM=$NK_TMP/failmalloc.so
if ! cc -shared -fPIC -O1 -o "$SHIM" "$NK_ROOT/tests/lib/failmalloc.c" -ldl; then
    fail "oom: cannot build tests/lib/failmalloc.c"
    exit 1
fi
if ! softhsm_std_token "$NK_TMP/std" >"$NK_TMP/setup.log" 2>&1; then
    cat "$NK_TMP/setup.log"
    fail "oom: SoftHSM token setup"
    exit 1
fi
export NOTATION_KEYSTORE_PIN=$NK_P11_PIN
unset NOTATION_KEYSTORE_PKCS11_MODULE
OOM_JSON='{"errorCode":"ERROR","errorMessage":"out of memory"}'
KEY="pkcs11:token=nk-test;object=ec256?module-path=$NK_P11_MODULE"
PAYLOAD_B64=$(printf '{"targetArtifact":{"digest":"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","mediaType":"application/vnd.oci.image.manifest.v1+json","size":528}}' | base64 -w0)
envelope_req() {
    printf '{"contractVersion":"1.0","keyId":"%s","payloadType":"application/vnd.cncf.notary.payload.v1+json","signatureEnvelopeType":"%s","payload":"%s","pluginConfig":{"mode":"envelope","ca-certs":"%s"}}' \
        "$KEY" "$1" "$PAYLOAD_B64" "$NK_P11_CA"
}

# A chain to verify: the one generate-signature returns.
plugin generate-signature "$(printf '{"contractVersion":"1.0","keyId":"%s","keySpec":"EC-256","hashAlgorithm":"SHA-256","payload":"%s","pluginConfig":{"ca-certs":"%s"}}' \
    "$KEY" "$PAYLOAD_B64" "$NK_P11_CA")"
CHAIN=$(printf '%s' "$OUT" | jq -c .certificateChain 2>/dev/null)
[ -n "$CHAIN" ] && [ "$CHAIN" != null ] || fail "oom: no chain from generate-signature ($ERR)"
VERIFY_REQ=$(jq -nc --argjson c "${CHAIN:-[]}" '{contractVersion:"1.0",
    signature:{criticalAttributes:{contentType:"application/vnd.cncf.notary.payload.v1+json",
      signingScheme:"notary.x509",expiry:"0001-01-01T00:00:00Z"},unprocessedAttributes:null,
      certificateChain:$c},
    trustPolicy:{trustedIdentities:["x509.subject: C=US, ST=WA, O=Notary"],
      signatureVerification:["SIGNATURE_VERIFIER.TRUSTED_IDENTITY"]}}')

# torture NAME CMD REQUEST [FROM [STRIDE]]: counts the allocations of a
# normal run, then fails each from the FROM-th on (default 1) in turn, or
# every STRIDE-th after the first 60 of them (SoftHSM runs cost more).
torture() {
    local name=$1 cmd=$2 req=$3 n=${4:-1} stride=${5:-1} total bad=0 oom=0 runs=0 rc
    printf '%s' "$req" >"$NK_TMP/oom.req"
    NK_FAIL_COUNT=$NK_TMP/count LD_PRELOAD=$SHIM "$NK_BIN" "$cmd" \
        <"$NK_TMP/oom.req" >"$NK_TMP/oom.out" 2>"$NK_TMP/oom.err"
    rc=$?
    total=$(cat "$NK_TMP/count" 2>/dev/null || echo 0)
    if [ "$rc" != 0 ] || [ "${total:-0}" -lt 10 ] || [ "$n" -gt "$total" ]; then
        fail "oom $name: the counting run (rc=$rc, $total allocations, $(head -c 200 "$NK_TMP/oom.err"))"
        return
    fi
    while [ "$n" -le "$total" ]; do
        NK_FAIL_NTH=$n LD_PRELOAD=$SHIM "$NK_BIN" "$cmd" \
            <"$NK_TMP/oom.req" >"$NK_TMP/oom.out" 2>"$NK_TMP/oom.err"
        rc=$?
        runs=$((runs + 1))
        if [ "$rc" = 0 ]; then
            jq -e 'type=="object"' "$NK_TMP/oom.out" >/dev/null 2>&1 || {
                bad=$((bad + 1)); echo "oom $name #$n: rc 0 without a JSON response"; }
        elif [ "$rc" = 1 ] && [ ! -s "$NK_TMP/oom.out" ] &&
            jq -se 'length==1 and (.[0].errorCode|type=="string")' "$NK_TMP/oom.err" >/dev/null 2>&1; then
            [ "$(cat "$NK_TMP/oom.err")" = "$OOM_JSON" ] && oom=$((oom + 1))
        else
            bad=$((bad + 1))
            echo "oom $name #$n: rc=$rc stdout=$(head -c 80 "$NK_TMP/oom.out") stderr=$(head -c 200 "$NK_TMP/oom.err")"
        fi
        if [ "$n" -lt 60 ]; then n=$((n + 1)); else n=$((n + stride)); fi
    done
    check "oom $name: $runs of $total allocations failed in turn, each a response or one error JSON" \
        test "$bad" = 0
    check "oom $name: the out-of-memory ERROR JSON itself ($oom runs)" test "$oom" -gt 0
}

torture get-plugin-metadata get-plugin-metadata '{}'
# JWS: from the request to the response, every third after the first 60.
# COSE: the same path up to the envelope, so only from where it differs.
torture "generate-envelope JWS" generate-envelope "$(envelope_req application/jose+json)" 1 3
torture "generate-envelope COSE" generate-envelope "$(envelope_req application/cose)" 100
torture verify-signature verify-signature "$VERIFY_REQ"
