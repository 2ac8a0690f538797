#!/usr/bin/env bash
# Runs each libFuzzer binary from a copy of its seed corpus
# (tests/fuzz/corpus/<name>), so new inputs never land in the repository:
#   FUZZ_TIME=SECONDS tests/fuzz/run.sh build-fuzz/fuzz/fuzz_x ...
#   FUZZ_RUNS=N tests/fuzz/run.sh ...        N executions instead
#   FUZZ_CORPUS_OUT=DIR tests/fuzz/run.sh ... keep the working corpus in
#                                             DIR/<name> (to merge later)
# Prints libFuzzer's final status line (executions, cov:, corpus) and one
# PASS/FAIL line per harness; a crash's input is kept and named.
set -u
cd "$(dirname "$0")/../.."
if [ -n "${FUZZ_RUNS:-}" ]; then
    limit=(-runs="$FUZZ_RUNS")
    what="$FUZZ_RUNS runs"
else
    limit=(-max_total_time="${FUZZ_TIME:-20}")
    what="${FUZZ_TIME:-20} s"
fi
failed=0
for bin in "$@"; do
    name=$(basename "$bin")
    work=$(mktemp -d "${TMPDIR:-/tmp}/nk-fuzz.XXXXXX")
    corpus=$work/corpus
    if [ -n "${FUZZ_CORPUS_OUT:-}" ]; then
        corpus=$FUZZ_CORPUS_OUT/$name
    fi
    mkdir -p "$corpus"
    if ! cp -r "tests/fuzz/corpus/$name/." "$corpus/"; then
        echo "FAIL fuzz $name (no seed corpus tests/fuzz/corpus/$name)"
        [ -n "${NK_RESULTS:-}" ] && echo "FAIL fuzz $name" >>"$NK_RESULTS"
        failed=1
        continue
    fi
    echo "== $name ($what)"
    if ASAN_OPTIONS=detect_leaks=1 "$bin" "${limit[@]}" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/" \
        "$corpus" >"$work/log" 2>&1; then
        grep -E '^#[0-9]+[[:space:]]+DONE' "$work/log" | tail -n 1
        echo "PASS fuzz $name"
        [ -n "${NK_RESULTS:-}" ] && echo "PASS fuzz $name" >>"$NK_RESULTS"
        rm -rf "$work"
    else
        tail -n 40 "$work/log"
        echo "FAIL fuzz $name (log and crash input in $work)"
        [ -n "${NK_RESULTS:-}" ] && echo "FAIL fuzz $name" >>"$NK_RESULTS"
        failed=1
    fi
done
exit $failed
