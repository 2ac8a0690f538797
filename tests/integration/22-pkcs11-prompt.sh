#!/usr/bin/env bash
# Asking the person for the PIN when no PIN source is set (docs/pkcs11.md):
# a pinentry from pluginConfig or PATH (tests/lib/fake_pinentry.py, a real
# Assuan exchange over its stdin and stdout), else the terminal with echo
# off (a pseudo-terminal made by tests/lib/pty_run.py), never the plugin's
# stdin or stdout; no terminal and no pinentry set is ACCESS_DENIED; a PIN
# pad gets a notice on the terminal. Every signature is checked.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/softhsm.sh"

M=$NK_P11_MODULE
if [ ! -x "$NK_BIN" ]; then
    fail "prompt: plugin binary $NK_BIN not built"
    exit 1
fi
if ! softhsm_std_token "$NK_TMP/std" >"$NK_TMP/setup.log" 2>&1 ||
    ! p11shim_build "$NK_TMP/shim.so" 2>>"$NK_TMP/setup.log"; then
    cat "$NK_TMP/setup.log"
    fail "prompt: SoftHSM token or shim setup"
    exit 1
fi
unset NOTATION_KEYSTORE_PIN NOTATION_KEYSTORE_PKCS11_MODULE
export NK_SHIM_MODULE=$M
FAKE=$NK_ROOT/tests/lib/fake_pinentry.py
PTY=$NK_ROOT/tests/lib/pty_run.py
export FAKE_PINENTRY_LOG=$NK_TMP/pinentry.log FAKE_PINENTRY_PIN=$NK_P11_PIN
# A PATH with our fake as "pinentry", and one without any pinentry (the
# plugin runs no other program).
mkdir -p "$NK_TMP/bin-pe" "$NK_TMP/bin-none"
ln -s "$FAKE" "$NK_TMP/bin-pe/pinentry"
K="pkcs11:token=nk-test;object=ec256?module-path=$M"
KS="pkcs11:token=nk-test;object=ec256?module-path=$NK_TMP/shim.so"

printf 'notation-keystore prompt test' >"$NK_TMP/tbs"
# req KEYID [CONFIG-JSON]: a generate-signature request for EC-256.
req() {
    jq -cn --arg k "$1" --arg p "$(base64 -w0 <"$NK_TMP/tbs")" --arg ca "$NK_P11_CA" \
        --argjson extra "${2:-{\}}" \
        '{contractVersion:"1.0",keyId:$k,keySpec:"EC-256",hashAlgorithm:"SHA-256",
          payload:$p,pluginConfig:({"ca-certs":$ca} + $extra)}'
}
pe() { jq -cn --arg p "$1" '{pinentry:$p}'; }
# sig_ok FILE: the response in FILE holds an ECDSA P-256 signature over
# the payload by the token's ec256 key (its certificate from the PKI).
sig_ok() {
    "$NK_PY" - "$1" "$NK_TMP/tbs" "$NK_P11_PKI/ec256.pem" <<'PY'
import base64, json, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
resp = json.load(open(sys.argv[1]))
sig = base64.b64decode(resp["signature"])
assert len(sig) == 64, len(sig)
pub = x509.load_pem_x509_certificate(open(sys.argv[3], "rb").read()).public_key()
pub.verify(encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")),
           open(sys.argv[2], "rb").read(), ec.ECDSA(hashes.SHA256()))
PY
}
# nobody REQ...: the plugin in a new session: no controlling terminal.
nobody() { NK_WRAP="setsid -w $NK_WRAP" "$@"; }

# --- pinentry from pluginConfig, no terminal ---------------------------
rm -f "$FAKE_PINENTRY_LOG"
nobody plugin describe-key "$(jq -cn --arg k "$K" '{contractVersion:"1.0",keyId:$k}')"
check "prompt: describe-key asks for no PIN (rc=$RC)" \
    test "$RC/$([ -e "$FAKE_PINENTRY_LOG" ] && echo asked)" = "0/"
nobody plugin generate-signature "$(req "$K" "$(pe "$FAKE")")"
printf '%s' "$OUT" >"$NK_TMP/resp.json"
check "prompt: pluginConfig pinentry gives the PIN (rc=$RC ${ERR:0:300})" \
    test "$RC" = 0
check "prompt: the signature checks" sig_ok "$NK_TMP/resp.json"
check "prompt: pinentry was asked once, named token and key" \
    grep -q '^SETDESC .*token "nk-test" to use key "ec256"' "$FAKE_PINENTRY_LOG"
check "prompt: one GETPIN, then BYE" \
    test "$(grep -c '^GETPIN' "$FAKE_PINENTRY_LOG")/$(tail -n1 "$FAKE_PINENTRY_LOG")" = "1/BYE "
