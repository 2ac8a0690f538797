#!/usr/bin/env bash
# notation-keystore agent on SoftHSM (through pkcs11-spy and the forwarding
# shim) and the loopback Vault and AWS mocks: start, add, list, remove,
# lock/unlock, stop, -t expiry and `agent -- cmd`; notation-shaped sequences
# through the agent (every signature checked with openssl or Python
# cryptography) with no module load or C_Login in the plugin processes and
# one login in the agent; an always-authenticate key; no PIN in the agent's
# memory at C_Sign (but for the always-authenticate key's, kept on
# purpose) and none on the socket; the fallback when the agent is gone,
# locked or does not hold the key; the uid check (as root, a client running
# as nobody); 16 sequences at once on a token that allows one session;
# hostile clients while a good one is served; KMS keys with one request
# per signature on one kept-alive connection and no libcurl in the plugin.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/softhsm.sh"
. "$NK_ROOT/tests/lib/kms_pki.sh"
. "$NK_ROOT/tests/lib/aws.sh"

W=$NK_ROOT/tests/lib/agent_wire.py
MA=$(gcc -print-multiarch 2>/dev/null)
[ -n "$MA" ] || MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null)
SPY=
for f in "/usr/lib/$MA/pkcs11/pkcs11-spy.so" "/usr/lib/$MA/pkcs11-spy.so" \
    /usr/lib/pkcs11/pkcs11-spy.so; do
    [ -f "$f" ] && { SPY=$f; break; }
done
M=$NK_P11_MODULE
if [ ! -x "$NK_BIN" ] || [ -z "$SPY" ]; then
    fail "agent: plugin binary ($NK_BIN) or pkcs11-spy.so (opensc-pkcs11) missing"
    exit 1
fi
# Tokens: nk-test (softhsm.sh) and, beside it, nk-aa with PIN 5678 and an
# always-authenticate EC-256 key "always" (like YubiKey PIV slot 9c);
# nk-scan in a directory of its own, whose PIN appears nowhere else.
aa() { pkcs11-tool --module "$M" --token-label nk-aa --login --pin 5678 "$@" >/dev/null 2>&1; }
SC=$NK_TMP/scan
SCAN_PIN=Zq7-$(openssl rand -hex 12)
sc() { SOFTHSM2_CONF=$SC/softhsm2.conf pkcs11-tool --module "$M" --token-label nk-scan --login --pin "$SCAN_PIN" "$@" >/dev/null 2>&1; }
if ! softhsm_std_token "$NK_TMP/std" >"$NK_TMP/setup.log" 2>&1 ||
    ! p11shim_build "$NK_TMP/shim.so" 2>>"$NK_TMP/setup.log" ||
    ! softhsm_init "$NK_TMP/std/softhsm" nk-aa 12345678 5678 >>"$NK_TMP/setup.log" 2>&1 ||
    ! aa --write-object "$NK_P11_PKI/ec256.key.der" --type privkey --id 01 --label always --usage-sign --always-auth ||
    ! aa --write-object "$NK_P11_PKI/ec256.pub.der" --type pubkey --id 01 --label always ||
    ! aa --write-object "$NK_P11_PKI/ec256.der" --type cert --id 01 --label always ||
    ! (softhsm_init "$SC" nk-scan 12345678 "$SCAN_PIN" &&
        softhsm_import_key nk-scan 01 ec256 "$NK_P11_PKI/ec256.key" "$NK_P11_PKI/ec256.pem") >>"$NK_TMP/setup.log" 2>&1 ||
    ! sc --write-object "$NK_P11_PKI/ec256.key.der" --type privkey --id 02 --label always --usage-sign --always-auth ||
    ! sc --write-object "$NK_P11_PKI/ec256.pub.der" --type pubkey --id 02 --label always ||
    ! sc --write-object "$NK_P11_PKI/ec256.der" --type cert --id 02 --label always; then
    cat "$NK_TMP/setup.log"
    fail "agent: SoftHSM token or shim setup"
    exit 1
fi
# Sanitizer builds: every process's report goes to a file the end checks
# (the background agent has no stderr); pkcs11-spy leaks by design.
if [ -n "${ASAN_OPTIONS:-}" ]; then
    export ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$NK_TMP/asan"
fi
SPY_ASAN=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0
export SOFTHSM2_CONF=$NK_TMP/std/softhsm/softhsm2.conf
unset NOTATION_KEYSTORE_PIN NOTATION_KEYSTORE_PKCS11_MODULE NOTATION_KEYSTORE_AGENT
export XDG_RUNTIME_DIR=$NK_TMP/run XDG_CACHE_HOME=$NK_TMP/cache
mkdir -m 0700 "$XDG_RUNTIME_DIR"
export NOTATION_KEYSTORE_LOG=info NOTATION_KEYSTORE_LOG_FILE=$NK_TMP/trace.log

# The ASan pass of tests/run.sh (NK_CHECK_PREFIX="asan ") runs the parts
# that matter there: adds and sequences, the PIN on the socket and in
# memory, lock, fallback, hostile clients and protocol parsing, the uid
# check. The lifetime wait, 16 sequences at once, `agent -- cmd` and the
# KMS keys (their answers are parsed under ASan in 5*-kms*.sh) run only in
# the normal pass, or with NK_AGENT_FULL=1.
FULL=${NK_AGENT_FULL:-1}
[ "${NK_CHECK_PREFIX:-}" = "asan " ] && FULL=${NK_AGENT_FULL:-0}

# ---- helpers -----------------------------------------------------------

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
printf '%s.%s' "$(printf '{"alg":"ES256"}' | b64url)" \
    "$(printf '{"targetArtifact":{"size":1}}' | b64url)" >"$NK_TMP/tbs"
