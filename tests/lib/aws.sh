# AWS test helpers: our KMS/STS mock (tests/lib/aws_mock.py, Debian
# packages only) and, optionally, moto. Source after harness.sh and
# kms_pki.sh.

# aws_mock_start PORT SETUP LOG: starts the mock on 127.0.0.1:PORT (stopped
# at exit) and waits until it listens and SETUP is written.
aws_mock_start() {
    "$NK_PY" "$NK_ROOT/tests/lib/aws_mock.py" --port "$1" --setup "$2" \
        --log "$3" >>"$NK_TMP/aws-mock.out" 2>&1 &
    at_exit "kill $!"
    wait_port "$1" 60 && wait_file "$2" 10
}

# aws_log_ops LOG: the requests in the mock's log as "Target status ...".
aws_log_ops() {
    jq -r '"\(.target) \(.status)"' "$1" | paste -sd' '
}

# moto_python: prints a python that can import moto (and Flask, which
# moto_server needs): $MOTO_PY when set, else the first python3 on PATH
# that can. moto is not a Debian package, so this may well fail.
moto_python() {
    local p
    if [ -n "${MOTO_PY:-}" ]; then
        "$MOTO_PY" -c 'import moto, flask' >/dev/null 2>&1 && echo "$MOTO_PY"
        return
    fi
    for p in $(type -ap python3); do
        if "$p" -c 'import moto, flask' >/dev/null 2>&1; then
            echo "$p"
            return 0
        fi
    done
    return 1
}
