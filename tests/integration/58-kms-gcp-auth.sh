#!/usr/bin/env bash
# Google credentials (Application Default Credentials) against
# tests/lib/gcp_mock.py, whose token endpoints check what Google's do:
# service account key files (the JWT-bearer assertion's RS256 signature,
# kid, iss, aud, scope, iat and exp), gcloud's user credentials (refresh
# token, quota project), workload identity federation (file and URL
# subject tokens, text and JSON, STS token exchange, service account
# impersonation), impersonated_service_account files and the metadata
# server; the order ADC looks in; the token cache per identity; and that
# no secret reaches an error or a log. Signatures are checked with Python
# cryptography. A contract test against a mock, not interop.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/pki.sh"
. "$NK_ROOT/tests/lib/kms_pki.sh"
. "$NK_ROOT/tests/lib/gcp.sh"

gcp_clear_env
gcp_mock_start --only ec-256 || { fail "kms-gcp-auth: the mock did not start ($(cat "$NK_TMP/gcp-mock.out"))"; exit 0; }
C=$GCP_CREDS
allerr=$NK_TMP/all-stderr
printf 'payload for the Google credential tests' >"$NK_TMP/payload"
K=notation/ec-256/1
KID=$(gcp_kid "$K")
CHAIN=$(gcp_chain "$K") || fail "kms-gcp-auth: chain"
CFG=$(jq -nc --arg c "$CHAIN" --arg e "$GCP_EP" --arg ca "$GCP_CA" \
    '{"certificate-chain":$c,"gcp-kms-endpoint":$e,"ca-bundle":$ca,"cache":"false"}')
REQ=$(jq -nc --arg k "$KID" --arg p "$(base64 -w0 "$NK_TMP/payload")" --argjson c "$CFG" \
    '{contractVersion:"1.0",keyId:$k,keySpec:"EC-256",hashAlgorithm:"SHA-256",payload:$p,pluginConfig:$c}')
TOKDIR=$XDG_RUNTIME_DIR/notation-keystore

# run: generate-signature with the current environment; stderr kept.
run() {
    plugin generate-signature "${1:-$REQ}"
    printf '%s\n' "$ERR" >>"$allerr"
}
# sign_ok NAME: a signature the independent check accepts, made as the
# principal the last KMS request in the mock's log names (default the
# signer service account).
sign_ok() {
    local name=$1 who=${2:-sa:signer@nk-test.iam.gserviceaccount.com} sig got
    run
    sig=$(printf '%s' "$OUT" | jq -r .signature 2>/dev/null)
    got=$(jq -r 'select(.path|startswith("/v1/")) | .principal' "$GCP_LOG" | tail -1)
    if [ "$RC" = 0 ] && [ "$got" = "$who" ] &&
        kms_verify "$(gcp_pub "$K")" EC-256 "$NK_TMP/payload" "$sig" 2>"$NK_TMP/verr"; then
        pass "$name"
    else
        fail "$name (rc=$RC as=$got err=${ERR:0:300} verify=$(tail -c 200 "$NK_TMP/verr" 2>/dev/null))"
    fi
}
denied() { # NAME CODE REGEX
    run
    if [ "$RC" = 1 ] && [ -z "$OUT" ] && printf '%s' "$ERR" | jq -e --arg c "$2" --arg r "$3" \
        '.errorCode==$c and (.errorMessage|test($r))' >/dev/null; then
        pass "$1"
    else
        fail "$1 (rc=$RC err=${ERR:0:400})"
    fi
}
fresh() { rm -rf "$TOKDIR"; }
mark() { MARK=$(wc -l <"$GCP_LOG"); }
# since JQ-CONDITION: requests logged since mark that satisfy it.
since() { tail -n +$((MARK + 1)) "$GCP_LOG" | jq -c "select($1)" | wc -l; }
# edit SRC DST JQ-FILTER: a variant of a credentials file (mode 0600).
edit() { (umask 077 && jq "$3" "$C/$1" >"$NK_TMP/$2"); }

