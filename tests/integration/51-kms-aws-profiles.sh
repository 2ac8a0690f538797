#!/usr/bin/env bash
# The AWS credentials people keep in their profiles, against our KMS/STS/
# SSO mock (tests/lib/aws_mock.py: SigV4 re-verified with botocore on every
# KMS and STS request) with files laid out as the AWS CLI writes them:
# credential_process (good, slow, bad JSON, expired ...), role chains
# (source_profile to any depth, credential_source, external_id, cycles),
# IAM Identity Center (sso-session and legacy form, the token cache), and
# pluginConfig aws-profile winning over environment keys. Signatures are
# checked with Python cryptography, never by the server.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/pki.sh"
. "$NK_ROOT/tests/lib/kms_pki.sh"
. "$NK_ROOT/tests/lib/aws.sh"

aws_test_start kms-aws-profiles
iport=$(free_port)
sid=$(jq -r .signer.id "$setup") ssec=$(jq -r .signer.secret "$setup")
nid=$(jq -r .nobody.id "$setup") nsec=$(jq -r .nobody.secret "$setup")
role=$(jq -r .role_arn "$setup") hop=$(jq -r .roles.hop "$setup")
ext=$(jq -r .roles.ext "$setup") extid=$(jq -r .roles.ext_id "$setup")
nokms=$(jq -r .roles.nokms "$setup")
for v in sid ssec nid role hop ext extid nokms; do
    [ -n "${!v}" ] && [ "${!v}" != null ] || { fail "kms-aws-profiles: mock setup lacks $v"; exit 0; }
done
k=ec-384
aws_key_chain "$setup" "$k" || fail "kms-aws-profiles: chain"
chain=$NK_TMP/pki/$k-chain.pem
printf 'payload for the profile tests' >"$NK_TMP/payload"
payload=$(base64 -w0 "$NK_TMP/payload")
allerr=$NK_TMP/all-stderr
# sreq [EXTRA-CONFIG-JSON]: a generate-signature request for the EC-384 key.
sreq() {
    printf '{"contractVersion":"1.0","keyId":"awskms:///alias/%s","keySpec":"EC-384","hashAlgorithm":"SHA-384","payload":"%s","pluginConfig":%s}' \
        "$k" "$payload" "$(jq -cn --arg c "$chain" --argjson x "${1:-{\}}" '{"certificate-chain":$c,cache:"false"}+$x')"
}
# sign_ok NAME [EXTRA-CONFIG-JSON]: generate-signature, the signature
# checked independently.
sign_ok() {
    local sig
    plugin generate-signature "$(sreq "${2:-}")"
    printf '%s\n' "$ERR" >>"$allerr"
    sig=$(printf '%s' "$OUT" | jq -r .signature 2>/dev/null)
    if [ "$RC" = 0 ] && kms_verify "$NK_TMP/$k.pub" EC-384 "$NK_TMP/payload" "$sig" 2>/dev/null; then
        pass "$1"
    else
        fail "$1 (rc=$RC err=${ERR:0:400})"
    fi
}
# denied NAME CODE REGEX [EXTRA-CONFIG-JSON]
denied() {
    expect_error "$1" "$2" generate-signature "$(sreq "${4:-}")" "$3"
    printf '%s\n' "$ERR" >>"$allerr"
}
prof() { printf '{"aws-profile":"%s"}' "$1"; }
# ops: the mock's log since it was emptied, as "Target status ...".
ops() { aws_log_ops "$mlog"; }