check "prompt: no terminal, so no ttyname option" \
    eval '! grep -q "^OPTION ttyname" "$FAKE_PINENTRY_LOG"'
check "prompt: the PIN is in no message" eval '! grep -qF "$NK_P11_PIN" "$NK_TMP/err"'

rm -f "$FAKE_PINENTRY_LOG"
FAKE_PINENTRY_MODE=cancel nobody expect_error "prompt: cancelled pinentry is ACCESS_DENIED" \
    ACCESS_DENIED generate-signature "$(req "$K" "$(pe "$FAKE")")" 'PIN entry was cancelled'
FAKE_PINENTRY_PIN= nobody expect_error "prompt: an empty PIN is ACCESS_DENIED, no login" \
    ACCESS_DENIED generate-signature "$(req "$K" "$(pe "$FAKE")")" 'no PIN was entered'
nobody expect_error "prompt: pluginConfig pinentry that cannot start" ACCESS_DENIED \
    generate-signature "$(req "$K" "$(pe "$NK_TMP/no-such-pinentry")")" \
    'pinentry ".*no-such-pinentry" cannot be started'
FAKE_PINENTRY_PIN=0000 nobody expect_error "prompt: a wrong PIN from pinentry" ACCESS_DENIED \
    generate-signature "$(req "$K" "$(pe "$FAKE")")" 'wrong PIN for token "nk-test" \(from pinentry\)'
# A pinentry that misbehaves: an error, never a hang or a crash.
FAKE_PINENTRY_MODE=exit nobody expect_error "prompt: pinentry that ends without an answer" ERROR \
    generate-signature "$(req "$K" "$(pe "$FAKE")")" 'pinentry ".*" ended the conversation'
FAKE_PINENTRY_MODE=nul nobody expect_error "prompt: pinentry PIN with a NUL byte" ACCESS_DENIED \
    generate-signature "$(req "$K" "$(pe "$FAKE")")" 'holds a NUL byte'
FAKE_PINENTRY_MODE=long nobody expect_error "prompt: pinentry line over the Assuan limit" ERROR \
    generate-signature "$(req "$K" "$(pe "$FAKE")")" 'sent a line longer than 1000 bytes'
# The token says few tries are left: the prompt warns.
rm -f "$FAKE_PINENTRY_LOG"
NK_SHIM_FLAGS=0x10000 nobody expect_ok "prompt: PIN count low, pinentry still asked" \
    generate-signature "$(req "$KS" "$(pe "$FAKE")")"
check "prompt: pinentry warns of few tries left" \
    grep -q '^SETDESC .*few PIN tries left; a wrong PIN may lock it' "$FAKE_PINENTRY_LOG"

# --- nobody to ask -----------------------------------------------------
# No terminal: a pinentry in PATH is not started (nobody would see it).
rm -f "$FAKE_PINENTRY_LOG"
PATH=$NK_TMP/bin-pe:$PATH nobody expect_error "prompt: no terminal and no pinentry set" \
    ACCESS_DENIED generate-signature "$(req "$K")" \
    'token "nk-test" needs a PIN: set NOTATION_KEYSTORE_PIN.*pin-file \(there is no terminal'
check "prompt: no terminal: pinentry in PATH not started" test ! -e "$FAKE_PINENTRY_LOG"

# --- a person at a terminal (pseudo-terminal) --------------------------
# ptyrun NAME ACTION [VAR=VALUE...] -- REQUEST: the plugin on a pty as its
# controlling terminal, stdin/stdout/stderr files; sets PTYRES, RC, OUT, ERR
# and $NK_TMP/tty (what it wrote on the terminal).
ptyrun() {
    local action=$1 req=$2
    shift 2
    printf '%s' "$req" >"$NK_TMP/req.json"
    PTYRES=$(env "$@" "$NK_PY" "$PTY" "$NK_TMP/req.json" "$NK_TMP/out" "$NK_TMP/err" \
        "$NK_TMP/tty" "$action" -- $NK_WRAP "$NK_BIN" generate-signature) || PTYRES="pty_run failed: $PTYRES"
    RC=$(sed -n 's/.* rc=\(-\{0,1\}[0-9]*\).*/\1/p' <<<"$PTYRES")
    OUT=$(cat "$NK_TMP/out")
    ERR=$(cat "$NK_TMP/err")
}
rm -f "$FAKE_PINENTRY_LOG"
ptyrun none "$(req "$K")" PATH="$NK_TMP/bin-pe:$PATH"
printf '%s' "$OUT" >"$NK_TMP/resp.json"
check "prompt: terminal: pinentry from PATH gives the PIN ($PTYRES ${ERR:0:300})" \
    test "$RC" = 0