# 0. The mock's token endpoint really checks the assertion: assertions
# made here with the service account's key, each wrong in one way, are
# refused; the right one is taken.
assertion_check() {
    "$NK_PY" - "$C/sa-signer.json" "$1" <<'PY'
import base64, json, sys, time, urllib.request, urllib.parse, ssl, os
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
sa = json.load(open(sys.argv[1])); flaw = sys.argv[2]
key = serialization.load_pem_private_key(sa["private_key"].encode(), None)
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
now = int(time.time())
hdr = {"alg": "RS256", "typ": "JWT", "kid": sa["private_key_id"]}
cl = {"iss": sa["client_email"], "scope": "https://www.googleapis.com/auth/cloud-platform",
      "aud": sa["token_uri"], "iat": now, "exp": now + 3600}
if flaw == "aud": cl["aud"] = "https://oauth2.googleapis.com/token"
if flaw == "exp": cl["exp"] = now + 7200
if flaw == "iat": cl["iat"], cl["exp"] = now - 7200, now - 3600
if flaw == "scope": cl["scope"] = "https://www.googleapis.com/auth/devstorage.read_only"
if flaw == "kid": hdr["kid"] = "0" * 40
if flaw == "alg": hdr["alg"] = "RS384"
inp = b64(json.dumps(hdr).encode()) + "." + b64(json.dumps(cl).encode())
sig = key.sign(inp.encode(), padding.PKCS1v15(), hashes.SHA256())
if flaw == "sig": sig = bytes([sig[0] ^ 1]) + sig[1:]
body = urllib.parse.urlencode({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                               "assertion": inp + "." + b64(sig)}).encode()
ctx = ssl.create_default_context(cafile=os.environ["GCP_CA"])
try:
    r = urllib.request.urlopen(urllib.request.Request(sa["token_uri"], body), context=ctx)
    ok = "access_token" in json.load(r)
except urllib.error.HTTPError as e:
    ok = False
sys.exit(0 if ok == (flaw == "none") else 1)
PY
}
export GCP_CA
for flaw in none aud exp iat scope kid alg sig; do
    check "kms-gcp-auth mock token endpoint: assertion with flaw '$flaw' $([ $flaw = none ] && echo taken || echo refused)" \
        assertion_check "$flaw"
done

# 1. A service account key file (GOOGLE_APPLICATION_CREDENTIALS): a
# JWT-bearer grant signed by us, which the mock verified.
export GOOGLE_APPLICATION_CREDENTIALS=$C/sa-signer.json
fresh
mark
sign_ok "kms-gcp-auth service account key file"
check "kms-gcp-auth ... one JWT-bearer grant, then the KMS calls" \
    test "$(since '.path=="/token" and .grant_type=="urn:ietf:params:oauth:grant-type:jwt-bearer"')" = 1
# Another key with the same key id: Google (the mock) refuses the
# signature; the message says so and quotes no key.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$NK_TMP/other.key" 2>/dev/null
(umask 077 && jq --rawfile k "$NK_TMP/other.key" '.private_key = $k' "$C/sa-signer.json" >"$NK_TMP/sa-otherkey.json")
fresh
GOOGLE_APPLICATION_CREDENTIALS=$NK_TMP/sa-otherkey.json \
    denied "kms-gcp-auth service account key not Google's: ACCESS_DENIED with the endpoint's reason" \
    ACCESS_DENIED 'JWT-bearer grant\): HTTP 400 invalid_grant: Invalid JWT Signature'
edit sa-signer.json sa-badkey.json '.private_key = "-----BEGIN PRIVATE KEY-----\nMIIBroken\n-----END PRIVATE KEY-----\n"'
GOOGLE_APPLICATION_CREDENTIALS=$NK_TMP/sa-badkey.json \
    denied "kms-gcp-auth unreadable private_key: VALIDATION_ERROR" VALIDATION_ERROR \
    'service account private_key: not an unencrypted PEM private key'
edit sa-signer.json sa-noemail.json 'del(.client_email)'
GOOGLE_APPLICATION_CREDENTIALS=$NK_TMP/sa-noemail.json \
    denied "kms-gcp-auth key file without client_email" VALIDATION_ERROR 'type service_account: no "client_email"'