# ---- credential_process ----
cpd="$NK_TMP/cred proc"
mkdir -p "$cpd"
cp "$NK_ROOT/tests/lib/cred_process.py" "$cpd/cp.py"
export CP_SETUP=$setup CP_MARK=env-passed
cpline() { # MODE -> a credential_process line with quoting the SDKs split
    printf '"%s/cp.py" %s --note "two words" --single '"'"'a "b" c'"'"' --esc a\\ b' "$cpd" "$1"
}
{
    printf '[default]\nregion = us-east-1\n'
    for m in good noexp expiring expired v2 badjson trailing nokeys fail slow huge; do
        printf '[profile cp-%s]\ncredential_process = %s\n' "$m" "$(cpline "$m")"
    done
    printf '[profile cp-missing]\ncredential_process = "%s/no-such-helper" --x\n' "$cpd"
    printf '[profile cp-unclosed]\ncredential_process = "%s/cp.py good\n' "$cpd"
} >"$HOME/.aws/config"
: >"$HOME/.aws/credentials"
sign_ok "kms-aws-profiles credential_process signs" "$(prof cp-good)"
want_argv='["good","--note","two words","--single","a \"b\" c","--esc","a b"]'
check "kms-aws-profiles credential_process: words split as the SDKs split them ($(jq -c .argv "$cpd/argv.json"))" \
    test "$(jq -c .argv "$cpd/argv.json")" = "$want_argv"
# The helper sees 0, 1, 2 and the descriptor its own listing opened: none
# of the plugin's; stdin is /dev/null; the environment is passed.
check "kms-aws-profiles credential_process: no descriptor of ours, stdin /dev/null ($(jq -c '[.fds,.stdin,.mark]' "$cpd/argv.json"))" \
    test "$(jq -c '[.fds,.stdin,.mark]' "$cpd/argv.json")" = '[[0,1,2,3],"/dev/null","env-passed"]'
sign_ok "kms-aws-profiles credential_process without Expiration" "$(prof cp-noexp)"
denied "kms-aws-profiles credential_process: expired credentials" ACCESS_DENIED \
    'credential_process "[^"]*cp.py" of profile "cp-expired": the credentials expired at' "$(prof cp-expired)"
denied "kms-aws-profiles credential_process: Version 2" ERROR '"Version" must be the number 1' "$(prof cp-v2)"
denied "kms-aws-profiles credential_process: not JSON" ERROR 'not one JSON object' "$(prof cp-badjson)"
denied "kms-aws-profiles credential_process: text after the JSON" ERROR 'not one JSON object' "$(prof cp-trailing)"
denied "kms-aws-profiles credential_process: no SecretAccessKey" ERROR 'SecretAccessKey' "$(prof cp-nokeys)"
denied "kms-aws-profiles credential_process: exit 3 gives the last stderr line, cleaned" ACCESS_DENIED \
    'exited with status 3: error: not logged in\?please run the login \.\.\.$' "$(prof cp-fail)"
check "kms-aws-profiles credential_process: the rest of its stderr is not shown" \
    bash -c '! grep -q FAKESECRET "$0"' "$allerr"
denied "kms-aws-profiles credential_process: 200 KB of output" ERROR 'wrote more than 65536 bytes' "$(prof cp-huge)"
denied "kms-aws-profiles credential_process: a missing program" VALIDATION_ERROR \
    'profile "cp-missing": credential_process: cannot run "[^"]*no-such-helper": No such file' "$(prof cp-missing)"
denied "kms-aws-profiles credential_process: an unclosed quote" VALIDATION_ERROR \
    'profile "cp-unclosed": credential_process has no closing quotation' "$(prof cp-unclosed)"
t0=${EPOCHREALTIME/./}
denied "kms-aws-profiles credential_process: too slow, TIMEOUT" TIMEOUT \
    'did not finish within [0-9.]+ s' '{"aws-profile":"cp-slow","timeout":"1.5"}'
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
check "kms-aws-profiles credential_process: the slow one was stopped at the deadline ($ms ms)" test "$ms" -lt 6000
slow_gone() { local p; p=$(cat "$cpd/slow.pid") && [ -n "$p" ] && ! kill -0 "$p" 2>/dev/null; }
check "kms-aws-profiles credential_process: the slow one was killed" slow_gone
rm -f "$cpd/runs.txt"
sign_ok "kms-aws-profiles credential_process with Expiration in 5 s" "$(prof cp-expiring)"
check "kms-aws-profiles credential_process: run again before each call once they would expire before the deadline ($(cat "$cpd/runs.txt" 2>/dev/null) runs)" \
    test "$(cat "$cpd/runs.txt" 2>/dev/null)" = 3

