#!/usr/bin/env bash
# Azure Key Vault against tests/lib/azure_mock.py (Key Vault, Entra ID,
# IMDS and App Service on loopback, real keys, HTTPS with a test CA) and a
# fake `az` on PATH: contract tests against a mock, not interop. The six
# key specs; every key id form; azure-kv's pluginConfig (default chain from
# the secret in PEM or PKCS#12, ca_certs, self_signed, credential_type) and
# a signingkeys.json written the way azure-kv's documentation writes it,
# switched by its plugin name alone; each credential source; the token and
# key caches (a warm generate-signature makes one request); Key Vault's
# errors; the companion commands; envelopes. Every signature is checked
# with Python cryptography, never by the mock; no secret may show up in
# stderr, the log or the key cache.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/pki.sh"
. "$NK_ROOT/tests/lib/kms_pki.sh"

tls=$NK_TMP/tls
kms_tls "$tls" az || { fail "kms-azure: test TLS CA"; exit 0; }
hport=$(free_port) sport=$(free_port) dead=$(free_port)
M=$NK_TMP/mock setup=$NK_TMP/azure.json mocklog=$NK_TMP/azure-requests.jsonl
AZURE_MOCK_LIFETIME=600 "$NK_PY" "$NK_ROOT/tests/lib/azure_mock.py" --setup "$setup" \
    --dir "$M" --log "$mocklog" --http "$hport" \
    --https "$sport" "$tls/az-server.pem" "$tls/az-server.key" >"$NK_TMP/mock.out" 2>&1 &
at_exit "kill $!"
wait_file "$setup" 90 || { fail "kms-azure: mock did not start"; cat "$NK_TMP/mock.out"; exit 0; }

for v in $(env | sed -n 's/^\(AZURE_[A-Z_]*\|IDENTITY_[A-Z_]*\|IMDS_ENDPOINT\|MSI_[A-Z_]*\)=.*/\1/p'); do
    unset "$v"
done
export XDG_CACHE_HOME=$NK_TMP/cache XDG_RUNTIME_DIR=$NK_TMP/run HOME=$NK_TMP/home
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
# A fake az first on PATH; nothing answers on the IMDS port unless a test
# says so.
mkdir -p "$NK_TMP/bin" && ln -s "$NK_ROOT/tests/lib/fake_az" "$NK_TMP/bin/az"
export PATH=$NK_TMP/bin:$PATH FAKE_AZ_LOG=$NK_TMP/az.jsonl
export AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:$dead
S=https://127.0.0.1:$sport H=http://127.0.0.1:$hport CA=$tls/az-ca.pem
TENANT=$(jq -r .tenant "$setup")
j() { jq -r "$1" "$setup"; }
use_secret() { # PRINCIPAL: the environment credential of that client
    export AZURE_TENANT_ID=$TENANT AZURE_AUTHORITY_HOST=$S
    AZURE_CLIENT_ID=$(j ".$1.id") AZURE_CLIENT_SECRET=$(j ".$1.secret")
    export AZURE_CLIENT_ID AZURE_CLIENT_SECRET
}
use_secret signer
allerr=$NK_TMP/all-stderr
printf 'payload to be signed by key vault' >"$NK_TMP/payload"
payload=$(base64 -w0 "$NK_TMP/payload")
declare -A HASH=([RSA-2048]=SHA-256 [RSA-3072]=SHA-384 [RSA-4096]=SHA-512
    [EC-256]=SHA-256 [EC-384]=SHA-384 [EC-521]=SHA-512)
declare -A SPEC=([rsa-2048]=RSA-2048 [rsa-3072]=RSA-3072 [rsa-4096]=RSA-4096
    [ec-256]=EC-256 [ec-384]=EC-384 [ec-521]=EC-521)