printf 'not json' >"$NK_TMP/junk.json"
GOOGLE_APPLICATION_CREDENTIALS=$NK_TMP/junk.json \
    denied "kms-gcp-auth credentials file that is not JSON" VALIDATION_ERROR 'is not a JSON object'
GOOGLE_APPLICATION_CREDENTIALS=$NK_TMP/missing.json \
    denied "kms-gcp-auth GOOGLE_APPLICATION_CREDENTIALS naming no file: no fallback" VALIDATION_ERROR \
    'Google credentials file \(GOOGLE_APPLICATION_CREDENTIALS\)'
edit sa-signer.json unknown-type.json '.type = "gdch_service_account"'
GOOGLE_APPLICATION_CREDENTIALS=$NK_TMP/unknown-type.json \
    denied "kms-gcp-auth unknown credential type" VALIDATION_ERROR 'type "gdch_service_account" are not supported'
# The viewer's token is cached under its own identity: switching files
# never reuses the signer's token.
GOOGLE_APPLICATION_CREDENTIALS=$C/sa-viewer.json \
    denied "kms-gcp-auth another key file gets its own token (the viewer may not sign)" \
    ACCESS_DENIED 'PERMISSION_DENIED.*credentials: service account viewer@'

# 2. gcloud's ADC file, where ADC looks when the variable is unset:
# authorized_user (refresh token; the quota project is sent).
unset GOOGLE_APPLICATION_CREDENTIALS
mkdir -p "$HOME/.config/gcloud"
cp "$C/user.json" "$HOME/.config/gcloud/application_default_credentials.json"
fresh
mark
sign_ok "kms-gcp-auth gcloud user credentials (~/.config/gcloud)" user:dev@example.com
check "kms-gcp-auth ... a refresh-token grant, and x-goog-user-project on KMS calls" \
    bash -c "[ $(since '.grant_type=="refresh_token"') = 1 ] && [ $(since '(.path|startswith("/v1/")) and .quota=="nk-quota"') -ge 2 ]"
jq 'del(.quota_project_id)' "$C/user.json" >"$HOME/.config/gcloud/application_default_credentials.json"
fresh
denied "kms-gcp-auth user credentials without a quota project: Google's reason" ACCESS_DENIED 'requires a quota project'
jq '.refresh_token = "1//revoked"' "$C/user.json" >"$HOME/.config/gcloud/application_default_credentials.json"
fresh
denied "kms-gcp-auth revoked refresh token: ACCESS_DENIED" ACCESS_DENIED \
    'user refresh token\): HTTP 400 invalid_grant: Token has been expired or revoked'
mkdir -p "$NK_TMP/gcloud-dir"
cp "$C/sa-signer.json" "$NK_TMP/gcloud-dir/application_default_credentials.json"
CLOUDSDK_CONFIG=$NK_TMP/gcloud-dir sign_ok "kms-gcp-auth CLOUDSDK_CONFIG's ADC file"
# The variable wins over gcloud's file (a broken one here).
printf '{' >"$HOME/.config/gcloud/application_default_credentials.json"
GOOGLE_APPLICATION_CREDENTIALS=$C/sa-signer.json sign_ok "kms-gcp-auth GOOGLE_APPLICATION_CREDENTIALS before gcloud's file"
rm -f "$HOME/.config/gcloud/application_default_credentials.json"

# 3. Workload identity federation (external_account).
export GOOGLE_APPLICATION_CREDENTIALS=$C/ext-file.json
fresh
mark
sign_ok "kms-gcp-auth external account, file subject token, impersonation"
check "kms-gcp-auth ... STS exchange then generateAccessToken, KMS as the service account" \
    bash -c "[ $(since '.path=="/sts/v1/token" and .subject_token_type=="urn:ietf:params:oauth:token-type:jwt"') = 1 ] &&
        [ $(since '(.path|endswith(":generateAccessToken")) and .principal=="principal:github"') = 1 ]"
mark
sign_ok "kms-gcp-auth external account again: the cached token"
check "kms-gcp-auth ... no STS request" test "$(since '.path=="/sts/v1/token"')" = 0
# A new subject token (the next CI job) is a new identity: exchanged anew.
aud=$(jq -r .audiences.github "$GCP_SETUP")
curl -sf --cacert "$GCP_CA" -H "Authorization: Bearer $(jq -r '.credential_source.headers.Authorization' "$C/ext-url.json" | cut -d' ' -f2)" \
    "$GCP_EP/oidc/token?audience=https:$aud" | jq -r .value >"$NK_TMP/next.jwt"
