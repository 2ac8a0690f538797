#!/usr/bin/env bash
# AWS KMS against moto (through tests/lib/moto_launcher.py, SigV4 checking
# on from the first request): the six key specs, session-less static keys,
# a wrong secret, a user without KMS rights, bad keys, the cache, and that
# get-plugin-metadata never loads libcurl. Signatures are checked with
# Python cryptography, never by moto.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/pki.sh"
. "$NK_ROOT/tests/lib/kms_pki.sh"

MOTO_PY=${MOTO_PY:-/root/.pyenv/shims/python3}
if ! "$MOTO_PY" -c 'import moto, flask' 2>/dev/null; then
    skip "kms-aws" "moto is not importable with $MOTO_PY (not a Debian package)"
    exit 0
fi

port=$(free_port)
setup=$NK_TMP/moto.json
"$MOTO_PY" "$NK_ROOT/tests/lib/moto_launcher.py" --setup "$setup" \
    -H 127.0.0.1 -p "$port" >"$NK_TMP/moto.log" 2>&1 &
moto_pid=$!
at_exit "kill $moto_pid"
wait_port "$port" 30 || { fail "kms-aws: moto did not start"; exit 0; }

export XDG_CACHE_HOME=$NK_TMP/cache HOME=$NK_TMP/home
mkdir -p "$HOME"
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN
export AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_KMS=http://127.0.0.1:$port
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
AWS_ACCESS_KEY_ID=$(jq -r .signer.id "$setup")
AWS_SECRET_ACCESS_KEY=$(jq -r .signer.secret "$setup")
pki=$NK_TMP/pki
printf 'payload to be signed' >"$NK_TMP/payload"
payload=$(base64 -w0 "$NK_TMP/payload")

declare -A SPEC=([rsa-2048]=RSA-2048 [rsa-3072]=RSA-3072 [rsa-4096]=RSA-4096
    [ec-256]=EC-256 [ec-384]=EC-384 [ec-521]=EC-521)
declare -A HASH=([rsa-2048]=SHA-256 [rsa-3072]=SHA-384 [rsa-4096]=SHA-512
    [ec-256]=SHA-256 [ec-384]=SHA-384 [ec-521]=SHA-512)

# sign_ok NAME KEYID SPECNAME CFGJSON: generate-signature, then an
# independent check of the signature and the chain's leaf.
sign_ok() {
    local name=$1 kid=$2 k=$3 cfg=$4 sig alg
    plugin generate-signature "{\"contractVersion\":\"1.0\",\"keyId\":\"$kid\",\"keySpec\":\"${SPEC[$k]}\",\"hashAlgorithm\":\"${HASH[$k]}\",\"payload\":\"$payload\",\"pluginConfig\":$cfg}"
    sig=$(printf '%s' "$OUT" | jq -r .signature 2>/dev/null)
    alg=$(printf '%s' "$OUT" | jq -r .signingAlgorithm 2>/dev/null)
    if [ "$RC" = 0 ] && [ "$(printf '%s' "$OUT" | jq -r .keyId)" = "$kid" ] &&
        [ "$(printf '%s' "$OUT" | jq '.certificateChain|length')" = 3 ] &&
        kms_verify "$NK_TMP/$k.pub" "${SPEC[$k]}" "$NK_TMP/payload" "$sig" 2>"$NK_TMP/verr"; then
        pass "$name ($alg)"
    else
        fail "$name (rc=$RC err=${ERR:0:300} verify=$(head -c 200 "$NK_TMP/verr" 2>/dev/null))"
    fi
}

for k in rsa-2048 rsa-3072 rsa-4096 ec-256 ec-384 ec-521; do
    jq -r ".keys[\"$k\"].pub" "$setup" >"$NK_TMP/$k.pub"
    kms_chain "$pki" "$k" "$NK_TMP/$k.pub" || fail "kms-aws: chain for $k"
done

for k in rsa-2048 rsa-3072 rsa-4096 ec-256 ec-384 ec-521; do
    cfg="{\"certificate-chain\":\"$pki/$k-chain.pem\"}"
    plugin describe-key "{\"contractVersion\":\"1.0\",\"keyId\":\"awskms:///alias/$k\",\"pluginConfig\":$cfg}"
    check "kms-aws describe $k" test "$(printf '%s' "$OUT" | jq -r .keySpec 2>/dev/null)" = "${SPEC[$k]}"
    sign_ok "kms-aws sign $k by alias" "awskms:///alias/$k" "$k" "$cfg"
done

