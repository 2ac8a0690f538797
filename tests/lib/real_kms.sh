# What every tests/real-<service>.sh does against a real key store (not
# part of make check): the SKIP when no key or credential is given, then
# describe-key, generate-signature checked against the returned leaf with
# Python cryptography, and doctor --id. Source after harness.sh and
# kms_pki.sh; the script defines have_cred (0 when a credential is at hand).

# real_start NAME IDVAR CONFIGVAR NOCRED: REAL=NAME, KID from $IDVAR,
# EXTRA from $CONFIGVAR (a JSON object of pluginConfig, {} when unset) and
# dargs the same as doctor options; caches in NK_TMP. Prints SKIP and ends
# the script when IDVAR is unset or have_cred fails (NOCRED says which
# credentials were looked for).
real_start() {
    local kv
    REAL=$1
    KID=${!2:-}
    if [ -z "$KID" ]; then
        skip "$REAL" "$2 is not set"
        exit 0
    fi
    if ! have_cred; then
        skip "$REAL" "$4"
        exit 0
    fi
    EXTRA=${!3:-{\}}
    jq -e 'type=="object"' <<<"$EXTRA" >/dev/null || { fail "$REAL: $3 is not a JSON object"; exit 0; }
    export XDG_CACHE_HOME=$NK_TMP/cache XDG_RUNTIME_DIR=$NK_TMP/run
    mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
    dargs=()
    while IFS= read -r kv; do dargs+=(--plugin-config "$kv"); done < <(jq -r 'to_entries[] | "\(.key)=\(.value)"' <<<"$EXTRA")
}

# real_describe: describe-key; SPEC is the key's spec. Ends the script
# when it fails.
real_describe() {
    plugin describe-key "$(jq -nc --arg k "$KID" --argjson c "$EXTRA" '{contractVersion:"1.0",keyId:$k,pluginConfig:$c}')"
    SPEC=$(printf '%s' "$OUT" | jq -r .keySpec 2>/dev/null)
    if [ "$RC" = 0 ] && [ -n "$SPEC" ] && [ "$SPEC" != null ]; then
        pass "$REAL describe-key ($SPEC)"
    else
        fail "$REAL describe-key (rc=$RC err=${ERR:0:400})"
        exit 0
    fi
}

# The hash notation pairs with each key spec.
declare -A REAL_HASH=([RSA-2048]=SHA-256 [RSA-3072]=SHA-384 [RSA-4096]=SHA-512
    [EC-256]=SHA-256 [EC-384]=SHA-384 [EC-521]=SHA-512)

# real_sign NAME: generate-signature, the signature checked against the
# leaf.
real_sign() {
    plugin generate-signature "$(jq -nc --arg k "$KID" --arg s "$SPEC" --arg h "${REAL_HASH[$SPEC]}" \
        --arg p "$(base64 -w0 "$NK_TMP/payload")" --argjson c "$EXTRA" \
        '{contractVersion:"1.0",keyId:$k,keySpec:$s,hashAlgorithm:$h,payload:$p,pluginConfig:$c}')"
    [ "$RC" = 0 ] || { fail "$1 (rc=$RC err=${ERR:0:400})"; return; }
    printf '%s' "$OUT" | jq -r '.certificateChain[0]' | base64 -d |
        openssl x509 -inform DER -noout -pubkey >"$NK_TMP/leaf.pub" 2>/dev/null
    if [ -s "$NK_TMP/leaf.pub" ] &&
        kms_verify "$NK_TMP/leaf.pub" "$SPEC" "$NK_TMP/payload" "$(printf '%s' "$OUT" | jq -r .signature)"; then
        pass "$1"
    else
        fail "$1 (the signature does not verify against the leaf)"
    fi
}

# real_sign_twice: a signature with the caches describe-key left, then one
# with none.
real_sign_twice() {
    head -c 64 /dev/urandom >"$NK_TMP/payload"
    real_sign "$REAL generate-signature after describe-key (warm caches)"
    rm -rf "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR/notation-keystore"
    real_sign "$REAL generate-signature with cold caches"
}

# real_doctor: doctor --id passes its key store, credentials and test
# signature checks.
real_doctor() {
    "$NK_BIN" doctor --id "$KID" "${dargs[@]}" --json >"$NK_TMP/doctor.json" 2>"$NK_TMP/doctor.err"
    check "$REAL doctor --id: key, credentials and a verified test signature" real_doctor_ok
}
real_doctor_ok() {
    jq -e '[.checks[] | select(.check=="key store" or .check=="credentials" or .check=="test signature") | .status] == ["pass","pass","pass"]' \
        "$NK_TMP/doctor.json" >/dev/null
}
