#!/usr/bin/env bash
# Against a real Azure Key Vault (not part of make check): describe-key,
# generate-signature with a cold and a warm cache (the signature verified
# with Python cryptography against the leaf of the returned chain) and
# doctor --id. Prints SKIP unless NK_AZURE_KEY_ID names a key and an Azure
# credential is at hand (AZURE_CLIENT_ID + AZURE_TENANT_ID with a secret,
# certificate or federated token file, IDENTITY_ENDPOINT, or a logged-in
# az). NK_AZURE_CONFIG: extra pluginConfig as JSON (for instance
# {"ca_certs":"/path/bundle.pem"} or {"certificate-chain":"..."}).
#   NK_AZURE_KEY_ID=https://myvault.vault.azure.net/certificates/release \
#     bash tests/real-azure.sh
. "$(dirname "$0")/lib/harness.sh"
. "$NK_ROOT/tests/lib/kms_pki.sh"

KID=${NK_AZURE_KEY_ID:-}
if [ -z "$KID" ]; then
    skip "real-azure" "NK_AZURE_KEY_ID is not set"
    exit 0
fi
have_cred() {
    { [ -n "${AZURE_TENANT_ID:-}" ] && [ -n "${AZURE_CLIENT_ID:-}" ] &&
        [ -n "${AZURE_CLIENT_SECRET:-}${AZURE_CLIENT_CERTIFICATE_PATH:-}${AZURE_FEDERATED_TOKEN_FILE:-}" ]; } ||
        [ -n "${IDENTITY_ENDPOINT:-}" ] ||
        { command -v az >/dev/null && az account show >/dev/null 2>&1; }
}
if ! have_cred; then
    skip "real-azure" "no Azure credential (AZURE_* variables, App Service identity or az login)"
    exit 0
fi
EXTRA=${NK_AZURE_CONFIG:-{\}}
jq -e 'type=="object"' <<<"$EXTRA" >/dev/null || { fail "real-azure: NK_AZURE_CONFIG is not a JSON object"; exit 0; }
export XDG_CACHE_HOME=$NK_TMP/cache XDG_RUNTIME_DIR=$NK_TMP/run
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

plugin describe-key "$(jq -nc --arg k "$KID" --argjson c "$EXTRA" '{contractVersion:"1.0",keyId:$k,pluginConfig:$c}')"
SPEC=$(printf '%s' "$OUT" | jq -r .keySpec 2>/dev/null)
if [ "$RC" = 0 ] && [ -n "$SPEC" ] && [ "$SPEC" != null ]; then
    pass "real-azure describe-key ($SPEC)"
else
    fail "real-azure describe-key (rc=$RC err=${ERR:0:400})"
    exit 0
fi
declare -A HASH=([RSA-2048]=SHA-256 [RSA-3072]=SHA-384 [RSA-4096]=SHA-512
    [EC-256]=SHA-256 [EC-384]=SHA-384 [EC-521]=SHA-512)
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
sign "real-azure generate-signature after describe-key (warm caches)"
rm -rf "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR/notation-keystore"
sign "real-azure generate-signature with cold caches"
dargs=()
while IFS= read -r kv; do dargs+=(--plugin-config "$kv"); done < <(jq -r 'to_entries[] | "\(.key)=\(.value)"' <<<"$EXTRA")
"$NK_BIN" doctor --id "$KID" "${dargs[@]}" --json >"$NK_TMP/doctor.json" 2>"$NK_TMP/doctor.err"
check "real-azure doctor --id: key, credentials and a verified test signature" \
    jq -e '[.checks[] | select(.check=="key store" or .check=="credentials" or .check=="test signature") | .status] == ["pass","pass","pass"]' \
    "$NK_TMP/doctor.json"
