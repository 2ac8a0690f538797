#!/usr/bin/env bash
# AWS credential and region resolution against our KMS/STS mock
# (tests/lib/aws_mock.py: SigV4 and session tokens checked on every
# request) and tests/lib/imds_mock.py: session tokens (environment and
# shared file),
# web identity through STS AssumeRoleWithWebIdentity (environment and
# profile), IMDSv2, AWS_PROFILE with shared config/credentials files, and
# the region from the profile, the ARN and instance metadata. Signatures
# are checked with Python cryptography, never by the server.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/pki.sh"
. "$NK_ROOT/tests/lib/kms_pki.sh"
. "$NK_ROOT/tests/lib/aws.sh"

aws_test_start kms-aws-auth
iport=$(free_port)
sid=$(jq -r .signer.id "$setup") ssec=$(jq -r .signer.secret "$setup")
role=$(jq -r .role_arn "$setup")
k=ec-384
aws_key_chain "$setup" "$k" || fail "kms-aws-auth: chain"
cfg="{\"certificate-chain\":\"$NK_TMP/pki/$k-chain.pem\",\"cache\":\"false\"}"
printf 'payload for the credential tests' >"$NK_TMP/payload"
payload=$(base64 -w0 "$NK_TMP/payload")
sreq() { # KEYID
    printf '{"contractVersion":"1.0","keyId":"%s","keySpec":"EC-384","hashAlgorithm":"SHA-384","payload":"%s","pluginConfig":%s}' \
        "$1" "$payload" "$cfg"
}
allerr=$NK_TMP/all-stderr
# sign_ok NAME [KEYID]: generate-signature with the current environment,
# the signature checked independently.
sign_ok() {
    local name=$1 kid=${2:-awskms:///alias/$k} sig
    plugin generate-signature "$(sreq "$kid")"
    printf '%s\n' "$ERR" >>"$allerr"
    sig=$(printf '%s' "$OUT" | jq -r .signature 2>/dev/null)
    if [ "$RC" = 0 ] && kms_verify "$NK_TMP/$k.pub" EC-384 "$NK_TMP/payload" "$sig" 2>/dev/null; then
        pass "$name"
    else
        fail "$name (rc=$RC err=${ERR:0:300})"
    fi
}
# denied NAME CODE REGEX: generate-signature fails with CODE and REGEX.
denied() {
    expect_error "$1" "$2" generate-signature "$(sreq "awskms:///alias/$k")" "$3"
    printf '%s\n' "$ERR" >>"$allerr"
}

# STS credentials for the role (what CI OIDC hands out), fetched directly.
sts() { # TOKEN -> XML
    curl -s -X POST "http://127.0.0.1:$port/" --data-urlencode Action=AssumeRoleWithWebIdentity \
        --data-urlencode Version=2011-06-15 --data-urlencode "RoleArn=$role" \
        --data-urlencode RoleSessionName=direct --data-urlencode "WebIdentityToken=$1"
}
xml() { sed -n "s:.*<$1>\([^<]*\)</$1>.*:\1:p" <<<"$2"; }
x=$(sts ci-oidc-token)
tak=$(xml AccessKeyId "$x") tsec=$(xml SecretAccessKey "$x") ttok=$(xml SessionToken "$x")
check "kms-aws-auth STS gave temporary credentials" test "${tak:0:4}" = ASIA -a -n "$ttok"

# 1. Session tokens from the environment.
AWS_ACCESS_KEY_ID=$tak AWS_SECRET_ACCESS_KEY=$tsec AWS_SESSION_TOKEN=$ttok \
    sign_ok "kms-aws-auth session token from the environment"
AWS_ACCESS_KEY_ID=$tak AWS_SECRET_ACCESS_KEY=$tsec \
    denied "kms-aws-auth temporary keys without their session token" ACCESS_DENIED 'UnrecognizedClientException.*security token'
AWS_ACCESS_KEY_ID=$tak AWS_SECRET_ACCESS_KEY=$tsec AWS_SESSION_TOKEN=${ttok%????}AAAA \
    denied "kms-aws-auth wrong session token" ACCESS_DENIED 'UnrecognizedClientException.*security token'
# The mock signs the request again with the signer's real secret: a wrong
# one is refused as KMS refuses it.
: >"$mlog"
AWS_ACCESS_KEY_ID=$sid AWS_SECRET_ACCESS_KEY=${ssec}x \
    denied "kms-aws-auth wrong secret" ACCESS_DENIED 'InvalidSignatureException.*signature'
check "kms-aws-auth wrong secret refused for the signer's access key" test \
    "$(jq -r '"\(.target) \(.akid) \(.status) \(.error)"' "$mlog")" = \
    "GetPublicKey $sid 400 InvalidSignatureException"

# 2. Shared files and AWS_PROFILE: credentials file with a session token,
# keys in the config file, custom file locations, region from the profile.
printf '[default]\naws_access_key_id = AKIDNOTUSED\naws_secret_access_key = nope\n[ci]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_session_token = %s\n' \
    "$tak" "$tsec" "$ttok" >"$HOME/.aws/credentials"
printf '[profile ci]\nregion = us-east-1\n[profile cfgkeys]\nregion = us-east-1\naws_access_key_id = %s\naws_secret_access_key = %s\n[profile elsewhere]\nregion = eu-west-1\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
    "$sid" "$ssec" "$sid" "$ssec" >"$HOME/.aws/config"
(unset AWS_REGION
 AWS_PROFILE=ci sign_ok "kms-aws-auth AWS_PROFILE with a session token in ~/.aws/credentials, region from the profile"
 AWS_PROFILE=cfgkeys sign_ok "kms-aws-auth AWS_PROFILE with keys in ~/.aws/config"
 AWS_PROFILE=elsewhere denied "kms-aws-auth region from the profile is used (no key in eu-west-1)" VALIDATION_ERROR 'NotFound'
 AWS_PROFILE=elsewhere sign_ok "kms-aws-auth region from the ARN beats the profile's" "awskms:///$(jq -r ".keys[\"$k\"].arn" "$setup")"
 AWS_PROFILE=nosuch denied "kms-aws-auth no region anywhere" VALIDATION_ERROR 'no AWS region')
mv "$HOME/.aws" "$NK_TMP/aws-elsewhere"
AWS_SHARED_CREDENTIALS_FILE=$NK_TMP/aws-elsewhere/credentials AWS_CONFIG_FILE=$NK_TMP/aws-elsewhere/config \
    AWS_PROFILE=ci sign_ok "kms-aws-auth AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE"
AWS_SHARED_CREDENTIALS_FILE=$NK_TMP/aws-elsewhere/credentials \
    denied "kms-aws-auth default profile used without AWS_PROFILE (its bad keys refused)" ACCESS_DENIED 'UnrecognizedClientException'
AWS_ACCESS_KEY_ID=$sid AWS_SECRET_ACCESS_KEY=$ssec AWS_SHARED_CREDENTIALS_FILE=$NK_TMP/aws-elsewhere/credentials \
    AWS_PROFILE=default sign_ok "kms-aws-auth environment beats the profile"

# 3. Web identity through STS AssumeRoleWithWebIdentity (unsigned).
printf 'ci-oidc-token\n' >"$NK_TMP/oidc.jwt"
: >"$mlog"
AWS_WEB_IDENTITY_TOKEN_FILE=$NK_TMP/oidc.jwt AWS_ROLE_ARN=$role AWS_ROLE_SESSION_NAME=gha \
    sign_ok "kms-aws-auth web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN)"
wi_requests() {
    [ "$(aws_log_ops "$mlog")" = "AssumeRoleWithWebIdentity 200 GetPublicKey 200 DescribeKey 200 Sign 200" ] &&
        [ "$(jq -r .akid "$mlog" | cut -c1-4 | paste -sd' ')" = "null ASIA ASIA ASIA" ]
}
check "kms-aws-auth web identity: unsigned STS call, then KMS with its temporary key ($(aws_log_ops "$mlog"))" wi_requests
printf 'invalid-token' >"$NK_TMP/bad.jwt"
AWS_WEB_IDENTITY_TOKEN_FILE=$NK_TMP/bad.jwt AWS_ROLE_ARN=$role \
    denied "kms-aws-auth web identity token refused by STS" ACCESS_DENIED 'InvalidIdentityToken'
AWS_WEB_IDENTITY_TOKEN_FILE=$NK_TMP/missing.jwt AWS_ROLE_ARN=$role \
    plugin generate-signature "$(sreq "awskms:///alias/$k")"
named() { jq -e --arg r "$1" '.errorMessage|test($r)' <<<"$ERR" >/dev/null; }
check "kms-aws-auth web identity token file missing is named" named AWS_WEB_IDENTITY_TOKEN_FILE
mkdir -p "$HOME/.aws"
printf '[profile oidc]\nregion = us-east-1\nrole_arn = %s\nweb_identity_token_file = %s\n' "$role" "$NK_TMP/oidc.jwt" >"$HOME/.aws/config"
AWS_PROFILE=oidc sign_ok "kms-aws-auth web identity from the profile"

# 4. IMDSv2 from our mock (the mock's signer keys served as the role's).
jq '{AccessKeyId:.signer.id, SecretAccessKey:.signer.secret, Token:""}' "$setup" >"$NK_TMP/imds-creds.json"
ilog=$NK_TMP/imds.jsonl
IMDS_MOCK_LIFETIME=200 "$NK_PY" "$NK_ROOT/tests/lib/imds_mock.py" --port "$iport" \
    --creds "$NK_TMP/imds-creds.json" --log "$ilog" --container-token ecs-auth-7d1 \
    >"$NK_TMP/imds.log" 2>&1 &
at_exit "kill $!"
wait_port "$iport" 10 || fail "kms-aws-auth: imds mock did not start"
rm -rf "$HOME/.aws"
(unset AWS_EC2_METADATA_DISABLED
 export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$iport/
 sign_ok "kms-aws-auth IMDSv2 credentials"
 check "kms-aws-auth IMDSv2: token PUT first, every GET with the token" bash -c "
     [ \"\$(head -1 '$ilog' | jq -r .method)\" = PUT ] &&
     [ \$(jq -c 'select(.token==false)' '$ilog' | wc -l) = 0 ] &&
     jq -c 'select(.path==\"/latest/meta-data/iam/security-credentials/notation-ci\")' '$ilog' | grep -q ."
 (unset AWS_REGION
  : >"$ilog"
  sign_ok "kms-aws-auth region from instance metadata"
  check "kms-aws-auth region was read from placement/region" \
      bash -c "jq -c 'select(.path==\"/latest/meta-data/placement/region\")' '$ilog' | grep -q .")
 AWS_EC2_METADATA_DISABLED=true denied "kms-aws-auth AWS_EC2_METADATA_DISABLED skips IMDS" ACCESS_DENIED 'no AWS credentials')

# 5. Instance metadata is never proxied: serve it on this host's own
# non-loopback address (loopback is never proxied anyway) with every proxy
# variable pointing at a dead proxy.
hostip=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9.]+$' | grep -v '^127\.' | head -1)
if [ -n "$hostip" ]; then
    xport=$(free_port)
    IMDS_MOCK_LIFETIME=100 "$NK_PY" "$NK_ROOT/tests/lib/imds_mock.py" --port "$xport" \
        --bind "$hostip" --creds "$NK_TMP/imds-creds.json" >"$NK_TMP/imds2.log" 2>&1 &
    at_exit "kill $!"
    sleep 0.5
    dead=http://127.0.0.1:9
    # curl's exit code 7 is "could not connect" (to the proxy): a missing
    # curl (127) or any other failure does not count.
    proxy_breaks() {
        curl -s -m 3 -x "$dead" -o /dev/null -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' \
            "http://$hostip:$xport/latest/api/token"
        [ $? = 7 ]
    }
    check "kms-aws-auth the dead proxy would break a proxied request" proxy_breaks
    (unset AWS_EC2_METADATA_DISABLED NO_PROXY no_proxy
     export HTTP_PROXY=$dead HTTPS_PROXY=$dead http_proxy=$dead https_proxy=$dead ALL_PROXY=$dead
     AWS_EC2_METADATA_SERVICE_ENDPOINT=http://$hostip:$xport \
         sign_ok "kms-aws-auth IMDSv2 on $hostip bypasses HTTP(S)_PROXY")
else
    skip "kms-aws-auth IMDSv2 bypasses HTTP(S)_PROXY" "no non-loopback address on this machine"
fi

# 6. Container credentials (ECS/EKS): full URI plus authorization token.
(unset AWS_EC2_METADATA_DISABLED
 export AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$iport/container/credentials
 AWS_CONTAINER_AUTHORIZATION_TOKEN=ecs-auth-7d1 sign_ok "kms-aws-auth container credentials with authorization token"
 printf 'ecs-auth-7d1\n' >"$NK_TMP/ecs-token"
 AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$NK_TMP/ecs-token sign_ok "kms-aws-auth container credentials, token from a file"
 AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong denied "kms-aws-auth container endpoint refuses the token" ACCESS_DENIED 'container')

# 7. No secret, session token or web identity token in any message.
leak=0
for s in "$ssec" "$tsec" "$ttok" ci-oidc-token; do
    grep -qF -- "$s" "$allerr" && leak=1
done
check "kms-aws-auth no credential in stderr ($(grep -c . "$allerr") errors)" test "$leak" = 0
