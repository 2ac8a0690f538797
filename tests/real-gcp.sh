#!/usr/bin/env bash
# Against a real Google Cloud KMS key version (not part of make check):
# describe-key, a test certificate signed by the key (unless
# NK_GCP_CONFIG names a certificate-chain), generate-signature with a warm
# and a cold cache (the signature verified with Python cryptography
# against the leaf of the returned chain) and doctor --id. Prints SKIP
# unless NK_GCP_KEY_ID names a key version and Google credentials are at
# hand (GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC file, or a metadata
# server). NK_GCP_CONFIG: extra pluginConfig as JSON (for instance
# {"certificate-chain":"/path/chain.pem"}).
#   NK_GCP_KEY_ID=gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1 \
#     bash tests/real-gcp.sh
. "$(dirname "$0")/lib/harness.sh"
. "$NK_ROOT/tests/lib/kms_pki.sh"

KID=${NK_GCP_KEY_ID:-}
if [ -z "$KID" ]; then
    skip "real-gcp" "NK_GCP_KEY_ID is not set"
    exit 0
fi
have_cred() {
    [ -n "${GOOGLE_APPLICATION_CREDENTIALS:-}" ] ||
        [ -f "${CLOUDSDK_CONFIG:-$HOME/.config/gcloud}/application_default_credentials.json" ] ||
        curl -sf -m 2 --noproxy '*' -H 'Metadata-Flavor: Google' \
            "http://${GCE_METADATA_HOST:-169.254.169.254}/computeMetadata/v1/project/project-id" >/dev/null
}
if ! have_cred; then
    skip "real-gcp" "no Google credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, or a metadata server)"
    exit 0
fi
EXTRA=${NK_GCP_CONFIG:-{\}}
jq -e 'type=="object"' <<<"$EXTRA" >/dev/null || { fail "real-gcp: NK_GCP_CONFIG is not a JSON object"; exit 0; }
export XDG_CACHE_HOME=$NK_TMP/cache XDG_RUNTIME_DIR=$NK_TMP/run
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
dargs=()
while IFS= read -r kv; do dargs+=(--plugin-config "$kv"); done < <(jq -r 'to_entries[] | "\(.key)=\(.value)"' <<<"$EXTRA")

plugin describe-key "$(jq -nc --arg k "$KID" --argjson c "$EXTRA" '{contractVersion:"1.0",keyId:$k,pluginConfig:$c}')"
SPEC=$(printf '%s' "$OUT" | jq -r .keySpec 2>/dev/null)
if [ "$RC" = 0 ] && [ -n "$SPEC" ] && [ "$SPEC" != null ]; then
    pass "real-gcp describe-key ($SPEC)"
else
    fail "real-gcp describe-key (rc=$RC err=${ERR:0:400})"
    exit 0
fi
# Cloud KMS keeps no certificate: without one in NK_GCP_CONFIG, the key
# signs a test certificate for itself.
if ! jq -e 'has("certificate-chain") or has("certificate")' <<<"$EXTRA" >/dev/null; then
    (cd "$NK_TMP" && "$NK_BIN" cert generate-test --id "$KID" real-gcp "${dargs[@]}") >"$NK_TMP/gen.out" 2>&1
    check "real-gcp cert generate-test signed by the key" bash -c \
        "openssl verify -partial_chain -check_ss_sig -CAfile '$NK_TMP/real-gcp.crt' '$NK_TMP/real-gcp.crt' >/dev/null"
    EXTRA=$(jq -c --arg c "$NK_TMP/real-gcp.crt" '. + {"certificate-chain":$c}' <<<"$EXTRA")
    dargs+=(--plugin-config "certificate-chain=$NK_TMP/real-gcp.crt")
fi
declare -A HASH=([RSA-2048]=SHA-256 [RSA-4096]=SHA-512 [EC-256]=SHA-256 [EC-384]=SHA-384)
head -c 64 /dev/urandom >"$NK_TMP/payload"
# sign NAME: generate-signature, the signature checked against the leaf.
sign() {
    plugin generate-signature "$(jq -nc --arg k "$KID" --arg s "$SPEC" --arg h "${HASH[$SPEC]}" \
        --arg p "$(base64 -w0 "$NK_TMP/payload")" --argjson c "$EXTRA" \
        '{contractVersion:"1.0",keyId:$k,keySpec:$s,hashAlgorithm:$h,payload:$p,pluginConfig:$c}')"
    [ "$RC" = 0 ] || { fail "$1 (rc=$RC err=${ERR:0:400})"; return; }
    printf '%s' "$OUT" | jq -r '.certificateChain[0]' | base64 -d |
        openssl x509 -inform DER -noout -pubkey >"$NK_TMP/leaf.pub" 2>/dev/null
    if [ -s "$NK_TMP/leaf.pub" ] &&
        kms_verify "$NK_TMP/leaf.pub" "$SPEC" "$NK_TMP/payload" "$(printf '%s' "$OUT" | jq -r .signature)"; then
        pass "$1"
    else
        fail "$1 (the signature does not verify against the leaf)"
    fi
}
sign "real-gcp generate-signature after describe-key (warm caches)"
rm -rf "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR/notation-keystore"
sign "real-gcp generate-signature with cold caches"
"$NK_BIN" doctor --id "$KID" "${dargs[@]}" --json >"$NK_TMP/doctor.json" 2>"$NK_TMP/doctor.err"
doctor_ok() {
    jq -e '[.checks[] | select(.check=="key store" or .check=="credentials" or .check=="test signature") | .status] == ["pass","pass","pass"]' \
        "$NK_TMP/doctor.json" >/dev/null
}
check "real-gcp doctor --id: key, credentials and a verified test signature" doctor_ok
