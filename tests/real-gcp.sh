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
. "$NK_ROOT/tests/lib/real_kms.sh"

have_cred() {
    [ -n "${GOOGLE_APPLICATION_CREDENTIALS:-}" ] ||
        [ -f "${CLOUDSDK_CONFIG:-$HOME/.config/gcloud}/application_default_credentials.json" ] ||
        curl -sf -m 2 --noproxy '*' -H 'Metadata-Flavor: Google' \
            "http://${GCE_METADATA_HOST:-169.254.169.254}/computeMetadata/v1/project/project-id" >/dev/null
}
real_start real-gcp NK_GCP_KEY_ID NK_GCP_CONFIG \
    "no Google credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, or a metadata server)"
real_describe
# Cloud KMS keeps no certificate: without one in NK_GCP_CONFIG, the key
# signs a test certificate for itself.
if ! jq -e 'has("certificate-chain") or has("certificate")' <<<"$EXTRA" >/dev/null; then
    (cd "$NK_TMP" && "$NK_BIN" cert generate-test --id "$KID" real-gcp "${dargs[@]}") >"$NK_TMP/gen.out" 2>&1
    check "real-gcp cert generate-test signed by the key" bash -c \
        "openssl verify -partial_chain -check_ss_sig -CAfile '$NK_TMP/real-gcp.crt' '$NK_TMP/real-gcp.crt' >/dev/null"
    EXTRA=$(jq -c --arg c "$NK_TMP/real-gcp.crt" '. + {"certificate-chain":$c}' <<<"$EXTRA")
    dargs+=(--plugin-config "certificate-chain=$NK_TMP/real-gcp.crt")
fi
real_sign_twice
real_doctor