edit ext-file.json ext-next.json ".credential_source.file = \"$NK_TMP/next.jwt\""
mark
GOOGLE_APPLICATION_CREDENTIALS=$NK_TMP/ext-next.json sign_ok "kms-gcp-auth external account with a new subject token"
check "kms-gcp-auth ... exchanged anew (no other caller's cached token)" test "$(since '.path=="/sts/v1/token"')" = 1
# JSON subject token files.
jq -n --rawfile t "$NK_TMP/next.jwt" '{id_token: ($t|rtrimstr("\n"))}' >"$NK_TMP/subject.json"
edit ext-file.json ext-json.json ".credential_source = {file: \"$NK_TMP/subject.json\", format: {type: \"json\", subject_token_field_name: \"id_token\"}}"
fresh
GOOGLE_APPLICATION_CREDENTIALS=$NK_TMP/ext-json.json sign_ok "kms-gcp-auth external account, JSON subject token file"
# A URL source as GitHub Actions has it (a job token, a JSON answer).
fresh
mark
GOOGLE_APPLICATION_CREDENTIALS=$C/ext-url.json sign_ok "kms-gcp-auth external account, URL subject token (GitHub-like)"
check "kms-gcp-auth ... subject token fetched, exchanged, impersonated" \
    bash -c "[ $(since '.path=="/oidc/token"') = 1 ] && [ $(since '.path=="/sts/v1/token"') = 1 ] &&
        [ $(since '.path|endswith(":generateAccessToken")') = 1 ]"
# Without impersonation: the federated principal itself.
fresh
GOOGLE_APPLICATION_CREDENTIALS=$C/ext-direct.json sign_ok "kms-gcp-auth external account without impersonation" principal:direct
# Faults: a subject token STS refuses, a principal that may not
# impersonate, credential sources we do not run, a header that smuggles
# another.
printf 'eyJhbGciOiJFUzI1NiJ9.e30.bm9wZQ\n' >"$NK_TMP/bad.jwt"
edit ext-file.json ext-bad.json ".credential_source.file = \"$NK_TMP/bad.jwt\""
GOOGLE_APPLICATION_CREDENTIALS=$NK_TMP/ext-bad.json denied "kms-gcp-auth STS refuses the subject token" \
    ACCESS_DENIED 'Google STS token exchange: HTTP 400 invalid_grant: Invalid subject token signature'
edit ext-direct.json ext-noimp.json ".service_account_impersonation_url = \"$GCP_EP/iam/v1/projects/-/serviceAccounts/signer@nk-test.iam.gserviceaccount.com:generateAccessToken\""
fresh
GOOGLE_APPLICATION_CREDENTIALS=$NK_TMP/ext-noimp.json denied "kms-gcp-auth impersonation not allowed: the permission and role" \
    ACCESS_DENIED 'generateAccessToken for signer@nk-test.iam.gserviceaccount.com: HTTP 403 PERMISSION_DENIED.*needs permission iam.serviceAccounts.getAccessToken \(roles/iam.serviceAccountTokenCreator'
edit ext-file.json ext-aws.json '.credential_source = {environment_id: "aws1", regional_cred_verification_url: "https://sts.{region}.amazonaws.com"}'
GOOGLE_APPLICATION_CREDENTIALS=$NK_TMP/ext-aws.json denied "kms-gcp-auth AWS credential source: not supported, said so" \
    VALIDATION_ERROR 'credential_source environment_id \(AWS\) is not supported'
edit ext-file.json ext-exec.json '.credential_source = {executable: {command: "/bin/true"}}'
GOOGLE_APPLICATION_CREDENTIALS=$NK_TMP/ext-exec.json denied "kms-gcp-auth executable credential source: not run" \
    VALIDATION_ERROR 'credential_source executable is not supported'