spec_of() {
    case $1 in
    rsa3072) echo "RSA-3072 SHA-384 sha384 48" ;;
    ec256) echo "EC-256 SHA-256 sha256 32" ;;
    esac
}
kid() { echo "pkcs11:token=nk-test;object=$1?module-path=${2:-$SPY}"; }
describe_req() { jq -cn --arg k "$1" '{contractVersion:"1.0",keyId:$k}'; }
sign_req() { # KEYID NAME [TBS]
    local spec hash
    read -r spec hash _ _ <<<"$(spec_of "$2")"
    jq -cn --arg k "$1" --arg s "$spec" --arg h "$hash" \
        --arg p "$(base64 -w0 <"${3:-$NK_TMP/tbs}")" --arg ca "$NK_P11_CA" \
        '{contractVersion:"1.0",keyId:$k,keySpec:$s,hashAlgorithm:$h,
          payload:$p,pluginConfig:{"ca-certs":$ca}}'
}
# verify OUTFILE NAME [TBS]: the signature in a generate-signature response
# over TBS, checked with openssl against the token's own certificate.
verify() {
    local out=$1 name=$2 tbs=${3:-$NK_TMP/tbs} d t
    read -r _ _ d _ <<<"$(spec_of "$name")"
    t=$(mktemp -d "$NK_TMP/v.XXXXXX")
    jq -r .signature "$out" | base64 -d >"$t/sig" || return 1
    jq -r '.certificateChain[0]' "$out" | base64 -d >"$t/leaf" || return 1
    cmp -s "$t/leaf" "$NK_P11_PKI/$name.der" || return 1
    openssl x509 -inform DER -in "$t/leaf" -pubkey -noout >"$t/pub" || return 1
    if [[ $name == rsa* ]]; then
        openssl dgst -"$d" -verify "$t/pub" -sigopt rsa_padding_mode:pss \
            -sigopt rsa_pss_saltlen:48 -sigopt rsa_mgf1_md:"$d" \
            -signature "$t/sig" "$tbs" >/dev/null
    else
        "$NK_PY" - "$t/sig" "$t/sig.der" <<'EOF' || return 1
import sys
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
s = open(sys.argv[1], "rb").read(); n = len(s) // 2
open(sys.argv[2], "wb").write(encode_dss_signature(
    int.from_bytes(s[:n], "big"), int.from_bytes(s[n:], "big")))
EOF
        openssl dgst -"$d" -verify "$t/pub" -signature "$t/sig.der" "$tbs" >/dev/null
    fi
}
# sequence KEYID NAME OUT: describe-key then generate-signature, as notation
# runs them; 0 when both succeed and the signature verifies.
sequence() {
    local spec
    read -r spec _ <<<"$(spec_of "$2")"
    describe_req "$1" | "$NK_BIN" describe-key >"$3.d" 2>"$3.e" &&
        [ "$(jq -r .keySpec "$3.d")" = "$spec" ] &&
        sign_req "$1" "$2" | "$NK_BIN" generate-signature >"$3" 2>>"$3.e" &&
        verify "$3" "$2"
}
spy_count() {
    local n
    n=$(grep -c ": $2\$" "$1" 2>/dev/null)
    echo "${n:-0}"
}
# user_logins LOG: C_Login calls as CKU_USER (not the CKU_CONTEXT_SPECIFIC
# ones of an always-authenticate key) in a pkcs11-spy log.
user_logins() {
    awk '/: C_Login$/ { l = 1; next } l && /userType/ { n += /CKU_USER$/; l = 0 }
        END { print n + 0 }' "$1" 2>/dev/null || echo 0
}
# start_agent [ARGS...]: eval "$(notation-keystore agent ARGS)" in this
# shell, with the environment given before the call; AGENT_PID is its pid.
start_agent() {
    local out
    out=$("$NK_BIN" agent "$@") || return 1
    eval "$out"
    AGENT_PID=$(sed -n 's/^# notation-keystore agent pid \([0-9]*\)$/\1/p' <<<"$out")
    at_exit "kill $AGENT_PID 2>/dev/null"
    [ -S "$NOTATION_KEYSTORE_AGENT" ] && [ -n "$AGENT_PID" ]
}
gone() { # PID: waits up to 10 s for it to end
    local i
    for ((i = 0; i < 200; i++)); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.05
    done
    return 1
}
traced() { grep -c -- "$1" "$NOTATION_KEYSTORE_LOG_FILE"; }

# ---- start, add, notation-shaped sequences -----------------------------

ALOG=$NK_TMP/agent-spy.log PLOG=$NK_TMP/plugin-spy.log
# The agent loads pkcs11-spy (module-path) forwarding to SoftHSM.
PKCS11SPY=$M PKCS11SPY_OUTPUT=$ALOG ASAN_OPTIONS=$SPY_ASAN start_agent
check "agent: eval \"\$(notation-keystore agent)\" sets NOTATION_KEYSTORE_AGENT to a socket" \
    test -S "${NOTATION_KEYSTORE_AGENT:-/none}"
dir=$(dirname "$NOTATION_KEYSTORE_AGENT")
check "agent: socket in a fresh 0700 directory under XDG_RUNTIME_DIR, socket 0600" \
    eval '[[ $dir == "$XDG_RUNTIME_DIR"/notation-keystore-* ]] &&
        [ "$(stat -c %a "$dir")" = 700 ] && [ "$(stat -c %a "$NOTATION_KEYSTORE_AGENT")" = 600 ]'

for k in ec256 rsa3072; do
    NOTATION_KEYSTORE_PIN=$NK_P11_PIN "$NK_BIN" agent add "$(kid $k)" >"$NK_TMP/add-$k" 2>&1
    check "agent add $k ($(head -c 200 "$NK_TMP/add-$k"))" \
        grep -q "^added pkcs11:token=nk-test;object=$k?module-path=$SPY: pkcs11 $(spec_of $k | cut -d' ' -f1)\$" "$NK_TMP/add-$k"
done
check "agent: one C_Login in the agent for two keys on one token ($(user_logins "$ALOG"))" \
    test "$(user_logins "$ALOG")" = 1
"$NK_BIN" agent list --json >"$NK_TMP/list.json"
check "agent list --json: both keys ready, no lifetime" \
    test "$(jq -c '[.keys[] | [.keySpec, .state, .backend, (.expiresIn // 0)]]' "$NK_TMP/list.json")" = \
    '[["EC-256","ready","pkcs11",0],["RSA-3072","ready","pkcs11",0]]'

