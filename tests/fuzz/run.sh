#!/usr/bin/env bash
# Runs each libFuzzer binary for SECONDS from a copy of its seed corpus
# (tests/fuzz/corpus/<name>), so new inputs never land in the repository.
#   tests/fuzz/run.sh SECONDS build-fuzz/fuzz/fuzz_x ...
set -u
cd "$(dirname "$0")/../.."
secs=$1
shift
failed=0
for bin in "$@"; do
    name=$(basename "$bin")
    work=$(mktemp -d "${TMPDIR:-/tmp}/nk-fuzz.XXXXXX")
    cp -r "tests/fuzz/corpus/$name/." "$work/" 2>/dev/null
    echo "== $name ($secs s)"
    if ASAN_OPTIONS=detect_leaks=1 "$bin" -max_total_time="$secs" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=0 -artifact_prefix="$work/" \
        "$work" >"$work.log" 2>&1; then
        tail -n 1 "$work.log"
        echo "PASS fuzz $name"
        [ -n "${NK_RESULTS:-}" ] && echo "PASS fuzz $name" >>"$NK_RESULTS"
    else
        tail -n 40 "$work.log"
        echo "FAIL fuzz $name (artifacts in $work)"
        [ -n "${NK_RESULTS:-}" ] && echo "FAIL fuzz $name" >>"$NK_RESULTS"
        failed=1
        continue
    fi
    rm -rf "$work" "$work.log"
done
exit $failed
