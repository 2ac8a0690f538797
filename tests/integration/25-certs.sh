#!/usr/bin/env bash
# Certificate chains through generate-signature on SoftHSM: where the leaf
# and the chain come from, and every pre-sign rule failure with its
# errorCode, exit status and empty stdout. Last, a token that returns a
# corrupted signature: the plugin must refuse to hand it out.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/softhsm.sh"

if ! softhsm_std_token "$NK_TMP/std" >"$NK_TMP/setup.log" 2>&1; then
    cat "$NK_TMP/setup.log"
    fail "certs: SoftHSM token setup"
    exit 1
fi
export NOTATION_KEYSTORE_PIN=$NK_P11_PIN
P=$NK_P11_PKI
M=$NK_P11_MODULE
KEY="pkcs11:token=nk-test;object=ec256?module-path=$M"

# req [KEY-ID] CONFIG-JSON: a generate-signature request for the EC-256 key.
req() {
    jq -nc --arg k "$KEY" --argjson c "$1" '{contractVersion:"1.0",keyId:$k,
        keySpec:"EC-256",hashAlgorithm:"SHA-256",payload:"YWJjZA==",pluginConfig:$c}'
}
cfg() { jq -nc "$@"; }

# Good: token leaf + ca-certs; the returned chain is leaf, inter, root.
plugin generate-signature "$(req "$(cfg --arg ca "$P/ca-certs.pem" '{"ca-certs":$ca}')")"
chain_ok() {
    local i subj want=("CN=ec256" "CN=Notation Keystore Test Intermediate" "CN=Notation Keystore Test Root")
    [ "$RC" = 0 ] || return 1
    [ "$(jq '.certificateChain|length' <<<"$OUT")" = 3 ] || return 1
    for i in 0 1 2; do
        subj=$(jq -r ".certificateChain[$i]" <<<"$OUT" | base64 -d |
            openssl x509 -inform DER -noout -subject -nameopt RFC2253)
        grep -q "${want[$i]}" <<<"$subj" || return 1
    done
}
check "certs: token leaf completed by ca-certs, ordered leaf first" chain_ok

# ca-certs in any order and with an unrelated certificate: still right.
cat "$P/root.pem" "$P/ec384.pem" "$P/inter.pem" >"$NK_TMP/messy.pem"
plugin generate-signature "$(req "$(cfg --arg ca "$NK_TMP/messy.pem" '{"ca-certs":$ca}')")"
check "certs: ca-certs in any order with an extra certificate" chain_ok

# certificate-chain file (leaf first) replaces the token's certificate.
cat "$P/ec256.pem" "$P/inter.pem" "$P/root.pem" >"$NK_TMP/full.pem"
plugin generate-signature "$(req "$(cfg --arg c "$NK_TMP/full.pem" '{"certificate-chain":$c}')")"
check "certs: certificate-chain alone" chain_ok
# certificate (leaf) + ca-certs.
plugin generate-signature "$(req "$(cfg --arg c "$P/ec256.pem" --arg ca "$P/ca-certs.pem" '{"certificate":$c,"ca-certs":$ca}')")"
check "certs: certificate plus ca-certs" chain_ok

expect_error "certs: incomplete chain (no ca-certs)" VALIDATION_ERROR generate-signature \
    "$(req '{}')" 'incomplete certificate chain.*ca-certs'
cat "$P/ec256.pem" "$P/inter.pem" >"$NK_TMP/noroot.pem"
expect_error "certs: chain without its root" VALIDATION_ERROR generate-signature \
    "$(req "$(cfg --arg c "$NK_TMP/noroot.pem" '{"certificate-chain":$c}')")" 'incomplete certificate chain'

pki_leaf_expired "$P" ec256 ec256-expired >/dev/null 2>&1
cat "$P/ec256-expired.pem" "$P/inter.pem" "$P/root.pem" >"$NK_TMP/expired.pem"
expect_error "certs: expired certificate" VALIDATION_ERROR generate-signature \
    "$(req "$(cfg --arg c "$NK_TMP/expired.pem" '{"certificate-chain":$c}')")" 'signing certificate .*ec256-expired.* expired on'

pki_leaf_serverauth "$P" ec256 ec256-server >/dev/null 2>&1
cat "$P/ec256-server.pem" "$P/inter.pem" "$P/root.pem" >"$NK_TMP/server.pem"
expect_error "certs: serverAuth EKU" VALIDATION_ERROR generate-signature \
    "$(req "$(cfg --arg c "$NK_TMP/server.pem" '{"certificate-chain":$c}')")" 'serverAuth'

pki_leaf_mismatch "$P" ec256 ec256-other >/dev/null 2>&1
cat "$P/ec256-other.pem" "$P/inter.pem" "$P/root.pem" >"$NK_TMP/other.pem"
expect_error "certs: certificate not matching the key" VALIDATION_ERROR generate-signature \
    "$(req "$(cfg --arg c "$NK_TMP/other.pem" '{"certificate-chain":$c}')")" 'does not carry the public key'

cat "$P/ec384.pem" "$P/inter.pem" "$P/root.pem" >"$NK_TMP/ec384chain.pem"
expect_error "certs: certificate for a key of another spec" VALIDATION_ERROR generate-signature \
    "$(req "$(cfg --arg c "$NK_TMP/ec384chain.pem" '{"certificate-chain":$c}')")" 'does not carry the public key'

expect_error "certs: certificate-chain file missing" VALIDATION_ERROR generate-signature \
    "$(req "$(cfg --arg c "$NK_TMP/nope.pem" '{"certificate-chain":$c}')")" 'certificate-chain.*cannot open'
printf 'not a certificate\n' >"$NK_TMP/junk.pem"
expect_error "certs: ca-certs without certificates" VALIDATION_ERROR generate-signature \
    "$(req "$(cfg --arg c "$NK_TMP/junk.pem" '{"ca-certs":$c}')")" 'ca-certs.*no certificate'

# A token whose signatures are corrupted: the plugin checks every signature
# with the certificate before replying, so notation never gets a bad one.
if p11shim_build "$NK_TMP/badsig.so" 2>"$NK_TMP/cc.log"; then
    export NK_SHIM_MODULE=$M NK_SHIM_CORRUPT_SIG=1
    for k in ec256 rsa2048; do
        read -r spec hash <<<"$([ $k = ec256 ] && echo "EC-256 SHA-256" || echo "RSA-2048 SHA-256")"
        r=$(jq -nc --arg k "pkcs11:token=nk-test;object=$k?module-path=$NK_TMP/badsig.so" \
            --arg s "$spec" --arg h "$hash" --arg ca "$P/ca-certs.pem" \
            '{contractVersion:"1.0",keyId:$k,keySpec:$s,hashAlgorithm:$h,payload:"YWJjZA==",pluginConfig:{"ca-certs":$ca}}')
        expect_error "certs: corrupted $spec signature from the token is refused" ERROR \
            generate-signature "$r" 'bad signature; nothing was sent to notation'
    done
else
    cat "$NK_TMP/cc.log"
    fail "certs: cannot build the corrupting PKCS#11 shim"
fi
