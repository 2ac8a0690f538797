#!/usr/bin/env bash
# Peak RSS at the input bounds (tests/lib/bounds.sh): generate-signature
# with a 4 MiB-cap request (3,000,000-byte payload) and with one refused
# at the cap, verify-signature with a 100,000-entry CRL on a cold and a
# warm CRL cache; each next to the same command on a small input. Prints
# "name peak_KiB over_small_KiB"; the largest of RUNS (default 3) runs.
# 56-bounds.sh caps the same figures. Called by tests/bench.sh.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/pki.sh"
. "$NK_ROOT/tests/lib/bounds.sh"
RUNS=${NK_BOUNDS_RUNS:-3}
D=$NK_TMP/b
mkdir -p "$D"
bounds_sign_setup "$D" >"$NK_TMP/setup.log" 2>&1 || { cat "$NK_TMP/setup.log"; exit 1; }
bounds_crl_setup "$D" "$(free_port)" >"$NK_TMP/setup.log" 2>&1 || { cat "$NK_TMP/setup.log"; exit 1; }
bounds_crl_start || { echo "bounds bench: CRL server did not start" >&2; exit 1; }
at_exit bounds_crl_stop
export XDG_CACHE_HOME=$NK_TMP/cache

declare -A peak
# measure NAME WANT-RC CACHE(cold|warm|-) IN CMD: the largest peak of RUNS runs.
measure() {
    local name=$1 want=$2 cache=$3 in=$4 cmd=$5 i max=0
    for ((i = 0; i < RUNS; i++)); do
        [ "$cache" = cold ] && rm -rf "$XDG_CACHE_HOME"
        peak_rss "$in" "$NK_TMP/out" "$NK_BIN" "$cmd"
        if [ "$RC" != "$want" ] || [ -z "$RSS" ]; then
            echo "bounds bench: $name: exit $RC (want $want): $(head -c 300 "$NK_TMP/out.err")" >&2
            exit 1
        fi
        [ "$RSS" -gt "$max" ] && max=$RSS
    done
    peak[$name]=$max
}
show() { # NAME BASELINE-NAME
    printf '%-52s %9s %9s\n' "$1" "${peak[$1]}" "$(( ${peak[$1]} - ${peak[$2]} ))"
}

echo '{' >"$NK_TMP/bad.json"
measure "generate-signature EC-256, 256-byte payload" 0 - "$D/small.json" generate-signature
measure "generate-signature EC-256, 3000000-byte payload" 0 - "$D/big.json" generate-signature
measure "refused: 1-byte request (not JSON)" 1 - "$NK_TMP/bad.json" generate-signature
measure "refused: request over the 4 MiB cap" 1 - "$D/over.json" generate-signature
measure "verify-signature small CRLs, cold cache" 0 cold "$D/crl-small.json" verify-signature
measure "verify-signature small CRLs, warm cache" 0 warm "$D/crl-small.json" verify-signature
measure "verify-signature 100000-entry CRL, cold cache" 0 cold "$D/crl-big.json" verify-signature
measure "verify-signature 100000-entry CRL, warm cache" 0 warm "$D/crl-big.json" verify-signature

printf '%-52s %9s %9s\n' "peak RSS (largest of $RUNS runs)" "KiB" "over small"
show "generate-signature EC-256, 256-byte payload" "generate-signature EC-256, 256-byte payload"
show "generate-signature EC-256, 3000000-byte payload" "generate-signature EC-256, 256-byte payload"
show "refused: 1-byte request (not JSON)" "refused: 1-byte request (not JSON)"
show "refused: request over the 4 MiB cap" "refused: 1-byte request (not JSON)"
show "verify-signature small CRLs, cold cache" "verify-signature small CRLs, cold cache"
show "verify-signature small CRLs, warm cache" "verify-signature small CRLs, warm cache"
show "verify-signature 100000-entry CRL, cold cache" "verify-signature small CRLs, cold cache"
show "verify-signature 100000-entry CRL, warm cache" "verify-signature small CRLs, warm cache"
echo "# request $(stat -c %s "$D/big.json") bytes; CRL $(stat -c %s "$D/rev/www/idp.crl") bytes DER"
