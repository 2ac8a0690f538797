#!/usr/bin/env bash
# A PIN never reaches stderr or the trace log, whichever way it was given
# and whether the run succeeds or fails; stdout carries only the response,
# whose keyId is the request's echoed byte for byte (the protocol asks for
# that, so a pin-value in a key id comes back to notation, which sent it).
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/softhsm.sh"
if ! softhsm_std_token "$NK_TMP/std" >"$NK_TMP/setup.log" 2>&1; then
    cat "$NK_TMP/setup.log"; fail "secrets: SoftHSM token setup"; exit 1
fi
M=$NK_P11_MODULE
GOOD=$NK_P11_PIN
WRONG=Wr0ngPin-7731
export NOTATION_KEYSTORE_LOG=debug NOTATION_KEYSTORE_LOG_FILE=$NK_TMP/trace.log
all=$NK_TMP/all-output
: >"$all"
run() { # run PIN-IN-ENV KEY-ID [CONFIG]
    local r c=${3:-"{}"}
    r=$(jq -nc --arg k "$2" --arg ca "$NK_P11_CA" --argjson c "$c" \
        '{contractVersion:"1.0",keyId:$k,keySpec:"EC-256",hashAlgorithm:"SHA-256",
          payload:"YWJjZA==",pluginConfig:({"ca-certs":$ca}+$c)}')
    NOTATION_KEYSTORE_PIN=$1 plugin generate-signature "$r"
    printf '%s\n' "$ERR" >>"$all"
    [ "$RC" = 0 ] || printf '%s\n' "$OUT" >>"$all"
}
printf '%s\n' "$WRONG" >"$NK_TMP/wrong.pin"
printf '%s\n' "$GOOD" >"$NK_TMP/good.pin"
K="pkcs11:token=nk-test;object=ec256?module-path=$M"
run "$WRONG" "$K";                                     w1=$RC
run "" "$K&pin-value=$WRONG";                          w2=$RC
run "" "$K&pin-source=$NK_TMP/wrong.pin";              w3=$RC
run "" "$K" "$(jq -nc --arg f "$NK_TMP/wrong.pin" '{"pin-file":$f}')"; w4=$RC
run "" "pkcs11:token=nope;object=ec256?module-path=$M&pin-value=$WRONG"; w5=$RC
run "" "pkcs11:token=nk-test;object=ec256;bogus=1?pin-value=$WRONG"; w6=$RC
check "secrets: the wrong-PIN runs failed (rc $w1 $w2 $w3 $w4 $w5 $w6)" \
    test "$w1$w2$w3$w4$w5$w6" = 111111
check "secrets: they failed for the PIN, the token or the key id" \
    test "$(grep -c '"errorCode"' "$all")" = 6
# Reset SoftHSM's failure counter with good runs, which must succeed.
run "$GOOD" "$K";                                      g1=$RC
run "" "$K&pin-value=$GOOD";                           g2=$RC
run "" "$K&pin-source=$NK_TMP/good.pin";               g3=$RC
check "secrets: the good-PIN runs succeeded (rc $g1 $g2 $g3)" test "$g1$g2$g3" = 000
check "secrets: the trace log was written" test -s "$NK_TMP/trace.log"
check "secrets: no wrong PIN in any output or the log" \
    bash -c '! grep -qF -- "$0" "$1" "$2"' "$WRONG" "$all" "$NK_TMP/trace.log"
check "secrets: no good PIN in any output or the log" \
    bash -c '! grep -qwF -- "$0" "$1" "$2"' "$GOOD" "$all" "$NK_TMP/trace.log"