# Key by id and by ARN (region from the ARN), cache off.
k=ec-384
sign_ok "kms-aws sign by key id" "awskms:///$(jq -r ".keys[\"$k\"].id" "$setup")" $k \
    "{\"certificate-chain\":\"$pki/$k-chain.pem\",\"cache\":\"false\"}"
(unset AWS_REGION
 sign_ok "kms-aws sign by ARN, region from ARN" "awskms:///$(jq -r ".keys[\"$k\"].arn" "$setup")" $k \
     "{\"certificate-chain\":\"$pki/$k-chain.pem\",\"cache\":\"false\"}")

# The cache: describe wrote an entry; sign with moto unreachable still
# needs Sign, so check instead that a cached describe makes no request.
check "kms-aws cache entries written" test "$(ls "$XDG_CACHE_HOME/notation-keystore" | wc -l)" -ge 6
log=$NK_TMP/nk.log
NOTATION_KEYSTORE_LOG=info NOTATION_KEYSTORE_LOG_FILE=$log \
    plugin describe-key "{\"contractVersion\":\"1.0\",\"keyId\":\"awskms:///alias/ec-256\",\"pluginConfig\":{\"certificate-chain\":\"$pki/ec-256-chain.pem\"}}"
check "kms-aws cached describe makes no HTTP request" \
    bash -c "[ $RC = 0 ] && grep -q 'key cache hit' '$log' && ! grep -q 'http POST' '$log'"
NOTATION_KEYSTORE_LOG=info NOTATION_KEYSTORE_LOG_FILE=$log.2 \
    sign_ok "kms-aws sign from cache" "awskms:///alias/ec-256" ec-256 "{\"certificate-chain\":\"$pki/ec-256-chain.pem\"}"
check "kms-aws sign from cache makes one request" test "$(grep -c 'http POST' "$log.2")" = 1
check "kms-aws log never shows a credential" bash -c "! grep -q -- '$AWS_SECRET_ACCESS_KEY' '$log' '$log.2'"

cfg256="{\"certificate-chain\":\"$pki/ec-256-chain.pem\",\"cache\":\"false\"}"
# Errors.
AWS_SECRET_ACCESS_KEY=wrong expect_error "kms-aws wrong secret" ACCESS_DENIED describe-key \
    "{\"contractVersion\":\"1.0\",\"keyId\":\"awskms:///alias/ec-256\",\"pluginConfig\":$cfg256}" 'GetPublicKey'
AWS_ACCESS_KEY_ID=$(jq -r .nobody.id "$setup") AWS_SECRET_ACCESS_KEY=$(jq -r .nobody.secret "$setup") \
    expect_error "kms-aws user without kms rights" ACCESS_DENIED describe-key \
    "{\"contractVersion\":\"1.0\",\"keyId\":\"awskms:///alias/ec-256\",\"pluginConfig\":$cfg256}"
expect_error "kms-aws unknown alias" VALIDATION_ERROR describe-key \
    '{"contractVersion":"1.0","keyId":"awskms:///alias/nope","pluginConfig":{"cache":"false"}}' 'NotFoundException'
expect_error "kms-aws encryption key" VALIDATION_ERROR describe-key \
    '{"contractVersion":"1.0","keyId":"awskms:///alias/enc","pluginConfig":{"cache":"false"}}' 'ENCRYPT_DECRYPT|SYMMETRIC'
expect_error "kms-aws secp256k1 key" VALIDATION_ERROR describe-key \
    '{"contractVersion":"1.0","keyId":"awskms:///alias/secp256k1","pluginConfig":{"cache":"false"}}' 'ECC_SECG_P256K1'
expect_error "kms-aws disabled key" VALIDATION_ERROR describe-key \
    '{"contractVersion":"1.0","keyId":"awskms:///alias/disabled","pluginConfig":{"cache":"false"}}' '[Dd]isabled'
expect_error "kms-aws bad uri" VALIDATION_ERROR describe-key \
    '{"contractVersion":"1.0","keyId":"awskms:///"}'
(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
 expect_error "kms-aws no credentials" ACCESS_DENIED describe-key \
     '{"contractVersion":"1.0","keyId":"awskms:///alias/ec-256","pluginConfig":{"cache":"false"}}' 'no AWS credentials')
AWS_ENDPOINT_URL_KMS=http://kms.example.com expect_error "kms-aws http only for loopback" VALIDATION_ERROR describe-key \
    '{"contractVersion":"1.0","keyId":"awskms:///alias/ec-256","pluginConfig":{"cache":"false"}}' 'loopback'

# Shared credentials file with a profile.
(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
 mkdir -p "$HOME/.aws"
 printf '[ci]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
     "$(jq -r .signer.id "$setup")" "$(jq -r .signer.secret "$setup")" >"$HOME/.aws/credentials"
 AWS_PROFILE=ci sign_ok "kms-aws shared credentials profile" "awskms:///alias/ec-256" ec-256 "$cfg256")

# libcurl is loaded only by commands that talk HTTP.
LD_DEBUG=files "$NK_BIN" get-plugin-metadata <<<'{}' >/dev/null 2>"$NK_TMP/ld"
check "kms-aws get-plugin-metadata does not load libcurl" bash -c "! grep -q libcurl '$NK_TMP/ld'"
printf '{"contractVersion":"1.0","keyId":"awskms:///alias/ec-256","pluginConfig":{"cache":"false"}}' |
    LD_DEBUG=files "$NK_BIN" describe-key >/dev/null 2>"$NK_TMP/ld2"
check "kms-aws describe-key loads libcurl" grep -q libcurl "$NK_TMP/ld2"
