#!/usr/bin/env bash
# Vault logins beyond a token, against tests/lib/vault_mock.py over HTTPS:
# the AWS auth method (the mock rebuilds the signed GetCallerIdentity with
# botocore and checks its SigV4 signature, the signed server id header, the
# mount), AWS credentials for it from the AWS chain (a credential_process
# profile), TLS certificate auth (the mock's TLS layer verifies the client
# certificate against its client CA), VAULT_SKIP_VERIFY refused, one fresh
# login when a login token is refused (never for VAULT_TOKEN), and doctor's
# credentials line. Signatures are checked with Python cryptography.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/pki.sh"
. "$NK_ROOT/tests/lib/kms_pki.sh"

tls=$NK_TMP/tls
kms_tls "$tls" vault || { fail "kms-vault-auth: test TLS CA"; exit 0; }
# Client certificates: from a client CA the mock trusts (the role's CN and
# another CN), and a self-signed one with the role's CN.
cdir=$NK_TMP/client
mkdir -p "$cdir"
ccert() { # NAME CN [CA]: $cdir/NAME.pem + .key, issued by CA (else self-signed)
    local ext=$cdir/ext.cnf
    printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n' >"$ext"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
        -keyout "$cdir/$1.key" -out "$cdir/$1.csr" 2>/dev/null || return 1
    if [ -n "${3:-}" ]; then
        openssl x509 -req -in "$cdir/$1.csr" -CA "$cdir/$3.pem" -CAkey "$cdir/$3.key" \
            -CAcreateserial -days 2 -extfile "$ext" -out "$cdir/$1.pem" 2>/dev/null
    else
        openssl x509 -req -in "$cdir/$1.csr" -signkey "$cdir/$1.key" -days 2 \
            -extfile "$ext" -out "$cdir/$1.pem" 2>/dev/null
    fi
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=nk-client-ca \
    -keyout "$cdir/ca.key" -out "$cdir/ca.pem" -days 2 2>/dev/null &&
    ccert good notation-ci-client ca && ccert other someone-else ca &&
    ccert rogue notation-ci-client || { fail "kms-vault-auth: client certificates"; exit 0; }
sport=$(free_port)
setup=$NK_TMP/vault.json mocklog=$NK_TMP/vault-requests.jsonl
VAULT_MOCK_LIFETIME=300 "$NK_PY" "$NK_ROOT/tests/lib/vault_mock.py" \
    --setup "$setup" --log "$mocklog" --only ecdsa-p256 --client-ca "$cdir/ca.pem" \
    --https "$sport" "$tls/vault-server.pem" "$tls/vault-server.key" \
    >"$NK_TMP/vault.log" 2>&1 &
at_exit "kill $!"
wait_file "$setup" 60 || { fail "kms-vault-auth: mock did not start"; cat "$NK_TMP/vault.log"; exit 0; }
: >>"$mocklog"

export XDG_CACHE_HOME=$NK_TMP/cache HOME=$NK_TMP/home
mkdir -p "$HOME"
for v in $(env | grep -oE '^(VAULT|BAO|AWS)_[A-Z0-9_]*'); do unset "$v"; done
unset TRANSIT_SECRET_ENGINE_PATH
export VAULT_ADDR=https://127.0.0.1:$sport VAULT_CACERT=$tls/vault-ca.pem
export AWS_EC2_METADATA_DISABLED=true
awsid=$(jq -r .aws.id "$setup") awssec=$(jq -r .aws.secret "$setup")
root=$(jq -r .root_token "$setup")
roleid=$(jq -r .approle.role_id "$setup") secid=$(jq -r .approle.secret_id "$setup")
for v in awsid awssec root roleid secid; do
    [ -n "${!v}" ] && [ "${!v}" != null ] || { fail "kms-vault-auth: mock setup lacks $v"; exit 0; }
done
allerr=$NK_TMP/all-stderr
printf 'payload for the vault logins' >"$NK_TMP/payload"
payload=$(base64 -w0 "$NK_TMP/payload")
pubf=$NK_TMP/p256.pem
jq -r '.keys["/transit/ecdsa-p256"]["1"]' "$setup" >"$pubf"
kms_chain "$NK_TMP/pki" p256 "$pubf" >/dev/null 2>&1 || fail "kms-vault-auth: chain"
cfg="{\"certificate-chain\":\"$NK_TMP/pki/p256-chain.pem\",\"cache\":\"false\"}"
req="{\"contractVersion\":\"1.0\",\"keyId\":\"hashivault://ecdsa-p256\",\"keySpec\":\"EC-256\",\"hashAlgorithm\":\"SHA-256\",\"payload\":\"$payload\",\"pluginConfig\":$cfg}"

eval "$(declare -f plugin | sed '1s/^plugin/nk_plugin_orig/')"
plugin() {
    nk_plugin_orig "$@"
    printf '%s\n' "$ERR" >>"$allerr"
}
# sign_ok NAME: generate-signature, the signature checked independently.
sign_ok() {
    local sig
    plugin generate-signature "$req"
    sig=$(printf '%s' "$OUT" | jq -r .signature 2>/dev/null)
    if [ "$RC" = 0 ] && kms_verify "$pubf" EC-256 "$NK_TMP/payload" "$sig" 2>"$NK_TMP/verr"; then
        pass "$1"
    else
        fail "$1 (rc=$RC err=${ERR:0:400} verify=$(tail -c 200 "$NK_TMP/verr" 2>/dev/null))"
    fi
}
# mark: remembers where the mock's log ends; since JQ: the requests after
# it, one compact line each, "PATH STATUS-less" (the mock logs requests).
mark() { mline=$(wc -l <"$mocklog"); }
since() { tail -n +"$((mline + 1))" "$mocklog" | jq -c "$1"; }
# count_is N JQ: exactly N requests since the mark satisfy JQ (the log must
# be there: no count from a missing file).
count_is() { [ -f "$mocklog" ] && [ "$(since "select($2)|1" | wc -l)" = "$1" ]; }
uses() { # the next logins' tokens answer N1, N2 ... requests
    ctl "{\"uses\":[$1]}"
}
ctl() { # the mock's test control (uses, lease, renewable, delay)
    curl -sSf --cacert "$VAULT_CACERT" -X POST --data "$1" \
        "$VAULT_ADDR/v1/mock/login-uses" >/dev/null
}

# 1. VAULT_SKIP_VERIFY: TLS verification is never off, so it is refused.
mark
VAULT_TOKEN=$root VAULT_SKIP_VERIFY=true expect_error "kms-vault-auth VAULT_SKIP_VERIFY=true refused" \
    VALIDATION_ERROR generate-signature "$req" 'VAULT_SKIP_VERIFY .*is set.*never turned off.*VAULT_CACERT'
VAULT_TOKEN=$root BAO_SKIP_VERIFY=1 expect_error "kms-vault-auth BAO_SKIP_VERIFY=1 refused for hashivault:// too" \
    VALIDATION_ERROR generate-signature "$req" 'BAO_SKIP_VERIFY\) is set'
check "kms-vault-auth ... before any request" count_is 0 true
VAULT_TOKEN=$root VAULT_SKIP_VERIFY=false sign_ok "kms-vault-auth VAULT_SKIP_VERIFY=false is fine"

# 2. AWS auth method with environment keys.
export AWS_ACCESS_KEY_ID=$awsid AWS_SECRET_ACCESS_KEY=$awssec
mark
VAULT_AWS_ROLE=signer sign_ok "kms-vault-auth AWS login"
check "kms-vault-auth AWS login at auth/aws/login, role signer, no token sent" \
    count_is 1 '.path=="/v1/auth/aws/login" and .token==false and .body.role=="signer" and .body.iam_http_request_method=="POST"'
mark
VAULT_AWS_ROLE=signer VAULT_AWS_PATH=aws-ci sign_ok "kms-vault-auth AWS login at VAULT_AWS_PATH"
check "kms-vault-auth ... at auth/aws-ci/login" count_is 1 '.path=="/v1/auth/aws-ci/login"'
VAULT_AWS_ROLE=strict expect_error "kms-vault-auth AWS role needing the server id, none sent" \
    ACCESS_DENIED generate-signature "$req" 'IAM server ID'
VAULT_AWS_ROLE=strict VAULT_AWS_HEADER_VALUE=vault.example.com \
    sign_ok "kms-vault-auth AWS login with VAULT_AWS_HEADER_VALUE (signed)"
VAULT_AWS_ROLE=strict VAULT_AWS_HEADER_VALUE=other.example.com expect_error \
    "kms-vault-auth AWS login with the wrong server id" ACCESS_DENIED generate-signature "$req" 'IAM server ID'
AWS_SECRET_ACCESS_KEY=wrong-secret VAULT_AWS_ROLE=signer expect_error \
    "kms-vault-auth AWS login signed with the wrong secret" ACCESS_DENIED generate-signature "$req" 'SignatureDoesNotMatch'
VAULT_AWS_ROLE=nosuch expect_error "kms-vault-auth AWS login, unknown role" \
    ACCESS_DENIED generate-signature "$req" 'nosuch'
(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
 VAULT_AWS_ROLE=signer expect_error "kms-vault-auth AWS login without AWS credentials" \
     ACCESS_DENIED generate-signature "$req" 'Vault AWS login.*no AWS credentials'
 # The AWS chain behind it: a credential_process profile, as the AWS CLI
 # writes it.
 mkdir -p "$HOME/.aws"
 cat >"$NK_TMP/creds.sh" <<EOF
#!/bin/sh
printf '{"Version":1,"AccessKeyId":"%s","SecretAccessKey":"%s"}\n' '$awsid' '$awssec'
EOF
 chmod 755 "$NK_TMP/creds.sh"
 printf '[profile vault-ci]\ncredential_process = %s\nregion = eu-west-1\n' "$NK_TMP/creds.sh" >"$HOME/.aws/config"
 AWS_PROFILE=vault-ci VAULT_AWS_ROLE=signer NOTATION_KEYSTORE_LOG=info NOTATION_KEYSTORE_LOG_FILE=$NK_TMP/aws.log \
     sign_ok "kms-vault-auth AWS login with credentials from credential_process"
 check "kms-vault-auth ... the log names the AWS source" grep -q 'AWS login with AWS credentials from credential_process' "$NK_TMP/aws.log")
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

# 3. TLS certificate auth.
export VAULT_CLIENT_CERT=$cdir/good.pem VAULT_CLIENT_KEY=$cdir/good.key
mark
sign_ok "kms-vault-auth TLS certificate login"
check "kms-vault-auth ... at auth/cert/login without a token, no role named" \
    count_is 1 '.path=="/v1/auth/cert/login" and .token==false and .body=={}'
mark
VAULT_CERT_ROLE=signer VAULT_CERT_PATH=cert-ci sign_ok "kms-vault-auth TLS certificate login, VAULT_CERT_ROLE at VAULT_CERT_PATH"
check "kms-vault-auth ... at auth/cert-ci/login naming the role" \
    count_is 1 '.path=="/v1/auth/cert-ci/login" and .body.name=="signer"'
VAULT_CLIENT_CERT=$cdir/other.pem VAULT_CLIENT_KEY=$cdir/other.key expect_error \
    "kms-vault-auth TLS certificate of no role" ACCESS_DENIED generate-signature "$req" 'invalid certificate'
VAULT_CLIENT_CERT=$cdir/rogue.pem VAULT_CLIENT_KEY=$cdir/rogue.key plugin generate-signature "$req"
check "kms-vault-auth a certificate the server's client CA did not issue fails the handshake" \
    test "$RC" = 1 -a -z "$OUT" -a "$(printf '%s' "$ERR" | jq -r .errorCode)" = ERROR
VAULT_CLIENT_KEY= expect_error "kms-vault-auth VAULT_CLIENT_CERT without VAULT_CLIENT_KEY" \
    VALIDATION_ERROR generate-signature "$req" 'VAULT_CLIENT_CERT and VAULT_CLIENT_KEY go together'
VAULT_CLIENT_KEY=$cdir/missing.key expect_error "kms-vault-auth an unreadable client key" \
    VALIDATION_ERROR generate-signature "$req" 'cannot read VAULT_CLIENT_KEY .*missing.key'
unset VAULT_CLIENT_CERT VAULT_CLIENT_KEY

# 4. A refused login token: one fresh login, the request sent again.
export VAULT_ROLE_ID=$roleid VAULT_SECRET_ID=$secid
mark
uses 0
sign_ok "kms-vault-auth AppRole token refused at once: logged in again, signed"
check "kms-vault-auth ... two AppRole logins" count_is 2 '.path=="/v1/auth/approle/login"'
mark
uses 1
sign_ok "kms-vault-auth AppRole token refused after one request: logged in again, signed"
check "kms-vault-auth ... two AppRole logins (after one use)" count_is 2 '.path=="/v1/auth/approle/login"'
mark
uses 0,0
expect_error "kms-vault-auth both login tokens refused" ACCESS_DENIED generate-signature "$req" 'permission denied'
check "kms-vault-auth ... only one fresh login" count_is 2 '.path=="/v1/auth/approle/login"'
mark
uses 0
VAULT_AWS_ROLE=signer AWS_ACCESS_KEY_ID=$awsid AWS_SECRET_ACCESS_KEY=$awssec VAULT_ROLE_ID= \
    sign_ok "kms-vault-auth AWS login token refused: logged in again, signed"
check "kms-vault-auth ... two AWS logins" count_is 2 '.path=="/v1/auth/aws/login"'
# A 3 s lease and a key read that takes 2.3 s: the token is in the last
# third of its lease before the sign request.
mark
ctl '{"lease":3,"renewable":true,"delay":2.3}'
sign_ok "kms-vault-auth a login token near the end of its lease"
check "kms-vault-auth ... was renewed (renew-self), not replaced" \
    eval "count_is 1 '.path==\"/v1/auth/token/renew-self\" and .token' && count_is 1 '.path==\"/v1/auth/approle/login\"'"
mark
ctl '{"lease":3,"renewable":false,"delay":2.3}'
sign_ok "kms-vault-auth a non-renewable login token near the end of its lease"
check "kms-vault-auth ... was replaced by a fresh login, no renewal tried" \
    eval "count_is 0 '.path==\"/v1/auth/token/renew-self\"' && count_is 2 '.path==\"/v1/auth/approle/login\"'"
mark
ctl '{"lease":3600,"delay":0}'
sign_ok "kms-vault-auth a login token with a long lease"
check "kms-vault-auth ... not renewed" count_is 0 '.path=="/v1/auth/token/renew-self"'
uses ""
mark
VAULT_TOKEN=hvs.expired-static-token expect_error "kms-vault-auth a refused VAULT_TOKEN is the error" \
    ACCESS_DENIED generate-signature "$req" 'permission denied'
check "kms-vault-auth ... no login for a static VAULT_TOKEN (AppRole set too)" count_is 0 '.path|endswith("/login")'
check "kms-vault-auth ... one request only" count_is 1 true
unset VAULT_ROLE_ID VAULT_SECRET_ID

# 5. doctor names the token source and why the earlier ones were skipped.
doctor_cred() { # NAME REGEX
    local out
    out=$("$NK_BIN" doctor --id hashivault://ecdsa-p256 \
        --plugin-config "certificate-chain=$NK_TMP/pki/p256-chain.pem" 2>&1)
    printf '%s\n' "$out" >>"$allerr"
    if printf '%s\n' "$out" | grep -Eq -- "$2"; then
        pass "$1"
    else
        fail "$1 (got: $(printf '%s' "$out" | grep credentials | cut -c1-500))"
    fi
}
VAULT_AWS_ROLE=signer AWS_ACCESS_KEY_ID=$awsid AWS_SECRET_ACCESS_KEY=$awssec doctor_cred \
    "kms-vault-auth doctor: AWS login, the sources before it not set, the AWS source" \
    '^PASS +credentials +AWS login; skipped before it: VAULT_TOKEN, VAULT_ROLE_ID, VAULT_JWT_ROLE, VAULT_K8S_ROLE not set; AWS credentials from environment \(AWS_ACCESS_KEY_ID\)$'
VAULT_TOKEN=$root doctor_cred "kms-vault-auth doctor: VAULT_TOKEN" \
    '^PASS +credentials +the token in VAULT_TOKEN/BAO_TOKEN$'
doctor_cred "kms-vault-auth doctor: no token source" \
    '^FAIL +credentials +none \(no ~/.vault-token either\); skipped before it: VAULT_TOKEN, .*VAULT_AWS_ROLE, VAULT_CLIENT_CERT not set$'

VAULT_CLIENT_CERT=$cdir/good.pem VAULT_CLIENT_KEY=$cdir/good.key doctor_cred \
    "kms-vault-auth doctor: TLS certificate login" \
    '^PASS +credentials +TLS certificate login; skipped before it: VAULT_TOKEN, .*VAULT_AWS_ROLE not set$'

# 6. No secret in any error.
leak=0
for s in "$awssec" "$root" "$secid"; do
    grep -qF -- "$s" "$allerr" && leak=1
done
check "kms-vault-auth no secret in stderr ($(wc -l <"$allerr") runs)" test "$leak" = 0