# Plugin processes: any module they load goes through the spy into PLOG.
export PKCS11SPY=$M PKCS11SPY_OUTPUT=$PLOG
before=$(spy_count "$ALOG" C_Sign)
for k in ec256 rsa3072; do
    ok=0
    for i in 1 2 3; do sequence "$(kid $k)" $k "$NK_TMP/seq-$k-$i" && ok=$((ok + 1)); done
    check "agent: 3 describe-key + generate-signature sequences with $k, each signature verified ($ok/3; $(head -c 200 "$NK_TMP/seq-$k-1.e"))" test $ok = 3
done
check "agent: no module loaded and no C_Login in the plugin processes" test ! -e "$PLOG"
check "agent: the 6 signatures were made in the agent ($(( $(spy_count "$ALOG" C_Sign) - before )) C_Sign)" \
    test $(($(spy_count "$ALOG" C_Sign) - before)) = 6
check "agent: still one C_Login in the agent" test "$(user_logins "$ALOG")" = 1
# A key id with pin-value or pin-source names the same key in the agent.
sign_req "$(kid ec256)&pin-value=0000&pin-source=/nonexistent" ec256 | "$NK_BIN" generate-signature >"$NK_TMP/pv.json" 2>"$NK_TMP/pv.err"
check "agent: a key id with pin-value/pin-source is the key the agent holds (signed, keyId echoed as sent)" \
    eval 'verify "$NK_TMP/pv.json" ec256 && [ "$(jq -r .keyId "$NK_TMP/pv.json")" = "$(kid ec256)&pin-value=0000&pin-source=/nonexistent" ] && [ ! -e "$PLOG" ]'
# generate-envelope goes through the agent too.
jq -cn --arg k "$(kid ec256)" --arg ca "$NK_P11_CA" --arg p "$(printf '{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":1}}' | base64 -w0)" \
    '{contractVersion:"1.0",keyId:$k,payloadType:"application/vnd.cncf.notary.payload.v1+json",signatureEnvelopeType:"application/jose+json",payload:$p,pluginConfig:{"ca-certs":$ca}}' |
    "$NK_BIN" generate-envelope >"$NK_TMP/env.json" 2>"$NK_TMP/env.err"
check "agent: generate-envelope through the agent ($(head -c 200 "$NK_TMP/env.err"))" \
    eval '[ "$(jq -r .signatureEnvelopeType "$NK_TMP/env.json")" = "application/jose+json" ] && [ ! -e "$PLOG" ]'
unset PKCS11SPY PKCS11SPY_OUTPUT

# ---- no PIN on the socket ------------------------------------------------
# A relay between client and agent records every byte both ways (and
# passes descriptors on): an add with the PIN in the key id and one with it
# in the environment, then sequences; the PIN never appears.
REAL=$NOTATION_KEYSTORE_AGENT RELAY=$NK_TMP/relay.sock
"$NK_PY" "$W" relay "$RELAY" "$REAL" "$NK_TMP/wire.bin" 2>"$NK_TMP/relay.err" &
at_exit "kill $!"
for ((i = 0; i < 100; i++)); do [ -S "$RELAY" ] && break; sleep 0.05; done
NOTATION_KEYSTORE_AGENT=$RELAY "$NK_BIN" agent add "$(kid ec256 "$M")&pin-value=$NK_P11_PIN" >"$NK_TMP/r1" 2>&1
NOTATION_KEYSTORE_AGENT=$RELAY NOTATION_KEYSTORE_PIN=$NK_P11_PIN "$NK_BIN" agent add "$(kid rsa3072 "$M")" >>"$NK_TMP/r1" 2>&1
NOTATION_KEYSTORE_AGENT=$RELAY sequence "$(kid ec256 "$M")" ec256 "$NK_TMP/relay-seq"
check "agent: adds and a sequence through a recording relay ($(head -c 200 "$NK_TMP/r1"))" \
    eval '[ "$(grep -c ^added "$NK_TMP/r1")" = 2 ] && verify "$NK_TMP/relay-seq" ec256 && [ -s "$NK_TMP/wire.bin" ]'
check "agent: the PIN never crossed the socket" eval '! grep -aq "$NK_P11_PIN" "$NK_TMP/wire.bin"'
check "agent: nor the private key" "$NK_PY" -c '
import sys
from cryptography.hazmat.primitives import serialization
k = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), None)
d = k.private_numbers().private_value.to_bytes(32, "big")
sys.exit(d in open(sys.argv[2], "rb").read())' "$NK_P11_PKI/ec256.key" "$NK_TMP/wire.bin"
"$NK_BIN" agent remove "$(kid ec256 "$M")" >/dev/null && "$NK_BIN" agent remove "$(kid rsa3072 "$M")" >/dev/null
# Those two keys were SoftHSM loaded directly, the others SoftHSM under
# pkcs11-spy: one library under two module paths. Removing the first two
# must not finalize it under the others.
sequence "$(kid ec256)" ec256 "$NK_TMP/after-direct"
check "agent: keys of one library under two module paths: removing one path's keys leaves the other's working ($(head -c 200 "$NK_TMP/after-direct.e"))" \
    verify "$NK_TMP/after-direct" ec256

# ---- an always-authenticate key ------------------------------------------
AA="pkcs11:token=nk-aa;object=always?module-path=$SPY"
ctx0=$(grep -c CKU_CONTEXT_SPECIFIC "$ALOG")
NOTATION_KEYSTORE_PIN=5678 "$NK_BIN" agent add "$AA" >"$NK_TMP/add-aa" 2>&1
check "agent add an always-authenticate key says the agent keeps its PIN ($(head -c 200 "$NK_TMP/add-aa"))" \
    grep -q "^added .*pkcs11 EC-256 (the key asks for the PIN at every signature" "$NK_TMP/add-aa"
ok=0
for i in 1 2 3; do sequence "$AA" ec256 "$NK_TMP/aa-$i" && ok=$((ok + 1)); done
check "agent: 3 sequences with the always-authenticate key, each verified ($ok/3; $(head -c 200 "$NK_TMP/aa-1.e"))" test $ok = 3
check "agent: a CKU_CONTEXT_SPECIFIC login for each of them ($(( $(grep -c CKU_CONTEXT_SPECIFIC "$ALOG") - ctx0 )))" \
    test $(($(grep -c CKU_CONTEXT_SPECIFIC "$ALOG") - ctx0)) = 3