eval "$(declare -f plugin | sed '1s/^plugin/nk_plugin_orig/')"
plugin() {
    nk_plugin_orig "$@"
    printf '%s\n' "$ERR" >>"$allerr"
}
run() { plugin "$@"; }
# cfg [JSON]: pluginConfig with the test CA (every HTTPS call trusts it,
# the token endpoint's too) and JSON's members.
cfg() { jq -nc --arg ca "$CA" --argjson x "${1:-{\}}" '{"ca-bundle":$ca} + $x'; }
dreq() { jq -nc --arg k "$1" --argjson c "$(cfg "${2:-{\}}")" '{contractVersion:"1.0",keyId:$k,pluginConfig:$c}'; }
sreq() { # KEYID SPEC [CFG]
    jq -nc --arg k "$1" --arg s "$2" --arg h "${HASH[$2]}" --arg p "$payload" \
        --argjson c "$(cfg "${3:-{\}}")" \
        '{contractVersion:"1.0",keyId:$k,keySpec:$s,hashAlgorithm:$h,payload:$p,pluginConfig:$c}'
}
err_is() { # CODE REGEX: the last run failed so
    [ "$RC" = 1 ] && [ -z "$OUT" ] && printf '%s' "$ERR" | jq -e --arg c "$1" --arg r "$2" \
        '.errorCode==$c and (.errorMessage|test($r))' >/dev/null
}
not_in_err() { # TEXT: the last run's stderr lacks TEXT (and was captured)
    [ -n "$ERR" ] && ! printf '%s' "$ERR" | grep -qF -- "$1"
}
check_err() { # NAME CODE REGEX
    if err_is "$2" "$3"; then pass "$1"; else fail "$1 (rc=$RC err=${ERR:0:400})"; fi
}
pub() { # NAME [VERSION]: that key version's public key PEM file
    local v=${2:-$(j ".keys[\"$1\"].versions[-1]")} f
    f=$NK_TMP/pub-$1-$v.pem
    [ -s "$f" ] || j ".keys[\"$1\"].pub[\"$v\"]" >"$f"
    echo "$f"
}
ver() { j ".keys[\"$1\"].versions[$2]"; }
# sign_ok NAME KEYID SPEC PUBPEM [CFG [CHAINLEN]]: a verified signature.
sign_ok() {
    local name=$1 kid=$2 spec=$3 pubf=$4 c=${5:-{\}} n=${6:-3} sig
    run generate-signature "$(sreq "$kid" "$spec" "$c")"
    sig=$(printf '%s' "$OUT" | jq -r .signature 2>/dev/null)
    if [ "$RC" = 0 ] && [ "$(printf '%s' "$OUT" | jq '.certificateChain|length')" = "$n" ] &&
        kms_verify "$pubf" "$spec" "$NK_TMP/payload" "$sig" 2>"$NK_TMP/verr"; then
        pass "$name"
    else
        fail "$name (rc=$RC err=${ERR:0:300} out=${OUT:0:100} verify=$(tail -c 200 "$NK_TMP/verr" 2>/dev/null))"
    fi
}
mark() { MARK=$(wc -l <"$mocklog"); }
# since JQ: requests after the last mark that satisfy JQ.
since() { tail -n +$((MARK + 1)) "$mocklog" | jq -c "select($1)" | wc -l; }

# 1. The six key specs, key id of azure-kv's certificates form, default
# chain (the certificate's secret: key + leaf + intermediate + root PEM).
for t in rsa-2048 rsa-3072 rsa-4096 ec-256 ec-384 ec-521; do
    kid=$S/certificates/cert-$t
    run describe-key "$(dreq "$kid" '{"cache":"false"}')"
    check "kms-azure describe $t" test "$(printf '%s' "$OUT" | jq -r .keySpec 2>/dev/null)" = "${SPEC[$t]}"
    sign_ok "kms-azure sign $t (chain from the secret)" "$kid" "${SPEC[$t]}" "$(pub "cert-$t")" '{"cache":"false"}'
done
check "kms-azure sign request: alg PS384, base64url digest of 48 bytes, exact version" bash -c "
    jq -c 'select(.path|test(\"^/keys/cert-rsa-3072/[0-9a-f]{32}/sign$\"))' '$mocklog' | grep -q ."

# 2. Key id forms.
sign_ok "kms-azure azurekms://host/name (cosign's form)" "azurekms://127.0.0.1:$sport/cert-ec-256" \
    EC-256 "$(pub cert-ec-256)"
v384=$(ver cert-ec-384 0)
mark
sign_ok "kms-azure https://vault/keys/name/version (azure-kv's kid)" "$S/keys/cert-ec-384/$v384" \
    EC-384 "$(pub cert-ec-384 "$v384")" '{"cache":"false"}'
check "kms-azure keys/name/version reads that version's secret" test "$(since ".path==\"/secrets/cert-ec-384/$v384\"")" = 1
kms_chain "$NK_TMP/pki" plain "$(pub plainkey)" >/dev/null 2>&1 || fail "kms-azure: chain for plainkey"
mark
sign_ok "kms-azure keys/ with pluginConfig certificate-chain" "$S/keys/plainkey" EC-256 "$(pub plainkey)" \
    "{\"certificate-chain\":\"$NK_TMP/pki/plain-chain.pem\",\"cache\":\"false\"}"
check "kms-azure certificate-chain: the key is read (keys get), no certificate" \
    test "$(since '.path=="/keys/plainkey"')/$(since '(.path|startswith("/secrets")) or (.path|startswith("/certificates"))')" = 1/0
r1=$(ver rotated 0) r2=$(ver rotated 1)
mark
sign_ok "kms-azure certificates/name/version pins an older version" "$S/certificates/rotated/$r1" EC-256 \
    "$(pub rotated "$r1")" '{"cache":"false"}'
check "kms-azure the pinned version signs" test "$(since ".path==\"/keys/rotated/$r1/sign\"")" = 1
sign_ok "kms-azure no version: the latest" "$S/certificates/rotated" EC-256 "$(pub rotated "$r2")" '{"cache":"false"}'
sign_ok "kms-azure plain http on loopback" "$H/certificates/cert-ec-256" EC-256 "$(pub cert-ec-256)" '{"cache":"false"}'

# 3. azure-kv's pluginConfig.
mark
sign_ok "kms-azure self_signed=true: the leaf alone" "$S/certificates/selfsigned" EC-384 "$(pub selfsigned)" \
    '{"self_signed":"true","cache":"false"}' 1
check "kms-azure self_signed reads the certificate, not the secret" \
    test "$(since '.path=="/certificates/selfsigned"')/$(since '.path=="/secrets/selfsigned"')" = 1/0
mark
sign_ok "kms-azure ca_certs=<bundle>: leaf from the certificate + bundle" "$S/certificates/cert-ec-256" EC-256 \
    "$(pub cert-ec-256)" "{\"ca_certs\":\"$M/ca-certs.pem\",\"cache\":\"false\"}"