# ---- role chains ----
cat >"$HOME/.aws/credentials" <<EOT
[base]
aws_access_key_id = $sid
aws_secret_access_key = $ssec

[selfref]
aws_access_key_id = $sid
aws_secret_access_key = $ssec
EOT
cat >"$HOME/.aws/config" <<EOT
[default]
region = us-east-1

[profile hop]
role_arn = $hop
source_profile = base

[profile signer-role]
role_arn = $role
source_profile = hop
role_session_name = nk-chain-test
duration_seconds = 900

[profile direct]
role_arn = $role
source_profile = base

[profile selfref]
role_arn = $role
source_profile = selfref

[profile ext]
role_arn = $ext
source_profile = base
external_id = $extid

[profile ext-wrong]
role_arn = $ext
source_profile = base
external_id = not-$extid

[profile nokms]
role_arn = $nokms
source_profile = base

[profile long-chain]
role_arn = $role
source_profile = hop
duration_seconds = 7200

[profile loop1]
role_arn = $role
source_profile = loop2

[profile loop2]
role_arn = $hop
source_profile = loop1

[profile both]
role_arn = $role
source_profile = base
credential_source = Environment

[profile neither]
role_arn = $role

[profile mfa]
role_arn = $role
source_profile = base
mfa_serial = arn:aws:iam::123456789012:mfa/someone

[profile orphan]
role_arn = $role
source_profile = not-there

[profile envrole]
role_arn = $role
credential_source = Environment

[profile imdsrole]
role_arn = $role
credential_source = Ec2InstanceMetadata

[profile ecsrole]
role_arn = $role
credential_source = EcsContainer

[profile badsource]
role_arn = $role
credential_source = Somewhere

[profile cp-source]
credential_process = $(cpline good)

[profile via-process]
role_arn = $role
source_profile = cp-source
s3 =
    role_arn = $nokms
EOT
: >"$mlog"
sign_ok "kms-aws-profiles role chain base -> hop -> signer-role" "$(prof signer-role)"
# who assumed what, in order: the signer's AKIA key assumes chain-hop, the
# chain-hop session (ASIA) assumes notation-signer, whose session signs.
chain_order() {
    local a
    a=$(jq -r 'select(.target=="AssumeRole") | "\(.akid[0:4]) \(.detail.role) \(.detail.session) \(.status)"' "$mlog" | paste -sd'|')
    [ "$a" = "AKIA $hop notation-keystore 200|ASIA $role nk-chain-test 200" ] || { echo "$a"; return 1; }
    [ "$(jq -r 'select(.target=="AssumeRole")|.akid' "$mlog" | head -1)" = "$sid" ] || return 1
    # the second AssumeRole is signed with the key the first handed out,
    # and KMS with the key the second handed out
    local first second
    first=$(jq -r 'select(.target=="AssumeRole")|.issued' "$mlog" | head -1)
    second=$(jq -r 'select(.target=="AssumeRole")|.issued' "$mlog" | tail -1)
    [ "$(jq -r 'select(.target=="AssumeRole")|.akid' "$mlog" | tail -1)" = "$first" ] &&
        [ "$(jq -r 'select(.service=="kms")|.akid' "$mlog" | sort -u)" = "$second" ]
}
check "kms-aws-profiles role chain: AssumeRole in order, each signed with the key before ($(ops))" chain_order
sign_ok "kms-aws-profiles role with source_profile of static keys" "$(prof direct)"
sign_ok "kms-aws-profiles role whose source_profile is itself, with static keys" "$(prof selfref)"
: >"$mlog"
sign_ok "kms-aws-profiles role with external_id" "$(prof ext)"
check "kms-aws-profiles external_id sent as ExternalId" \
    test "$(jq -r 'select(.target=="AssumeRole")|.detail.external_id' "$mlog")" = "$extid"
denied "kms-aws-profiles role with the wrong external_id" ACCESS_DENIED 'AssumeRole of ".*ext-role".*AccessDenied' "$(prof ext-wrong)"
denied "kms-aws-profiles role without KMS rights" ACCESS_DENIED 'AccessDeniedException' "$(prof nokms)"
denied "kms-aws-profiles chained role asking for 2 hours (STS caps chains at 1)" VALIDATION_ERROR \
    'ValidationError.*1 hour session limit' "$(prof long-chain)"
