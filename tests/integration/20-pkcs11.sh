#!/usr/bin/env bash
# The PKCS#11 backend against SoftHSM2 tokens made in a temp dir: all six
# key specs (describe-key, generate-signature over a JWS signing input and a
# COSE Sig_structure, each signature checked by openssl against the
# certificate), the mechanisms SoftHSM was asked for (pkcs11-spy), PIN and
# module sources, and the error cases with their errorCode.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/softhsm.sh"

# Debian's multiarch triplet (x86_64-linux-gnu, aarch64-linux-gnu ...),
# where opensc-pkcs11 and p11-kit put their modules.
MA=$(gcc -print-multiarch 2>/dev/null)
[ -n "$MA" ] || MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null)
[ -n "$MA" ] || fail "pkcs11: no multiarch triplet (gcc -print-multiarch, dpkg-architecture)"
SPY=
for f in "/usr/lib/$MA/pkcs11/pkcs11-spy.so" "/usr/lib/$MA/pkcs11-spy.so" \
    /usr/lib/pkcs11/pkcs11-spy.so; do
    [ -f "$f" ] && { SPY=$f; break; }
done
# pkcs11-spy leaks what its C_GetFunctionList allocates: under the ASan
# build (tests/run.sh asan), runs through it check memory errors, not leaks.
SPY_ASAN=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0
M=$NK_P11_MODULE
if [ ! -x "$NK_BIN" ]; then
    fail "pkcs11: plugin binary $NK_BIN not built"
    exit 1
fi
if ! softhsm_std_token "$NK_TMP/std" >"$NK_TMP/setup.log" 2>&1; then
    cat "$NK_TMP/setup.log"
    fail "pkcs11: SoftHSM token setup"
    exit 1
fi
STD_CONF=$SOFTHSM2_CONF
export NOTATION_KEYSTORE_PIN=$NK_P11_PIN
unset NOTATION_KEYSTORE_PKCS11_MODULE

# spec_of NAME: "keySpec hashAlgorithm openssl-digest hash-bytes"
spec_of() {
    case $1 in
    rsa2048) echo "RSA-2048 SHA-256 sha256 32" ;;
    rsa3072) echo "RSA-3072 SHA-384 sha384 48" ;;
    rsa4096) echo "RSA-4096 SHA-512 sha512 64" ;;
    ec256) echo "EC-256 SHA-256 sha256 32" ;;
    ec384) echo "EC-384 SHA-384 sha384 48" ;;
    ec521) echo "EC-521 SHA-512 sha512 64" ;;
    esac
}

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

# The two kinds of to-be-signed bytes notation sends.
make_tbs() {
    local alg=$1 out=$2
    printf '%s.%s' \
        "$(printf '{"alg":"%s","crit":["io.cncf.notary.signingScheme"],"cty":"application/vnd.cncf.notary.payload.v1+json","io.cncf.notary.signingScheme":"notary.x509","io.cncf.notary.signingTime":"2026-01-01T00:00:00Z"}' "$alg" | b64url)" \
        "$(printf '{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":1}}' | b64url)" \
        >"$out.jws"
    "$NK_PY" - "$alg" "$out.cose" <<'EOF'
import sys, cbor2
cose_alg = {"PS256": -37, "PS384": -38, "PS512": -39,
            "ES256": -7, "ES384": -35, "ES512": -36}[sys.argv[1]]
protected = cbor2.dumps({1: cose_alg, 2: ["io.cncf.notary.signingScheme"],
                         3: "application/vnd.cncf.notary.payload.v1+json",
                         "io.cncf.notary.signingScheme": "notary.x509"})
payload = b'{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1}}'
open(sys.argv[2], "wb").write(cbor2.dumps(["Signature1", protected, b"", payload]))
EOF
}

jws_alg() {
    case $1 in
    rsa2048) echo PS256 ;; rsa3072) echo PS384 ;; rsa4096) echo PS512 ;;
    ec256) echo ES256 ;; ec384) echo ES384 ;; ec521) echo ES512 ;;
    esac
}

describe_req() {
    jq -cn --arg k "$1" '{contractVersion:"1.0",keyId:$k}'
}

# sign_req KEYID KEYSPEC HASH TBS-FILE [CONFIG-JSON]
sign_req() {
    jq -cn --arg k "$1" --arg s "$2" --arg h "$3" \
        --arg p "$(base64 -w0 <"$4")" --arg ca "$NK_P11_CA" \
        --argjson extra "${5:-{\}}" \
        '{contractVersion:"1.0",keyId:$k,keySpec:$s,hashAlgorithm:$h,
          payload:$p,pluginConfig:({"ca-certs":$ca} + $extra)}'
}

# verify_sig NAME TBS-FILE: checks $OUT's signature over TBS with openssl,
# using the leaf in $OUT's certificateChain, which must be the token's cert.
verify_sig() {
    local name=$1 tbs=$2 d hl w sig="$NK_TMP/sig.bin" leaf="$NK_TMP/leaf.der"
    read -r _ _ d hl <<<"$(spec_of "$name")"
    printf '%s' "$OUT" | jq -r .signature | base64 -d >"$sig" || return 1
    printf '%s' "$OUT" | jq -r '.certificateChain[0]' | base64 -d >"$leaf" || return 1
    cmp -s "$leaf" "$NK_P11_PKI/$name.der" || { echo "leaf is not the token's certificate"; return 1; }
    openssl x509 -inform DER -in "$leaf" -pubkey -noout >"$NK_TMP/pub.pem" || return 1
    if [[ $name == rsa* ]]; then
        [ "$(stat -c %s "$sig")" = "$(( ${name#rsa} / 8 ))" ] || return 1
        openssl dgst -"$d" -verify "$NK_TMP/pub.pem" -sigopt rsa_padding_mode:pss \
            -sigopt rsa_pss_saltlen:"$hl" -sigopt rsa_mgf1_md:"$d" \
            -signature "$sig" "$tbs" >/dev/null
    else
        case $name in ec256) w=32 ;; ec384) w=48 ;; ec521) w=66 ;; esac
        [ "$(stat -c %s "$sig")" = "$((2 * w))" ] || { echo "r||s is not $((2 * w)) bytes"; return 1; }
        "$NK_PY" - "$sig" "$NK_TMP/sig.der" <<'EOF' || return 1
