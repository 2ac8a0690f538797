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

# aws_test_start NAME: the mock started on a free port (sets port, setup
# and mlog; a FAIL "NAME: the AWS mock did not start" ends the script when
# it does not), and nothing of the caller's AWS set-up (credentials,
# profiles, roles, container and instance metadata, endpoints) reaches the
# plugin: KMS and STS are the mock, the region us-east-1, HOME (with an
# empty .aws) and the cache in NK_TMP.
aws_test_start() {
    port=$(free_port)
    setup=$NK_TMP/aws.json mlog=$NK_TMP/aws-mock.jsonl
    aws_mock_start "$port" "$setup" "$mlog" || { fail "$1: the AWS mock did not start"; exit 0; }
    export XDG_CACHE_HOME=$NK_TMP/cache HOME=$NK_TMP/home
    mkdir -p "$HOME/.aws"
    unset AWS_PROFILE AWS_SESSION_TOKEN AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN \
        AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION AWS_CONFIG_FILE \
        AWS_SHARED_CREDENTIALS_FILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
        AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_EC2_METADATA_SERVICE_ENDPOINT \
        AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \
        AWS_ENDPOINT_URL AWS_ENDPOINT_URL_SSO AWS_ROLE_SESSION_NAME
    export AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1
    export AWS_ENDPOINT_URL_KMS=http://127.0.0.1:$port AWS_ENDPOINT_URL_STS=http://127.0.0.1:$port
}

# aws_key_chain SETUP KEY: the mock's key KEY (its SETUP name, "ec-384")
# as $NK_TMP/KEY.pub and a chain for it in $NK_TMP/pki/KEY-chain.pem.
aws_key_chain() {
    jq -r ".keys[\"$2\"].pub" "$1" >"$NK_TMP/$2.pub" &&
        kms_chain "$NK_TMP/pki" "$2" "$NK_TMP/$2.pub"
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