check "prompt: terminal: pinentry signature checks" sig_ok "$NK_TMP/resp.json"
check "prompt: terminal: pinentry told the terminal's name" \
    grep -qx 'OPTION ttyname=/dev/tty' "$FAKE_PINENTRY_LOG"

ptyrun "answer:$NK_P11_PIN" "$(req "$K")" PATH="$NK_TMP/bin-none"
printf '%s' "$OUT" >"$NK_TMP/resp.json"
check "prompt: terminal, no pinentry: PIN read on /dev/tty ($PTYRES ${ERR:0:300})" \
    test "$RC" = 0
check "prompt: terminal: the signature checks" sig_ok "$NK_TMP/resp.json"
check "prompt: terminal: echo off while the PIN is typed, back on after ($PTYRES)" \
    eval '[[ $PTYRES == "prompt=seen echo_at_prompt=off rc=0 echo_after=on" ]]'
check "prompt: terminal: the prompt names token and key" \
    grep -q 'PIN of token "nk-test" to use key "ec256"' "$NK_TMP/tty"
check "prompt: terminal: the PIN is not echoed" eval '! grep -qF "$NK_P11_PIN" "$NK_TMP/tty"'
check "prompt: terminal: stdout holds the response only" \
    eval 'jq -se "length == 1 and (.[0].signature | type == \"string\")" "$NK_TMP/out" >/dev/null'

ptyrun "answer:$NK_P11_PIN" "$(req "$KS")" PATH="$NK_TMP/bin-none" NK_SHIM_FLAGS=0x10000
check "prompt: terminal: few tries left, warned ($PTYRES)" \
    eval '[ "$RC" = 0 ] && grep -q "few PIN tries left; a wrong PIN may lock it" "$NK_TMP/tty"'

ptyrun "answer:" "$(req "$K")" PATH="$NK_TMP/bin-none"
check "prompt: terminal: empty answer is ACCESS_DENIED ($PTYRES)" \
    eval '[ "$RC" = 1 ] && jq -e ".errorCode==\"ACCESS_DENIED\"" <<<"$ERR" >/dev/null && [[ $ERR == *"no PIN was entered"* ]]'

ptyrun interrupt "$(req "$K")" PATH="$NK_TMP/bin-none"
check "prompt: terminal: Ctrl-C ends the plugin and echo is back on ($PTYRES)" \
    eval '[[ $PTYRES == "prompt=seen echo_at_prompt=off rc=-2 echo_after=on" ]]'

# PIN pad: the token asks; the terminal is told where.
ptyrun none "$(req "$KS")" PATH="$NK_TMP/bin-pe:$PATH" NK_SHIM_FLAGS=0x100 NK_SHIM_PAD_PIN=$NK_P11_PIN
printf '%s' "$OUT" >"$NK_TMP/resp.json"
check "prompt: PIN pad: signs ($PTYRES ${ERR:0:300})" test "$RC" = 0
check "prompt: PIN pad: signature checks" sig_ok "$NK_TMP/resp.json"
check "prompt: PIN pad: told to enter the PIN on the reader" \
    grep -q 'enter the PIN of token "nk-test" on the reader' "$NK_TMP/tty"

# The real thing: Debian's pinentry-curses, found in PATH, draws its dialog
# on the terminal the plugin names (OPTION ttyname) and hands the PIN back.
PEC=$(command -v pinentry-curses)
if [ -n "$PEC" ]; then
    mkdir -p "$NK_TMP/bin-curses"
    ln -s "$PEC" "$NK_TMP/bin-curses/pinentry"
    ptyrun "dialog:$NK_P11_PIN" "$(req "$K")" PATH="$NK_TMP/bin-curses" TERM=xterm
    printf '%s' "$OUT" >"$NK_TMP/resp.json"
    check "prompt: pinentry-curses from PATH gives the PIN ($PTYRES ${ERR:0:300})" \
        eval '[ "$RC" = 0 ] && sig_ok "$NK_TMP/resp.json"'
else
    fail "prompt: pinentry-curses is missing (.ci/packages)"
fi

# --- agent add: the client asks, the agent never does --------------------
# The agent runs detached (no terminal); its pinentry log is a file of its
# own, which must stay absent: only the `agent add` client may ask.
export XDG_RUNTIME_DIR=$NK_TMP/run
mkdir -m 0700 "$XDG_RUNTIME_DIR"
AOUT=$(FAKE_PINENTRY_LOG=$NK_TMP/agent-pe.log PATH=$NK_TMP/bin-pe:$PATH "$NK_BIN" agent) &&
    eval "$AOUT"
