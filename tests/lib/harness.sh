# Sourced by every tests/integration/*.sh and tests/golden/run.sh.
# Each check appends "PASS <name>", "FAIL <name>" or "SKIP <name>: <why>" to $NK_RESULTS;
# tests/run.sh counts them. A script that dies early is a failure too.
set -u
NK_ROOT=${NK_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
NK_BIN=${NK_BIN:-$NK_ROOT/build/notation-keystore}
NK_RESULTS=${NK_RESULTS:-/dev/null}
# NK_WRAP runs the plugin under a tool (valgrind) when set.
NK_WRAP=${NK_WRAP:-}
# Debian's python3 has jwcrypto, cbor2 and cryptography; a pyenv python on
# PATH may not.
NK_PY=${NK_PY:-/usr/bin/python3}
NK_TMP=$(mktemp -d "${TMPDIR:-/tmp}/nk-test.XXXXXX")
# The plugin's caches (keys, CRLs, access tokens) and the agent's socket
# directory go under NK_TMP unless a script sets its own, so scripts that
# run side by side (tests/run.sh) never share them, and nothing is left
# in the user's home.
export XDG_CACHE_HOME=$NK_TMP/xdg-cache XDG_RUNTIME_DIR=$NK_TMP/xdg-run
mkdir -m 0700 "$XDG_RUNTIME_DIR"
nk_cleanup_hooks=()
nk_cleanup() {
    local h
    for h in "${nk_cleanup_hooks[@]}"; do eval "$h" || true; done
    rm -rf "$NK_TMP"
}
trap nk_cleanup EXIT
# Adds a command to run at exit (stop servers ...).
at_exit() { nk_cleanup_hooks+=("$1"); }

# NK_CHECK_PREFIX tells repeated runs apart (e.g. "asan ").
NK_CHECK_PREFIX=${NK_CHECK_PREFIX:-}
pass() { echo "PASS $NK_CHECK_PREFIX$*"; echo "PASS $NK_CHECK_PREFIX$*" >>"$NK_RESULTS"; }
fail() { echo "FAIL $NK_CHECK_PREFIX$*"; echo "FAIL $NK_CHECK_PREFIX$*" >>"$NK_RESULTS"; }
# skip NAME WHY: a check that cannot run on this machine, counted apart.
skip() { echo "SKIP $NK_CHECK_PREFIX$1: $2"; echo "SKIP $NK_CHECK_PREFIX$1: $2" >>"$NK_RESULTS"; }
# check NAME CMD...: passes when CMD succeeds.
check() {
    local name=$1; shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}

# plugin CMD [REQUEST-JSON]: runs the plugin; sets OUT, ERR, RC.
plugin() {
    local cmd=$1 req=${2-'{}'}
    printf '%s' "$req" >"$NK_TMP/req.json"
    # shellcheck disable=SC2086
    $NK_WRAP "$NK_BIN" "$cmd" <"$NK_TMP/req.json" >"$NK_TMP/out" 2>"$NK_TMP/err"
    RC=$?
    OUT=$(cat "$NK_TMP/out")
    ERR=$(cat "$NK_TMP/err")
}

# expect_ok NAME CMD REQ: exit 0, a JSON object on stdout.
expect_ok() {
    local name=$1
    plugin "$2" "${3-'{}'}"
    if [ "$RC" = 0 ] && printf '%s' "$OUT" | jq -e 'type=="object"' >/dev/null 2>&1; then
        pass "$name"
    else
        fail "$name (rc=$RC out=${OUT:0:200} err=${ERR:0:300})"
    fi
}

# expect_error NAME CODE CMD REQ [MESSAGE-REGEX]: exit 1, empty stdout, one
# error JSON on stderr with that errorCode (and a message matching REGEX).
expect_error() {
    local name=$1 code=$2 cmd=$3 req=$4 re=${5-}
    plugin "$cmd" "$req"
    local got msg
    got=$(printf '%s' "$ERR" | jq -r '.errorCode' 2>/dev/null)
    msg=$(printf '%s' "$ERR" | jq -r '.errorMessage' 2>/dev/null)
    if [ "$RC" = 1 ] && [ -z "$OUT" ] && [ "$got" = "$code" ] &&
        { [ -z "$re" ] || printf '%s' "$msg" | grep -Eq -- "$re"; }; then
        pass "$name"
    else
        fail "$name (rc=$RC want=$code got=$got msg=${msg:0:300} out=${OUT:0:100})"
    fi
}

# A free TCP port on 127.0.0.1.
free_port() {
    "$NK_PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# wait_port PORT [SECONDS]: waits until something listens on 127.0.0.1:PORT.
wait_port() {
    local port=$1 t=${2:-10} i
    for ((i = 0; i < t * 20; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    return 1
}