denied "kms-aws-profiles source_profile cycle" VALIDATION_ERROR 'loops back' "$(prof loop1)"
denied "kms-aws-profiles both source_profile and credential_source" VALIDATION_ERROR 'exactly one of source_profile and credential_source' "$(prof both)"
denied "kms-aws-profiles role_arn without a source" VALIDATION_ERROR 'exactly one of' "$(prof neither)"
denied "kms-aws-profiles mfa_serial is refused clearly" VALIDATION_ERROR 'mfa_serial.*cannot ask for an MFA code' "$(prof mfa)"
denied "kms-aws-profiles source_profile that does not exist" VALIDATION_ERROR 'source_profile "not-there"' "$(prof orphan)"
denied "kms-aws-profiles unknown credential_source" VALIDATION_ERROR 'credential_source "Somewhere"' "$(prof badsource)"
: >"$mlog"
sign_ok "kms-aws-profiles role from a credential_process source profile (nested s3 settings ignored)" "$(prof via-process)"
check "kms-aws-profiles the process's keys assumed the role" \
    test "$(jq -r 'select(.target=="AssumeRole")|"\(.akid) \(.detail.role)"' "$mlog")" = "$sid $role"

# credential_source = Environment, and pluginConfig aws-profile winning
# over environment keys as the CLI's --profile does.
: >"$mlog"
AWS_ACCESS_KEY_ID=$sid AWS_SECRET_ACCESS_KEY=$ssec \
    sign_ok "kms-aws-profiles credential_source Environment (pluginConfig aws-profile)" "$(prof envrole)"
check "kms-aws-profiles credential_source Environment: the environment's keys assumed the role" \
    test "$(jq -r 'select(.target=="AssumeRole")|.akid' "$mlog")" = "$sid"
: >"$mlog"
AWS_ACCESS_KEY_ID=$sid AWS_SECRET_ACCESS_KEY=$ssec AWS_PROFILE=envrole \
    sign_ok "kms-aws-profiles AWS_PROFILE alone does not beat environment keys"
check "kms-aws-profiles with AWS_PROFILE the environment's keys signed directly ($(ops))" \
    test "$(ops)" = "GetPublicKey 200 DescribeKey 200 Sign 200"
AWS_ACCESS_KEY_ID=$nid AWS_SECRET_ACCESS_KEY=$nsec \
    sign_ok "kms-aws-profiles pluginConfig aws-profile wins over environment keys" "$(prof base)"
AWS_ACCESS_KEY_ID=$nid AWS_SECRET_ACCESS_KEY=$nsec AWS_PROFILE=base \
    denied "kms-aws-profiles without pluginConfig the environment's keys are used" ACCESS_DENIED 'AccessDeniedException' 
printf 'ci-oidc-token\n' >"$NK_TMP/oidc.jwt"
: >"$mlog"
AWS_WEB_IDENTITY_TOKEN_FILE=$NK_TMP/oidc.jwt AWS_ROLE_ARN=$role \
    sign_ok "kms-aws-profiles pluginConfig aws-profile also wins over environment web identity" "$(prof base)"
check "kms-aws-profiles ... no AssumeRoleWithWebIdentity made ($(ops))" \
    test "$(ops)" = "GetPublicKey 200 DescribeKey 200 Sign 200"
denied "kms-aws-profiles pluginConfig aws-profile naming no profile" VALIDATION_ERROR \
    'aws-profile" names profile "nosuch"' "$(prof nosuch)"

# credential_source Ec2InstanceMetadata and EcsContainer, from our mock.
jq '{AccessKeyId:.signer.id, SecretAccessKey:.signer.secret, Token:""}' "$setup" >"$NK_TMP/imds-creds.json"
IMDS_MOCK_LIFETIME=200 "$NK_PY" "$NK_ROOT/tests/lib/imds_mock.py" --port "$iport" \
    --creds "$NK_TMP/imds-creds.json" --container-token ecs-auth-51p >"$NK_TMP/imds.log" 2>&1 &
