#!/usr/bin/env bash
# KMS timings: prints "name median_ms p90_ms peak_rss_kb" for
# get-plugin-metadata, and describe-key and generate-signature (EC-256)
# against our AWS KMS mock (tests/lib/aws_mock.py, SigV4 checked) and the
# Vault mock (plain http on loopback), with the key-description cache off
# and warm. Then checks that get-plugin-metadata never loads libcurl.
# Called by tests/bench.sh; RUNS (or NK_BENCH_RUNS) runs each, default 30.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/pki.sh"
. "$NK_ROOT/tests/lib/kms_pki.sh"
. "$NK_ROOT/tests/lib/aws.sh"
RUNS=${NK_BENCH_RUNS:-${RUNS:-30}}
M=$NK_ROOT/tests/bench/measure.py

mport=$(free_port) vport=$(free_port)
VAULT_MOCK_LIFETIME=600 "$NK_PY" "$NK_ROOT/tests/lib/vault_mock.py" --only ecdsa-p256 \
    --setup "$NK_TMP/vault.json" --http "$vport" >"$NK_TMP/vault.log" 2>&1 &
at_exit "kill $!"
aws_mock_start "$mport" "$NK_TMP/aws.json" "$NK_TMP/aws-mock.jsonl" && wait_file "$NK_TMP/vault.json" 30 ||
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

# get-plugin-metadata must not load libcurl (issue: start-up cost).
if LD_DEBUG=files "$NK_BIN" get-plugin-metadata <"$NK_TMP/meta.json" 2>&1 >/dev/null | grep -q libcurl; then
    echo "FAIL get-plugin-metadata loads libcurl" >&2
    exit 1
fi
echo "# get-plugin-metadata loads no libcurl (LD_DEBUG=files)"