edit ext-url.json ext-inject.json '.credential_source.headers = {"Authorization": "Bearer x\r\nX-Injected: 1"}'
fresh
GOOGLE_APPLICATION_CREDENTIALS=$NK_TMP/ext-inject.json denied "kms-gcp-auth a header with CR LF is refused" \
    VALIDATION_ERROR 'headers must be at most 16 well-formed'
edit ext-file.json ext-missing.json ".credential_source.file = \"$NK_TMP/no-such.jwt\""
GOOGLE_APPLICATION_CREDENTIALS=$NK_TMP/ext-missing.json denied "kms-gcp-auth subject token file missing" \
    ACCESS_DENIED 'Google external account subject token'

# 4. impersonated_service_account (gcloud auth application-default login
# --impersonate-service-account): the user's token, then the signer's.
fresh
mark
GOOGLE_APPLICATION_CREDENTIALS=$C/impersonated.json sign_ok "kms-gcp-auth impersonated_service_account file"
check "kms-gcp-auth ... refresh-token grant, then generateAccessToken as the user" \
    bash -c "[ $(since '.grant_type=="refresh_token"') = 1 ] && [ $(since '(.path|endswith(":generateAccessToken")) and .principal=="user:dev@example.com"') = 1 ]"

# 5. The metadata server: no file anywhere. GCE_METADATA_HOST points at
# the mock, which insists on Metadata-Flavor: Google.
unset GOOGLE_APPLICATION_CREDENTIALS
fresh
mark
GCE_METADATA_HOST=127.0.0.1:$GCP_HPORT sign_ok "kms-gcp-auth metadata server" sa:gce-default@nk-test.iam.gserviceaccount.com
check "kms-gcp-auth ... asked with Metadata-Flavor: Google over http" \
    test "$(since '(.path|startswith("/computeMetadata/")) and .flavor=="Google" and (.tls|not)')" = 1
dead=$(free_port)
fresh
GCE_METADATA_HOST=127.0.0.1:$dead denied "kms-gcp-auth no credentials anywhere: ACCESS_DENIED saying where it looked" \
    ACCESS_DENIED "no Google credentials found: set GOOGLE_APPLICATION_CREDENTIALS.*gcloud auth application-default login.*http://127.0.0.1:$dead"
GCE_METADATA_HOST='evil.example/x?' denied "kms-gcp-auth GCE_METADATA_HOST must be a host[:port]" \
    VALIDATION_ERROR 'GCE_METADATA_HOST must be a host'

# 6. The token cache entry is read only when private: a copy others may
# read is a miss (a new token is fetched), never used.
export GOOGLE_APPLICATION_CREDENTIALS=$C/sa-signer.json
fresh
sign_ok "kms-gcp-auth token cached"
chmod 644 "$TOKDIR"/*.json
mark
sign_ok "kms-gcp-auth token cache entry readable by others: not used"
check "kms-gcp-auth ... a new token was fetched" test "$(since '.path=="/token"')" = 1

# 7. No secret in any error message, in the trace log of a full run, or in
# the key cache: the service account's private key, the user's client
# secret and refresh token, the CI job token, the subject tokens, and the
# access tokens the cache holds.
log=$NK_TMP/trace.log
for f in "$C/sa-signer.json" "$C/user.json" "$C/ext-url.json" "$C/impersonated.json"; do
    fresh
    GOOGLE_APPLICATION_CREDENTIALS=$f NOTATION_KEYSTORE_LOG=debug NOTATION_KEYSTORE_LOG_FILE=$log run
done
mapfile -t secrets < <(jq -r '.secrets[]' "$GCP_SETUP"; cat "$C/oidc.jwt" "$NK_TMP/next.jwt";
    jq -r .token "$TOKDIR"/*.json 2>/dev/null)
leak=0
for s in "${secrets[@]}"; do
    [ -n "$s" ] && grep -rqF -- "$s" "$allerr" "$log" "$XDG_CACHE_HOME" 2>/dev/null && { leak=1; echo "leaked: ${s:0:12}..."; }
done
check "kms-gcp-auth no secret in stderr, the trace log or the key cache (${#secrets[@]} secrets)" \
    test "$leak" = 0 -a "${#secrets[@]}" -ge 8
check "kms-gcp-auth the trace log was written" grep -q 'Google access token from' "$log"
