#!/usr/bin/env bash
# Runs the test layers and prints one closing line
# "N passed, N failed, N skipped". A check that cannot run here (data or a
# tool a user cannot get from Debian) is reported as "SKIP <name>: <why>".
#   tests/run.sh all|unit|golden|integration|asan|valgrind|fuzz|coverage
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
mode=${1:-all}
export NK_ROOT=$ROOT
export NK_RESULTS
NK_RESULTS=$(mktemp "${TMPDIR:-/tmp}/nk-results.XXXXXX")
trap 'rm -f "$NK_RESULTS"' EXIT

note() { printf '\n== %s ==\n' "$*"; }

# cmocka binaries print TAP with CMOCKA_MESSAGE_OUTPUT=TAP; each "ok"/"not
# ok" line is one test. A binary that crashes counts as one failure.
run_unit() {
    local dir=$1 t out rc
    for t in "$dir"/tests/test_*; do
        [ -x "$t" ] || continue
        out=$(CMOCKA_MESSAGE_OUTPUT=TAP timeout 300 "$t" 2>&1)
        rc=$?
        printf '%s\n' "$out"
        printf '%s\n' "$out" | sed -n 's/^ok [0-9]* - \(.*\)/PASS unit \1/p' >>"$NK_RESULTS"
        printf '%s\n' "$out" | sed -n 's/^not ok [0-9]* - \(.*\)/FAIL unit \1/p' >>"$NK_RESULTS"
        printf '%s\n' "$out" | sed -n 's/^SKIP \(.*\)/SKIP unit \1/p' >>"$NK_RESULTS"
        if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^not ok'; then
            echo "FAIL unit binary $(basename "$t") exited $rc" >>"$NK_RESULTS"
        fi
    done
}

# Runs one shell test script; a script that exits non-zero without
# having reported a failure is counted as one.
run_script() {
    local f=$1 before after rc
    before=$(grep -c '^FAIL' "$NK_RESULTS")
    timeout 900 bash "$f"
    rc=$?
    after=$(grep -c '^FAIL' "$NK_RESULTS")
    if [ $rc -ne 0 ] && [ "$before" = "$after" ]; then
        echo "FAIL script $f exited $rc" >>"$NK_RESULTS"
    fi
}

run_integration() {
    local f
    for f in tests/integration/*.sh; do
        [ -f "$f" ] || continue
        note "$f"
        run_script "$f"
    done
}

run_asan() {
    note "ASan+UBSan build"
    if ! make --no-print-directory check-asan >/dev/null; then
        echo "FAIL asan build" >>"$NK_RESULTS"
        return
    fi
    note "unit tests under ASan+UBSan"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 run_unit build-asan
    note "protocol tests under ASan+UBSan"
    ASAN_OPTIONS=detect_leaks=1 NK_SUITE_TAG=asan \
        NK_BIN=$ROOT/build-asan/notation-keystore run_script tests/golden/run.sh
    # The integration scripts that parse untrusted input (envelopes, OCSP,
    # CRL, KMS, TSA and PKCS#11 module answers, agent clients) with the
    # sanitized binary too. Their check names are prefixed so the count
    # shows both runs.
    local f
    for f in tests/integration/15-protocol.sh tests/integration/20-pkcs11.sh \
        tests/integration/21-pkcs11-faults.sh tests/integration/25-certs.sh \
        tests/integration/30-envelope.sh tests/integration/40-verify.sh \
        tests/integration/5*-kms*.sh tests/integration/53-fault-matrix.sh \
        tests/integration/65-agent.sh; do
        note "$f under ASan+UBSan"
        ASAN_OPTIONS=detect_leaks=1 NK_BIN=$ROOT/build-asan/notation-keystore \
            NK_CHECK_PREFIX="asan " run_script "$f"
    done
}

run_valgrind() {
    note "protocol tests under valgrind"
    NK_SUITE_TAG=valgrind \
        NK_WRAP="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --suppressions=$ROOT/tests/valgrind.supp" \
        run_script tests/golden/run.sh
}

# Each libFuzzer harness briefly (FUZZ_TIME seconds, default 8: 14
# harnesses stay under two and a half minutes together).
run_fuzz() {
    note "fuzzing (${FUZZ_TIME:-8} s per harness)"
    if ! make --no-print-directory fuzz FUZZ_TIME="${FUZZ_TIME:-8}"; then
        grep -q '^FAIL fuzz' "$NK_RESULTS" || echo "FAIL fuzz build" >>"$NK_RESULTS"
    fi
}

# make coverage: the unit, golden and integration layers against the
# instrumented build in build-cov/, then the figures per folder. Each
# process adds its counts to the .gcda files at exit, under a lock gcov
# takes on each file, so plugin processes running side by side are
# counted right; the counts of earlier runs are removed first. Two scripts
# are not run on this build: 16-oom.sh preloads an allocator that fails the
# allocations of the executable, and libgcov (linked into it) writes the
# .gcda files at exit with allocations it cannot do without (a crash, a
# torn .gcda); 60-dist.sh packages the release build and checks that it is
# reproducible, which an instrumented one (absolute .gcda paths inside) is
# not. `make check` runs both.
run_coverage() {
    local f
    export NK_BIN=$ROOT/build-cov/notation-keystore
    find build-cov -name '*.gcda' -delete
    note "unit tests (instrumented)"; run_unit build-cov
    note "golden protocol tests (instrumented)"; run_script tests/golden/run.sh
    for f in tests/integration/*.sh; do
        case $f in
        */16-oom.sh | */60-dist.sh)
            echo "SKIP coverage $f: not run on the instrumented build (see tests/run.sh)" |
                tee -a "$NK_RESULTS"
            continue ;;
        esac
        note "$f (instrumented)"
        run_script "$f"
    done
}

case $mode in
unit) run_unit build ;;
golden) run_script tests/golden/run.sh ;;
integration) run_integration ;;
asan) run_asan ;;
valgrind) run_valgrind ;;
fuzz) run_fuzz ;;
coverage) run_coverage ;;
all)
    note "unit tests"; run_unit build
    note "golden protocol tests"; run_script tests/golden/run.sh
    run_integration
    run_asan
    run_valgrind
    run_fuzz
    ;;
*) echo "usage: tests/run.sh all|unit|golden|integration|asan|valgrind|fuzz|coverage" >&2; exit 2 ;;
esac

passed=$(grep -c '^PASS' "$NK_RESULTS")
failed=$(grep -c '^FAIL' "$NK_RESULTS")
skipped=$(grep -c '^SKIP' "$NK_RESULTS")
if [ "$skipped" -gt 0 ]; then
    echo
    echo "Skipped:"
    grep '^SKIP' "$NK_RESULTS"
fi
if [ "$failed" -gt 0 ]; then
    echo
    echo "Failures:"
    grep '^FAIL' "$NK_RESULTS"
fi
if [ "$mode" = coverage ]; then
    echo
    tests/coverage.py build-cov || failed=$((failed + 1))
fi
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