APID=$(sed -n 's/^# notation-keystore agent pid \([0-9]*\)$/\1/p' <<<"$AOUT")
at_exit "kill $APID 2>/dev/null"
check "prompt: agent started" test -S "${NOTATION_KEYSTORE_AGENT:-}" -a -n "$APID"
# agent_sig NAME: a signature through the agent (the plugin has no PIN and
# no terminal, so only the agent can make it), checked.
agent_sig() {
    nobody plugin generate-signature "$(req "$K")"
    printf '%s' "$OUT" >"$NK_TMP/resp.json"
    check "$1 ($RC ${ERR:0:200})" eval '[ "$RC" = 0 ] && sig_ok "$NK_TMP/resp.json"'
}
rm -f "$FAKE_PINENTRY_LOG"
setsid -w "$NK_BIN" agent add --plugin-config "pinentry=$FAKE" "$K" >"$NK_TMP/aadd" 2>&1
check "prompt: agent add, no PIN source, pluginConfig pinentry: added ($(head -c 300 "$NK_TMP/aadd"))" \
    grep -q '^added ' "$NK_TMP/aadd"
check "prompt: agent add: pinentry named token and key" \
    grep -q '^SETDESC .*token "nk-test" to use key "ec256"' "$FAKE_PINENTRY_LOG"
check "prompt: agent add: one GETPIN" test "$(grep -c '^GETPIN' "$FAKE_PINENTRY_LOG")" = 1
agent_sig "prompt: agent add via pinentry: a signature through the agent verifies"
"$NK_BIN" agent remove --all >/dev/null 2>&1

# On a terminal with no pinentry: typed there, not echoed.
: >"$NK_TMP/empty"
PTYRES=$(PATH="$NK_TMP/bin-none" "$NK_PY" "$PTY" "$NK_TMP/empty" "$NK_TMP/out" "$NK_TMP/err" \
    "$NK_TMP/tty" "answer:$NK_P11_PIN" -- $NK_WRAP "$NK_BIN" agent add "$K") ||
    PTYRES="pty_run failed: $PTYRES"
check "prompt: agent add on a terminal, no pinentry: the typed PIN is used ($PTYRES $(head -c 300 "$NK_TMP/err"))" \
    eval '[[ $PTYRES == "prompt=seen echo_at_prompt=off rc=0 echo_after=on" ]] && grep -q "^added " "$NK_TMP/out"'
check "prompt: agent add: the terminal prompt names the token" \
    grep -q 'PIN of token "nk-test" to use key "ec256"' "$NK_TMP/tty"
check "prompt: agent add: the PIN is not echoed" eval '! grep -qF "$NK_P11_PIN" "$NK_TMP/tty"'
agent_sig "prompt: agent add via the terminal: a signature through the agent verifies"
"$NK_BIN" agent remove --all >/dev/null 2>&1

# Cancelled: ACCESS_DENIED-style, nothing added.
FAKE_PINENTRY_MODE=cancel setsid -w "$NK_BIN" agent add --plugin-config "pinentry=$FAKE" "$K" \
    >"$NK_TMP/aadd" 2>&1
check "prompt: agent add, pinentry cancelled: refused ($(head -c 300 "$NK_TMP/aadd"))" \
    eval '! grep -q "^added " "$NK_TMP/aadd" && grep -q "cancelled" "$NK_TMP/aadd"'
# Nobody to ask: the clear message, and pinentry in PATH not started.
"$NK_BIN" agent remove --all >/dev/null 2>&1
rm -f "$FAKE_PINENTRY_LOG"
PATH=$NK_TMP/bin-pe:$PATH setsid -w "$NK_BIN" agent add "$K" >"$NK_TMP/aadd" 2>&1
check "prompt: agent add, no terminal, no pinentry: clear error ($(head -c 300 "$NK_TMP/aadd"))" \
    eval '! grep -q "^added " "$NK_TMP/aadd" &&
        grep -q "token \"nk-test\" needs a PIN: set NOTATION_KEYSTORE_PIN.*pin-file" "$NK_TMP/aadd" &&
        [ ! -e "$FAKE_PINENTRY_LOG" ]'
"$NK_BIN" agent list >"$NK_TMP/alist" 2>&1
check "prompt: agent add refused: the agent holds no key" eval '! grep -q ec256 "$NK_TMP/alist"'
check "prompt: the agent never started pinentry itself" test ! -e "$NK_TMP/agent-pe.log"
"$NK_BIN" agent stop >/dev/null 2>&1
unset NOTATION_KEYSTORE_AGENT

# Last (it spends one try): a wrong PIN on the terminal is not retried.
ptyrun "answer:0000" "$(req "$K")" PATH="$NK_TMP/bin-none"
check "prompt: terminal: wrong PIN, not retried ($PTYRES)" \
    eval '[ "$RC" = 1 ] && [[ $ERR == *"wrong PIN for token \\\"nk-test\\\" (from the terminal)"*"not retried"* ]] && [ "$(grep -c "PIN: " "$NK_TMP/tty")" = 1 ]'