check "agent list: the always-authenticate key's PIN is kept" \
    test "$("$NK_BIN" agent list --json | jq -c --arg k "$AA" '[.keys[] | select(.keyId == $k) | .pinKept]')" = '[true]'

# ---- remove one key: the others on the module keep working ---------------
"$NK_BIN" agent remove "$AA" >"$NK_TMP/rm" 2>&1
"$NK_BIN" agent remove "$(kid ec256)" >>"$NK_TMP/rm" 2>&1
check "agent remove ($(head -c 200 "$NK_TMP/rm"))" eval '[ "$(grep -c ^removed "$NK_TMP/rm")" = 2 ] &&
    [ "$("$NK_BIN" agent list --json | jq -c "[.keys[].keySpec]")" = "[\"RSA-3072\"]" ]'
check "agent: the module stays loaded (no C_Finalize)" test "$(spy_count "$ALOG" C_Finalize)" = 0
sequence "$(kid rsa3072)" rsa3072 "$NK_TMP/left" >/dev/null 2>&1
check "agent: the key left still signs through the agent ($(head -c 200 "$NK_TMP/left.e"))" \
    eval 'verify "$NK_TMP/left" rsa3072 && [ ! -e "$PLOG" ]'
"$NK_BIN" agent remove "$(kid ec256)" >"$NK_TMP/rm2" 2>&1
check "agent remove of a key it does not hold fails ($(head -c 120 "$NK_TMP/rm2"))" \
    eval '[ $? != 0 ] || grep -q "does not hold" "$NK_TMP/rm2"'

# ---- fallback: key not held, agent gone ----------------------------------
# pkcs11-spy leaks at C_Finalize: the plugin loads it here, so no leak
# detection (every other sanitizer check stays on).
asan_saved=${ASAN_OPTIONS-}
[ -z "${ASAN_OPTIONS:-}" ] || export ASAN_OPTIONS=$SPY_ASAN
export PKCS11SPY=$M PKCS11SPY_OUTPUT=$PLOG
n0=$(traced "does not hold this key")
NOTATION_KEYSTORE_PIN=$NK_P11_PIN sequence "$(kid ec256)" ec256 "$NK_TMP/fb1"
# One C_Login per sequence: describe-key needs none on a token that shows
# the key's public half.
check "agent: a key the agent does not hold is opened by the plugin itself ($(head -c 200 "$NK_TMP/fb1.e"))" \
    eval 'verify "$NK_TMP/fb1" ec256 && [ "$(spy_count "$PLOG" C_Login)" = 1 ] &&
        [ $(($(traced "does not hold this key") - n0)) = 2 ]'
rm -f "$PLOG"
n0=$(traced "cannot reach the agent")
NOTATION_KEYSTORE_AGENT=$NK_TMP/run/no-such-agent NOTATION_KEYSTORE_PIN=$NK_P11_PIN \
    sequence "$(kid rsa3072)" rsa3072 "$NK_TMP/fb2"
check "agent: with the agent gone the plugin opens the key itself ($(head -c 200 "$NK_TMP/fb2.e"))" \
    eval 'verify "$NK_TMP/fb2" rsa3072 && [ "$(spy_count "$PLOG" C_Login)" = 1 ] &&
        [ $(($(traced "cannot reach the agent") - n0)) = 2 ]'
rm -f "$PLOG"
unset PKCS11SPY PKCS11SPY_OUTPUT
[ -z "$asan_saved" ] || export ASAN_OPTIONS=$asan_saved

# ---- lock and unlock -------------------------------------------------------
"$NK_BIN" agent lock >"$NK_TMP/lock" 2>&1
check "agent lock: the key's session closed, key listed as logged out" \
    eval 'grep -q "^agent locked" "$NK_TMP/lock" && [ "$(spy_count "$ALOG" C_CloseSession)" -ge 1 ] &&
        [ "$("$NK_BIN" agent list --json | jq -r ".keys[0].state")" = logged-out ]'
NOTATION_KEYSTORE_PIN=$NK_P11_PIN "$NK_BIN" agent add "$(kid ec256)" >"$NK_TMP/add-locked" 2>&1
check "agent add while locked is refused" eval '[ $? != 0 ] || grep -q "agent is locked" "$NK_TMP/add-locked"'
sign_req "$(kid rsa3072)" rsa3072 | ASAN_OPTIONS=$SPY_ASAN PKCS11SPY=$M PKCS11SPY_OUTPUT=$PLOG "$NK_BIN" generate-signature >/dev/null 2>"$NK_TMP/locked.err"
check "agent: locked, it signs nothing: without a PIN of its own the plugin cannot log in" \
    eval '[ "$(tail -n1 "$NK_TMP/locked.err" | jq -r .errorCode)" = ACCESS_DENIED ] && grep -q "needs a PIN" "$NK_TMP/locked.err"'
rm -f "$PLOG"
"$NK_BIN" agent unlock >"$NK_TMP/unlock1" 2>&1
rc=$?
check "agent unlock without a PIN fails for the key, which stays logged out (rc=$rc)" \
    eval '[ $rc = 1 ] && grep -q "needs a PIN" "$NK_TMP/unlock1" &&
        [ "$("$NK_BIN" agent list --json | jq -r ".keys[0].state")" = logged-out ]'
u0=$(user_logins "$ALOG")
NOTATION_KEYSTORE_PIN=$NK_P11_PIN "$NK_BIN" agent unlock >"$NK_TMP/unlock2" 2>&1
check "agent unlock with the PIN logs in again ($(head -c 200 "$NK_TMP/unlock2"))" \
    eval 'grep -q "^unlocked .*rsa3072" "$NK_TMP/unlock2" && [ "$(user_logins "$ALOG")" = $((u0 + 1)) ] &&
        [ "$("$NK_BIN" agent list --json | jq -r ".keys[0].state")" = ready ]'
sequence "$(kid rsa3072)" rsa3072 "$NK_TMP/unlocked" >/dev/null 2>&1
check "agent: unlocked, it signs again" eval 'verify "$NK_TMP/unlocked" rsa3072 && [ ! -e "$PLOG" ]'

