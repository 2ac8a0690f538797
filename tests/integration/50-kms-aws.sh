#!/usr/bin/env bash
# AWS KMS against our mock (tests/lib/aws_mock.py, Debian packages only;
# SigV4 checked with botocore on every request): the six key specs, static
# keys, a wrong secret, a user without KMS rights, one without DescribeKey,
# bad keys, the cache and the requests it saves, and that
# get-plugin-metadata never loads libcurl. Then the mock itself with
# requests botocore signs (it must refuse what real KMS refuses), and a
# short cross-check against moto when moto is installed. Signatures are
# checked with Python cryptography, never by the server.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/pki.sh"
. "$NK_ROOT/tests/lib/kms_pki.sh"
. "$NK_ROOT/tests/lib/aws.sh"

port=$(free_port)
setup=$NK_TMP/aws.json mlog=$NK_TMP/aws-mock.jsonl
aws_mock_start "$port" "$setup" "$mlog" || { fail "kms-aws: the AWS mock did not start"; exit 0; }

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
# independent check of the signature with $PUBDIR/SPECNAME.pub (default
# $NK_TMP) and of the chain's length.
sign_ok() {
    local name=$1 kid=$2 k=$3 cfg=$4 sig alg pub=${PUBDIR:-$NK_TMP}/$3.pub
    plugin generate-signature "{\"contractVersion\":\"1.0\",\"keyId\":\"$kid\",\"keySpec\":\"${SPEC[$k]}\",\"hashAlgorithm\":\"${HASH[$k]}\",\"payload\":\"$payload\",\"pluginConfig\":$cfg}"
    sig=$(printf '%s' "$OUT" | jq -r .signature 2>/dev/null)
    alg=$(printf '%s' "$OUT" | jq -r .signingAlgorithm 2>/dev/null)
    if [ "$RC" = 0 ] && [ "$(printf '%s' "$OUT" | jq -r .keyId)" = "$kid" ] &&
        [ "$(printf '%s' "$OUT" | jq '.certificateChain|length')" = 3 ] &&
        kms_verify "$pub" "${SPEC[$k]}" "$NK_TMP/payload" "$sig" 2>"$NK_TMP/verr"; then
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

# Key by id and by ARN (region from the ARN), cache off: GetPublicKey,
# DescribeKey (the key's state), Sign.
k=ec-384
: >"$mlog"
sign_ok "kms-aws sign by key id" "awskms:///$(jq -r ".keys[\"$k\"].id" "$setup")" $k \
    "{\"certificate-chain\":\"$pki/$k-chain.pem\",\"cache\":\"false\"}"
check "kms-aws uncached sign: GetPublicKey, DescribeKey, Sign ($(aws_log_ops "$mlog"))" \
    test "$(aws_log_ops "$mlog")" = "GetPublicKey 200 DescribeKey 200 Sign 200"
(unset AWS_REGION
 sign_ok "kms-aws sign by ARN, region from ARN" "awskms:///$(jq -r ".keys[\"$k\"].arn" "$setup")" $k \
     "{\"certificate-chain\":\"$pki/$k-chain.pem\",\"cache\":\"false\"}")

# The cache: describe wrote an entry; a cached describe makes no request
# and a sign only the Sign request (counted by the plugin's log and the
# mock's).
check "kms-aws cache entries written" test "$(ls "$XDG_CACHE_HOME/notation-keystore" | wc -l)" -ge 6
log=$NK_TMP/nk.log
NOTATION_KEYSTORE_LOG=info NOTATION_KEYSTORE_LOG_FILE=$log \
    plugin describe-key "{\"contractVersion\":\"1.0\",\"keyId\":\"awskms:///alias/ec-256\",\"pluginConfig\":{\"certificate-chain\":\"$pki/ec-256-chain.pem\"}}"
check "kms-aws cached describe makes no HTTP request" \
    bash -c "[ $RC = 0 ] && grep -q 'key cache hit' '$log' && ! grep -q 'http POST' '$log'"
: >"$mlog"
NOTATION_KEYSTORE_LOG=info NOTATION_KEYSTORE_LOG_FILE=$log.2 \
    sign_ok "kms-aws sign from cache" "awskms:///alias/ec-256" ec-256 "{\"certificate-chain\":\"$pki/ec-256-chain.pem\"}"
check "kms-aws sign from cache makes one request" test "$(grep -c 'http POST' "$log.2")" = 1
check "kms-aws sign from cache: the mock saw exactly one Sign ($(aws_log_ops "$mlog"))" \
    test "$(aws_log_ops "$mlog")" = "Sign 200"
check "kms-aws log never shows a credential" bash -c "! grep -q -- '$AWS_SECRET_ACCESS_KEY' '$log' '$log.2'"

# user:password@ in the endpoint URL reaches neither stderr, nor the trace
# log, nor the cache (whose key names the endpoint).
AWS_ENDPOINT_URL_KMS=http://u:s3cret@127.0.0.1:$port NOTATION_KEYSTORE_LOG=info \
    NOTATION_KEYSTORE_LOG_FILE=$NK_TMP/cred.log plugin describe-key \
    "{\"contractVersion\":\"1.0\",\"keyId\":\"awskms:///alias/ec-384\",\"pluginConfig\":{\"certificate-chain\":\"$pki/ec-384-chain.pem\"}}"
check "kms-aws endpoint with user:password: the key cache was traced" \
    grep -q "key cache [a-z]* for awskms http://127.0.0.1:$port us-east-1 alias/ec-384" "$NK_TMP/cred.log"
check "kms-aws no password from the endpoint URL in stderr, the log or the cache" \
    bash -c '! printf "%s\n" "$0" | cat - "$1" | grep -qF s3cret && ! grep -rqF s3cret "$2"' \
    "$ERR" "$NK_TMP/cred.log" "$XDG_CACHE_HOME"

cfg256="{\"certificate-chain\":\"$pki/ec-256-chain.pem\",\"cache\":\"false\"}"
# Errors.
# A wrong secret: the mock recomputed the signature with the signer's real
# secret and refused it, as KMS does (400 InvalidSignatureException).
: >"$mlog"
AWS_SECRET_ACCESS_KEY=wrong expect_error "kms-aws wrong secret" ACCESS_DENIED describe-key \
    "{\"contractVersion\":\"1.0\",\"keyId\":\"awskms:///alias/ec-256\",\"pluginConfig\":$cfg256}" \
    'GetPublicKey.*InvalidSignatureException.*HTTP 400'
check "kms-aws wrong secret refused for the signer's access key" test \
    "$(jq -r '"\(.target) \(.akid) \(.status) \(.error)"' "$mlog")" = \
    "GetPublicKey $AWS_ACCESS_KEY_ID 400 InvalidSignatureException"
AWS_ACCESS_KEY_ID=AKIAUNKNOWNKEY000000 AWS_SECRET_ACCESS_KEY=x expect_error "kms-aws unknown access key" \
    ACCESS_DENIED describe-key \
    "{\"contractVersion\":\"1.0\",\"keyId\":\"awskms:///alias/ec-256\",\"pluginConfig\":$cfg256}" \
    'UnrecognizedClientException'
AWS_ACCESS_KEY_ID=$(jq -r .nobody.id "$setup") AWS_SECRET_ACCESS_KEY=$(jq -r .nobody.secret "$setup") \
    expect_error "kms-aws user without kms rights" ACCESS_DENIED describe-key \
    "{\"contractVersion\":\"1.0\",\"keyId\":\"awskms:///alias/ec-256\",\"pluginConfig\":$cfg256}" \
    'AccessDeniedException.*kms:GetPublicKey'
# GetPublicKey and Sign suffice: a refused DescribeKey only skips the
# state check.
: >"$mlog"
AWS_ACCESS_KEY_ID=$(jq -r .pubsign.id "$setup") AWS_SECRET_ACCESS_KEY=$(jq -r .pubsign.secret "$setup") \
    sign_ok "kms-aws sign without kms:DescribeKey" "awskms:///alias/ec-256" ec-256 "$cfg256"
check "kms-aws without kms:DescribeKey: DescribeKey refused, then Sign ($(aws_log_ops "$mlog"))" \
    test "$(aws_log_ops "$mlog")" = "GetPublicKey 200 DescribeKey 400 Sign 200"
expect_error "kms-aws unknown alias" VALIDATION_ERROR describe-key \
    '{"contractVersion":"1.0","keyId":"awskms:///alias/nope","pluginConfig":{"cache":"false"}}' 'NotFoundException'
expect_error "kms-aws encryption key" VALIDATION_ERROR describe-key \
    '{"contractVersion":"1.0","keyId":"awskms:///alias/enc","pluginConfig":{"cache":"false"}}' 'ENCRYPT_DECRYPT|SYMMETRIC'
expect_error "kms-aws secp256k1 key" VALIDATION_ERROR describe-key \
    '{"contractVersion":"1.0","keyId":"awskms:///alias/secp256k1","pluginConfig":{"cache":"false"}}' 'ECC_SECG_P256K1'
expect_error "kms-aws disabled key" VALIDATION_ERROR describe-key \
    '{"contractVersion":"1.0","keyId":"awskms:///alias/disabled","pluginConfig":{"cache":"false"}}' '[Dd]isabled'
expect_error "kms-aws key pending deletion" VALIDATION_ERROR describe-key \
    '{"contractVersion":"1.0","keyId":"awskms:///alias/pending","pluginConfig":{"cache":"false"}}' 'KMSInvalidStateException'
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

# The mock itself, with requests botocore signs (tests/lib/aws_probe.py): a
# mock that took any signature, or signed wrongly, fails here.
sid=$(jq -r .signer.id "$setup") ssec=$(jq -r .signer.secret "$setup")
probe() { "$NK_PY" "$NK_ROOT/tests/lib/aws_probe.py" "http://127.0.0.1:$port/" "$@"; }
# probe_is NAME STATUS TYPE OP BODY AKID SECRET [OPTION...]: the answer's
# HTTP status and __type (after any '#'; "-" for none).
probe_is() {
    local name=$1 want="$2 $3" got
    shift 3
    got=$(probe "$@" 2>"$NK_TMP/probe.err" |
        jq -r '"\(.status) \(.body.__type // "-" | sub(".*#"; ""))"' 2>/dev/null)
    if [ "$got" = "$want" ]; then
        pass "$name"
    else
        fail "$name (got '${got:-nothing}' $(head -c 300 "$NK_TMP/probe.err"))"
    fi
}
gpk='{"KeyId":"alias/ec-256"}'
d32=$(head -c 32 /dev/zero | base64)
probe_is "kms-aws mock: a botocore-signed request is accepted" 200 - GetPublicKey "$gpk" "$sid" "$ssec"
probe_is "kms-aws mock: a wrong secret is refused" 400 InvalidSignatureException GetPublicKey "$gpk" "$sid" "${ssec}x"
probe_is "kms-aws mock: a body changed after signing is refused" 400 InvalidSignatureException \
    GetPublicKey "$gpk" "$sid" "$ssec" --tamper
probe_is "kms-aws mock: a signature over 5 minutes old is refused" 400 InvalidSignatureException \
    GetPublicKey "$gpk" "$sid" "$ssec" --skew -400
probe_is "kms-aws mock: a credential scope for sts is refused" 400 InvalidSignatureException \
    GetPublicKey "$gpk" "$sid" "$ssec" --service sts
probe_is "kms-aws mock: an unknown access key is refused" 400 UnrecognizedClientException \
    GetPublicKey "$gpk" AKIAUNKNOWNKEY000000 "$ssec"
probe_is "kms-aws mock: PSS with an EC key is InvalidKeyUsageException" 400 InvalidKeyUsageException \
    Sign "{\"KeyId\":\"alias/ec-256\",\"Message\":\"$d32\",\"MessageType\":\"DIGEST\",\"SigningAlgorithm\":\"RSASSA_PSS_SHA_256\"}" "$sid" "$ssec"
probe_is "kms-aws mock: a DIGEST of the wrong length is ValidationException" 400 ValidationException \
    Sign "{\"KeyId\":\"alias/ec-384\",\"Message\":\"$d32\",\"MessageType\":\"DIGEST\",\"SigningAlgorithm\":\"ECDSA_SHA_384\"}" "$sid" "$ssec"
probe_is "kms-aws mock: an unknown key id is NotFoundException" 400 NotFoundException \
    GetPublicKey '{"KeyId":"0b7e1a52-8f0c-4f4e-9d55-2d1b8c4f6a01"}' "$sid" "$ssec"
# RAW messages: the mock hashes them itself; PSS salt = digest length,
# ECDSA in DER.
sig=$(probe Sign "{\"KeyId\":\"alias/rsa-2048\",\"Message\":\"$payload\",\"MessageType\":\"RAW\",\"SigningAlgorithm\":\"RSASSA_PSS_SHA_256\"}" \
    "$sid" "$ssec" | jq -r .body.Signature)
check "kms-aws mock: RAW RSASSA_PSS_SHA_256 verifies with salt = 32" \
    kms_verify "$NK_TMP/rsa-2048.pub" RSA-2048 "$NK_TMP/payload" "$sig"
sig=$(probe Sign "{\"KeyId\":\"alias/ec-384\",\"Message\":\"$payload\",\"MessageType\":\"RAW\",\"SigningAlgorithm\":\"ECDSA_SHA_384\"}" \
    "$sid" "$ssec" | jq -r .body.Signature)
der_ok() {
    "$NK_PY" -c 'import base64, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
pub = serialization.load_pem_public_key(open(sys.argv[1], "rb").read())
pub.verify(base64.b64decode(sys.argv[3], validate=True),
           open(sys.argv[2], "rb").read(), ec.ECDSA(hashes.SHA384()))' "$@"
}
check "kms-aws mock: RAW ECDSA_SHA_384 answers a DER signature" der_ok "$NK_TMP/ec-384.pub" "$NK_TMP/payload" "$sig"

# moto, when installed (it is not a Debian package): describe and sign
# against tests/lib/moto_launcher.py for two key specs.
if mpy=$(moto_python); then
    mport=$(free_port) msetup=$NK_TMP/moto.json
    "$mpy" "$NK_ROOT/tests/lib/moto_launcher.py" --setup "$msetup" \
        -H 127.0.0.1 -p "$mport" >"$NK_TMP/moto.log" 2>&1 &
    at_exit "kill $!"
    if wait_port "$mport" 60 && wait_file "$msetup" 10; then
        mkdir -p "$NK_TMP/moto"
        (export AWS_ENDPOINT_URL_KMS=http://127.0.0.1:$mport PUBDIR=$NK_TMP/moto
         AWS_ACCESS_KEY_ID=$(jq -r .signer.id "$msetup")
         AWS_SECRET_ACCESS_KEY=$(jq -r .signer.secret "$msetup")
         for k in rsa-3072 ec-521; do
             jq -r ".keys[\"$k\"].pub" "$msetup" >"$PUBDIR/$k.pub"
             kms_chain "$NK_TMP/moto-pki" "$k" "$PUBDIR/$k.pub" || fail "kms-aws against moto: chain for $k"
             cfg="{\"certificate-chain\":\"$NK_TMP/moto-pki/$k-chain.pem\",\"cache\":\"false\"}"
             plugin describe-key "{\"contractVersion\":\"1.0\",\"keyId\":\"awskms:///alias/$k\",\"pluginConfig\":$cfg}"
             check "kms-aws against moto: describe $k" test "$(printf '%s' "$OUT" | jq -r .keySpec 2>/dev/null)" = "${SPEC[$k]}"
             sign_ok "kms-aws against moto: sign $k" "awskms:///alias/$k" "$k" "$cfg"
         done)
    else
        fail "kms-aws against moto: moto_launcher.py did not start ($(tail -c 300 "$NK_TMP/moto.log"))"
    fi
else
    skip "kms-aws against moto" "moto is not installed (not a Debian package)"
fi
