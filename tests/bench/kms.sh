#!/usr/bin/env bash
# KMS timings: prints "name median_ms p90_ms peak_rss_kb" for
# get-plugin-metadata, and describe-key and generate-signature (EC-256)
# against our AWS KMS mock (tests/lib/aws_mock.py, SigV4 checked) and the
# Vault mock (plain http on loopback), the Azure Key Vault mock
# (tests/lib/azure_mock.py: Key Vault and Entra ID on loopback, client
# secret credential, chain from the certificate's secret) and the Google
# Cloud KMS mock (tests/lib/gcp_mock.py), with the key-description cache
# (Azure, Google: and the token cache) off and warm; for Azure and Google
# also the requests each run made, from the mock's log. Then checks that
# get-plugin-metadata never loads libcurl.
# Called by tests/bench.sh; RUNS (or NK_BENCH_RUNS) runs each, default 30.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/pki.sh"
. "$NK_ROOT/tests/lib/kms_pki.sh"
. "$NK_ROOT/tests/lib/aws.sh"
RUNS=${NK_BENCH_RUNS:-${RUNS:-30}}
M=$NK_ROOT/tests/bench/measure.py

mport=$(free_port) vport=$(free_port) zport=$(free_port)
AZURE_MOCK_LIFETIME=900 "$NK_PY" "$NK_ROOT/tests/lib/azure_mock.py" --only ec-256 \
    --setup "$NK_TMP/azure.json" --dir "$NK_TMP/azure" --http "$zport" \
    --log "$NK_TMP/azure.jsonl" >"$NK_TMP/azure.log" 2>&1 &
at_exit "kill $!"
VAULT_MOCK_LIFETIME=600 "$NK_PY" "$NK_ROOT/tests/lib/vault_mock.py" --only ecdsa-p256 \
    --setup "$NK_TMP/vault.json" --http "$vport" >"$NK_TMP/vault.log" 2>&1 &
at_exit "kill $!"
aws_mock_start "$mport" "$NK_TMP/aws.json" "$NK_TMP/aws-mock.jsonl" && wait_file "$NK_TMP/vault.json" 30 &&
    wait_file "$NK_TMP/azure.json" 60 ||
    { echo "kms bench: servers did not start" >&2; exit 1; }

export XDG_CACHE_HOME=$NK_TMP/cache HOME=$NK_TMP/home
mkdir -p "$HOME"
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN \
    VAULT_NAMESPACE VAULT_CACERT
export AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_KMS=http://127.0.0.1:$mport
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY VAULT_ADDR=http://127.0.0.1:$vport VAULT_TOKEN
AWS_ACCESS_KEY_ID=$(jq -r .signer.id "$NK_TMP/aws.json")
AWS_SECRET_ACCESS_KEY=$(jq -r .signer.secret "$NK_TMP/aws.json")
VAULT_TOKEN=$(jq -r .root_token "$NK_TMP/vault.json")
jq -r '.keys["ec-256"].pub' "$NK_TMP/aws.json" >"$NK_TMP/aws.pub"
jq -r '.keys["/transit/ecdsa-p256"]["1"]' "$NK_TMP/vault.json" >"$NK_TMP/vault.pub"
kms_chain "$NK_TMP/pki" aws "$NK_TMP/aws.pub" && kms_chain "$NK_TMP/pki" vault "$NK_TMP/vault.pub" ||
    { echo "kms bench: chains" >&2; exit 1; }
head -c 300 /dev/urandom | base64 -w0 >"$NK_TMP/payload.b64"

# REQ FILE CMD KEYID CHAIN CACHE(true|false)
mkreq() {
    jq -nc --arg k "$3" --arg c "$4" --arg cache "$5" --arg cmd "$2" \
        --arg p "$(cat "$NK_TMP/payload.b64")" \
        '{contractVersion:"1.0",keyId:$k,pluginConfig:{"certificate-chain":$c,cache:$cache}}
         + (if $cmd=="generate-signature" then {keySpec:"EC-256",hashAlgorithm:"SHA-256",payload:$p} else {} end)' >"$1"
}
bench() { # NAME STDIN CMD...
    local line
    line=$("$NK_PY" "$M" "$1" "$RUNS" "$2" "${@:3}") || { echo "$line" >&2; return 1; }
    echo "$line"
}