# (whole section: not in the ASan pass, see FULL above)
if [ "$FULL" = 1 ]; then
# ---- lifetime --------------------------------------------------------------
NOTATION_KEYSTORE_PIN=$NK_P11_PIN "$NK_BIN" agent add -t 2 "$(kid ec256)" >/dev/null 2>&1
ttl=$("$NK_BIN" agent list --json | jq -r --arg k "$(kid ec256)" '.keys[] | select(.keyId == $k) | .expiresIn')
check "agent add -t 2: listed with 1-2 s to live ($ttl)" eval '[ "$ttl" = 1 ] || [ "$ttl" = 2 ]'
sleep 3
check "agent: after its lifetime the key is gone" \
    test "$("$NK_BIN" agent list --json | jq -c '[.keys[].keySpec]')" = '["RSA-3072"]'
check "agent: the lifetime's end is logged" test "$(traced "lifetime ran out")" -ge 1

fi

# ---- hostile clients while a good one is served ---------------------------
"$NK_PY" "$W" hostile idle "$NOTATION_KEYSTORE_AGENT" 70 25 >"$NK_TMP/h-idle" 2>&1 &
idle_pid=$!
"$NK_PY" "$W" hostile stall "$NOTATION_KEYSTORE_AGENT" 20 >"$NK_TMP/h-stall" 2>&1 &
stall_pid=$!
at_exit "kill $idle_pid $stall_pid 2>/dev/null"
for ((i = 0; i < 100; i++)); do grep -q holding "$NK_TMP/h-idle" && break; sleep 0.1; done
for m in huge garbage fds pinfd; do
    "$NK_PY" "$W" hostile $m "$NOTATION_KEYSTORE_AGENT" >"$NK_TMP/h-$m" 2>&1
done
"$NK_PY" "$W" hostile fifo "$NOTATION_KEYSTORE_AGENT" "$NK_TMP" >"$NK_TMP/h-fifo" 2>&1
check "agent: a 2 GiB frame header gets a FAIL and the connection closed ($(cat "$NK_TMP/h-huge"))" \
    grep -qx "closed after FAIL" "$NK_TMP/h-huge"
check "agent: garbage gets the connection closed ($(cat "$NK_TMP/h-garbage"))" \
    grep -q "^closed" "$NK_TMP/h-garbage"
check "agent: two descriptors beside a request: FAIL, closed ($(cat "$NK_TMP/h-fds"))" \
    grep -qx "closed after FAIL" "$NK_TMP/h-fds"
check "agent: a PIN pipe beside a LIST is a protocol FAIL ($(cat "$NK_TMP/h-pinfd"))" \
    grep -qx "FAIL why 3" "$NK_TMP/h-pinfd"
check "agent: a FIFO kept open as the PIN pipe is refused at once, not waited on ($(cat "$NK_TMP/h-fifo"))" \
    grep -q "^FAIL in [0-9]" "$NK_TMP/h-fifo"
n0=$(traced "the agent holds the key")
sequence "$(kid rsa3072)" rsa3072 "$NK_TMP/good" >/dev/null 2>&1
check "agent: a good client is served through the agent meanwhile ($(head -c 200 "$NK_TMP/good.e"))" \
    eval 'verify "$NK_TMP/good" rsa3072 && [ $(($(traced "the agent holds the key") - n0)) = 2 ]'
check "agent: ... while the stalled and the 70 idle connections are still open" \
    eval 'kill -0 $stall_pid && kill -0 $idle_pid'
check "agent: more connections than it keeps: the quietest are closed" \
    test "$(traced "too many connections")" -ge 6
wait $stall_pid
check "agent: a frame stalled after 2 bytes is closed by its deadline ($(cat "$NK_TMP/h-stall"))" \
    grep -Eq "^closed after 1[0-9] s" "$NK_TMP/h-stall"
kill $idle_pid 2>/dev/null
check "agent: alive after all of it" eval 'kill -0 $AGENT_PID && "$NK_BIN" agent list >/dev/null'

# ---- the uid check -----------------------------------------------------------
# As root: nobody (uid 65534) cannot reach the socket (0700 directory);
# with the directory opened up, the agent itself refuses nobody's
# connection (SO_PEERCRED). And an agent running as nobody is not
# dumpable, and root's plugin will not talk to it.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
    # nobody may not be able to read the checkout (a clone in root's 0700
    # home): it runs copies of the client and the program from a
    # directory it can read.
    pub=$(mktemp -d /tmp/nk-agent-pub.XXXXXX) && chmod 0755 "$pub" &&
        cp "$W" "$pub/agent_wire.py" && cp "$NK_BIN" "$pub/notation-keystore" &&
        chmod 0755 "$pub/notation-keystore" && chmod 0644 "$pub/agent_wire.py"
    at_exit "rm -rf '$pub'"
    r=$(asnobody "$NK_PY" "$pub/agent_wire.py" hostile list "$NOTATION_KEYSTORE_AGENT" 2>&1)
    check "agent: another uid cannot reach the socket in its 0700 directory ($r)" \
        test "$r" = "cannot connect: PermissionError"
    chmod 0711 "$NK_TMP" "$XDG_RUNTIME_DIR" "$dir" && chmod 0666 "$NOTATION_KEYSTORE_AGENT"
    n0=$(traced "refused a connection from uid 65534")
    r=$(asnobody "$NK_PY" "$pub/agent_wire.py" hostile list "$NOTATION_KEYSTORE_AGENT" 2>&1)
    check "agent: another uid's connection is refused by SO_PEERCRED ($r)" \
        eval '[[ $r == refused || $r == "error "* ]] && [ $(($(traced "refused a connection from uid 65534") - n0)) = 1 ]'
    r=$("$NK_PY" "$W" hostile list "$NOTATION_KEYSTORE_AGENT" 2>&1)
    check "agent: our own uid still gets an answer ($r)" test "$r" = KEYS
    chmod 0700 "$NK_TMP" "$XDG_RUNTIME_DIR" "$dir" && chmod 0600 "$NOTATION_KEYSTORE_AGENT"
    out=$(cd / && asnobody env -u XDG_RUNTIME_DIR NOTATION_KEYSTORE_LOG= ASAN_OPTIONS=detect_leaks=0 "$pub/notation-keystore" agent 2>&1)
    npid=$(sed -n 's/^# notation-keystore agent pid \([0-9]*\)$/\1/p' <<<"$out")
    nsock=$(sed -n "s/^NOTATION_KEYSTORE_AGENT='\(.*\)'; export.*/\1/p" <<<"$out")
    at_exit "kill $npid 2>/dev/null"
    check "agent: an agent of nobody's is not dumpable (its /proc/PID/status and mem are root's)" \
        eval '[ -n "$npid" ] && [ "$(stat -c %U /proc/$npid/status /proc/$npid/mem | sort -u)" = root ] &&
            [ "$(stat -c %U "$nsock")" = nobody ]'
    n0=$(traced "belongs to another user")
    NOTATION_KEYSTORE_AGENT=$nsock NOTATION_KEYSTORE_PIN=$NK_P11_PIN ASAN_OPTIONS=$SPY_ASAN PKCS11SPY=$M PKCS11SPY_OUTPUT=$PLOG \
        sequence "$(kid rsa3072)" rsa3072 "$NK_TMP/other"
    check "agent: the plugin will not use an agent of another uid, and opens the key itself" \
        eval 'verify "$NK_TMP/other" rsa3072 && [ $(($(traced "belongs to another user") - n0)) = 2 ]'
    rm -f "$PLOG"
    kill "$npid" && gone "$npid"
    check "agent: SIGTERM stops it and removes its socket directory" eval '! kill -0 $npid 2>/dev/null && [ ! -e "$(dirname "$nsock")" ]'
