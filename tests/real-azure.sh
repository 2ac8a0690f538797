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
. "$NK_ROOT/tests/lib/real_kms.sh"

have_cred() {
    { [ -n "${AZURE_TENANT_ID:-}" ] && [ -n "${AZURE_CLIENT_ID:-}" ] &&
        [ -n "${AZURE_CLIENT_SECRET:-}${AZURE_CLIENT_CERTIFICATE_PATH:-}${AZURE_FEDERATED_TOKEN_FILE:-}" ]; } ||
        [ -n "${IDENTITY_ENDPOINT:-}" ] ||
        { command -v az >/dev/null && az account show >/dev/null 2>&1; }
}
real_start real-azure NK_AZURE_KEY_ID NK_AZURE_CONFIG \
    "no Azure credential (AZURE_* variables, App Service identity or az login)"
real_describe
real_sign_twice
real_doctor
