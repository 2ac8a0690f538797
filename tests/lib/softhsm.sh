# Throwaway SoftHSM2 tokens for tests: a private SOFTHSM2_CONF and token
# directory under a test dir, keys and certificates imported with
# pkcs11-tool. Needs tests/lib/pki.sh for softhsm_std_token.
#
#   softhsm_init DIR LABEL SO_PIN USER_PIN [MECHANISMS]
#       (first call per DIR writes DIR/softhsm2.conf and exports
#       SOFTHSM2_CONF; MECHANISMS is SoftHSM's slots.mechanisms, default ALL)
#   softhsm_import_key LABEL ID KEYLABEL key.pem [cert.pem [private]]
#       (ID in hex; imports the private key, its public key and the cert;
#       "private" makes the public key object private too, so that the
#       token shows nothing of the key before a login)
#   softhsm_std_token DIR
#       token "nk-test", user PIN 1234, keys rsa2048 rsa3072 rsa4096 ec256
#       ec384 ec521 (ids 01..06) with leaves chained to the test root.
#       Files: DIR/pki/<name>.pem (leaf), DIR/pki/ca-certs.pem
#       (intermediate + root), DIR/pki/root.pem. Sets NK_P11_MODULE,
#       NK_P11_CA, NK_P11_PKI, NK_P11_PIN.

NK_P11_MODULE=${NK_P11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
declare -gA NK_SOFTHSM_PINS=()

_softhsm_dir() { cd "$(dirname "${BASH_SOURCE[0]}")" && pwd; }
# shellcheck source=tests/lib/pki.sh
[ "$(type -t pki_all)" = function ] || . "$(_softhsm_dir)/pki.sh"

softhsm_init() {
    local dir=$1 label=$2 so=$3 pin=$4 mechs=${5:-ALL}
    mkdir -p "$dir/tokens" || return 1
    if [ ! -f "$dir/softhsm2.conf" ]; then
        printf '%s\n' "directories.tokendir = $dir/tokens" \
            "objectstore.backend = file" "log.level = ERROR" \
            "slots.removable = false" "slots.mechanisms = $mechs" \
            "library.reset_on_fork = false" >"$dir/softhsm2.conf"
    fi
    export SOFTHSM2_CONF=$dir/softhsm2.conf
    softhsm2-util --init-token --free --label "$label" --so-pin "$so" \
        --pin "$pin" >/dev/null || return 1
    NK_SOFTHSM_PINS[$label]=$pin
}

# _softhsm_tool LABEL ARGS...: pkcs11-tool logged in to token LABEL.
_softhsm_tool() {
    local label=$1; shift
    pkcs11-tool --module "$NK_P11_MODULE" --token-label "$label" --login \
        --pin "${NK_SOFTHSM_PINS[$label]}" "$@" >/dev/null 2>"$NK_TMP_P11LOG"
}

softhsm_import_key() {
    local label=$1 id=$2 klabel=$3 key=$4 cert=${5-} hide=${6:+--private} t
    NK_TMP_P11LOG=$(mktemp "${TMPDIR:-/tmp}/nk-p11tool.XXXXXX")
    t=$(mktemp -d "${TMPDIR:-/tmp}/nk-import.XXXXXX")
    if ! { openssl pkey -in "$key" -outform DER -out "$t/key.der" &&
        openssl pkey -in "$key" -pubout -outform DER -out "$t/pub.der" &&
        _softhsm_tool "$label" --write-object "$t/key.der" --type privkey \
            --id "$id" --label "$klabel" --usage-sign &&
        _softhsm_tool "$label" --write-object "$t/pub.der" --type pubkey \
            --id "$id" --label "$klabel" --usage-sign $hide &&
        { [ -z "$cert" ] ||
            { openssl x509 -in "$cert" -outform DER -out "$t/cert.der" &&
                _softhsm_tool "$label" --write-object "$t/cert.der" \
                    --type cert --id "$id" --label "$klabel"; }; }; }; then
        echo "softhsm_import_key $label $klabel failed:" >&2
        cat "$NK_TMP_P11LOG" >&2
        rm -rf "$t" "$NK_TMP_P11LOG"
        return 1
    fi
    rm -rf "$t" "$NK_TMP_P11LOG"
}

# In a run of tests/run.sh (NK_KEY_CACHE set, see tests/lib/pki.sh) the
# first script that makes the standard token leaves a copy of it and its
# PKI there, and the others start from a copy of that (about 3 s of CPU
# each, 18 times in make check); each script still has a token of its own.
softhsm_std_token() {
    local dir=$1 n i=0 std=${NK_KEY_CACHE:+$NK_KEY_CACHE/std-token} tmp
    NK_P11_PKI=$dir/pki
    NK_P11_CA=$NK_P11_PKI/ca-certs.pem
    NK_P11_PIN=1234
    if [ -n "$std" ] && [ -d "$std" ]; then
        mkdir -p "$dir" && cp -r "$std/pki" "$std/softhsm" "$dir/" &&
            sed -i "s|^directories.tokendir = .*|directories.tokendir = $dir/softhsm/tokens|" \
                "$dir/softhsm/softhsm2.conf" || return 1
        export SOFTHSM2_CONF=$dir/softhsm/softhsm2.conf
        NK_SOFTHSM_PINS[nk-test]=$NK_P11_PIN
        return 0
    fi
    pki_all "$NK_P11_PKI" || return 1
    softhsm_init "$dir/softhsm" nk-test 12345678 "$NK_P11_PIN" || return 1
    for n in $PKI_NAMES; do
        i=$((i + 1))
        softhsm_import_key nk-test "0$i" "$n" "$NK_P11_PKI/$n.key" \
            "$NK_P11_PKI/$n.pem" || return 1
    done
    [ -n "$std" ] || return 0
    # Published whole by one rename; when another script was first, its
    # copy stays.
    tmp=$NK_KEY_CACHE/.std-token.$$
    mkdir -p "$tmp" && cp -r "$NK_P11_PKI" "$dir/softhsm" "$tmp/" &&
        mv -T "$tmp" "$std" 2>/dev/null || rm -rf "$tmp"
}

# p11shim_build OUT.so: compiles tests/lib/p11shim.c (a forwarding module
# that misbehaves on request; see its header). Set NK_SHIM_MODULE to the
# real module before loading it.
p11shim_build() {
    cc -shared -fPIC -o "$1" "$(_softhsm_dir)/p11shim.c" -ldl
}