else
    skip "agent: uid check" "needs root and setpriv to act as another user"
fi

# ---- stop ---------------------------------------------------------------------
"$NK_BIN" agent stop >"$NK_TMP/stop" 2>&1
check "agent stop: it exits and removes its socket and directory ($(cat "$NK_TMP/stop"))" \
    eval 'grep -qx "agent stopped" "$NK_TMP/stop" && gone $AGENT_PID && [ ! -e "$dir" ]'
check "agent stop: the token's sessions were closed and the module finalized" \
    test "$(spy_count "$ALOG" C_Finalize)" = 1
"$NK_BIN" agent list >"$NK_TMP/list-gone" 2>&1
check "agent list with the agent gone fails, naming the socket" \
    eval '[ $? != 0 ] || grep -q "cannot reach the agent" "$NK_TMP/list-gone"'

# ---- no PIN in the agent's memory at C_Sign --------------------------------------
# The shim searches the agent's writable memory for the token's PIN at each
# C_Sign. After `agent add` the PIN is gone (wiped right after C_Login), for
# a PIN given in the environment or as pin-value; an always-authenticate key
# keeps it (on purpose: every signature needs it), which the search finds.
SOFTHSM2_CONF=$SC/softhsm2.conf NK_SHIM_MODULE=$M NK_SHIM_SCAN_PIN=$SCAN_PIN \
    NK_SHIM_SCAN_OUT=$SC/scan start_agent
K="pkcs11:token=nk-scan;object=ec256?module-path=$NK_TMP/shim.so"
K2="pkcs11:token=nk-scan;id=%01?module-path=$NK_TMP/shim.so"
AK="pkcs11:token=nk-scan;object=always?module-path=$NK_TMP/shim.so"
scan_sign() { # KEYID OUT: one sequence through the agent; SCAN = the finding
    rm -f "$SC/scan"
    SOFTHSM2_CONF=$SC/softhsm2.conf sequence "$1" ec256 "$2"
    SCAN=$(cat "$SC/scan" 2>/dev/null)
}
NOTATION_KEYSTORE_PIN=$SCAN_PIN "$NK_BIN" agent add "$K" >/dev/null 2>&1
scan_sign "$K" "$SC/s1"
check "agent: no PIN in the agent at C_Sign after add with NOTATION_KEYSTORE_PIN ($SCAN)" \
    eval 'verify "$SC/s1" ec256 && [ "$SCAN" = "PIN ABSENT" ]'
"$NK_BIN" agent stop >/dev/null && gone $AGENT_PID
SOFTHSM2_CONF=$SC/softhsm2.conf NK_SHIM_MODULE=$M NK_SHIM_SCAN_PIN=$SCAN_PIN \
    NK_SHIM_SCAN_OUT=$SC/scan start_agent
"$NK_BIN" agent add "$K2&pin-value=$SCAN_PIN" >/dev/null 2>&1
scan_sign "$K2" "$SC/s2"
check "agent: no PIN in the agent at C_Sign after add with pin-value ($SCAN)" \
    eval 'verify "$SC/s2" ec256 && [ "$SCAN" = "PIN ABSENT" ]'
NOTATION_KEYSTORE_PIN=$SCAN_PIN "$NK_BIN" agent add "$AK" >/dev/null 2>&1
scan_sign "$AK" "$SC/s3"
check "agent: the always-authenticate key's PIN is kept, and found ($SCAN)" \
    eval 'verify "$SC/s3" ec256 && [[ $SCAN == "PIN FOUND "* ]]'
"$NK_BIN" agent remove "$AK" >/dev/null
scan_sign "$K2" "$SC/s4"
check "agent: removed, its PIN is wiped ($SCAN)" eval 'verify "$SC/s4" ec256 && [ "$SCAN" = "PIN ABSENT" ]'
"$NK_BIN" agent stop >/dev/null && gone $AGENT_PID

# (whole section: not in the ASan pass, see FULL above)
if [ "$FULL" = 1 ]; then
# ---- 16 sequences at once on a token that allows one session ----------------
NK_SHIM_MODULE=$M NK_SHIM_MAX_SESSIONS=1 start_agent
S1="pkcs11:token=nk-test;object=ec256?module-path=$NK_TMP/shim.so"
NOTATION_KEYSTORE_PIN=$NK_P11_PIN "$NK_BIN" agent add "$S1" >"$NK_TMP/s1" 2>&1
NOTATION_KEYSTORE_PIN=$NK_P11_PIN "$NK_BIN" agent add \
    "pkcs11:token=nk-test;object=rsa3072?module-path=$NK_TMP/shim.so" >"$NK_TMP/s2" 2>&1
check "agent: the token allows one session: the agent holds one key, a second needs a session it cannot get" \
    eval 'grep -q "^added" "$NK_TMP/s1" && grep -q CKR_SESSION_COUNT "$NK_TMP/s2"'
