#!/usr/bin/env bash
# Protocol hygiene that golden files cannot show: the stdin size cap, a
# stdout that is full or closed, arguments after a protocol command, and
# stdout kept clean while a PKCS#11 module prints to it.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/softhsm.sh"

# A request over the 4 MiB cap is refused before it is parsed.
{ printf '{"contractVersion":"1.0","keyId":"'; head -c 5000000 /dev/zero | tr '\0' a; printf '"}'; } >"$NK_TMP/big.json"
"$NK_BIN" describe-key <"$NK_TMP/big.json" >"$NK_TMP/out" 2>"$NK_TMP/err"
rc=$?
check "protocol: request over 4 MiB refused with VALIDATION_ERROR" \
    test "$rc" = 1 -a ! -s "$NK_TMP/out" -a "$(jq -r .errorCode "$NK_TMP/err")" = VALIDATION_ERROR
check "protocol: the size error says why" grep -q 'exceeds the limit' "$NK_TMP/err"

# Just under the cap is read whole (and then refused for its content).
{ printf '{"contractVersion":"1.0","keyId":"x","pad":"'; head -c 4000000 /dev/zero | tr '\0' a; printf '"}'; } >"$NK_TMP/large.json"
"$NK_BIN" describe-key <"$NK_TMP/large.json" >"$NK_TMP/out" 2>"$NK_TMP/err"
check "protocol: a 4 MB request is parsed (unknown key id, not a size error)" \
    grep -q 'unsupported key id' "$NK_TMP/err"

# stdout that cannot take the response, or is not there at all: one error
# JSON on stderr and exit 1, never a half-written answer reported as done.
echo '{}' | "$NK_BIN" get-plugin-metadata >/dev/full 2>"$NK_TMP/err"
rc=$?
check "protocol: a response that cannot be written is an ERROR (exit $rc)" \
    test "$rc" = 1 -a "$(jq -r .errorMessage "$NK_TMP/err")" = "cannot write the response: No space left on device"
echo '{}' | "$NK_BIN" get-plugin-metadata >&- 2>"$NK_TMP/err"
rc=$?
check "protocol: a closed stdout is an ERROR (exit $rc)" \
    test "$rc" = 1 -a "$(jq -r .errorMessage "$NK_TMP/err")" = "cannot set up stdout"
echo '{}' | "$NK_BIN" get-plugin-metadata extra >"$NK_TMP/out" 2>"$NK_TMP/err"
rc=$?
check "protocol: a protocol command with arguments is a VALIDATION_ERROR (exit $rc)" \
    test "$rc" = 1 -a ! -s "$NK_TMP/out" -a "$(jq -r .errorCode "$NK_TMP/err")" = VALIDATION_ERROR
check "protocol: ... saying the request comes on stdin" grep -q 'takes no arguments' "$NK_TMP/err"

# A chatty module: it writes to stdout (fd 1, printf and write) when loaded
# and on every signature. The response must still be the only thing on
# stdout, and the chatter goes to stderr.
if ! softhsm_std_token "$NK_TMP/std" >"$NK_TMP/setup.log" 2>&1; then
    cat "$NK_TMP/setup.log"; fail "protocol: SoftHSM token setup"; exit 1
fi
if p11shim_build "$NK_TMP/chatty.so" 2>"$NK_TMP/cc.log"; then
    export NK_SHIM_MODULE=$NK_P11_MODULE NK_SHIM_CHATTY=1 NOTATION_KEYSTORE_PIN=$NK_P11_PIN
    r=$(jq -nc --arg k "pkcs11:token=nk-test;object=ec256?module-path=$NK_TMP/chatty.so" \
        --arg ca "$NK_P11_CA" '{contractVersion:"1.0",keyId:$k,keySpec:"EC-256",
        hashAlgorithm:"SHA-256",payload:"YWJjZA==",pluginConfig:{"ca-certs":$ca}}')
    plugin generate-signature "$r"
    check "protocol: stdout holds only the response despite module chatter (rc=$RC)" \
        test "$RC" = 0 -a "$(printf '%s\n' "$OUT" | wc -l)" = 1
    intact() { jq -e '.signature and (.certificateChain|length)==3' <<<"$OUT" >/dev/null; }
    check "protocol: the response is intact JSON" intact
    check "protocol: the chatter went to stderr" grep -q 'chatty module: signing' <<<"$ERR"
else
    cat "$NK_TMP/cc.log"; fail "protocol: cannot build the chatty module"
fi
