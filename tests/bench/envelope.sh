#!/usr/bin/env bash
# generate-envelope timings: prints "name median_ms p90_ms peak_rss_kb" for
# JWS and COSE, without and with an RFC 3161 timestamp from the local test
# TSA (openssl ts -reply behind tests/lib/tsa_server.py, so the timestamp
# figures include one openssl process per request), EC-256 and RSA-3072
# keys on SoftHSM, NK_BENCH_RUNS runs each (default 50). Called by
# tests/bench.sh; runs alone too.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/softhsm.sh"
. "$NK_ROOT/tests/lib/tsa.sh"
RUNS=${NK_BENCH_RUNS:-50}
M=$NK_ROOT/tests/bench/measure.py

softhsm_std_token "$NK_TMP/hsm" >"$NK_TMP/setup.log" 2>&1 ||
    { cat "$NK_TMP/setup.log"; exit 1; }
if ! tsa_setup "$NK_TMP/tsa" >"$NK_TMP/tsa.log" 2>&1 ||
    ! tsa_start "$NK_TMP/tsa"; then
    cat "$NK_TMP/tsa.log"
    exit 1
fi
export NOTATION_KEYSTORE_PIN=$NK_P11_PIN
P=$(printf '%s' '{"targetArtifact":{"digest":"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","mediaType":"application/vnd.oci.image.manifest.v1+json","size":528}}' | base64 -w0)

for k in ec256:EC-256 rsa3072:RSA-3072; do
    IFS=: read -r name spec <<<"$k"
    id="pkcs11:token=nk-test;object=$name?module-path=$NK_P11_MODULE"
    for t in jws:application/jose+json cose:application/cose; do
        IFS=: read -r short type <<<"$t"
        for ts in "" tsa; do
            cfg=$(jq -nc --arg ca "$NK_P11_CA" '{mode:"envelope","ca-certs":$ca}')
            [ -n "$ts" ] && cfg=$(jq -c --arg u "$TSA_URL/ok" \
                --arg r "$NK_TMP/tsa/tsa-root.pem" \
                '. + {"timestamp-url":$u,"timestamp-root-cert":$r}' <<<"$cfg")
            f=$NK_TMP/req-$name-$short-$ts.json
            jq -nc --arg k "$id" --arg t "$type" --arg p "$P" --argjson c "$cfg" \
                '{contractVersion:"1.0",keyId:$k,
                  payloadType:"application/vnd.cncf.notary.payload.v1+json",
                  signatureEnvelopeType:$t,payload:$p,pluginConfig:$c}' >"$f"
            "$NK_PY" "$M" "generate-envelope/$short/$spec${ts:+/$ts}" "$RUNS" \
                "$f" "$NK_BIN" generate-envelope || exit 1
        done
    done
done
