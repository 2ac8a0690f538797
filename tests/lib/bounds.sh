# Peak RSS of the plugin at its input bounds, shared by `make bench`
# (tests/bench/bounds.sh prints the figures) and 56-bounds.sh (caps them).
# Source after harness.sh; needs /usr/bin/time (Debian's `time`).
#
#   bounds_sign_setup DIR    SoftHSM token with an EC-256 key (DIR/hsm) and
#       three generate-signature requests: DIR/small.json (256-byte
#       payload), DIR/big.json (3,000,000-byte payload: a 4,000,2xx-byte
#       request, just under the 4 MiB cap) and DIR/over.json (the cap plus
#       one byte, refused while it is read). DIR/big.line is the
#       check_sigs.py line for big.json's response (DIR/big.out).
#   bounds_crl_setup DIR PORT   revocation PKI (tests/lib/ocsp.sh) whose
#       leaf-idp names http://127.0.0.1:PORT/idp.crl, a CRL of the
#       intermediate with 100,000 entries (x509_craft.py --pad); requests
#       DIR/crl-big.json (leaf-idp) and DIR/crl-small.json (leaf-crl, whose
#       CRLs are tiny), cache on. bounds_crl_start / bounds_crl_stop run the
#       CRL server.
#   peak_rss IN OUT CMD...   runs CMD with stdin IN and stdout OUT (stderr
#       OUT.err); sets RSS (peak KiB, from GNU time's %M: the runner is a
#       small C program, so nothing of a large parent is counted) and RC.

BOUNDS_PAYLOAD=3000000
BOUNDS_CRL_ENTRIES=100000

peak_rss() {
    local in=$1 out=$2
    shift 2
    /usr/bin/time -f %M -o "$out.rss" "$@" <"$in" >"$out" 2>"$out.err"
    RC=$?
    RSS=$(tail -1 "$out.rss" 2>/dev/null)
    [[ $RSS =~ ^[0-9]+$ ]] || RSS=
}

bounds_sign_setup() {
    local d=$1 kid
    . "$NK_ROOT/tests/lib/softhsm.sh"
    pki_ca "$d/pki" && pki_leaf "$d/pki" ec256 &&
        softhsm_init "$d/hsm" nk-bounds 12345678 1234 &&
        softhsm_import_key nk-bounds 01 ec256 "$d/pki/ec256.key" "$d/pki/ec256.pem" || return 1
    export NOTATION_KEYSTORE_PIN=1234
    kid="pkcs11:token=nk-bounds;object=ec256?module-path=$NK_P11_MODULE"
    head -c 256 /dev/urandom >"$d/small.bin"
    head -c "$BOUNDS_PAYLOAD" /dev/urandom >"$d/big.bin"
    for n in small big; do
        printf '{"contractVersion":"1.0","keyId":"%s","keySpec":"EC-256","hashAlgorithm":"SHA-256","payload":"%s","pluginConfig":{"ca-certs":"%s"}}' \
            "$kid" "$(base64 -w0 "$d/$n.bin")" "$d/pki/ca-certs.pem" >"$d/$n.json" || return 1
    done
    echo "EC-256 $d/pki/ec256.pem $d/big.bin $d/big.out" >"$d/big.line"
    # A request that looks like big.json but is one byte over the cap.
    { printf '{"contractVersion":"1.0","keyId":"%s","payload":"' "$kid"
      head -c $((4 * 1024 * 1024)) /dev/zero | tr '\0' A; } | head -c $((4 * 1024 * 1024 + 1)) >"$d/over.json"
}

bounds_crl_setup() {
    local d=$1 port=$2 n
    . "$NK_ROOT/tests/lib/ocsp.sh"
    BOUNDS_CRL_DIR=$d BOUNDS_CRL_PORT=$port
    rev_pki "$d/rev" "$(free_port)" "$port" "$(free_port)" "$(free_port)" &&
        rev_pki_more "$d/rev" "$port" "$(free_port)" &&
        "$NK_PY" "$NK_ROOT/tests/lib/x509_craft.py" crl "$d/rev/inter.pem" "$d/rev/inter.key" \
            "$d/rev/www/idp.crl" --pad "$BOUNDS_CRL_ENTRIES" || return 1
    for n in big:leaf-idp small:leaf-crl; do
        printf '{"contractVersion":"1.0","signature":{"criticalAttributes":{"contentType":"application/vnd.cncf.notary.payload.v1+json","signingScheme":"notary.x509","expiry":"0001-01-01T00:00:00Z"},"unprocessedAttributes":null,"certificateChain":["%s","%s","%s"]},"trustPolicy":{"trustedIdentities":["*"],"signatureVerification":["SIGNATURE_VERIFIER.REVOCATION_CHECK"]},"pluginConfig":{"crl-timeout":"60"}}' \
            "$(cat "$d/rev/${n#*:}.b64")" "$(cat "$d/rev/inter.b64")" "$(cat "$d/rev/root.b64")" \
            >"$d/crl-${n%%:*}.json" || return 1
    done
}

bounds_crl_start() {
    "$NK_PY" "$NK_ROOT/tests/lib/verify_server.py" "$BOUNDS_CRL_PORT" "$BOUNDS_CRL_DIR/rev/www" &
    BOUNDS_CRL_PID=$!
    wait_port "$BOUNDS_CRL_PORT" 30
}
bounds_crl_stop() { kill "$BOUNDS_CRL_PID" 2>/dev/null; wait "$BOUNDS_CRL_PID" 2>/dev/null; return 0; }

# crl_good FILE: a verify-signature response whose revocation check passed.
crl_good() {
    jq -e '.verificationResults["SIGNATURE_VERIFIER.REVOCATION_CHECK"].success == true' "$1" >/dev/null 2>&1
}