import sys
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
s = open(sys.argv[1], "rb").read(); n = len(s) // 2
r, t = int.from_bytes(s[:n], "big"), int.from_bytes(s[n:], "big")
open(sys.argv[2], "wb").write(encode_dss_signature(r, t))
EOF
        openssl dgst -"$d" -verify "$NK_TMP/pub.pem" -signature "$NK_TMP/sig.der" \
            "$tbs" >/dev/null
    fi
}

# spy_mechs LOG: the mechanisms of every C_SignInit in a pkcs11-spy log.
spy_mechs() {
    grep -A4 ': C_SignInit' "$1" | sed -n 's/.*pMechanism->type = \(CKM_[A-Z0-9_]*\).*/\1/p' | sort -u | tr '\n' ' '
}
spy_count() { grep -c ": $2\$" "$1"; }
# spy_sign_params LOG: "mechanism hashAlg mgf sLen" of every C_SignInit in
# a pkcs11-spy log, one line each ("-" for a parameter it does not show).
spy_sign_params() {
    awk 'BEGIN { t = h = m = l = "-" }
        /^[0-9]+: / { in_init = $2 == "C_SignInit"; next }
        in_init && /pMechanism->type = / { t = $NF }
        in_init && /pParameter->hashAlg = / { h = $NF }
        in_init && /pParameter->mgf = / { m = $NF }
        in_init && /pParameter->sLen = / { l = $NF }
        in_init && /^Returned:/ { print t, h, m, l; t = h = m = l = "-"; in_init = 0 }' "$1"
}
# pss_params NAME: the C_SignInit parameters RSA key NAME must be sent with:
# CKM_RSA_PKCS_PSS, MGF1 with the digest's hash, salt = hash length.
pss_params() {
    case $1 in
    rsa2048) echo "CKM_RSA_PKCS_PSS CKM_SHA256 CKG_MGF1_SHA256 32" ;;
    rsa3072) echo "CKM_RSA_PKCS_PSS CKM_SHA384 CKG_MGF1_SHA384 48" ;;
    rsa4096) echo "CKM_RSA_PKCS_PSS CKM_SHA512 CKG_MGF1_SHA512 64" ;;
    esac
}

# --- all six key specs -------------------------------------------------
for k in $PKI_NAMES; do
    read -r spec hash _ _ <<<"$(spec_of "$k")"
    id="pkcs11:token=nk-test;object=$k?module-path=$M"
    plugin describe-key "$(describe_req "$id")"
    check "pkcs11 describe-key $k keySpec $spec and keyId echoed" \
        test "$RC/$(printf '%s' "$OUT" | jq -r '.keySpec + " " + .keyId')" = "0/$spec $id"
    make_tbs "$(jws_alg "$k")" "$NK_TMP/tbs-$k"
    for kind in jws cose; do
        plugin generate-signature "$(sign_req "$id" "$spec" "$hash" "$NK_TMP/tbs-$k.$kind")"
        if [ "$RC" = 0 ]; then
            check "pkcs11 generate-signature $k $kind verifies with openssl" \
                verify_sig "$k" "$NK_TMP/tbs-$k.$kind"
        else
            fail "pkcs11 generate-signature $k $kind (rc=$RC err=${ERR:0:300})"
        fi
    done
    # The check must be able to fail: other bytes do not verify.
    printf 'x' >>"$NK_TMP/tbs-$k.cose"
    check "pkcs11 $k signature does not verify over other bytes" \
        eval '! verify_sig "$k" "$NK_TMP/tbs-$k.cose" 2>/dev/null'
done

# --- mechanisms SoftHSM was asked for (pkcs11-spy) ---------------------
if [ -n "$SPY" ]; then
    for k in $PKI_NAMES; do
        read -r spec hash _ _ <<<"$(spec_of "$k")"
        log=$NK_TMP/spy-$k.log
        rm -f "$log"
        ASAN_OPTIONS=$SPY_ASAN PKCS11SPY=$M PKCS11SPY_OUTPUT=$log plugin generate-signature \
            "$(sign_req "pkcs11:token=nk-test;object=$k?module-path=$SPY" "$spec" "$hash" "$NK_TMP/tbs-$k.jws")"
        if [[ $k == rsa* ]]; then want="CKM_RSA_PKCS_PSS "; else want="CKM_ECDSA "; fi
        check "pkcs11 spy: $k signed with ${want% } only (rc=$RC)" \
            test "$RC/$(spy_mechs "$log")" = "0/$want"
        check "pkcs11 spy: $k never CKM_RSA_PKCS (v1.5) or CKM_RSA_X_509" \
            eval '! grep -Eq "pMechanism->type = CKM_RSA_(PKCS|X_509) *$" "$log"'
        if [[ $k == rsa* ]]; then
            got=$(spy_sign_params "$log")
            check "pkcs11 spy: $k C_SignInit sent $(pss_params "$k") ($got)" \
                test "$got" = "$(pss_params "$k")"
        fi
    done
    # The one C_SignInit of RSA-3072: hash, MGF1 and salt length of SHA-384.
    check "pkcs11 spy: RSA-3072 PSS parameters use SHA-384 for hash and MGF1, sLen 48" \
        test "$(spy_sign_params "$NK_TMP/spy-rsa3072.log")" = \
        "CKM_RSA_PKCS_PSS CKM_SHA384 CKG_MGF1_SHA384 48"
else
    fail "pkcs11 spy: pkcs11-spy.so not installed (package opensc-pkcs11)"
fi

