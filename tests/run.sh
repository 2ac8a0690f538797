#!/usr/bin/env bash
# Runs the test layers and prints one closing line
# "N passed, N failed, N skipped". A check that cannot run here (data or a
# tool a user cannot get from Debian) is reported as "SKIP <name>: <why>".
#   tests/run.sh all|full|unit|golden|integration|asan|valgrind|fuzz|coverage
# (full: all, with every key-service script under ASan too)
# The scripts of a layer run NK_JOBS at a time (default: one more than
# the number of cores, at most 4), each with its own results file and log,
# printed whole when it ends; NK_JOBS=1 runs them one after another.
# Scripts spend part of their time waiting (servers, timeouts, sleeps of
# the lifetime tests): with two jobs on two cores a fifth of the CPU time
# stayed unused; with three, make check (its builds already done) took
# 591 s instead of 682 (November 2026). The wall and CPU seconds of each
# job go to build/test-times.txt, and the slowest are listed last.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
mode=${1:-all}
export NK_ROOT=$ROOT
export NK_RESULTS
NK_RESULTS=$(mktemp "${TMPDIR:-/tmp}/nk-results.XXXXXX")
NK_JOBS=${NK_JOBS:-$(n=$(nproc 2>/dev/null || echo 1); echo $((n >= 4 ? 4 : n + 1)))}
JOBDIR=$(mktemp -d "${TMPDIR:-/tmp}/nk-jobs.XXXXXX")
TIMES=$ROOT/build/test-times.txt
# The run's test keys, made once and shared by its scripts (tests/lib/pki.sh,
# tests/lib/testkeys.py).
export NK_KEY_CACHE=$JOBDIR/keys
mkdir -p build && : >"$TIMES"
trap 'rm -rf "$NK_RESULTS" "$JOBDIR"' EXIT

note() { printf '\n== %s ==\n' "$*"; }

# ---- the job pool ------------------------------------------------------------
# job NAME CMD...: runs CMD in the background once fewer than NK_JOBS jobs
# run, with NK_RESULTS set to a file of its own; its output is kept in a
# log. reap_one waits for any job, then prints its log and adds its
# results; reap_all waits for all.
declare -A job_name=() job_t0=()
njob=0
job() {
    local name=$1 id
    shift
    while [ "${#job_name[@]}" -ge "$NK_JOBS" ]; do reap_one; done
    njob=$((njob + 1))
    id=$JOBDIR/$njob
    : >"$id.res"
    (NK_RESULTS=$id.res "$@"; rc=$?; times >"$id.cpu"; exit $rc) >"$id.log" 2>&1 &
    job_name[$!]="$name|$id"
    job_t0[$!]=$SECONDS
}
reap_one() {
    local pid rc name id
    wait -n -p pid
    rc=$?
    if [ -z "${pid:-}" ]; then # nothing left to wait for: the rest is lost
        for pid in "${!job_name[@]}"; do
            echo "FAIL ${job_name[$pid]%%|*}: lost" >>"$NK_RESULTS"
            unset "job_name[$pid]"
        done
        return 0
    fi
    [ -n "${job_name[$pid]+x}" ] || return 0
    name=${job_name[$pid]%%|*} id=${job_name[$pid]#*|}
    note "$name"
    cat "$id.log"
    cat "$id.res" >>"$NK_RESULTS"
    if [ "$rc" -ne 0 ] && ! grep -q '^FAIL' "$id.res"; then
        echo "FAIL $name exited $rc" >>"$NK_RESULTS"
    fi
    printf '%d %s %s\n' $((SECONDS - job_t0[$pid])) "$(job_cpu "$id.cpu")" "$name" >>"$TIMES"
    unset "job_name[$pid]" "job_t0[$pid]"
}
# job_cpu FILE: the CPU seconds (user + system) of a job's processes, from
# the output of bash's `times` (its second line: the children's times;
# a server killed at the end without a wait is not in it).
job_cpu() {
    sed -n 2p "$1" 2>/dev/null | awk '{ t = 0
        for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] }
        printf "%.0f", t }'
}
reap_all() { while [ "${#job_name[@]}" -gt 0 ]; do reap_one; done; }