echo '{}' >"$NK_TMP/meta.json"
bench get-plugin-metadata "$NK_TMP/meta.json" "$NK_BIN" get-plugin-metadata
for b in aws:awskms:///alias/ec-256 vault:hashivault://ecdsa-p256; do
    name=${b%%:*} kid=${b#*:}
    for cache in false true; do
        tag=$([ $cache = true ] && echo cached || echo nocache)
        for cmd in describe-key generate-signature; do
            mkreq "$NK_TMP/$name-$cmd-$tag.json" $cmd "$kid" "$NK_TMP/pki/$name-chain.pem" $cache
        done
        # Warm the cache (a describe-key run, as notation does before signing).
        "$NK_BIN" describe-key <"$NK_TMP/$name-describe-key-$tag.json" >/dev/null 2>&1
        bench "$name-describe-key-$tag" "$NK_TMP/$name-describe-key-$tag.json" "$NK_BIN" describe-key
        bench "$name-generate-signature-$tag" "$NK_TMP/$name-generate-signature-$tag.json" "$NK_BIN" generate-signature
    done
done

# Azure: the certificate's chain comes from the vault (no certificate-chain).
export XDG_RUNTIME_DIR=$NK_TMP/run AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET
export AZURE_AUTHORITY_HOST=http://127.0.0.1:$zport
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
AZURE_TENANT_ID=$(jq -r .tenant "$NK_TMP/azure.json")
AZURE_CLIENT_ID=$(jq -r .signer.id "$NK_TMP/azure.json")
AZURE_CLIENT_SECRET=$(jq -r .signer.secret "$NK_TMP/azure.json")
kid=http://127.0.0.1:$zport/certificates/cert-ec-256
for cache in false true; do
    tag=$([ $cache = true ] && echo cached || echo nocache)
    for cmd in describe-key generate-signature; do
        jq -nc --arg k "$kid" --arg cache "$cache" --arg cmd "$cmd" --arg p "$(cat "$NK_TMP/payload.b64")" \
            '{contractVersion:"1.0",keyId:$k,pluginConfig:{cache:$cache,"token-cache":$cache}}
             + (if $cmd=="generate-signature" then {keySpec:"EC-256",hashAlgorithm:"SHA-256",payload:$p} else {} end)' \
            >"$NK_TMP/azure-$cmd-$tag.json"
    done
    "$NK_BIN" describe-key <"$NK_TMP/azure-describe-key-$tag.json" >/dev/null 2>&1
    for cmd in describe-key generate-signature; do
        "$NK_BIN" $cmd <"$NK_TMP/azure-$cmd-$tag.json" >/dev/null 2>"$NK_TMP/azure.err" ||
            { echo "kms bench: azure $cmd: $(cat "$NK_TMP/azure.err")" >&2; exit 1; }
        n0=$(wc -l <"$NK_TMP/azure.jsonl")
        bench "azure-$cmd-$tag" "$NK_TMP/azure-$cmd-$tag.json" "$NK_BIN" $cmd
        n1=$(wc -l <"$NK_TMP/azure.jsonl")
        # measure.py runs the command RUNS times after one warm-up run.
        awk -v a="$n0" -v b="$n1" -v r="$RUNS" -v n="azure-$cmd-$tag" \
            'BEGIN{printf "# %s: %.2f requests per run\n", n, (b-a)/(r+1)}'
    done
done

# Google Cloud KMS (tests/lib/gcp_mock.py, KMS over plain http on
# loopback, the service account's token endpoint over https): "nocache"
# turns off the key and the token cache, so each run also signs a
# JWT-bearer assertion and fetches a token. Then one run of each, counting
# the requests the mock saw.
. "$NK_ROOT/tests/lib/gcp.sh"
(
    gcp_clear_env
    gcp_mock_start --only ec-256 || { echo "kms bench: the Google mock did not start" >&2; exit 1; }
    export GOOGLE_APPLICATION_CREDENTIALS=$GCP_CREDS/sa-signer.json
    kid=$(gcp_kid notation/ec-256/1) chain=$(gcp_chain notation/ec-256/1) ||
        { echo "kms bench: Google chain" >&2; exit 1; }
    for cache in false true; do
        tag=$([ $cache = true ] && echo cached || echo nocache)
        for cmd in describe-key generate-signature; do
            mkreq "$NK_TMP/gcp-$cmd-$tag.json" $cmd "$kid" "$chain" $cache
            jq -c --arg e "http://127.0.0.1:$GCP_HPORT" --arg ca "$GCP_CA" --arg t $cache \
                '.pluginConfig += {"gcp-kms-endpoint":$e,"ca-bundle":$ca,"token-cache":$t}' \
                "$NK_TMP/gcp-$cmd-$tag.json" >"$NK_TMP/gcp-req" && mv "$NK_TMP/gcp-req" "$NK_TMP/gcp-$cmd-$tag.json"
        done
        "$NK_BIN" describe-key <"$NK_TMP/gcp-describe-key-$tag.json" >/dev/null 2>&1
        bench "gcp-describe-key-$tag" "$NK_TMP/gcp-describe-key-$tag.json" "$NK_BIN" describe-key || exit 1
        bench "gcp-generate-signature-$tag" "$NK_TMP/gcp-generate-signature-$tag.json" "$NK_BIN" generate-signature || exit 1
    done
    for tag in nocache cached; do
        for cmd in describe-key generate-signature; do
            n0=$(wc -l <"$GCP_LOG")
            "$NK_BIN" $cmd <"$NK_TMP/gcp-$cmd-$tag.json" >/dev/null 2>&1 || { echo "kms bench: gcp $cmd $tag failed" >&2; exit 1; }
            echo "# gcp-$cmd-$tag: $(($(wc -l <"$GCP_LOG") - n0)) HTTP(S) requests"
        done
    done
) || exit 1

# get-plugin-metadata must not load libcurl (issue: start-up cost).
if LD_DEBUG=files "$NK_BIN" get-plugin-metadata <"$NK_TMP/meta.json" 2>&1 >/dev/null | grep -q libcurl; then
    echo "FAIL get-plugin-metadata loads libcurl" >&2
    exit 1
fi
echo "# get-plugin-metadata loads no libcurl (LD_DEBUG=files)"