# --- lookups read only what matches (pkcs11-spy) ----------------------
# The token holds 6 keys, 6 public keys and 6 certificates; describe-key
# reads the attributes of the key's public key and its certificate only,
# and one certificate value, without logging in (no PIN in the
# environment): the public key object says what the key is.
if [ -n "$SPY" ]; then
    log=$NK_TMP/spy-describe.log
    rm -f "$log"
    ASAN_OPTIONS=$SPY_ASAN PKCS11SPY=$M PKCS11SPY_OUTPUT=$log NOTATION_KEYSTORE_PIN= \
        plugin describe-key "$(describe_req "pkcs11:token=nk-test;object=ec256?module-path=$SPY")"
    objs=$(awk '/: C_GetAttributeValue$/{g=1} g && /hObject/{print $NF; g=0}' "$log" | sort -u | wc -l)
    vals=$(awk '/: C_GetAttributeValue$/{g=1; o=""} g && /hObject/{o=$NF}
        g && /^ +CKA_VALUE /{print o; g=0}' "$log" | sort -u | wc -l)
    check "pkcs11 describe-key reads 2 of the token's 18 objects (rc=$RC, $objs read)" \
        test "$RC/$objs" = "0/2"
    check "pkcs11 describe-key reads one certificate value ($vals)" \
        test "$vals" = 1
    check "pkcs11 describe-key answers with no C_Login (rc=$RC, $(spy_count "$log" C_Login))" \
        test "$RC/$(spy_count "$log" C_Login)" = "0/0"
    check "pkcs11 describe-key searches no private key" \
        eval '[ "$RC" = 0 ] && ! grep -A6 ": C_FindObjectsInit\$" "$log" | grep -q CKO_PRIVATE_KEY'
    # generate-signature logs in once, after describing the key.
    log=$NK_TMP/spy-sign-once.log
    ASAN_OPTIONS=$SPY_ASAN PKCS11SPY=$M PKCS11SPY_OUTPUT=$log plugin generate-signature \
        "$(sign_req "pkcs11:token=nk-test;object=ec256?module-path=$SPY" EC-256 SHA-256 "$NK_TMP/tbs-ec256.jws")"
    check "pkcs11 generate-signature: one C_Login (rc=$RC, $(spy_count "$log" C_Login))" \
        test "$RC/$(spy_count "$log" C_Login)" = "0/1"
fi

# --- module and PIN sources --------------------------------------------
# describe-key logs in to no token that shows the key's public half (this
# one's public keys and certificates are public objects): the PIN sources
# are checked with generate-signature, which logs in.
printf '%s\n' "$NK_P11_PIN" >"$NK_TMP/pin-nl"
printf '%s\r\n' "$NK_P11_PIN" >"$NK_TMP/pin-crlf"
printf '%s\n\n' "$NK_P11_PIN" >"$NK_TMP/pin-2nl"
# sreq KEYID [CONFIG-JSON]: a generate-signature request for an EC-256 key.
sreq() { sign_req "$1" EC-256 SHA-256 "$NK_TMP/tbs-ec256.jws" "${2:-{\}}"; }
K256="pkcs11:token=nk-test;object=ec256?module-path=$M"
(
    unset NOTATION_KEYSTORE_PIN
    expect_ok "pkcs11 describe-key without any PIN source (public key shown without login)" \
        describe-key "$(describe_req "$K256")"
    expect_ok "pkcs11 pin-source file with trailing newline" generate-signature \
        "$(sreq "$K256&pin-source=$NK_TMP/pin-nl")"
    expect_ok "pkcs11 pin-source file: URI with CRLF" generate-signature \
        "$(sreq "$K256&pin-source=file://$NK_TMP/pin-crlf")"
    expect_ok "pkcs11 pin-value" generate-signature "$(sreq "$K256&pin-value=$NK_P11_PIN")"
    expect_ok "pkcs11 pluginConfig pin-file and pkcs11-module" generate-signature \
        "$(sign_req "pkcs11:token=nk-test;object=ec384" EC-384 SHA-384 "$NK_TMP/tbs-ec384.jws" \
            "$(jq -cn --arg p "$NK_TMP/pin-nl" --arg m "$M" '{"pin-file":$p,"pkcs11-module":$m}')")"
    expect_error "pkcs11 only one trailing newline is dropped" ACCESS_DENIED generate-signature \
        "$(sreq "$K256&pin-source=$NK_TMP/pin-2nl")" 'wrong PIN.*pin-source'
    # No PIN source, no terminal (setsid), no display: nobody to ask.
    NK_WRAP="setsid -w $NK_WRAP" expect_error "pkcs11 missing PIN" ACCESS_DENIED \
        generate-signature "$(sreq "$K256")" 'needs a PIN: set NOTATION_KEYSTORE_PIN'
    expect_error "pkcs11 pin-source file missing" ACCESS_DENIED generate-signature \
        "$(sreq "$K256&pin-source=$NK_TMP/nope")" 'nope'
)
# library-* URI attributes select the module by C_GetInfo (SoftHSM 2.x):
# "M" compares the major version, "M.m" both.
expect_ok "pkcs11 library-version=2 and library-manufacturer match SoftHSM" describe-key \
    "$(describe_req "pkcs11:token=nk-test;object=ec256;library-version=2;library-manufacturer=SoftHSM?module-path=$M")"
expect_error "pkcs11 library-version=99 matches no token" VALIDATION_ERROR describe-key \
    "$(describe_req "pkcs11:token=nk-test;object=ec256;library-version=99?module-path=$M")" \
    'no PKCS#11 token matches'
expect_error "pkcs11 library-version=2.99 matches no token" VALIDATION_ERROR describe-key \
    "$(describe_req "pkcs11:token=nk-test;object=ec256;library-version=2.99?module-path=$M")" \
    'no PKCS#11 token matches'
expect_ok "pkcs11 module-name softhsm2" describe-key \
    "$(describe_req "pkcs11:token=nk-test;object=rsa2048?module-name=softhsm2")"
NOTATION_KEYSTORE_PKCS11_MODULE=softhsm2 expect_ok \
    "pkcs11 NOTATION_KEYSTORE_PKCS11_MODULE" describe-key \
    "$(describe_req "pkcs11:token=nk-test;object=rsa2048")"
if [ -f /usr/share/p11-kit/modules/softhsm2.module ] &&
    [ -f "/usr/lib/$MA/p11-kit-proxy.so" ]; then
    expect_ok "pkcs11 p11-kit proxy when no module is named" describe-key \
        "$(describe_req "pkcs11:token=nk-test;object=ec521")"
fi

# --- module paths: absolute, or a bare name from the system directories --
# A loadable module (the shim, forwarding to SoftHSM) sits in the current
# directory as ./libnkcwd.so and ./lib/libnkcwd.so, and a chatty one as
# ./libsofthsm2.so: none of them may ever be loaded.
CWD=$NK_TMP/cwd
mkdir -p "$CWD/lib"
if p11shim_build "$CWD/libnkcwd.so" 2>"$NK_TMP/shim.log" &&
    cp "$CWD/libnkcwd.so" "$CWD/lib/libnkcwd.so" &&
    cp "$CWD/libnkcwd.so" "$CWD/libsofthsm2.so"; then
    (
        cd "$CWD" || exit 1
        export NK_SHIM_MODULE=$M NK_SHIM_CHATTY=1
        abs='must be absolute, or a bare module name'
        for p in ./libnkcwd.so lib/libnkcwd.so ../cwd/libnkcwd.so; do
            expect_error "pkcs11 relative module-path $p refused" VALIDATION_ERROR \
                describe-key "$(describe_req "pkcs11:token=nk-test;object=ec256?module-path=$p")" \
                "\"$p\" \\(from module-path\\) $abs"
        done
        expect_error "pkcs11 relative pluginConfig pkcs11-module refused" VALIDATION_ERROR \
            describe-key "$(jq -cn '{contractVersion:"1.0",keyId:"pkcs11:token=nk-test;object=ec256",pluginConfig:{"pkcs11-module":"lib/libnkcwd.so"}}')" \
            "\"lib/libnkcwd.so\" \\(from pluginConfig pkcs11-module\\) $abs"
        NOTATION_KEYSTORE_PKCS11_MODULE=./libnkcwd.so expect_error \
            "pkcs11 relative NOTATION_KEYSTORE_PKCS11_MODULE refused" VALIDATION_ERROR \
            describe-key "$(describe_req "pkcs11:token=nk-test;object=ec256")" \
            "\"\\./libnkcwd\\.so\" \\(from NOTATION_KEYSTORE_PKCS11_MODULE\\) $abs"
        "$NK_BIN" keys --module ./libnkcwd.so --json >"$NK_TMP/keys.out" 2>"$NK_TMP/keys.err"
        check "pkcs11 relative keys --module refused (rc=$?)" eval \
            '[ "$(jq -r ".error.code + \" \" + .error.message" "$NK_TMP/keys.out")" = "VALIDATION_ERROR PKCS#11 module path \"./libnkcwd.so\" (from --module) $abs searched in the system module directories" ]'

        # Bare names: the current directory is not searched.
        nf='"libnkcwd\.so" not found in /usr/lib/'
        expect_error "pkcs11 bare module-path only in the cwd is not loaded" \
            VALIDATION_ERROR describe-key \
            "$(describe_req "pkcs11:token=nk-test;object=ec256?module-path=libnkcwd.so")" "$nf"
        expect_error "pkcs11 bare module-name only in the cwd is not loaded" \
            VALIDATION_ERROR describe-key \
            "$(describe_req "pkcs11:token=nk-test;object=ec256?module-name=libnkcwd.so")" "$nf"
        expect_error "pkcs11 bare pkcs11-module only in the cwd is not loaded" \
            VALIDATION_ERROR describe-key \
            "$(jq -cn '{contractVersion:"1.0",keyId:"pkcs11:token=nk-test;object=ec256",pluginConfig:{"pkcs11-module":"libnkcwd.so"}}')" "$nf"
        NOTATION_KEYSTORE_PKCS11_MODULE=libnkcwd.so expect_error \
            "pkcs11 bare NOTATION_KEYSTORE_PKCS11_MODULE only in the cwd is not loaded" \
            VALIDATION_ERROR describe-key "$(describe_req "pkcs11:token=nk-test;object=ec256")" "$nf"
        "$NK_BIN" keys --module libnkcwd.so --json >"$NK_TMP/keys.out" 2>"$NK_TMP/keys.err"
        check "pkcs11 bare keys --module only in the cwd is not loaded (rc=$?)" \
            grep -Eq "$nf" "$NK_TMP/keys.err"

        # A bare name the system directories hold is found there, not in
        # the cwd (whose chatty libsofthsm2.so would say "chatty module").
        plugin describe-key "$(describe_req "pkcs11:token=nk-test;object=ec256?module-path=libsofthsm2.so")"
        check "pkcs11 bare module-path libsofthsm2.so loads SoftHSM from the system dir (rc=$RC ${ERR:0:200})" \
            eval '[ "$RC" = 0 ] && [ "$(printf "%s" "$OUT" | jq -r .keySpec)" = EC-256 ] && [[ $ERR != *chatty* ]]'
        "$NK_BIN" keys --module libsofthsm2.so --json >"$NK_TMP/keys.out" 2>"$NK_TMP/keys.err"
        check "pkcs11 keys --module libsofthsm2.so lists the system SoftHSM (rc=$?)" \
            eval '[[ $(jq -r .module "$NK_TMP/keys.out") == /usr/lib/*softhsm/libsofthsm2.so ]] && ! grep -q chatty "$NK_TMP/keys.out" "$NK_TMP/keys.err"'
    )
else
    cat "$NK_TMP/shim.log"
    fail "pkcs11 module path checks: shim could not be built"
fi

expect_error "pkcs11 module-name not found" VALIDATION_ERROR describe-key \
    "$(describe_req "pkcs11:token=nk-test;object=ec256?module-name=no-such-pkcs11")" \
    '"no-such-pkcs11" not found'
expect_error "pkcs11 module-path that does not exist" VALIDATION_ERROR describe-key \
    "$(describe_req "pkcs11:token=nk-test;object=ec256?module-path=$NK_TMP/missing.so")" \
    "$NK_TMP/missing.so.*from module-path"
expect_error "pkcs11 module-path that is not a module" VALIDATION_ERROR describe-key \
    "$(describe_req "pkcs11:token=nk-test;object=ec256?module-path=$NK_TMP/pin-nl")" \
    'cannot load PKCS#11 module'

# --- key selection errors ----------------------------------------------
expect_error "pkcs11 unknown key" VALIDATION_ERROR describe-key \
    "$(describe_req "pkcs11:token=nk-test;object=nope?module-path=$M")" \
    'no private key matches.*"ec256" id 04'
expect_error "pkcs11 unknown token" VALIDATION_ERROR describe-key \
    "$(describe_req "pkcs11:token=nope;object=ec256?module-path=$M")" \
    'no PKCS#11 token matches.*"nk-test"'
expect_error "pkcs11 type=cert refused" VALIDATION_ERROR describe-key \
    "$(describe_req "pkcs11:token=nk-test;object=ec256;type=cert?module-path=$M")" \
    'private key'
expect_error "pkcs11 unknown attribute refused" VALIDATION_ERROR describe-key \
    "$(describe_req "pkcs11:token=nk-test;objet=ec256?module-path=$M")" \
    '"objet"'
expect_error "pkcs11 bad percent-escape" VALIDATION_ERROR describe-key \
    "$(describe_req "pkcs11:token=nk%2-test?module-path=$M")" 'percent-escape'
expect_ok "pkcs11 key by id alone" describe-key \
    "$(describe_req "pkcs11:token=nk-test;id=%05?module-path=$M")"
plugin generate-signature "$(sign_req "pkcs11:token=nk-test;object=ec256?module-path=$M" RSA-2048 SHA-256 "$NK_TMP/tbs-ec256.jws")"
check "pkcs11 keySpec that is not the token key's is refused (rc=$RC)" \
    test "$RC/$(printf '%s' "$ERR" | jq -r .errorCode)" = "1/VALIDATION_ERROR"

# A second token: two keys with the same label, a wrong-PIN target, and an
# always-authenticate key (like YubiKey PIV slot 9c).
softhsm_init "$NK_TMP/std/softhsm" nk-second 12345678 5678 >/dev/null &&
    softhsm_import_key nk-second 0a dup "$NK_P11_PKI/ec256.key" &&
    softhsm_import_key nk-second 0b dup "$NK_P11_PKI/ec384.key" &&
    NK_AA=1 || NK_AA=0
pkcs11-tool --module "$M" --token-label nk-second --login --pin 5678 \
    --write-object "$NK_P11_PKI/ec256.key.der" --type privkey --id 0c \
    --label always --usage-sign --always-auth >/dev/null 2>&1 &&
    pkcs11-tool --module "$M" --token-label nk-second --login --pin 5678 \
        --write-object "$NK_P11_PKI/ec256.pub.der" --type pubkey --id 0c \
        --label always >/dev/null 2>&1 &&
    pkcs11-tool --module "$M" --token-label nk-second --login --pin 5678 \
        --write-object "$NK_P11_PKI/ec256.der" --type cert --id 0c \
        --label always >/dev/null 2>&1 || NK_AA=0
check "pkcs11 second token set up" test "$NK_AA" = 1
# Certificates told apart: "bylabel" has its certificate under another id
# (found by label); "prefer" has one under its id and another certificate
# with its label (the one with its id wins).
t2() { pkcs11-tool --module "$M" --token-label nk-second --login --pin 5678 "$@" >/dev/null 2>&1; }
NK_CERTS=1
t2 --write-object "$NK_P11_PKI/ec384.key.der" --type privkey --id 0d --label bylabel --usage-sign &&
    t2 --write-object "$NK_P11_PKI/ec384.pub.der" --type pubkey --id 0d --label bylabel &&
    t2 --write-object "$NK_P11_PKI/ec384.der" --type cert --id 0e --label bylabel &&
    t2 --write-object "$NK_P11_PKI/ec256.key.der" --type privkey --id 0f --label prefer --usage-sign &&
    t2 --write-object "$NK_P11_PKI/ec256.pub.der" --type pubkey --id 0f --label prefer &&
    t2 --write-object "$NK_P11_PKI/ec256.der" --type cert --id 0f --label prefer-by-id &&
    t2 --write-object "$NK_P11_PKI/rsa2048.der" --type cert --id 10 --label prefer || NK_CERTS=0
check "pkcs11 second token certificates set up" test "$NK_CERTS" = 1
# Ed25519 keys (when this SoftHSM makes them) never match: one more "dup"
# must not change the ambiguity below, and "edonly" names no usable key.
NK_ED=0
t2 --keypairgen --key-type EC:edwards25519 --id 11 --label dup &&
    t2 --keypairgen --key-type EC:edwards25519 --id 12 --label edonly && NK_ED=1

NOTATION_KEYSTORE_PIN=5678 expect_error "pkcs11 ambiguous key" VALIDATION_ERROR \
    describe-key "$(describe_req "pkcs11:token=nk-second;object=dup?module-path=$M")" \
    '2 private keys match.*"dup" id 0[ab] on "nk-second", "dup" id 0[ab]'
NOTATION_KEYSTORE_PIN=5678 expect_ok "pkcs11 same label told apart by id" \
    describe-key "$(describe_req "pkcs11:token=nk-second;object=dup;id=%0b?module-path=$M")"
if [ "$NK_ED" = 1 ]; then
    NOTATION_KEYSTORE_PIN=5678 expect_error "pkcs11 only an Ed25519 key matches" \
        VALIDATION_ERROR describe-key \
        "$(describe_req "pkcs11:token=nk-second;object=edonly?module-path=$M")" \
        '1 private key\(s\) match .*"edonly".* none is an RSA or EC key'
fi
for c in "bylabel ec384 EC-384 SHA-384" "prefer ec256 EC-256 SHA-256"; do
    read -r obj name spec hash <<<"$c"
    NOTATION_KEYSTORE_PIN=5678 plugin generate-signature \
        "$(sign_req "pkcs11:token=nk-second;object=$obj?module-path=$M" "$spec" "$hash" "$NK_TMP/tbs-$name.jws")"
    if [ "$RC" = 0 ]; then
        check "pkcs11 certificate of \"$obj\" is the right one ($name) and verifies" \
            verify_sig "$name" "$NK_TMP/tbs-$name.jws"
    else
        fail "pkcs11 certificate of \"$obj\" (rc=$RC err=${ERR:0:300})"
    fi
done

# --- what the token shows before login ---------------------------------
# nk-hidden keeps the key's public key private (CKA_PRIVATE) and has no
# certificate: nothing names the key before login, so describe-key logs in
# as it always did. On nk-second, "lone" is a public key and certificate
# without a private key, and "mixed" an RSA-2048 public key beside the
# RSA-3072 private key with the same label and id: describe-key answers
# from what it sees, generate-signature finds the private key and refuses.
th() { pkcs11-tool --module "$M" --token-label nk-hidden --login --pin 4321 "$@" >/dev/null 2>&1; }
NK_VIS=1
softhsm_init "$NK_TMP/std/softhsm" nk-hidden 12345678 4321 >/dev/null &&
    th --write-object "$NK_P11_PKI/ec256.key.der" --type privkey --id 01 --label hid --usage-sign &&
    th --write-object "$NK_P11_PKI/ec256.pub.der" --type pubkey --id 01 --label hid --private &&
    t2 --write-object "$NK_P11_PKI/ec256.pub.der" --type pubkey --id 20 --label lone &&
    t2 --write-object "$NK_P11_PKI/ec256.der" --type cert --id 20 --label lone &&
    t2 --write-object "$NK_P11_PKI/rsa3072.key.der" --type privkey --id 21 --label mixed --usage-sign &&
    t2 --write-object "$NK_P11_PKI/rsa2048.pub.der" --type pubkey --id 21 --label mixed || NK_VIS=0
check "pkcs11 hidden-object token and half keys set up" test "$NK_VIS" = 1
HID="pkcs11:token=nk-hidden;object=hid?module-path=$M"
NOTATION_KEYSTORE_PIN= NK_WRAP="setsid -w $NK_WRAP" expect_error \
    "pkcs11 public half hidden before login: describe-key needs the PIN" ACCESS_DENIED \
    describe-key "$(describe_req "$HID")" 'token "nk-hidden" needs a PIN'
if [ -n "$SPY" ]; then
    log=$NK_TMP/spy-hidden.log
    NOTATION_KEYSTORE_PIN=4321 ASAN_OPTIONS=$SPY_ASAN PKCS11SPY=$M PKCS11SPY_OUTPUT=$log \
        plugin describe-key "$(describe_req "pkcs11:token=nk-hidden;object=hid?module-path=$SPY")"
    check "pkcs11 public half hidden before login: describe-key logs in once (rc=$RC $(spy_count "$log" C_Login) logins)" \
        test "$RC/$(printf '%s' "$OUT" | jq -r .keySpec)/$(spy_count "$log" C_Login)" = "0/EC-256/1"
fi
NOTATION_KEYSTORE_PIN= plugin describe-key "$(describe_req "pkcs11:token=nk-second;object=lone?module-path=$M")"
check "pkcs11 public key without a private key: describe-key answers from it (rc=$RC)" \
    test "$RC/$(printf '%s' "$OUT" | jq -r .keySpec)" = "0/EC-256"
NOTATION_KEYSTORE_PIN=5678 expect_error "pkcs11 public key without a private key: generate-signature refuses" \
    VALIDATION_ERROR generate-signature "$(sreq "pkcs11:token=nk-second;object=lone?module-path=$M")" \
    'no private key matches.*"lone"'
NOTATION_KEYSTORE_PIN= plugin describe-key "$(describe_req "pkcs11:token=nk-second;object=mixed?module-path=$M")"
check "pkcs11 public key of another key: describe-key answers from it (rc=$RC)" \
    test "$RC/$(printf '%s' "$OUT" | jq -r .keySpec)" = "0/RSA-2048"
NOTATION_KEYSTORE_PIN=5678 expect_error "pkcs11 public key of another key: generate-signature refuses" \
    VALIDATION_ERROR generate-signature \
    "$(sign_req "pkcs11:token=nk-second;object=mixed?module-path=$M" RSA-2048 SHA-256 "$NK_TMP/tbs-rsa2048.jws" \
        "$(jq -cn --arg c "$NK_P11_PKI/rsa2048.pem" '{certificate:$c}')")" \
    'private key "mixed" on token "nk-second" is not the key of the public key'
# "certonly" on nk-second: a private key and its certificate, no public key
# object (as some smart cards keep them): the certificate describes the key
# without login, and signing logs in and signs with the private key.
t2 --write-object "$NK_P11_PKI/ec384.key.der" --type privkey --id 22 --label certonly --usage-sign &&
    t2 --write-object "$NK_P11_PKI/ec384.der" --type cert --id 22 --label certonly ||
    fail "pkcs11 certificate-only key set up"
if [ -n "$SPY" ]; then
    log=$NK_TMP/spy-certonly.log
    NOTATION_KEYSTORE_PIN= ASAN_OPTIONS=$SPY_ASAN PKCS11SPY=$M PKCS11SPY_OUTPUT=$log plugin describe-key \
        "$(describe_req "pkcs11:token=nk-second;object=certonly?module-path=$SPY")"
    check "pkcs11 certificate without public key object: describe-key answers without login (rc=$RC, $(spy_count "$log" C_Login) logins)" \
        test "$RC/$(printf '%s' "$OUT" | jq -r .keySpec)/$(spy_count "$log" C_Login)" = "0/EC-384/0"
fi
NOTATION_KEYSTORE_PIN=5678 plugin generate-signature \
    "$(sign_req "pkcs11:token=nk-second;object=certonly?module-path=$M" EC-384 SHA-384 "$NK_TMP/tbs-ec384.jws")"
check "pkcs11 certificate without public key object: generate-signature signs (rc=$RC ${ERR:0:200})" \
    eval '[ "$RC" = 0 ] && verify_sig ec384 "$NK_TMP/tbs-ec384.jws"'

if [ -n "$SPY" ]; then
    log=$NK_TMP/spy-aa.log
    NOTATION_KEYSTORE_PIN=5678 ASAN_OPTIONS=$SPY_ASAN PKCS11SPY=$M PKCS11SPY_OUTPUT=$log plugin generate-signature \
        "$(sign_req "pkcs11:token=nk-second;object=always?module-path=$SPY" EC-256 SHA-256 "$NK_TMP/tbs-ec256.jws")"
    check "pkcs11 always-authenticate key signs (rc=$RC ${ERR:0:200})" test "$RC" = 0
    check "pkcs11 always-authenticate: CKU_CONTEXT_SPECIFIC login after C_SignInit" \
        eval 'grep -A4 ": C_SignInit\$" "$log" >/dev/null && awk "/: C_SignInit\$/{s=1} s && /CKU_CONTEXT_SPECIFIC/{f=1} END{exit !f}" "$log"'

    # Wrong PIN: exactly one C_Login, and the token's counter shows it.
    log=$NK_TMP/spy-wrong.log
    NOTATION_KEYSTORE_PIN=0000 ASAN_OPTIONS=$SPY_ASAN PKCS11SPY=$M PKCS11SPY_OUTPUT=$log expect_error \
        "pkcs11 wrong PIN" ACCESS_DENIED generate-signature \
        "$(sreq "pkcs11:token=nk-second;object=always?module-path=$SPY")" \
        'wrong PIN for token "nk-second".*CKR_PIN_INCORRECT.*not retried'
    check "pkcs11 wrong PIN: one C_Login only ($(spy_count "$log" C_Login))" \
        test "$(spy_count "$log" C_Login)" = 1
    flags=$(pkcs11-tool --module "$M" --list-token-slots 2>/dev/null |
        awk '/token label *: nk-second/{t=1} t && /token flags/{print; exit}')
    check "pkcs11 wrong PIN: token reports count low, not final try or locked ($flags)" \
        eval '[[ $flags == *"user PIN count low"* && $flags != *"final"* && $flags != *"locked"* ]]'
else
    fail "pkcs11 spy: pkcs11-spy.so not installed"
fi

# --- locked / final-try PIN and PIN pad, through a flag-setting shim -----
# tests/lib/p11shim.c forwards every call to SoftHSM but ORs NK_SHIM_FLAGS
# into CK_TOKEN_INFO.flags, and plays a PIN pad (a NULL PIN logs in with
# NK_SHIM_PAD_PIN). SoftHSM cannot lock a PIN itself.
if [ -n "$SPY" ] && p11shim_build "$NK_TMP/shim.so" 2>"$NK_TMP/shim.log"; then
    export NK_SHIM_MODULE=$M
    for case in "locked 0x40000 locked" "final-try 0x20000 final try"; do
        read -r what fl re <<<"$case"
        log=$NK_TMP/spy-$what.log
        NK_SHIM_FLAGS=$fl ASAN_OPTIONS=$SPY_ASAN PKCS11SPY=$NK_TMP/shim.so PKCS11SPY_OUTPUT=$log expect_error \
            "pkcs11 PIN $what: ACCESS_DENIED" ACCESS_DENIED generate-signature \
            "$(sreq "pkcs11:token=nk-test;object=ec256?module-path=$SPY")" "$re"
        check "pkcs11 PIN $what: no C_Login attempted" \
            test "$(spy_count "$log" C_Login)" = 0
        # Describing the key needs no login, so the PIN's state is no
        # obstacle.
        NK_SHIM_FLAGS=$fl expect_ok "pkcs11 PIN $what: describe-key still answers" \
            describe-key "$(describe_req "pkcs11:token=nk-test;object=ec256?module-path=$NK_TMP/shim.so")"
    done
    log=$NK_TMP/spy-pad.log
    (
        unset NOTATION_KEYSTORE_PIN
        NK_SHIM_FLAGS=0x100 NK_SHIM_PAD_PIN=$NK_P11_PIN ASAN_OPTIONS=$SPY_ASAN PKCS11SPY=$NK_TMP/shim.so \
            PKCS11SPY_OUTPUT=$log expect_ok "pkcs11 PIN pad token logs in without a PIN" \
            generate-signature "$(sreq "pkcs11:token=nk-test;object=ec256?module-path=$SPY")"
    )
    check "pkcs11 PIN pad: C_Login got a NULL PIN" \
        eval 'grep -A6 ": C_Login\$" "$log" | grep -q "pPin\[ulPinLen\] NULL"'

    # A module that reports a signature length its buffer cannot hold (or
    # none) is faulty; believing it read past the buffer (run this script
    # with the ASan build to see it). Lengths that do not fit the key are
    # faults too. NK_SHIM_SIG_LEN overrides the length C_Sign reports.
    big='(4096|18446744073709551615|0)-byte signature in a 1024-byte buffer'
    for c in "ec256 EC-256 SHA-256" "rsa2048 RSA-2048 SHA-256"; do
        read -r k spec hash <<<"$c"
        for n in 4096 -1 0; do
            NK_SHIM_SIG_LEN=$n expect_error \
                "pkcs11 $k: module reporting a $n-byte signature is a token fault" \
                ERROR generate-signature \
                "$(sign_req "pkcs11:token=nk-test;object=$k?module-path=$NK_TMP/shim.so" "$spec" "$hash" "$NK_TMP/tbs-$k.jws")" \
                "^token fault: C_Sign \((CKM_ECDSA|CKM_RSA_PKCS_PSS), key \"$k\"\) reported a $big"
        done
    done
    for c in "ec256 EC-256 SHA-256 63 malformed ECDSA signature of 63 bytes" \
        "ec256 EC-256 SHA-256 10 malformed ECDSA signature of 10 bytes" \
        "ec521 EC-521 SHA-512 100 malformed ECDSA signature of 100 bytes" \
        "rsa2048 RSA-2048 SHA-256 200 RSA signature of 200 bytes for a 256-byte"; do
        read -r k spec hash n re <<<"$c"
        NK_SHIM_SIG_LEN=$n expect_error \
            "pkcs11 $k: a $n-byte signature does not fit the key (token fault)" \
            ERROR generate-signature \
            "$(sign_req "pkcs11:token=nk-test;object=$k?module-path=$NK_TMP/shim.so" "$spec" "$hash" "$NK_TMP/tbs-$k.jws")" \
            "^token fault: $re"
    done
else
    cat "$NK_TMP/shim.log" 2>/dev/null
    fail "pkcs11 flag shim could not be built"
fi

# --- a token without CKM_RSA_PKCS_PSS: PSS encoded in software ----------
FB=$NK_TMP/fallback
mkdir -p "$FB"
printf '%s\n' "directories.tokendir = $FB/tokens" "objectstore.backend = file" \
    "log.level = ERROR" "slots.mechanisms = CKM_RSA_PKCS,CKM_RSA_X_509,CKM_ECDSA" \
    >"$FB/softhsm2.conf"
NOPSS=$NK_TMP/nopss
mkdir -p "$NOPSS"
printf '%s\n' "directories.tokendir = $NOPSS/tokens" "objectstore.backend = file" \
    "log.level = ERROR" "slots.mechanisms = CKM_RSA_PKCS,CKM_ECDSA" \
    >"$NOPSS/softhsm2.conf"
ok=1
for d in "$FB" "$NOPSS"; do
    softhsm_init "$d" nk-raw 12345678 1234 >/dev/null &&
        softhsm_import_key nk-raw 01 rsa3072 "$NK_P11_PKI/rsa3072.key" \
            "$NK_P11_PKI/rsa3072.pem" || ok=0
done
export SOFTHSM2_CONF=$STD_CONF
check "pkcs11 reduced-mechanism tokens set up" test "$ok" = 1
if [ -n "$SPY" ]; then
    log=$NK_TMP/spy-fallback.log
    SOFTHSM2_CONF=$FB/softhsm2.conf ASAN_OPTIONS=$SPY_ASAN PKCS11SPY=$M PKCS11SPY_OUTPUT=$log plugin generate-signature \
        "$(sign_req "pkcs11:token=nk-raw;object=rsa3072?module-path=$SPY" RSA-3072 SHA-384 "$NK_TMP/tbs-rsa3072.jws")"
    check "pkcs11 no-PSS token: raw RSA (CKM_RSA_X_509), never CKM_RSA_PKCS (rc=$RC ${ERR:0:200})" \
        test "$RC/$(spy_mechs "$log")" = "0/CKM_RSA_X_509 "
    [ "$RC" = 0 ] && check "pkcs11 no-PSS token: software PSS verifies with openssl" \
        verify_sig rsa3072 "$NK_TMP/tbs-rsa3072.jws"
    log=$NK_TMP/spy-nopss.log
    SOFTHSM2_CONF=$NOPSS/softhsm2.conf ASAN_OPTIONS=$SPY_ASAN PKCS11SPY=$M PKCS11SPY_OUTPUT=$log expect_error \
        "pkcs11 token with neither PSS nor raw RSA" VALIDATION_ERROR generate-signature \
        "$(sign_req "pkcs11:token=nk-raw;object=rsa3072?module-path=$SPY" RSA-3072 SHA-384 "$NK_TMP/tbs-rsa3072.jws")" \
        'neither CKM_RSA_PKCS_PSS nor CKM_RSA_X_509'
    check "pkcs11 token with only PKCS#1 v1.5: no C_SignInit at all" \
        test "$(spy_count "$log" C_SignInit)" = 0
fi

# --- no copy of the PIN in memory while the token signs ------------------
# A token of its own whose PIN appears nowhere else; at C_Sign the shim
# searches the plugin's writable memory for it (NK_SHIM_SCAN_PIN, skipping
# the environment entries that carry it in). Our PIN copies are wiped right
# after C_Login (done by us: libp11's PKCS11_login keeps a copy until its
# slots are released), the request text and a pin-value in the key id go
# once logged in, and the key id the response echoes stays masked until
# then. The control run puts the PIN in an unused pluginConfig value: the
# search must find that copy.
SC=$NK_TMP/scan
SCAN_PIN=Zq7-$(openssl rand -hex 12)
sc() { pkcs11-tool --module "$M" --token-label nk-scan --login --pin "$SCAN_PIN" "$@" >/dev/null 2>&1; }
if softhsm_init "$SC" nk-scan 12345678 "$SCAN_PIN" >/dev/null &&
    softhsm_import_key nk-scan 01 ec256 "$NK_P11_PKI/ec256.key" "$NK_P11_PKI/ec256.pem" &&
    sc --write-object "$NK_P11_PKI/ec256.key.der" --type privkey --id 02 --label always --usage-sign --always-auth &&
    sc --write-object "$NK_P11_PKI/ec256.pub.der" --type pubkey --id 02 --label always &&
    sc --write-object "$NK_P11_PKI/ec256.der" --type cert --id 02 --label always &&
    p11shim_build "$SC/shim.so" 2>"$NK_TMP/shim.log"; then
    printf '%s\n' "$SCAN_PIN" >"$SC/pin"
    K="pkcs11:token=nk-scan;object=ec256?module-path=$SC/shim.so"
    AA="pkcs11:token=nk-scan;object=always?module-path=$SC/shim.so"
    # scan_run NAME PIN-IN-ENV KEY-ID [CONFIG]: signs; sets SCAN to what the
    # shim found and checks the signature and the echoed key id.
    scan_run() {
        local out=$SC/scan-${1// /-}
        rm -f "$out"
        SOFTHSM2_CONF=$SC/softhsm2.conf NK_SHIM_MODULE=$M NK_SHIM_SCAN_PIN=$SCAN_PIN \
            NK_SHIM_SCAN_OUT=$out NOTATION_KEYSTORE_PIN=$2 plugin generate-signature \
            "$(sign_req "$3" EC-256 SHA-256 "$NK_TMP/tbs-ec256.jws" "${4:-{\}}")"
        SCAN=$(cat "$out" 2>/dev/null)
        SCAN_KID=$3
        check "pkcs11 PIN scan $1: signed, key id echoed (rc=$RC ${ERR:0:200})" \
            eval '[ "$RC" = 0 ] && [ "$(printf "%s" "$OUT" | jq -r .keyId)" = "$SCAN_KID" ] &&
                verify_sig ec256 "$NK_TMP/tbs-ec256.jws"'
    }
    scan_run "NOTATION_KEYSTORE_PIN" "$SCAN_PIN" "$K"
    check "pkcs11 no PIN in memory at C_Sign: NOTATION_KEYSTORE_PIN ($SCAN)" test "$SCAN" = "PIN ABSENT"
    scan_run "pin-source" "" "$K&pin-source=$SC/pin"
    check "pkcs11 no PIN in memory at C_Sign: pin-source file ($SCAN)" test "$SCAN" = "PIN ABSENT"
    scan_run "pin-file" "" "$K" "$(jq -cn --arg f "$SC/pin" '{"pin-file":$f}')"
    check "pkcs11 no PIN in memory at C_Sign: pluginConfig pin-file ($SCAN)" test "$SCAN" = "PIN ABSENT"
    scan_run "pin-value" "" "$K&pin-value=$SCAN_PIN"
    check "pkcs11 no PIN in memory at C_Sign: pin-value ($SCAN)" test "$SCAN" = "PIN ABSENT"
    scan_run "always-authenticate pin-value" "" "$AA&pin-value=$SCAN_PIN"
    check "pkcs11 no PIN in memory at C_Sign: always-authenticate key, pin-value ($SCAN)" \
        test "$SCAN" = "PIN ABSENT"
    scan_run "always-authenticate env" "$SCAN_PIN" "$AA"
    check "pkcs11 no PIN in memory at C_Sign: always-authenticate key, NOTATION_KEYSTORE_PIN ($SCAN)" \
        test "$SCAN" = "PIN ABSENT"
    scan_run "control" "" "$K&pin-value=$SCAN_PIN" "$(jq -cn --arg p "$SCAN_PIN" '{"x-note":$p}')"
    check "pkcs11 PIN scan control: a PIN left in pluginConfig is found ($SCAN)" \
        eval '[[ $SCAN == "PIN FOUND "* ]]'
else
    cat "$NK_TMP/shim.log" 2>/dev/null
    fail "pkcs11 PIN scan: token or shim setup"
fi
export SOFTHSM2_CONF=$STD_CONF