# A build used by a layer, with as many compilers as jobs (MAKEFLAGS from
# a calling make would force one); its output only when it fails.
build() {
    local out
    out=$(env -u MAKEFLAGS -u MAKELEVEL make --no-print-directory -j"$NK_JOBS" "$@" 2>&1) ||
        { printf '%s\n' "$out"; return 1; }
}

# cmocka binaries print TAP with CMOCKA_MESSAGE_OUTPUT=TAP; each "ok"/"not
# ok" line is one test. A binary that crashes counts as one failure.
unit_binary() {
    local t=$1 out rc
    out=$(CMOCKA_MESSAGE_OUTPUT=TAP timeout 300 "$t" 2>&1)
    rc=$?
    printf '%s\n' "$out"
    printf '%s\n' "$out" | sed -n 's/^ok [0-9]* - \(.*\)/PASS unit \1/p' >>"$NK_RESULTS"
    printf '%s\n' "$out" | sed -n 's/^not ok [0-9]* - \(.*\)/FAIL unit \1/p' >>"$NK_RESULTS"
    printf '%s\n' "$out" | sed -n 's/^SKIP \(.*\)/SKIP unit \1/p' >>"$NK_RESULTS"
    if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^not ok'; then
        echo "FAIL unit binary $(basename "$t") exited $rc" >>"$NK_RESULTS"
    fi
    return 0
}
run_unit() { # DIR [TAG]
    local t
    for t in "$1"/tests/test_*; do
        [ -x "$t" ] && job "${2:+$2 }unit $(basename "$t")" unit_binary "$t"
    done
}

# One shell test script, a job; one that exits non-zero without having
# reported a failure counts as one (reap_one). The scripts in ALONE time
# their runs against tight bounds (a timeout plus a few hundred ms): they
# run with no other job beside them.
# `all` runs them first, when the pool is empty anyway.
ALONE=" 53-fault-matrix.sh "
declare -A ran_alone=()
run_script() {
    local name=${NK_CHECK_PREFIX:-${NK_SUITE_TAG:+$NK_SUITE_TAG }}$1
    case $ALONE in
    *" $(basename "$1") "*)
        [ -n "${ran_alone[$name]+x}" ] && return
        ran_alone[$name]=1
        reap_all
        job "$name" timeout 900 bash "$1"
        reap_all ;;
    *) job "$name" timeout 900 bash "$1" ;;
    esac
}
run_alone() {
    local f
    for f in $ALONE; do
        run_script "tests/integration/$f"
        [ -n "$asan" ] && asan_script "tests/integration/$f"
    done
}