n0=$(traced "the agent holds the key") f0=$(traced "agent: not used")
pids=()
for i in $(seq 1 16); do
    (sequence "$S1" ec256 "$NK_TMP/par-$i" && echo ok >"$NK_TMP/par-$i.ok") &
    pids+=($!)
done
wait "${pids[@]}"
ok=$(ls "$NK_TMP"/par-*.ok 2>/dev/null | wc -l)
check "agent: 16 describe-key + generate-signature sequences at once all succeed, each signature verified ($ok/16; $(cat "$NK_TMP"/par-*.e | head -c 200))" \
    test "$ok" = 16
check "agent: all 32 processes went through the agent, none fell back" \
    eval '[ $(($(traced "the agent holds the key") - n0)) = 32 ] && [ $(($(traced "agent: not used") - f0)) = 0 ]'
"$NK_BIN" agent stop >/dev/null && gone $AGENT_PID

# ---- agent -- command ------------------------------------------------------------
cat >"$NK_TMP/cmd.sh" <<CMD
echo "\$NOTATION_KEYSTORE_AGENT" >"$NK_TMP/cmd.sock"
NOTATION_KEYSTORE_PIN=$NK_P11_PIN "$NK_BIN" agent add "$(kid ec256 "$M")" >"$NK_TMP/cmd.add" 2>&1
"$NK_BIN" agent list --json >"$NK_TMP/cmd.list"
exit 7
CMD
"$NK_BIN" agent -- bash "$NK_TMP/cmd.sh"
rc=$?
sock=$(cat "$NK_TMP/cmd.sock" 2>/dev/null)
check "agent -- cmd: the command ran with the agent and its exit status is returned (rc=$rc)" \
    eval '[ $rc = 7 ] && [ -n "$sock" ] && grep -q ^added "$NK_TMP/cmd.add" &&
        [ "$(jq -r ".keys[0].state" "$NK_TMP/cmd.list")" = ready ]'
check "agent -- cmd: the agent stopped with it (socket directory gone)" test ! -e "$(dirname "$sock")"
"$NK_BIN" agent -- false
check "agent -- false exits 1" test $? = 1
"$NK_BIN" agent -- "$NK_TMP/no-such-command" 2>/dev/null
check "agent -- a command that cannot run exits 127" test $? = 127
"$NK_BIN" agent -t 1 -- bash -c "NOTATION_KEYSTORE_PIN=$NK_P11_PIN '$NK_BIN' agent add '$(kid ec256 "$M")' >/dev/null &&
    '$NK_BIN' agent list --json >'$NK_TMP/t1.a' && sleep 2.5 && '$NK_BIN' agent list --json >'$NK_TMP/t1.b'"
check "agent -t 1: the default lifetime applies to keys added without -t" \
    eval '[ "$(jq -r ".keys[0].expiresIn" "$NK_TMP/t1.a")" = 1 ] && [ "$(jq -c .keys "$NK_TMP/t1.b")" = "[]" ]'

# ---- KMS keys: Vault and AWS mocks --------------------------------------------
# The agent keeps the connection (libcurl handle), the token and the key
# description: each signature is one request on one kept-alive connection,
# and the plugin processes never load libcurl.
vport=$(free_port) aport=$(free_port)
vsetup=$NK_TMP/vault.json vlog=$NK_TMP/vault.jsonl asetup=$NK_TMP/aws.json alog=$NK_TMP/aws.jsonl
VAULT_MOCK_LIFETIME=600 "$NK_PY" "$NK_ROOT/tests/lib/vault_mock.py" --only ecdsa-p256 \
    --setup "$vsetup" --log "$vlog" --http "$vport" >"$NK_TMP/vault.out" 2>&1 &
