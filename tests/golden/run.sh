#!/usr/bin/env bash
# Golden protocol tests: tests/golden/<command>/<case>.req is fed to
# `notation-keystore <command>` (for tests/golden/other/, the first line of
# the .req names the command); the output must match <case>.want (see
# compare.py for patterns). A .want with "errorCode" expects exit 1, that
# JSON on stderr and nothing on stdout; otherwise exit 0 and the JSON on
# stdout. @MODULE@ and @CA_CERTS@ in a .req or .want are replaced with the
# throwaway SoftHSM token's module and CA bundle (tests/lib/softhsm.sh),
# @CHAIN@ with the JSON array of its ec256 chain (base64 DER: leaf,
# intermediate, root; subject of the leaf "C=US, ST=WA, O=Notation Keystore
# Test, CN=ec256") and @VERSION@ with VERSION. Signatures, times and
# envelopes vary from run to run: compare.py's patterns match them.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/softhsm.sh"
GOLDEN=$NK_ROOT/tests/golden
tag=${NK_SUITE_TAG:+$NK_SUITE_TAG }

# The standard throwaway token for the cases that reach a key.
if ! softhsm_std_token "$NK_TMP/hsm" >"$NK_TMP/hsm.log" 2>&1; then
    cat "$NK_TMP/hsm.log"
    fail "${NK_SUITE_TAG:+$NK_SUITE_TAG }golden: cannot create the SoftHSM token"
    exit 1
fi
export NOTATION_KEYSTORE_PIN=$NK_P11_PIN

der_b64() { openssl x509 -in "$1" -outform DER | base64 -w0; }
CHAIN="[\"$(der_b64 "$NK_P11_PKI/ec256.pem")\",\"$(der_b64 "$NK_P11_PKI/inter.pem")\",\"$(der_b64 "$NK_P11_PKI/root.pem")\"]"
VERSION=$(cat "$NK_ROOT/VERSION")
case $CHAIN in
*'""'*) fail "${tag}golden: cannot read the test chain"; exit 1 ;;
esac

subst() {
    sed -e "s|@MODULE@|$NK_P11_MODULE|g" -e "s|@CA_CERTS@|$NK_P11_CA|g" \
        -e "s|@CHAIN@|$CHAIN|g" -e "s|@VERSION@|$VERSION|g" "$1"
}

# run_case DIR NAME CMD REQ WANT, in its own directory $NK_TMP/c/DIR.NAME
# (cases run side by side).
run_case() {
    local dir=$1 name=$2 cmd=$3 req=$4 want=$5 rc_want=0 msg rc t
    t=$NK_TMP/c/$dir.$name
    mkdir -p "$t"
    if grep -q '"errorCode"' "$want"; then rc_want=1; fi
    subst "$req" >"$t/req"
    subst "$want" >"$t/want"
    want=$t/want
    # Its own copy of the token: SoftHSM's file store is not safe for
    # processes that use one token at once (a reader may find no token
    # while another process rewrites its files).
    cp -r "$(dirname "$SOFTHSM2_CONF")/tokens" "$t/tokens"
    sed "s|^directories.tokendir = .*|directories.tokendir = $t/tokens|" \
        "$SOFTHSM2_CONF" >"$t/softhsm2.conf"
    # shellcheck disable=SC2086
    SOFTHSM2_CONF=$t/softhsm2.conf $NK_WRAP "$NK_BIN" "$cmd" <"$t/req" >"$t/out" 2>"$t/err"
    rc=$?
    if [ "$rc" != "$rc_want" ]; then
        fail "${tag}golden $dir/$name: exit $rc, want $rc_want: $(head -c 300 "$t/err")"
        return
    fi
    if [ "$rc_want" = 1 ]; then
        if [ -s "$t/out" ]; then
            fail "${tag}golden $dir/$name: stdout not empty on error"
            return
        fi
        msg=$("$NK_PY" "$GOLDEN/compare.py" "$want" "$t/err")
    else
        msg=$("$NK_PY" "$GOLDEN/compare.py" "$want" "$t/out")
    fi
    if [ $? = 0 ]; then pass "${tag}golden $dir/$name"; else fail "${tag}golden $dir/$name: $msg"; fi
}

# NK_JOBS cases at a time (default 2, the cores make check is planned
# for): under valgrind each case costs about a second of CPU. Each case
# has its own copy of the token (above). Each result is one short line
# appended to $NK_RESULTS.
jobs_max=${NK_JOBS:-2}
for req in "$GOLDEN"/*/*.req; do
    dir=$(basename "$(dirname "$req")")
    name=$(basename "$req" .req)
    want=${req%.req}.want
    if [ "$dir" = other ]; then
        cmd=$(head -n1 "$req")
        tail -n +2 "$req" >"$NK_TMP/req.other.$name"
        run_case "$dir" "$name" "$cmd" "$NK_TMP/req.other.$name" "$want" &
    else
        run_case "$dir" "$name" "$dir" "$req" "$want" &
    fi
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
done
wait