at_exit "kill $!"
wait_port "$iport" 10 || fail "kms-aws-profiles: imds mock did not start"
# The metadata mocks serve the signer's keys: they must assume the role.
assumed_by_signer() { [ "$(jq -r 'select(.target=="AssumeRole")|"\(.akid) \(.status)"' "$mlog")" = "$sid 200" ]; }
(unset AWS_EC2_METADATA_DISABLED
 export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$iport
 : >"$mlog"
 sign_ok "kms-aws-profiles credential_source Ec2InstanceMetadata" "$(prof imdsrole)"
 check "kms-aws-profiles ... the instance's keys assumed the role ($(ops))" assumed_by_signer
 : >"$mlog"
 AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$iport/container/credentials \
     AWS_CONTAINER_AUTHORIZATION_TOKEN=ecs-auth-51p \
     sign_ok "kms-aws-profiles credential_source EcsContainer" "$(prof ecsrole)"
 check "kms-aws-profiles ... the container's keys assumed the role ($(ops))" assumed_by_signer)

# ---- IAM Identity Center (SSO) ----
ssotok=$(jq -r .sso.token "$setup") acct=$(jq -r .sso.account "$setup")
ssorole=$(jq -r .sso.role "$setup") other=$(jq -r .sso.other_role "$setup")
export AWS_ENDPOINT_URL_SSO=http://127.0.0.1:$port
start=https://corp-nk.awsapps.com/start
cat >"$HOME/.aws/config" <<EOT
[default]
region = us-east-1

[profile dev]
sso_session = corp
sso_account_id = $acct
sso_role_name = $ssorole
region = us-east-1

[profile dev-other]
sso_session = corp
sso_account_id = $acct
sso_role_name = $other

[profile dev-legacy]
sso_start_url = $start
sso_region = eu-west-1
sso_account_id = $acct
sso_role_name = $ssorole

[profile dev-nosession]
sso_session = nowhere
sso_account_id = $acct
sso_role_name = $ssorole

[profile dev-conflict]
sso_session = corp
sso_region = us-west-2
sso_account_id = $acct
sso_role_name = $ssorole

[profile dev-partial]
sso_start_url = $start
sso_region = eu-west-1

[profile sso-chain]
role_arn = $role
source_profile = dev

