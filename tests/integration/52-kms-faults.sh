#!/usr/bin/env bash
# The HTTP layer's fault handling, through the plugin, against
# tests/lib/fault_server.py on loopback: 429 + Retry-After (the wait is
# honoured), 500 then success, retries exhausted -> THROTTLED, connection
# resets, a server that never answers (timeout=1 -> TIMEOUT, bounded), a
# truncated body, an oversized body, a TLS certificate from the wrong CA,
# and plain http:// refused off loopback.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/pki.sh"
. "$NK_ROOT/tests/lib/kms_pki.sh"

tls=$NK_TMP/tls
kms_tls "$tls" good && kms_tls "$tls" wrong || { fail "kms-faults: test TLS CAs"; exit 0; }
hport=$(free_port) sport=$(free_port)
setup=$NK_TMP/fault.json flog=$NK_TMP/fault-requests.jsonl
FAULT_SERVER_LIFETIME=200 "$NK_PY" "$NK_ROOT/tests/lib/fault_server.py" --setup "$setup" \
    --log "$flog" --http "$hport" --https "$sport" "$tls/wrong-server.pem" \
    "$tls/wrong-server.key" >"$NK_TMP/fault.log" 2>&1 &
at_exit "kill $!"
wait_file "$setup" 30 || { fail "kms-faults: fault server did not start"; exit 0; }

export XDG_CACHE_HOME=$NK_TMP/cache HOME=$NK_TMP/home
mkdir -p "$HOME"
unset VAULT_NAMESPACE VAULT_CACERT BAO_ADDR BAO_TOKEN VAULT_ROLE_ID
export VAULT_TOKEN=hvs.fault-test-token
jq -r .pub "$setup" >"$NK_TMP/k.pub"
kms_chain "$NK_TMP/pki" k "$NK_TMP/k.pub" || fail "kms-faults: chain"
req="{\"contractVersion\":\"1.0\",\"keyId\":\"hashivault://k\",\"pluginConfig\":{\"cache\":\"false\",\"certificate-chain\":\"$NK_TMP/pki/k-chain.pem\"}}"
reqt1=${req/\"cache\"/\"timeout\":\"1\",\"cache\"}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# at SCENARIO [REQ]: describe-key against that scenario (fresh run id);
# sets MS to the run's wall time in ms, RUN to the run id.
n=0
at() {
    n=$((n + 1)) RUN=r$n
    local t0
    t0=$(now_ms)
    VAULT_ADDR=http://127.0.0.1:$hport/$1/$RUN plugin describe-key "${2:-$req}"
    MS=$(($(now_ms) - t0))
}
# hits SCENARIO RUN: requests the server saw for that run.
hits() { jq -c --arg s "$1" --arg r "$2" 'select(.scenario==$s and .run==$r)' "$flog" | wc -l; }
# gap SCENARIO RUN: seconds between the first and second request.
gap() { jq -s --arg s "$1" --arg r "$2" '[.[]|select(.scenario==$s and .run==$r)|.t] | .[1]-.[0]' "$flog"; }
err_is() { # CODE REGEX
    printf '  %s: %s\n' "$RC" "$(printf '%s' "$ERR" | jq -c . 2>/dev/null | cut -c1-250)"
    [ "$RC" = 1 ] && printf '%s' "$ERR" | jq -e --arg c "$1" --arg r "$2" \
        '.errorCode==$c and (.errorMessage|test($r))' >/dev/null
}
ok() { [ "$RC" = 0 ] && [ "$(printf '%s' "$OUT" | jq -r .keySpec)" = EC-256 ]; }
jtrue() { jq -en "$1" >/dev/null; }
not_in() { [[ $2 != *"$1"* ]]; }
ok_and() { ok && "$@"; }
within() { [ "$MS" -ge "$1" ] && [ "$MS" -le "$2" ]; }

at ok
check "kms-faults baseline answer" ok

at retry-after
check "kms-faults 429 + Retry-After: 2 then success" ok
g=$(gap retry-after "$RUN")
check "kms-faults Retry-After honoured (waited $g s, run $MS ms)" \
    jtrue "$g >= 1.9 and $MS >= 1900"

at 500-once
check "kms-faults 500 then success (2 requests, $MS ms)" ok_and test "$(hits 500-once "$RUN")" = 2

at 503
check "kms-faults 503 exhausted -> THROTTLED with Vault's text (${MS} ms)" err_is THROTTLED 'Vault is sealed'
check "kms-faults 503 retried 4 times within bounds" \
    test "$(hits 503 "$RUN")" = 4 -a "$MS" -le 8000

AWS_ACCESS_KEY_ID=AKIDFAULT AWS_SECRET_ACCESS_KEY=fault-secret-value AWS_REGION=us-east-1 \
    AWS_ENDPOINT_URL_KMS=http://127.0.0.1:$hport/aws-throttle/a1 AWS_EC2_METADATA_DISABLED=true \
    plugin describe-key '{"contractVersion":"1.0","keyId":"awskms:///alias/k","pluginConfig":{"cache":"false"}}'
check "kms-faults AWS ThrottlingException exhausted -> THROTTLED with code and request id" \
    err_is THROTTLED 'ThrottlingException: Rate exceeded.*aws-rid-42'
check "kms-faults AWS throttling retried" test "$(hits aws-throttle a1)" = 4
check "kms-faults AWS secret not in the message" not_in fault-secret-value "$ERR"

at reset-once
check "kms-faults connection reset then success" ok
at reset
check "kms-faults connection reset every time -> ERROR (${MS} ms)" err_is ERROR 'reset|broke off|connection'
check "kms-faults resets retried" test "$(hits reset "$RUN")" = 4

at hang "$reqt1"
check "kms-faults server never answers, timeout=1 -> TIMEOUT (${MS} ms)" err_is TIMEOUT 'within|timed? ?out'
check "kms-faults timeout is bounded (${MS} ms <= 2500)" within 900 2500

at truncated
check "kms-faults truncated body -> ERROR" err_is ERROR 'broke off|partial|transfer closed'
check "kms-faults truncated body retried as a connection fault" test "$(hits truncated "$RUN")" = 4

at big
check "kms-faults body over the cap -> ERROR" err_is ERROR 'exceeds [0-9]+ bytes'

# TLS: the server's certificate comes from a CA we do not trust.
VAULT_ADDR=https://127.0.0.1:$sport/ok/t1 VAULT_CACERT=$tls/good-ca.pem plugin describe-key "$req"
check "kms-faults certificate from the wrong CA -> ERROR naming TLS" err_is ERROR 'TLS|certificate'
check "kms-faults TLS failure is not retried" test "$(hits ok t1)/$(hits tls-failed '')" = 0/1
VAULT_ADDR=https://127.0.0.1:$sport/ok/t2 VAULT_CACERT=$tls/wrong-ca.pem plugin describe-key "$req"
check "kms-faults same server with its own CA works" ok

# Plain http only for loopback, for both backends; nothing is sent.
VAULT_ADDR=http://192.0.2.10:8200 plugin describe-key "$req"
check "kms-faults Vault plain http off loopback -> VALIDATION_ERROR" err_is VALIDATION_ERROR 'loopback'
AWS_ACCESS_KEY_ID=AKIDFAULT AWS_SECRET_ACCESS_KEY=x AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
    AWS_ENDPOINT_URL_KMS=http://kms.example.com plugin describe-key \
    '{"contractVersion":"1.0","keyId":"awskms:///alias/k","pluginConfig":{"cache":"false"}}'
check "kms-faults AWS plain http off loopback -> VALIDATION_ERROR" err_is VALIDATION_ERROR 'loopback'