check "kms-azure ca_certs reads the certificate, not the secret" \
    test "$(since '.path=="/certificates/cert-ec-256"')/$(since '.path=="/secrets/cert-ec-256"')" = 1/0
run describe-key "$(dreq "$S/certificates/selfsigned" "{\"self_signed\":\"true\",\"ca_certs\":\"$M/ca-certs.pem\"}")"
check_err "kms-azure self_signed with ca_certs is refused" VALIDATION_ERROR 'self_signed.*ca_certs'
run describe-key "$(dreq "$S/certificates/cert-ec-256" '{"key-version":"2"}')"
check_err "kms-azure key-version is refused: the version goes in the key id" VALIDATION_ERROR 'key-version.*key id'
run describe-key "$(dreq "$S/certificates/selfsigned" '{"self_signed":"maybe"}')"
check_err "kms-azure self_signed=maybe is refused" VALIDATION_ERROR 'self_signed'
sign_ok "kms-azure chain from a PKCS#12 secret" "$S/certificates/cert-pfx" EC-256 "$(pub cert-pfx)" '{"cache":"false"}'
sign_ok "kms-azure chain from a legacy (RC2) PKCS#12 secret" "$S/certificates/cert-pfx-legacy" EC-256 \
    "$(pub cert-pfx-legacy)" '{"cache":"false"}'
(use_secret nosecrets
 run generate-signature "$(sreq "$S/certificates/cert-ec-256" EC-256 '{"cache":"false","token-cache":"false"}')"
 check_err "kms-azure no secrets get: ACCESS_DENIED naming the permission and ca_certs" ACCESS_DENIED \
     'ForbiddenByPolicy.*secrets get.*ca_certs'
 sign_ok "kms-azure no secrets get, with ca_certs: certificates get is enough" "$S/certificates/cert-ec-256" EC-256 \
     "$(pub cert-ec-256)" "{\"ca_certs\":\"$M/ca-certs.pem\",\"cache\":\"false\",\"token-cache\":\"false\"}")
run describe-key "$(dreq "$S/certificates/cert-ec-256" '{"credential_type":"keychain","cache":"false"}')"
check_err "kms-azure credential_type must be one azure-kv knows" VALIDATION_ERROR 'credential_type.*default, environment, workloadid, managedid or azurecli'
sign_ok "kms-azure credential_type=environment" "$S/certificates/cert-ec-256" EC-256 "$(pub cert-ec-256)" \
    '{"credential_type":"environment","cache":"false"}'

# 4. Drop-in for azure-kv: the signingkeys.json that azure-kv's
# documentation (ca-signed-workflow.md) has people make with
#   notation key add --plugin azure-kv --id $keyID akv-key --default
#   notation sign ... --plugin-config=ca_certs=$certBundlePath
# and the one made with --plugin keystore: they differ in pluginName only,
# and notation's calls to our plugin with the second succeed.
keyID=$S/keys/cert-rsa-2048/$(ver cert-rsa-2048 0)
cat >"$NK_TMP/signingkeys-azure-kv.json" <<JSON
{
    "default": "akv-key",
    "keys": [
        {
            "name": "akv-key",
            "id": "$keyID",
            "pluginName": "azure-kv"
        }
    ]
}
JSON
sed 's/"pluginName": "azure-kv"/"pluginName": "keystore"/' "$NK_TMP/signingkeys-azure-kv.json" \
    >"$NK_TMP/signingkeys.json"