at_exit "kill $!"
if aws_mock_start "$aport" "$asetup" "$alog" && wait_file "$vsetup" 60; then
    unset AWS_PROFILE AWS_SESSION_TOKEN AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN VAULT_NAMESPACE VAULT_CACERT
    export HOME=$NK_TMP/home AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1
    mkdir -p "$HOME"
    export AWS_ENDPOINT_URL_KMS=http://127.0.0.1:$aport VAULT_ADDR=http://127.0.0.1:$vport
    export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY VAULT_TOKEN
    AWS_ACCESS_KEY_ID=$(jq -r .signer.id "$asetup")
    AWS_SECRET_ACCESS_KEY=$(jq -r .signer.secret "$asetup")
    VAULT_TOKEN=$(jq -r .root_token "$vsetup")
    jq -r '.keys["/transit/ecdsa-p256"]["1"]' "$vsetup" >"$NK_TMP/vault.pub"
    jq -r '.keys["ec-256"].pub' "$asetup" >"$NK_TMP/aws.pub"
    kms_chain "$NK_TMP/kpki" vault "$NK_TMP/vault.pub" && kms_chain "$NK_TMP/kpki" aws "$NK_TMP/aws.pub" ||
        fail "agent: KMS test chains"
    printf 'payload for a KMS key' >"$NK_TMP/kpayload"
    kreq() { # KEYID CMD
        jq -cn --arg k "$1" --arg c "$NK_TMP/kpki/$3-chain.pem" --arg cmd "$2" \
            --arg p "$(base64 -w0 "$NK_TMP/kpayload")" \
            '{contractVersion:"1.0",keyId:$k,pluginConfig:{"certificate-chain":$c,cache:"false"}}
             + (if $cmd == "generate-signature" then {keySpec:"EC-256",hashAlgorithm:"SHA-256",payload:$p} else {} end)'
    }
    # ksign KEYID NAME N: N describe-key + generate-signature sequences; OK
    # counts those whose signature Python cryptography verifies.
    ksign() {
        local i
        OK=0
        for ((i = 1; i <= $3; i++)); do
            kreq "$1" describe-key "$2" | "$NK_BIN" describe-key >/dev/null 2>"$NK_TMP/k.e" &&
                kreq "$1" generate-signature "$2" | "$NK_BIN" generate-signature >"$NK_TMP/k.out" 2>>"$NK_TMP/k.e" &&
                kms_verify "$NK_TMP/$2.pub" EC-256 "$NK_TMP/kpayload" "$(jq -r .signature "$NK_TMP/k.out")" &&
                OK=$((OK + 1))
        done
    }
    start_agent
    "$NK_BIN" agent add --plugin-config cache=false hashivault://ecdsa-p256 >"$NK_TMP/kadd" 2>&1
    "$NK_BIN" agent add --plugin-config cache=false awskms:///alias/ec-256 >>"$NK_TMP/kadd" 2>&1
    check "agent add hashivault:// and awskms:// keys ($(head -c 300 "$NK_TMP/kadd"))" \
        test "$(grep -c '^added .*EC-256$' "$NK_TMP/kadd")" = 2
    v0=$(wc -l <"$vlog") a0=$(wc -l <"$alog")
    ksign hashivault://ecdsa-p256 vault 5
    check "agent: 5 Vault sequences through the agent, each verified ($OK/5; $(head -c 200 "$NK_TMP/k.e"))" test $OK = 5
    check "agent: Vault saw exactly one request per signature, no key or chain read" \
        test "$(tail -n +$((v0 + 1)) "$vlog" | jq -r '"\(.method) \(.path)"' | sort | uniq -c | sed 's/^ *//')" = \
        "5 POST /v1/transit/sign/ecdsa-p256/sha2-256"
    check "agent: all of them on one kept-alive connection" \
        test "$(tail -n +$((v0 + 1)) "$vlog" | jq -r .peer | sort -u | wc -l)" = 1
    ksign awskms:///alias/ec-256 aws 5
    check "agent: 5 AWS KMS sequences through the agent, each verified ($OK/5; $(head -c 200 "$NK_TMP/k.e"))" test $OK = 5
    aops=$(tail -n +$((a0 + 1)) "$alog" | jq -r '"\(.target) \(.status)"' | sort | uniq -c | sed 's/^ *//')
    check "agent: AWS KMS saw one Sign per signature, nothing else ($aops), on one connection" \
        eval '[ "$aops" = "5 Sign 200" ] && [ "$(tail -n +$((a0 + 1)) "$alog" | jq -r .peer | sort -u | wc -l)" = 1 ]'
    kreq hashivault://ecdsa-p256 generate-signature vault |
        LD_DEBUG=files LD_DEBUG_OUTPUT=$NK_TMP/ld-agent "$NK_BIN" generate-signature >/dev/null 2>&1
    kreq hashivault://ecdsa-p256 generate-signature vault | NOTATION_KEYSTORE_AGENT= \
        LD_DEBUG=files LD_DEBUG_OUTPUT=$NK_TMP/ld-direct "$NK_BIN" generate-signature >/dev/null 2>&1
    check "agent: a plugin process signing through the agent never loads libcurl (one without the agent does)" \
        eval '! cat "$NK_TMP"/ld-agent.* | grep -q libcurl && cat "$NK_TMP"/ld-direct.* | grep -q libcurl'
    "$NK_BIN" agent lock >/dev/null && "$NK_BIN" agent unlock >"$NK_TMP/kunlock" 2>&1
    v0=$(wc -l <"$vlog")
    ksign hashivault://ecdsa-p256 vault 2
    check "agent: KMS keys log in again at unlock without a PIN and sign ($OK/2; $(head -c 200 "$NK_TMP/kunlock"))" \
        eval '[ $OK = 2 ] && [ "$(grep -c ^unlocked "$NK_TMP/kunlock")" = 2 ]'
    # A Vault key rotated under the agent: the agent holds a description
    # read from a warm key cache, so its signatures are not pinned to a
    # version; the first one after the rotation comes back with version 2.
    # That run fails with a message that says so (the plugin checked its
    # chain against version 1), and the agent describes the key again: the
    # next run signs with version 2.
    vreq() { jq -cn --arg c "$NK_TMP/kpki/$1-chain.pem" --arg p "$(base64 -w0 "$NK_TMP/kpayload")" \
        '{contractVersion:"1.0",keyId:"hashivault://ecdsa-p256",keySpec:"EC-256",hashAlgorithm:"SHA-256",
          payload:$p,pluginConfig:{"certificate-chain":$c}}'; }
    vreq vault | jq 'del(.keySpec,.hashAlgorithm,.payload)' |
        NOTATION_KEYSTORE_AGENT= "$NK_BIN" describe-key >/dev/null 2>&1
    "$NK_BIN" agent add hashivault://ecdsa-p256 >/dev/null 2>&1
    curl -s -H "X-Vault-Token: $VAULT_TOKEN" -X POST "$VAULT_ADDR/v1/transit/keys/ecdsa-p256/rotate" |
        jq -r '.data.keys["2"].public_key' >"$NK_TMP/vault2.pub"
    kms_chain "$NK_TMP/kpki" vault2 "$NK_TMP/vault2.pub" || fail "agent: chain for version 2"
    vreq vault | "$NK_BIN" generate-signature >"$NK_TMP/rot.out" 2>"$NK_TMP/rot.err"
    check "agent: a Vault key rotated under the agent fails the run that finds it out, saying so ($(head -c 300 "$NK_TMP/rot.err"))" \
        eval '[ ! -s "$NK_TMP/rot.out" ] && jq -e ".errorCode == \"ERROR\" and (.errorMessage | test(\"rotated.*run again\"))" "$NK_TMP/rot.err" >/dev/null'
    vreq vault2 | "$NK_BIN" generate-signature >"$NK_TMP/rot.out" 2>"$NK_TMP/rot.err"
    check "agent: ... and the next run signs with the new version through the agent ($(head -c 300 "$NK_TMP/rot.err"))" \
        kms_verify "$NK_TMP/vault2.pub" EC-256 "$NK_TMP/kpayload" "$(jq -r .signature "$NK_TMP/rot.out")"
    "$NK_BIN" agent stop >/dev/null && gone $AGENT_PID
else
    fail "agent: the Vault or AWS mock did not start"
fi

fi

# ---- sanitizers ------------------------------------------------------------------
if [ -n "${ASAN_OPTIONS:-}" ]; then
    check "agent: no sanitizer report from any process ($(cat "$NK_TMP"/asan.* 2>/dev/null | head -c 300))" \
        eval '! ls "$NK_TMP"/asan.* >/dev/null 2>&1'
fi