# The longest scripts start first, so that the short ones fill the gaps
# at the end instead of one long script running alone.
LONG="65-agent.sh 57-kms-azure.sh 55-concurrency.sh 20-pkcs11.sh 60-cli.sh"
run_integration() {
    local f
    for f in $LONG; do run_script "tests/integration/$f"; done
    for f in tests/integration/*.sh; do
        case " $LONG " in *" $(basename "$f") "*) continue ;; esac
        run_script "$f"
    done
}

# asan_script FILE: an integration script against the ASan+UBSan build,
# its check names prefixed "asan ".
asan_script() {
    ASAN_OPTIONS=detect_leaks=1 NK_BIN=$ROOT/build-asan/notation-keystore \
        NK_CHECK_PREFIX="asan " run_script "$1"
}
build_asan() {
    note "ASan+UBSan build"
    build check-asan || { echo "FAIL asan build" >>"$NK_RESULTS"; return 1; }
}
# The unit tests, the golden tests and the integration scripts that feed
# the plugin hostile input (protocol requests, PKCS#11 module answers,
# certificates, envelopes, OCSP/CRL and TSA answers, KMS answers with
# faults, agent clients) with the sanitized binary too; their check names
# are prefixed so the count shows both runs. The KMS contract scripts and
# the SoftHSM happy paths join them in `full` (make check-full): what they
# parse is fuzzed under ASan (fuzz_awskms, fuzz_vault, fuzz_cloudanswer,
# fuzz_cloudcreds ...) in `all`, and running them again cost make check
# two and a half minutes (five of job time).
run_asan() {
    local f list="15-protocol 21-pkcs11-faults 25-certs 30-envelope 40-verify 52-kms-faults
        53-fault-matrix 65-agent"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 run_unit build-asan asan
    ASAN_OPTIONS=detect_leaks=1 NK_SUITE_TAG=asan \
        NK_BIN=$ROOT/build-asan/notation-keystore run_script tests/golden/run.sh
    [ "$mode" = full ] && list="$list 20-pkcs11 $(cd tests/integration && ls 5*-kms*.sh | sed 's/\.sh$//')"
    for f in $(printf '%s\n' $list | sort -u); do
        asan_script "tests/integration/$f.sh"
    done
}

run_valgrind() {
    NK_SUITE_TAG=valgrind \
        NK_WRAP="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --suppressions=$ROOT/tests/valgrind.supp" \
        run_script tests/golden/run.sh
}

# Each libFuzzer harness briefly (FUZZ_TIME seconds, default 2: a smoke
# run that a harness broken by a change fails; `make fuzz` runs them
# longer, FUZZ_RUNS=1000000 as HACKING.md's table).
# In `all`, the fuzzing build runs at the lowest priority beside the
# scripts that run alone, which leave part of the cores idle (it has no
# timing to keep, and the kernel gives it only what they leave; about 25 s
# less in all); what it has left to do is waited for before the pool
# starts. Its output and status go to files (reap_one's `wait -n` may reap
# it first).
build_fuzz_beside() {
    (renice -n 19 -p "$BASHPID" >/dev/null
    build fuzz-build >"$JOBDIR/fuzz-build.log" 2>&1
    echo $? >"$JOBDIR/fuzz-build.rc") &
    fuzz_pid=$!
}
build_fuzz_wait() {
    wait "$fuzz_pid" 2>/dev/null
    note "libFuzzer build"
    [ "$(cat "$JOBDIR/fuzz-build.rc" 2>/dev/null)" = 0 ] && return 0
    cat "$JOBDIR/fuzz-build.log"
    echo "FAIL fuzz build" >>"$NK_RESULTS"
    return 1
}
build_fuzz() { build_fuzz_beside && build_fuzz_wait; }
run_fuzz() {
    local f name secs=${FUZZ_TIME:-2}
    for f in tests/fuzz/fuzz_*.c; do
        name=$(basename "$f" .c)
        job "fuzz $name ($secs s)" env FUZZ_TIME="$secs" tests/fuzz/run.sh "build-fuzz/fuzz/$name"
    done
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
    run_unit build-cov
    NK_SUITE_TAG=coverage run_script tests/golden/run.sh
    for f in tests/integration/*.sh; do
        case $f in
        */16-oom.sh | */60-dist.sh)
            echo "SKIP coverage $f: not run on the instrumented build (see tests/run.sh)" |
                tee -a "$NK_RESULTS"
            continue ;;
        esac
        run_script "$f"
    done
}

# In `all`, the sanitizer and fuzzing builds come first (the second beside
# the scripts that run alone), so that the jobs of every layer share one
# pool and the slowest scripts start early.
case $mode in
unit) run_unit build ;;
golden) run_script tests/golden/run.sh ;;
integration) run_integration ;;
asan) build_asan && run_asan ;;
valgrind) run_valgrind ;;
fuzz) build_fuzz && run_fuzz ;;
coverage) run_coverage ;;
all | full)
    build_asan && asan=1 || asan=
    build_fuzz_beside
    run_alone
    build_fuzz_wait && fuzz=1 || fuzz=
    run_valgrind
    run_integration
    [ -n "$asan" ] && run_asan
    run_unit build
    run_script tests/golden/run.sh
    [ -n "$fuzz" ] && run_fuzz
    ;;
*) echo "usage: tests/run.sh all|full|unit|golden|integration|asan|valgrind|fuzz|coverage" >&2; exit 2 ;;
esac
reap_all

if [ -s "$TIMES" ]; then
    echo
    echo "Slowest jobs (wall s, CPU s; all in $TIMES):"
    sort -rn "$TIMES" | head -8
fi
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
