#!/usr/bin/env bash
# make bench: wall time and peak RSS of each plugin command over RUNS runs
# (default 50) on SoftHSM with EC-256 and RSA-3072 keys, next to the bare
# token operation measured the same way (pkcs11-tool: load the module, log
# in, sign), and the ratios. Then the envelope, verifier and KMS benches
# where present. All figures come from one run on this machine.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-50}
export NK_ROOT=$ROOT NK_RESULTS=/dev/null
. "$ROOT/tests/lib/harness.sh"
. "$ROOT/tests/lib/softhsm.sh"
M=$ROOT/tests/bench/measure.py
BIN=$ROOT/build/notation-keystore

softhsm_std_token "$NK_TMP/hsm" >"$NK_TMP/setup.log" 2>&1 || { cat "$NK_TMP/setup.log"; exit 1; }
export NOTATION_KEYSTORE_PIN=$NK_P11_PIN
declare -A median

bench() { # bench NAME STDIN CMD...
    local line
    local med p90 rss
    line=$("$NK_PY" "$M" "$1" "$RUNS" "$2" "${@:3}") || { echo "$line"; return 1; }
    read -r med p90 rss <<<"${line#"$1" }"
    printf '%-44s %9s %9s %10s\n' "$1" "$med" "$p90" "$rss"
    median[$1]=$med
}
ratio() { awk -v a="${median[$1]}" -v b="${median[$2]}" 'BEGIN{printf "%.2f", a/b}'; }

printf '%-44s %9s %9s %10s\n' "measurement ($RUNS runs)" "median ms" "p90 ms" "peak KiB"
echo '{}' >"$NK_TMP/meta.json"
bench "true (process floor)" - true
bench "get-plugin-metadata" "$NK_TMP/meta.json" "$BIN" get-plugin-metadata
head -c 300 /dev/urandom >"$NK_TMP/tbs"
# name:keySpec:hash:pkcs11-tool mechanism:openssl digest:CKA_ID (softhsm.sh)
for k in ec256:EC-256:SHA-256:ECDSA:sha256:04 rsa3072:RSA-3072:SHA-384:RSA-PKCS-PSS:sha384:02; do
    IFS=: read -r name spec hash mech dg ckaid <<<"$k"
    id="pkcs11:token=nk-test;object=$name?module-path=$NK_P11_MODULE"
    jq -nc --arg k "$id" '{contractVersion:"1.0",keyId:$k}' >"$NK_TMP/d-$name.json"
    jq -nc --arg k "$id" --arg s "$spec" --arg h "$hash" --arg p "$(base64 -w0 "$NK_TMP/tbs")" \
        --arg ca "$NK_P11_CA" '{contractVersion:"1.0",keyId:$k,keySpec:$s,hashAlgorithm:$h,
        payload:$p,pluginConfig:{"ca-certs":$ca}}' >"$NK_TMP/s-$name.json"
    openssl dgst -"$dg" -binary "$NK_TMP/tbs" >"$NK_TMP/digest-$name"
    bench "describe-key $spec" "$NK_TMP/d-$name.json" "$BIN" describe-key
    bench "generate-signature $spec" "$NK_TMP/s-$name.json" "$BIN" generate-signature
    extra=()
    [ "$mech" = RSA-PKCS-PSS ] && extra=(--hash-algorithm SHA384 --mgf MGF1-SHA384 --salt-len 48)
    bench "bare token sign $spec (pkcs11-tool)" "$NK_TMP/digest-$name" \
        pkcs11-tool --module "$NK_P11_MODULE" --token-label nk-test --login \
        --pin "$NK_P11_PIN" --sign --id "$ckaid" --mechanism "$mech" "${extra[@]}" \
        --input-file "$NK_TMP/digest-$name" --output-file /dev/null
done
echo
echo "ratios (plugin / bare token operation, same run):"
for s in EC-256 RSA-3072; do
    printf '  generate-signature %-9s %sx   describe-key %sx\n' "$s" \
        "$(ratio "generate-signature $s" "bare token sign $s (pkcs11-tool)")" \
        "$(ratio "describe-key $s" "bare token sign $s (pkcs11-tool)")"
done
printf '  get-plugin-metadata / process floor: %sx\n' "$(ratio get-plugin-metadata "true (process floor)")"
for extra in "$ROOT"/tests/bench/*.sh; do
    [ -f "$extra" ] || continue
    echo
    echo "== $(basename "$extra" .sh) =="
    RUNS=$RUNS NK_BENCH_RUNS=$RUNS NK_BIN=$BIN bash "$extra"
done