check "kms-azure drop-in: the two configs differ in the plugin name alone" bash -c "
    [ \"\$(diff '$NK_TMP/signingkeys-azure-kv.json' '$NK_TMP/signingkeys.json' | grep -c '^[<>]')\" = 2 ] &&
    diff '$NK_TMP/signingkeys-azure-kv.json' '$NK_TMP/signingkeys.json' | grep -q '> .*\"keystore\"'"
# What notation sends: the key's id, and pluginConfig from the key entry
# merged with --plugin-config (here ca_certs; the TLS CA of the mock is the
# one addition a real vault does not need).
dropin() { # FLAGS-JSON: describe-key then generate-signature as notation does
    local id pc
    id=$(jq -r '.keys[] | select(.name==.name) | .id' "$NK_TMP/signingkeys.json")
    pc=$(jq -c --argjson f "$1" --arg ca "$CA" '(.keys[0].pluginConfig // {}) + $f + {"ca-bundle":$ca}' \
        "$NK_TMP/signingkeys.json")
    run describe-key "$(jq -nc --arg k "$id" --argjson c "$pc" '{contractVersion:"1.0",keyId:$k,pluginConfig:$c}')" &&
        [ "$RC" = 0 ] && [ "$(printf '%s' "$OUT" | jq -r .keySpec)" = RSA-2048 ] || return 1
    run generate-signature "$(jq -nc --arg k "$id" --arg p "$payload" --argjson c "$pc" \
        '{contractVersion:"1.0",keyId:$k,keySpec:"RSA-2048",hashAlgorithm:"SHA-256",payload:$p,pluginConfig:$c}')"
    [ "$RC" = 0 ] && [ "$(printf '%s' "$OUT" | jq -r .keyId)" = "$id" ] &&
        [ "$(printf '%s' "$OUT" | jq '.certificateChain|length')" = 3 ] &&
        kms_verify "$(pub cert-rsa-2048)" RSA-2048 "$NK_TMP/payload" "$(printf '%s' "$OUT" | jq -r .signature)"
}
check "kms-azure drop-in: azure-kv's documented config, --plugin-config ca_certs" \
    dropin "{\"ca_certs\":\"$M/ca-certs.pem\"}"
check "kms-azure drop-in: azure-kv's documented config, chain from the vault" dropin '{}'
check "kms-azure drop-in: credential_type=environment as azure-kv spells it" \
    dropin '{"credential_type":"environment"}'

# 5. Credentials.
(use_secret signer
 AZURE_CLIENT_SECRET=mock~wrong-secret-9f3a run describe-key \
     "$(dreq "$S/certificates/cert-ec-256" '{"cache":"false","token-cache":"false"}')"
 check_err "kms-azure wrong client secret: ACCESS_DENIED with Entra's code and trace id" ACCESS_DENIED \
     'AADSTS7000215.*trace id [0-9a-f-]{36}'
 check "kms-azure wrong client secret is not in the message" not_in_err wrong-secret-9f3a
 AZURE_TENANT_ID='../evil' run describe-key "$(dreq "$S/certificates/cert-ec-256" '{"cache":"false","token-cache":"false"}')"
 check_err "kms-azure a tenant id that is no tenant id is refused before any request" VALIDATION_ERROR 'AZURE_TENANT_ID')
cert_env() { # FILE [PASSWORD]
    unset AZURE_CLIENT_SECRET
    export AZURE_CLIENT_ID=$(j .certapp.id) AZURE_CLIENT_CERTIFICATE_PATH=$1
    if [ -n "${2:-}" ]; then export AZURE_CLIENT_CERTIFICATE_PASSWORD=$2; else unset AZURE_CLIENT_CERTIFICATE_PASSWORD; fi
}
nocache='{"cache":"false","token-cache":"false"}'
PW=$(j .certapp.password)
(cert_env "$M/client.pem"
 mark
 sign_ok "kms-azure client certificate (PEM): PS256 assertion accepted" "$S/certificates/cert-ec-256" EC-256 \
     "$(pub cert-ec-256)" "$nocache"
 check "kms-azure the token came with a certificate assertion" test "$(since '.kind=="entra" and .auth=="certificate" and .status==200')" = 1
 cert_env "$M/client-enc.pem" "$PW"
 sign_ok "kms-azure client certificate (encrypted PEM + password)" "$S/certificates/cert-ec-256" EC-256 \
     "$(pub cert-ec-256)" "$nocache"
 cert_env "$M/client-enc.pem"
 run describe-key "$(dreq "$S/certificates/cert-ec-256" "$nocache")"
 check_err "kms-azure encrypted PEM without password: ACCESS_DENIED, no prompt" ACCESS_DENIED 'AZURE_CLIENT_CERTIFICATE_PASSWORD'
 cert_env "$M/client.pfx" "$PW"
 sign_ok "kms-azure client certificate (PKCS#12 + password)" "$S/certificates/cert-ec-256" EC-256 \
     "$(pub cert-ec-256)" "$nocache"
 cert_env "$M/client-legacy.pfx" "$PW"
 sign_ok "kms-azure client certificate (legacy RC2 PKCS#12)" "$S/certificates/cert-ec-256" EC-256 \
     "$(pub cert-ec-256)" "$nocache"
 cert_env "$M/client.pfx" wrong-password
 run describe-key "$(dreq "$S/certificates/cert-ec-256" "$nocache")"
 check_err "kms-azure PKCS#12 with a wrong password" ACCESS_DENIED 'wrong password'
 cert_env "$M/client-other.pem"
 run describe-key "$(dreq "$S/certificates/cert-ec-256" "$nocache")"
 check_err "kms-azure a certificate the app does not have: Entra refuses" ACCESS_DENIED 'AADSTS700027')
wi_env() { # TOKENFILE
    unset AZURE_CLIENT_SECRET
    export AZURE_CLIENT_ID=$(j .wi.id) AZURE_FEDERATED_TOKEN_FILE=$1
}
(cp "$M/wi-token" "$NK_TMP/sa-token"
 wi_env "$NK_TMP/sa-token"
 mark
 sign_ok "kms-azure workload identity (federated token file)" "$S/certificates/cert-ec-256" EC-256 \
     "$(pub cert-ec-256)" "$nocache"
 check "kms-azure workload identity sent the federated token" test "$(since '.kind=="entra" and .auth=="federated" and .status==200')" = 1
 cp "$M/wi-expired" "$NK_TMP/sa-token"
 run describe-key "$(dreq "$S/certificates/cert-ec-256" "$nocache")"
 check_err "kms-azure the token file is re-read: an expired one now fails" ACCESS_DENIED 'AADSTS700024'
 cp "$M/wi-token" "$NK_TMP/sa-token"
 sign_ok "kms-azure the token file is re-read: renewed, it works again" "$S/certificates/cert-ec-256" EC-256 \
     "$(pub cert-ec-256)" "$nocache"
 wi_env "$NK_TMP/no-such-token"
 run describe-key "$(dreq "$S/certificates/cert-ec-256" "$nocache")"
 check_err "kms-azure missing federated token file" ACCESS_DENIED 'AZURE_FEDERATED_TOKEN_FILE'
 wi_env "$M/wi-token"
 run describe-key "$(dreq "$S/certificates/cert-ec-256" '{"credential_type":"workloadid","cache":"false","token-cache":"false"}')"
 check "kms-azure credential_type=workloadid" test "$RC" = 0)
noenv() { unset AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET; }
(noenv
 export AZURE_POD_IDENTITY_AUTHORITY_HOST=$H
 mark
 sign_ok "kms-azure managed identity (instance metadata)" "$S/certificates/cert-ec-256" EC-256 \
     "$(pub cert-ec-256)" "$nocache"
 check "kms-azure IMDS asked with Metadata: true for the system identity" \
     test "$(since '.kind=="imds" and .status==200 and .principal=="signer"')" = 1
 mark
 AZURE_CLIENT_ID=$(j .mi.uami) sign_ok "kms-azure managed identity, user-assigned by AZURE_CLIENT_ID" \
     "$S/certificates/cert-ec-256" EC-256 "$(pub cert-ec-256)" "$nocache"
 check "kms-azure the user-assigned identity was asked for" test "$(since '.kind=="imds" and .principal=="uami"')" = 1
 mark
 AZURE_POD_IDENTITY_AUTHORITY_HOST=$H/gone-once sign_ok "kms-azure IMDS 410 then a token (retried)" \
     "$S/certificates/cert-ec-256" EC-256 "$(pub cert-ec-256)" "$nocache"
 check "kms-azure IMDS 410 was retried" test "$(since '.kind=="imds" and .status==410')/$(since '.kind=="imds" and .status==200')" = 1/1
 AZURE_POD_IDENTITY_AUTHORITY_HOST=$H/noid run describe-key \
     "$(dreq "$S/certificates/cert-ec-256" '{"credential_type":"managedid","cache":"false","token-cache":"false"}')"
 check_err "kms-azure credential_type=managedid without an identity" ACCESS_DENIED 'managedid.*Identity not found'
 mark
 AZURE_POD_IDENTITY_AUTHORITY_HOST=$H/noid FAKE_AZ_TOKEN=$(j .cli_token) sign_ok \
     "kms-azure no managed identity: the chain goes on to the Azure CLI" "$S/certificates/cert-ec-256" EC-256 \
     "$(pub cert-ec-256)" "$nocache"
 IDENTITY_ENDPOINT=$H/msi/token IDENTITY_HEADER=$(j .mi.header) sign_ok \
     "kms-azure managed identity (App Service IDENTITY_ENDPOINT)" "$S/certificates/cert-ec-256" EC-256 \
     "$(pub cert-ec-256)" "$nocache"
 IDENTITY_ENDPOINT=$H/msi/token IDENTITY_HEADER=wrong run describe-key "$(dreq "$S/certificates/cert-ec-256" "$nocache")"
 check_err "kms-azure App Service with a wrong IDENTITY_HEADER" ACCESS_DENIED 'App Service.*401')
(noenv
 rm -f "$FAKE_AZ_LOG"
 FAKE_AZ_TOKEN=$(j .cli_token) sign_ok "kms-azure Azure CLI (no IMDS here)" "$S/certificates/cert-ec-256" EC-256 \
     "$(pub cert-ec-256)" "$nocache"
 check "kms-azure az ran with exactly get-access-token's arguments" \
     test "$(head -n 1 "$FAKE_AZ_LOG")" = '["account", "get-access-token", "--output", "json", "--resource", "https://vault.azure.net"]'
 AZURE_TENANT_ID=$TENANT FAKE_AZ_TOKEN=$(j .cli_token) run describe-key "$(dreq "$S/certificates/cert-ec-256" "$nocache")"
 check "kms-azure az gets --tenant from AZURE_TENANT_ID" bash -c "[ $RC = 0 ] && tail -n 1 '$FAKE_AZ_LOG' | grep -q '\"--tenant\", \"$TENANT\"'"
 FAKE_AZ_MODE=old FAKE_AZ_TOKEN=$(j .cli_token) sign_ok "kms-azure Azure CLI before 2.54 (expiresOn only)" \
     "$S/certificates/cert-ec-256" EC-256 "$(pub cert-ec-256)" "$nocache"
 FAKE_AZ_MODE=login run describe-key "$(dreq "$S/certificates/cert-ec-256" "$nocache")"
 check_err "kms-azure az not logged in: ACCESS_DENIED with az's one line" ACCESS_DENIED "Please run 'az login'"
 check "kms-azure az's other stderr lines are not echoed" not_in_err 'a warning first'
 t0=$(date +%s%N)
 FAKE_AZ_MODE=hang run describe-key "$(dreq "$S/certificates/cert-ec-256" '{"cache":"false","token-cache":"false","timeout":"2"}')"
 ms=$((($(date +%s%N) - t0) / 1000000))
 check_err "kms-azure az that hangs: TIMEOUT" TIMEOUT 'did not finish'
 check "kms-azure az that hangs is stopped at the deadline ($ms ms)" test "$ms" -lt 8000
 FAKE_AZ_MODE=spew run describe-key "$(dreq "$S/certificates/cert-ec-256" "$nocache")"
 check_err "kms-azure az with endless output is stopped" ERROR 'more output'
 PATH=/usr/bin:/bin run describe-key "$(dreq "$S/certificates/cert-ec-256" "$nocache")"
 check_err "kms-azure no credential at all: ACCESS_DENIED saying what was tried" ACCESS_DENIED \
     'AZURE_CLIENT_SECRET.*AZURE_FEDERATED_TOKEN_FILE.*managed identity: no instance metadata.*Azure CLI: .*not on PATH'
 FAKE_AZ_TOKEN=$(j .cli_reader_token) run generate-signature \
     "$(sreq "$S/certificates/cert-ec-256" EC-256 '{"cache":"false","token-cache":"false","credential_type":"azurecli"}')"
 check_err "kms-azure no sign right: ACCESS_DENIED with RBAC's code, the action and the request id" ACCESS_DENIED \
     'HTTP 403 Forbidden \(ForbiddenByRbac\), request id [0-9a-f-]{36}: the identity \(Azure CLI\) needs keys sign.*Microsoft.KeyVault/vaults/keys/sign/action')

# 6. The token and key caches: one request for a warm generate-signature.
rm -rf "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"/notation-keystore
kid=$S/certificates/cert-ec-256
run describe-key "$(dreq "$kid")"
check "kms-azure warm-up describe-key" test "$RC" = 0
mark
NOTATION_KEYSTORE_LOG=info NOTATION_KEYSTORE_LOG_FILE=$NK_TMP/warm.log \
    sign_ok "kms-azure generate-signature after describe-key" "$kid" EC-256 "$(pub cert-ec-256)"
check "kms-azure warm generate-signature makes exactly one HTTPS request (the sign)" \
    test "$(grep -c ' http ' "$NK_TMP/warm.log")/$(since '.')/$(since '.path|endswith("/sign")')" = 1/1/1
check "kms-azure the token came from the cache" grep -q 'Azure token from the cache' "$NK_TMP/warm.log"
tdir=$XDG_RUNTIME_DIR/notation-keystore
check "kms-azure token cache: private directory and files, under XDG_RUNTIME_DIR" bash -c "
    [ \"\$(stat -c %a '$tdir')\" = 700 ] && f=\$(ls '$tdir'/*.json | head -n 1) &&
    [ \"\$(stat -c %a \"\$f\")\" = 600 ]"
check "kms-azure the key cache holds no token" bash -c "! grep -rq 'eyJ0eXAiOiJKV1QifQ' '$XDG_CACHE_HOME'"
mark
run generate-signature "$(sreq "$kid" EC-256 '{"token-cache":"false"}')"
run generate-signature "$(sreq "$kid" EC-256 '{"token-cache":"false"}')"
check "kms-azure token-cache=false: a token per run" test "$(since '.kind=="entra"')" = 2
(use_secret short
 rm -rf "$XDG_RUNTIME_DIR"/notation-keystore
 mark
 run describe-key "$(dreq "$kid" '{"cache":"false"}')"
 run describe-key "$(dreq "$kid" '{"cache":"false"}')"
 check "kms-azure a token about to expire (120 s) is not reused" test "$(since '.kind=="entra"')" = 2)
# A cached token the service no longer takes: one 401, a new token, done.
# (cache=false: a warm key cache would answer without fetching a token.)
run describe-key "$(dreq "$kid" '{"cache":"false"}')"
before=$(cat "$tdir"/*.json 2>/dev/null | sha256sum)
curl -sf -X POST "$H/_mock/revoke-all" >/dev/null || fail "kms-azure: mock revoke-all"
mark
sign_ok "kms-azure a revoked cached token is renewed once" "$kid" EC-256 "$(pub cert-ec-256)"
check "kms-azure renewal: 401, one new token, then the sign" \
    test "$(since '.status==401')/$(since '.kind=="entra"')/$(since '(.path|endswith("/sign")) and .status==200')" = 1/1/1
after=$(cat "$tdir"/*.json 2>/dev/null | sha256sum)
mark
run generate-signature "$(sreq "$kid" EC-256)"
check "kms-azure the renewed token replaced the cached one (next run: no token request)" \
    test "$RC/$([ "$before" != "$after" ] && echo changed)/$(since '.kind=="entra"')/$(since '.status==401')" = 0/changed/0/0

# 7. Keys notation cannot sign with, and Key Vault's errors.
kcfg="{\"certificate-chain\":\"$NK_TMP/pki/plain-chain.pem\",\"cache\":\"false\"}"
for c in "disabled:disabled" "expired:expired" "nosign:key_ops lack .sign" "k256k:P-256K.*cannot use" \
    "rsa1024:RSA.*cannot use" "aes:oct-HSM.*cannot use"; do
    run describe-key "$(dreq "$S/keys/${c%%:*}" "$kcfg")"
    check_err "kms-azure key ${c%%:*}: VALIDATION_ERROR" VALIDATION_ERROR "${c#*:}"
done
run describe-key "$(dreq "$S/keys/no-such-key" "$kcfg")"
check_err "kms-azure missing key: VALIDATION_ERROR KeyNotFound with request id" VALIDATION_ERROR 'KeyNotFound.*HTTP 404, request id [0-9a-f-]{36}'
run describe-key "$(dreq "$S/certificates/plainkey" '{"cache":"false"}')"
check_err "kms-azure a key without certificate: say certificate-chain is needed" VALIDATION_ERROR \
    'no certificate named "plainkey".*certificate-chain'
run generate-signature "$(sreq "$S/certificates/cert-ec-256" EC-384 '{"cache":"false"}')"
check_err "kms-azure keySpec mismatch" VALIDATION_ERROR 'keySpec .?EC-384.? does not match'
kms_chain "$NK_TMP/pki" throttled "$(pub throttled)" >/dev/null 2>&1
mark
t0=$(date +%s%N)
run generate-signature "$(sreq "$S/keys/throttled" EC-256 "{\"certificate-chain\":\"$NK_TMP/pki/throttled-chain.pem\",\"cache\":\"false\"}")"
ms=$((($(date +%s%N) - t0) / 1000000))
check_err "kms-azure 429 Throttled: retried, then THROTTLED with Key Vault's text" THROTTLED \
    'Throttled: Request was not processed.*request id'
check "kms-azure 429 retried with Retry-After (4 tries, $ms ms)" \
    bash -c "[ $(since '.status==429') = 4 ] && [ $ms -ge 2900 ]"
kms_chain "$NK_TMP/pki" flaky "$(pub flaky)" >/dev/null 2>&1
mark
sign_ok "kms-azure 500 then success" "$S/keys/flaky" EC-256 "$(pub flaky)" \
    "{\"certificate-chain\":\"$NK_TMP/pki/flaky-chain.pem\",\"cache\":\"false\"}"
check "kms-azure the 500 was retried" test "$(since '.status==500')/$(since '.status==200 and (.path|endswith("/sign"))')" = 1/1
run describe-key "$(jq -nc --arg k "$kid" '{contractVersion:"1.0",keyId:$k,pluginConfig:{cache:"false"}}')"
check_err "kms-azure TLS without the test CA: ERROR naming TLS" ERROR 'TLS|certificate'

# 8. Companion commands through the signer interface.
# jq_true EXPR FILE: EXPR holds for FILE (quiet, so the check line shows).
jq_true() { jq -e "$1" "$2" >/dev/null; }
"$NK_BIN" keys --id "$kid" --plugin-config "ca-bundle=$CA" --json >"$NK_TMP/keys.json" 2>>"$allerr"
check "kms-azure keys --id: backend, spec and the vault's certificate" \
    jq_true '.backend=="azurekms" and .keySpec=="EC-256" and (.certificateSubject|test("azure ec-256")) and .storeCertificates==2' "$NK_TMP/keys.json"
"$NK_BIN" doctor --id "$kid" --plugin-config "ca-bundle=$CA" --json >"$NK_TMP/doctor.json" 2>>"$allerr"
check "kms-azure doctor --id: key, chain and a verified test signature" \
    jq_true '[.checks[] | select(.check=="key store" or .check=="credentials" or .check=="certificate chain" or .check=="test signature") | .status] == ["pass","pass","pass","pass"]' "$NK_TMP/doctor.json"
(use_secret reader
 "$NK_BIN" doctor --id "$kid" --plugin-config "ca-bundle=$CA" --plugin-config token-cache=false --json \
     >"$NK_TMP/doctor-r.json" 2>>"$allerr"
 check "kms-azure doctor proves the sign right: fails for a reader" \
     jq_true '.checks[] | select(.check=="test signature") | .status=="fail" and (.detail|test("ForbiddenByRbac"))' "$NK_TMP/doctor-r.json")
(cd "$NK_TMP" && "$NK_BIN" cert generate-test --id "$S/keys/plainkey" azure-test \
    --plugin-config "ca-bundle=$CA" --plugin-config "certificate-chain=$NK_TMP/pki/plain-chain.pem" \
    >"$NK_TMP/gen.out" 2>>"$allerr")
check "kms-azure cert generate-test: self-signed by the vault key" bash -c "
    openssl x509 -in '$NK_TMP/azure-test.crt' -noout -pubkey | cmp -s - <(openssl pkey -pubin -in '$(pub plainkey)') &&
    openssl verify -CAfile '$NK_TMP/azure-test.crt' '$NK_TMP/azure-test.crt' >/dev/null"
"$NK_BIN" cert request --id "$kid" --subject "C=US, ST=WA, O=Azure Test, CN=csr" --plugin-config "ca-bundle=$CA" \
    --out "$NK_TMP/req.csr" 2>>"$allerr"
check "kms-azure cert request: a CSR signed by the vault key" bash -c "
    openssl req -in '$NK_TMP/req.csr' -verify -noout 2>&1 | grep -q 'verify OK' &&
    openssl req -in '$NK_TMP/req.csr' -noout -pubkey | cmp -s - <(openssl pkey -pubin -in '$(pub cert-ec-256)')"

# 9. Envelopes: the plugin's own (JWS, COSE), and notation's way from RAW
# signatures (a JWS made here as make demo makes it, checked by jwcrypto).
PTYPE=application/vnd.cncf.notary.payload.v1+json
printf '{"targetArtifact":{"digest":"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","mediaType":"application/vnd.oci.image.manifest.v1+json","size":528}}' \
    >"$NK_TMP/desc.json"
for e in "application/jose+json:check_jws.py:cert-ec-384:EC-384" "application/cose:check_cose.py:cert-rsa-3072:RSA-3072"; do
    IFS=: read -r etype checker name spec <<<"$e"
    t0=$(date +%s)
    run generate-envelope "$(jq -nc --arg k "$S/certificates/$name" --arg t "$etype" --arg pt "$PTYPE" \
        --arg p "$(base64 -w0 "$NK_TMP/desc.json")" --argjson c "$(cfg '{"mode":"envelope"}')" \
        '{contractVersion:"1.0",keyId:$k,payloadType:$pt,signatureEnvelopeType:$t,payload:$p,pluginConfig:$c}')"
    t1=$(date +%s)
    printf '%s' "$OUT" | jq -r .signatureEnvelope | base64 -d >"$NK_TMP/env" 2>/dev/null
    check "kms-azure generate-envelope $etype ($spec) checked by $checker" \
        "$NK_PY" "$NK_ROOT/tests/lib/$checker" "$NK_TMP/env" --payload "$NK_TMP/desc.json" --keyspec "$spec" \
        --root "$M/ca-root.pem" --not-before "$t0" --not-after "$t1"
done
demo_jws() { # KEYNAME SPEC ALG: RAW signing as notation does, envelope built here
    local name=$1 spec=$2 alg=$3
    "$NK_PY" - "$NK_TMP" "$alg" <<'PY'
import base64, json, sys, time
d, alg = sys.argv[1], sys.argv[2]
b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")
payload = open(d + "/desc.json", "rb").read()
hdr = json.dumps({"alg": alg, "crit": ["io.cncf.notary.signingScheme"],
    "cty": "application/vnd.cncf.notary.payload.v1+json",
    "io.cncf.notary.signingScheme": "notary.x509",
    "io.cncf.notary.signingTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
    sort_keys=True, separators=(",", ":")).encode()
open(d + "/protected", "wb").write(b64u(hdr))
open(d + "/jpayload", "wb").write(b64u(payload))
open(d + "/tbs", "wb").write(b64u(hdr) + b"." + b64u(payload))
PY
    run generate-signature "$(jq -nc --arg k "$S/certificates/$name" --arg s "$spec" --arg h "${HASH[$spec]}" \
        --arg p "$(base64 -w0 "$NK_TMP/tbs")" --argjson c "$(cfg)" \
        '{contractVersion:"1.0",keyId:$k,keySpec:$s,hashAlgorithm:$h,payload:$p,pluginConfig:$c}')"
    [ "$RC" = 0 ] || return 1
    jq -nc --arg p "$(cat "$NK_TMP/jpayload")" --arg h "$(cat "$NK_TMP/protected")" \
        --arg s "$(printf '%s' "$OUT" | jq -r .signature | base64 -d | base64 -w0 | tr '+/' '-_' | tr -d '=')" \
        --argjson x5c "$(printf '%s' "$OUT" | jq -c .certificateChain)" \
        '{payload:$p,protected:$h,header:{x5c:$x5c},signature:$s}' >"$NK_TMP/demo.jws"
    "$NK_PY" - "$NK_TMP/demo.jws" "$alg" "$M/ca-root.pem" <<'PY'
import base64, json, sys
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from jwcrypto import jwk, jws
from jwcrypto.common import JWSEHeaderParameter
env = json.load(open(sys.argv[1]))
chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in env["header"]["x5c"]]
root = x509.load_pem_x509_certificate(open(sys.argv[3], "rb").read())
assert chain[-1] == root, "chain does not end in the test root"
open(sys.argv[1] + ".leaf", "wb").write(chain[0].public_bytes(serialization.Encoding.PEM))
open(sys.argv[1] + ".mid", "wb").write(b"".join(
    c.public_bytes(serialization.Encoding.PEM) for c in chain[1:-1]))
reg = {"io.cncf.notary.signingScheme": JWSEHeaderParameter("scheme", True, True, None)}
tok = jws.JWS(header_registry=reg)
tok.deserialize(json.dumps(env))
tok.verify(jwk.JWK.from_pyca(chain[0].public_key()), alg=sys.argv[2])
PY
    [ $? = 0 ] && openssl verify -CAfile "$M/ca-root.pem" -untrusted "$NK_TMP/demo.jws.mid" \
        "$NK_TMP/demo.jws.leaf" >/dev/null
}
check "kms-azure make-demo run: RAW ES256 in a JWS envelope, jwcrypto verifies" demo_jws cert-ec-256 EC-256 ES256
check "kms-azure make-demo run: RAW PS256 in a JWS envelope, jwcrypto verifies" demo_jws cert-rsa-2048 RSA-2048 PS256

# 10. No secret anywhere: client secrets, PFX password, federated tokens,
# access tokens.
secrets=("$(j .signer.secret)" "$(j .reader.secret)" "$(j .nosecrets.secret)" "$(j .short.secret)" "$PW"
    "$(j .cli_token)" "$(j .cli_reader_token)" "$(head -c 60 "$M/wi-token")")
leak=0
for s in "${secrets[@]}"; do
    grep -rqF -- "$s" "$allerr" "$NK_TMP/warm.log" "$XDG_CACHE_HOME" && leak=1
done
check "kms-azure no secret or token in stderr, the log or the key cache ($(wc -l <"$allerr") runs)" test "$leak" = 0
check "kms-azure stderr really was captured" grep -q 'ForbiddenByRbac' "$allerr"
