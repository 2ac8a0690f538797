# Google Cloud KMS test helpers around tests/lib/gcp_mock.py (KMS and the
# Google token endpoints on loopback, Debian packages only). Source after
# harness.sh, pki.sh and kms_pki.sh.

# gcp_mock_start [--only KEY,...]: starts the mock over HTTPS (a test CA)
# and plain HTTP, stopped at exit, and waits for its setup. Sets GCP_SETUP,
# GCP_PORT (https), GCP_HPORT (http), GCP_CA, GCP_CREDS (its credential
# files), GCP_LOG (its request log) and GCP_EP (the https endpoint).
gcp_mock_start() {
    local tls=$NK_TMP/gcp-tls
    GCP_SETUP=$NK_TMP/gcp.json GCP_CREDS=$NK_TMP/gcp-creds
    GCP_LOG=$NK_TMP/gcp-requests.jsonl
    kms_tls "$tls" gcp || return 1
    GCP_CA=$tls/gcp-ca.pem
    GCP_PORT=$(free_port) GCP_HPORT=$(free_port)
    GCP_EP=https://127.0.0.1:$GCP_PORT
    GCP_MOCK_LIFETIME=${GCP_MOCK_LIFETIME:-900} "$NK_PY" \
        "$NK_ROOT/tests/lib/gcp_mock.py" --setup "$GCP_SETUP" \
        --dir "$GCP_CREDS" --log "$GCP_LOG" --http "$GCP_HPORT" \
        --https "$GCP_PORT" "$tls/gcp-server.pem" "$tls/gcp-server.key" \
        "$@" >>"$NK_TMP/gcp-mock.out" 2>&1 &
    at_exit "kill $!"
    wait_file "$GCP_SETUP" 120
}

# gcp_clear_env: no Google credentials or endpoints from the caller's
# environment; the token cache in a private runtime directory of the test.
gcp_clear_env() {
    unset GOOGLE_APPLICATION_CREDENTIALS CLOUDSDK_CONFIG GCE_METADATA_HOST \
        CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS NOTATION_KEYSTORE_LOG \
        NOTATION_KEYSTORE_LOG_FILE
    export XDG_RUNTIME_DIR=$NK_TMP/run XDG_CACHE_HOME=$NK_TMP/cache
    export HOME=$NK_TMP/home
    mkdir -p -m 700 "$XDG_RUNTIME_DIR" "$HOME"
}

# gcp_name RING/KEY/VERSION: the version's resource name; gcp_kid: its key
# id; gcp_pub: a file with its public key (PEM).
gcp_name() { jq -er --arg k "$1" '.keys[$k].name' "$GCP_SETUP"; }
gcp_kid() { echo "gcpkms://$(gcp_name "$1")"; }
gcp_pub() {
    local f=$NK_TMP/gcp-pub-${1//\//_}.pem
    [ -s "$f" ] || jq -er --arg k "$1" '.keys[$k].pub' "$GCP_SETUP" >"$f"
    echo "$f"
}

# gcp_chain RING/KEY/VERSION: a certificate chain for that key (echoes
# the path).
gcp_chain() {
    local n=${1//\//_}
    [ -s "$NK_TMP/gcp-pki/$n-chain.pem" ] ||
        kms_chain "$NK_TMP/gcp-pki" "$n" "$(gcp_pub "$1")" >/dev/null 2>&1 ||
        return 1
    echo "$NK_TMP/gcp-pki/$n-chain.pem"
}

# gcp_count JQ-CONDITION: how many requests in the mock's log satisfy it.
gcp_count() { jq -c "select($1)" "$GCP_LOG" 2>/dev/null | wc -l; }