[sso-session corp]
sso_start_url = $start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access
EOT
: >"$HOME/.aws/credentials"
cache=$HOME/.aws/sso/cache
mkdir -p "$cache"
sha1() { printf '%s' "$1" | sha1sum | cut -c1-40; }
# sso_cache NAME TOKEN EXPIRES-IN-SECONDS: the file aws sso login writes.
sso_cache() {
    local exp reg
    exp=$(date -u -d "@$(($(date +%s) + $3))" +%Y-%m-%dT%H:%M:%SZ)
    reg=$(date -u -d "@$(($(date +%s) + 7776000))" +%Y-%m-%dT%H:%M:%SZ)
    jq -n --arg u "$start" --arg t "$2" --arg e "$exp" --arg r "$reg" \
        '{startUrl:$u, region:"eu-west-1", accessToken:$t, expiresAt:$e,
          clientId:"nk-client-id", clientSecret:"nk-client-secret",
          registrationExpiresAt:$r, refreshToken:"nk-refresh-token"}' >"$cache/$(sha1 "$1").json"
}
sso_cache corp "$ssotok" 3600
: >"$mlog"
sign_ok "kms-aws-profiles SSO with an sso-session" "$(prof dev)"
sso_calls() { # the portal calls: role, account, bearer sent, status
    jq -r 'select(.target=="GetRoleCredentials")|"\(.detail.role) \(.detail.account) \(.detail.bearer) \(.status)"' "$mlog" | paste -sd'|'
}
check "kms-aws-profiles SSO: GetRoleCredentials with the cached bearer token, KMS with its key ($(sso_calls))" bash -c "
    [ \"$(sso_calls)\" = '$ssorole $acct true 200' ] &&
    [ \"\$(jq -r 'select(.service==\"kms\")|.akid' '$mlog' | sort -u)\" = \"\$(jq -r 'select(.target==\"GetRoleCredentials\")|.issued' '$mlog')\" ]"
AWS_PROFILE=dev sign_ok "kms-aws-profiles SSO through AWS_PROFILE"
rm -f "$cache"/*.json
sso_cache "$start" "$ssotok" 3600
sign_ok "kms-aws-profiles SSO, legacy form (cache named by the start URL)" "$(prof dev-legacy)"
denied "kms-aws-profiles SSO: no cached token" ACCESS_DENIED \
    'no IAM Identity Center \(SSO\) token is cached.*run aws sso login --profile dev$' "$(prof dev)"
sso_cache corp "$ssotok" -60
: >"$mlog"
denied "kms-aws-profiles SSO: an expired token" ACCESS_DENIED \
    'SSO\) session expired at .*: run aws sso login --profile dev$' "$(prof dev)"
check "kms-aws-profiles SSO: an expired token is not sent" test "$(sso_calls)" = ""
sso_cache corp "aoa-revoked-$RANDOM" 3600
denied "kms-aws-profiles SSO: a token the portal refuses (401)" ACCESS_DENIED \
    'refused the cached token \(HTTP 401: Session token not found or invalid\): run aws sso login --profile dev$' "$(prof dev)"
sso_cache corp "$ssotok" 3600
denied "kms-aws-profiles SSO: a role the token may not use (403)" ACCESS_DENIED \
    "GetRoleCredentials for role \"$other\" in account $acct: HTTP 403" "$(prof dev-other)"
denied "kms-aws-profiles SSO: sso_session without its section" VALIDATION_ERROR 'sso-session nowhere' "$(prof dev-nosession)"
denied "kms-aws-profiles SSO: sso_region contradicting the session" VALIDATION_ERROR \
    'sso_region is "us-west-2" there but "eu-west-1" in \[sso-session corp\]' "$(prof dev-conflict)"
denied "kms-aws-profiles SSO: incomplete settings" VALIDATION_ERROR 'lacks sso_account_id, sso_role_name' "$(prof dev-partial)"
: >"$mlog"
sign_ok "kms-aws-profiles role whose source_profile is an SSO profile" "$(prof sso-chain)"
check "kms-aws-profiles SSO then AssumeRole ($(ops))" \
    test "$(ops)" = "GetRoleCredentials 200 AssumeRole 200 GetPublicKey 200 DescribeKey 200 Sign 200"

# ---- doctor names the source and why the earlier ones were skipped ----
# doctor_cred NAME REGEX PROFILE: doctor's "credentials" line matches.
doctor_cred() {
    local out
    out=$("$NK_BIN" doctor --id "awskms:///alias/$k" --plugin-config "aws-profile=$3" \
        --plugin-config "certificate-chain=$chain" 2>&1)
    printf '%s\n' "$out" >>"$allerr"
    if printf '%s\n' "$out" | grep -Eq -- "$2"; then
        pass "$1"
    else
        fail "$1 (got: $(printf '%s' "$out" | grep credentials | cut -c1-500))"
    fi
}
doctor_cred "kms-aws-profiles doctor: the SSO source, env and role skipped" \
    '^PASS +credentials +from IAM Identity Center.*skipped before it: environment: not used, pluginConfig aws-profile chooses profile "dev"; role: profile "dev" has no role_arn; web identity: not configured$' dev
doctor_cred "kms-aws-profiles doctor: a role chain names its source" \
    '^PASS +credentials +from role "[^"]+" \(profile "sso-chain"\) from IAM Identity Center' sso-chain
sso_cache corp "$ssotok" -60
doctor_cred "kms-aws-profiles doctor: an expired SSO token fails, saying what was tried" \
    '^FAIL +credentials +none used; tried: environment: not used.*web identity: not configured' dev

# ---- nothing secret in any message ----
leak=0
for s in "$ssec" "$nsec" "$ssotok" FAKESECRET nk-client-secret nk-refresh-token; do
    grep -qF -- "$s" "$allerr" && leak=1
done
check "kms-aws-profiles no credential in stderr ($(grep -c . "$allerr") errors)" test "$leak" = 0
