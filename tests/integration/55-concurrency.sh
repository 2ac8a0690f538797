#!/usr/bin/env bash
# Many plugin processes at once, as several notation runs on one machine
# start them: NK_CONC (default 16) parallel notation-shaped sign sequences
# (get-plugin-metadata, describe-key, generate-signature: three processes in
# order) on SoftHSM (EC-256, RSA-3072), AWS KMS, Vault, Azure Key Vault and
# Google Cloud KMS (our mocks), every signature checked with Python
# cryptography; for the KMS backends a cold key cache that all of them race
# to fill (and for Azure and Google a cold token cache), then a warm run
# that makes no describe (or token) request, only the signs. Then NK_CONC
# parallel verify-signature runs on a cold CRL cache and again on the warm
# cache with the CRL server stopped. Last, a SIGKILL delivered by strace at chosen system calls of a
# cache write (the temp file's write, fsync, rename): the cache left
# behind must be one the next run uses or ignores safely.
# No check depends on how fast the machine is: every wait is bounded and
# generous (network timeouts raised to 60 s for the load of 16 processes).
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/pki.sh"
. "$NK_ROOT/tests/lib/softhsm.sh"
. "$NK_ROOT/tests/lib/kms_pki.sh"
. "$NK_ROOT/tests/lib/ocsp.sh"

N=${NK_CONC:-16}
T0=$(date +%s)
# stamp WHAT: how long the script has run (and the CPU time of its
# children), for the log.
stamp() {
    times >"$NK_TMP/times"
    echo "# $1: $(($(date +%s) - T0)) s; CPU of the children (user sys): $(tail -1 "$NK_TMP/times")"
}
command -v strace >/dev/null || fail "conc: strace is missing (.ci/packages)"
pki=$NK_TMP/pki

# --- servers and keys (the mocks make their keys while the token is built) ---
aport=$(free_port) vport=$(free_port) azport=$(free_port) gport=$(free_port)
AWS_MOCK_LIFETIME=600 "$NK_PY" "$NK_ROOT/tests/lib/aws_mock.py" --port "$aport" \
    --setup "$NK_TMP/aws.json" --log "$NK_TMP/aws.jsonl" >"$NK_TMP/aws.out" 2>&1 &
at_exit "kill $!"
VAULT_MOCK_LIFETIME=600 "$NK_PY" "$NK_ROOT/tests/lib/vault_mock.py" --only ecdsa-p256 \
    --setup "$NK_TMP/vault.json" --log "$NK_TMP/vault.jsonl" --http "$vport" \
    >"$NK_TMP/vault.out" 2>&1 &
at_exit "kill $!"
# Plain http on loopback: TLS is not what this script is about, and the
# mocks' handshakes would cost most of its time.
AZURE_MOCK_LIFETIME=600 "$NK_PY" "$NK_ROOT/tests/lib/azure_mock.py" --only ec-256 \
    --setup "$NK_TMP/azure.json" --dir "$NK_TMP/azure" --log "$NK_TMP/azure.jsonl" \
    --http "$azport" >"$NK_TMP/azure.out" 2>&1 &
at_exit "kill $!"
GCP_MOCK_LIFETIME=600 "$NK_PY" "$NK_ROOT/tests/lib/gcp_mock.py" --only ec-256 \
    --setup "$NK_TMP/gcp.json" --dir "$NK_TMP/gcp" --log "$NK_TMP/gcp.jsonl" \
    --http "$gport" >"$NK_TMP/gcp.out" 2>&1 &
at_exit "kill $!"
{ pki_ca "$pki" && pki_leaf "$pki" ec256 && pki_leaf "$pki" rsa3072 &&
    softhsm_init "$NK_TMP/hsm" nk-test 12345678 1234 &&
    softhsm_import_key nk-test 01 ec256 "$pki/ec256.key" "$pki/ec256.pem" &&
    softhsm_import_key nk-test 02 rsa3072 "$pki/rsa3072.key" "$pki/rsa3072.pem"; } ||
    { fail "conc: SoftHSM token"; exit 1; }
wait_file "$NK_TMP/aws.json" 120 && wait_port "$aport" 60 && wait_file "$NK_TMP/vault.json" 60 &&
    wait_file "$NK_TMP/azure.json" 60 && wait_file "$NK_TMP/gcp.json" 60 || {
    fail "conc: the KMS mocks did not start"
    cat "$NK_TMP"/{aws,vault,azure,gcp}.out
    exit 1
}
{ jq -er '.keys["rsa-2048"].pub' "$NK_TMP/aws.json" >"$NK_TMP/aws.pub" &&
    jq -er '.keys["/transit/ecdsa-p256"]["1"]' "$NK_TMP/vault.json" >"$NK_TMP/vault.pub" &&
    jq -er '.keys["cert-ec-256"] | .pub[.versions[-1]]' "$NK_TMP/azure.json" >"$NK_TMP/azure.pub" &&
    jq -er '.keys["notation/ec-256/1"].pub' "$NK_TMP/gcp.json" >"$NK_TMP/gcp.pub" &&
    GNAME=$(jq -er '.keys["notation/ec-256/1"].name' "$NK_TMP/gcp.json"); } ||
    { fail "conc: the mocks' public keys"; exit 1; }
kms_chain "$pki" aws "$NK_TMP/aws.pub" && kms_chain "$pki" vault "$NK_TMP/vault.pub" &&
    kms_chain "$pki" gcp "$NK_TMP/gcp.pub" || { fail "conc: KMS chains"; exit 1; }
stamp "set-up"

export NOTATION_KEYSTORE_PIN=1234 HOME=$NK_TMP/home
mkdir -p "$HOME"
unset NOTATION_KEYSTORE_LOG NOTATION_KEYSTORE_LOG_FILE AWS_PROFILE AWS_SESSION_TOKEN \
    AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN VAULT_NAMESPACE VAULT_CACERT CLOUDSDK_CONFIG \
    GCE_METADATA_HOST CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS
for v in $(env | sed -n 's/^\(AZURE_[A-Z_]*\|IDENTITY_[A-Z_]*\|IMDS_ENDPOINT\|MSI_[A-Z_]*\)=.*/\1/p'); do
    unset "$v"
done
export AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_KMS=http://127.0.0.1:$aport VAULT_ADDR=http://127.0.0.1:$vport
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY VAULT_TOKEN
AWS_ACCESS_KEY_ID=$(jq -r .signer.id "$NK_TMP/aws.json")
AWS_SECRET_ACCESS_KEY=$(jq -r .signer.secret "$NK_TMP/aws.json")
VAULT_TOKEN=$(jq -r .root_token "$NK_TMP/vault.json")
# Azure: a service principal's client secret at the mock's Entra ID;
# Google: a service account key whose token_uri is the mock's.
AZ=http://127.0.0.1:$azport
export AZURE_AUTHORITY_HOST=$AZ AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET
AZURE_TENANT_ID=$(jq -r .tenant "$NK_TMP/azure.json")
AZURE_CLIENT_ID=$(jq -r .signer.id "$NK_TMP/azure.json")
AZURE_CLIENT_SECRET=$(jq -r .signer.secret "$NK_TMP/azure.json")
export GOOGLE_APPLICATION_CREDENTIALS=$NK_TMP/gcp/sa-signer.json

# Backends: NAME -> "KEYID|SPEC|HASH|pluginConfig|signer's certificate".
declare -A B
p11=$NK_P11_MODULE
B[hsm-ec]="pkcs11:token=nk-test;object=ec256?module-path=$p11|EC-256|SHA-256|{\"ca-certs\":\"$pki/ca-certs.pem\"}|$pki/ec256.pem"
B[hsm-rsa]="pkcs11:token=nk-test;object=rsa3072?module-path=$p11|RSA-3072|SHA-384|{\"ca-certs\":\"$pki/ca-certs.pem\"}|$pki/rsa3072.pem"
B[aws]="awskms:///alias/rsa-2048|RSA-2048|SHA-256|{\"certificate-chain\":\"$pki/aws-chain.pem\",\"timeout\":\"60\"}|$pki/aws.pem"
B[vault]="hashivault://ecdsa-p256|EC-256|SHA-256|{\"certificate-chain\":\"$pki/vault-chain.pem\",\"timeout\":\"60\"}|$pki/vault.pem"
# Azure: azure-kv's certificate form, the chain from the certificate's
# secret (the key cache keeps it).
B[azure]="$AZ/certificates/cert-ec-256|EC-256|SHA-256|{\"timeout\":\"60\"}|$NK_TMP/azure.pub"
B[gcp]="gcpkms://$GNAME|EC-256|SHA-256|{\"certificate-chain\":\"$pki/gcp-chain.pem\",\"gcp-kms-endpoint\":\"http://127.0.0.1:$gport\",\"timeout\":\"60\"}|$pki/gcp.pem"

# SoftHSM's file store is not safe for several processes on one token: a
# C_Login rewrites token.object in place, and a process reading it then
# finds no token, cannot list the slots or fails C_Login (SoftHSMv2 issue
# 757; pkcs11-tool alone fails the same way, about 1 run in 4 with 16 at
# once). So each sequence gets its own copy of the token, with the same
# keys: the processes run in parallel, the module's bug stays out.
for ((i = 1; i <= N; i++)); do
    mkdir -p "$NK_TMP/hsm-$i" && cp -a "$NK_TMP/hsm/tokens" "$NK_TMP/hsm-$i/" &&
        sed "s|$NK_TMP/hsm/tokens|$NK_TMP/hsm-$i/tokens|" "$SOFTHSM2_CONF" \
            >"$NK_TMP/hsm-$i/softhsm2.conf" || { fail "conc: token copy $i"; exit 1; }
done

# sign_seq NAME DIR I: what notation runs for one `notation sign`, three
# processes in order (sequence I uses token copy I). Exits non-zero naming
# the step that failed; the responses are checked afterwards, all at once
# (check_sigs.py: metadata capabilities, describe-key's keySpec, the
# signature), to keep the 16 sequences cheap.
sign_seq() {
    local kid spec hash cfg cert d=$2
    IFS='|' read -r kid spec hash cfg cert <<<"${B[$1]}"
    export SOFTHSM2_CONF=$NK_TMP/hsm-$3/softhsm2.conf
    mkdir -p "$d"
    head -c 256 /dev/urandom >"$d/payload"
    printf '{"pluginConfig":%s}' "$cfg" |
        "$NK_BIN" get-plugin-metadata >"$d/meta" 2>"$d/err" || { echo metadata; return 1; }
    printf '{"contractVersion":"1.0","keyId":"%s","pluginConfig":%s}' "$kid" "$cfg" |
        "$NK_BIN" describe-key >"$d/desc" 2>>"$d/err" || { echo describe-key; return 1; }
    printf '{"contractVersion":"1.0","keyId":"%s","keySpec":"%s","hashAlgorithm":"%s","payload":"%s","pluginConfig":%s}' \
        "$kid" "$spec" "$hash" "$(base64 -w0 "$d/payload")" "$cfg" |
        "$NK_BIN" generate-signature >"$d/sig" 2>>"$d/err" || { echo generate-signature; return 1; }
    printf '%s %s %s %s %s %s\n' "$spec" "$cert" "$d/payload" "$d/sig" "$d/desc" "$d/meta" >"$d/line"
}

# parallel_signs NAME TAG: N sequences at once; then every signature is
# checked. Sets SEQ_OK to the number of sequences that succeeded.
parallel_signs() {
    local name=$1 tag=$2 i pids=() why verified
    rm -rf "$NK_TMP/seq"
    for ((i = 1; i <= N; i++)); do
        sign_seq "$name" "$NK_TMP/seq/$i" "$i" >"$NK_TMP/seq.$i.why" 2>&1 &
        pids+=($!)
    done
    SEQ_OK=0
    for ((i = 1; i <= N; i++)); do
        if wait "${pids[i - 1]}"; then
            SEQ_OK=$((SEQ_OK + 1))
        else
            why="$(cat "$NK_TMP/seq.$i.why") $(head -c 300 "$NK_TMP/seq/$i/err" 2>/dev/null)"
        fi
    done
    check "conc: $name $tag: $N parallel sign sequences succeed ($SEQ_OK/$N${why:+; $why})" \
        [ "$SEQ_OK" = "$N" ]
    cat "$NK_TMP"/seq/*/line >"$NK_TMP/lines" 2>/dev/null
    verified=$("$NK_PY" "$NK_ROOT/tests/lib/check_sigs.py" "$NK_TMP/lines" 2>"$NK_TMP/cs.err")
    check "conc: $name $tag: every response and signature checks with Python cryptography (${verified:-0}/$N$(head -c 300 "$NK_TMP/cs.err"))" \
        [ "$verified" = "$N" ]
    stamp "$name $tag"
}

# kms_entry_ok DIR SPEC PUBPEM: DIR holds exactly one key cache entry, a
# JSON object with the fields the loader reads, the key's real public key
# and a current time (temp files are counted apart: kms_temps).
kms_entry_ok() {
    local dir=$1/notation-keystore f
    f=$(find "$dir" -type f -name '*.json')
    [ "$(printf '%s\n' "$f" | grep -c .)" = 1 ] || return 1
    [ "$(jq -r '.pub' "$f" | base64 -d | openssl pkey -pubin -inform DER 2>/dev/null)" = \
        "$(openssl pkey -pubin -in "$3")" ] &&
        jq -e --arg s "$2" --argjson now "$(date +%s)" \
            '.spec==$s and (.ident|type)=="string" and (.time|type)=="number"
             and .time <= $now + 1 and .time > $now - 600' "$f" >/dev/null
}
# kms_temps DIR: the number of key cache temp files (NAME.json.XXXXXX).
kms_temps() {
    find "$1/notation-keystore" -type f -regextype posix-extended \
        -regex '.*/[0-9a-f]{64}\.json\.[A-Za-z0-9]{6}' 2>/dev/null | wc -l
}

# aws_ops / vault_ops: the describe and sign requests the mock saw.
aws_describes() { jq -r 'select(.target=="GetPublicKey" or .target=="DescribeKey") | .target' "$NK_TMP/aws.jsonl" | grep -c .; }
aws_signs() { jq -r 'select(.target=="Sign" and .status==200) | .target' "$NK_TMP/aws.jsonl" | grep -c .; }
aws_all() { grep -c . "$NK_TMP/aws.jsonl"; }
vault_describes() { jq -r 'select(.method=="GET" and (.path|test("/keys/")))|.path' "$NK_TMP/vault.jsonl" | grep -c .; }
vault_signs() { jq -r 'select(.method=="POST" and (.path|test("/sign/")))|.path' "$NK_TMP/vault.jsonl" | grep -c .; }
vault_all() { grep -c . "$NK_TMP/vault.jsonl"; }
# Azure: Key Vault reads (certificate, secret), signs, Entra ID tokens.
azure_describes() { jq -r 'select(.kind=="kv" and .method=="GET")|.path' "$NK_TMP/azure.jsonl" | grep -c .; }
azure_signs() { jq -r 'select(.kind=="kv" and .method=="POST" and (.path|endswith("/sign")) and .status==200)|.path' "$NK_TMP/azure.jsonl" | grep -c .; }
azure_tokens() { jq -r 'select(.kind=="entra")|.path' "$NK_TMP/azure.jsonl" | grep -c .; }
azure_all() { grep -c . "$NK_TMP/azure.jsonl"; }
# Google: Cloud KMS reads (publicKey, the version), signs, OAuth tokens
# (the mock logs a request before it answers: a sign it refused would
# leave no signature, which check_sigs.py counts).
gcp_describes() { jq -r 'select(.method=="GET" and (.path|startswith("/v1/")))|.path' "$NK_TMP/gcp.jsonl" | grep -c .; }
gcp_signs() { jq -r 'select(.method=="POST" and (.path|endswith(":asymmetricSign")))|.path' "$NK_TMP/gcp.jsonl" | grep -c .; }
gcp_tokens() { jq -r 'select(.path=="/token")|.path' "$NK_TMP/gcp.jsonl" | grep -c .; }
gcp_all() { grep -c . "$NK_TMP/gcp.jsonl"; }
# token_entry_ok DIR: the token cache in DIR holds one file, an entry (no
# temp file left), with a token valid for minutes yet.
token_entry_ok() {
    local f
    f=$(find "$1/notation-keystore" -type f)
    [ "$(printf '%s\n' "$f" | grep -c .)" = 1 ] && [[ $f == *.json ]] &&
        jq -e --argjson now "$(date +%s)" \
            '(.ident|type)=="string" and (.token|length)>0 and .expires > $now + 600' "$f" >/dev/null
}

# --- 1. parallel sign sequences ---
export XDG_CACHE_HOME=$NK_TMP/cache-hsm
parallel_signs hsm-ec "SoftHSM"
parallel_signs hsm-rsa "SoftHSM"

# Azure and Google keep their access tokens in a token cache (in
# XDG_RUNTIME_DIR, apart from the key cache), cold at first as well.
for k in aws vault azure gcp; do
    export XDG_CACHE_HOME=$NK_TMP/cache-$k XDG_RUNTIME_DIR=$NK_TMP/run-$k
    mkdir -m 700 "$XDG_RUNTIME_DIR"
    : >"$NK_TMP/$k.jsonl"
    parallel_signs $k "cold key cache"
    IFS='|' read -r _ spec _ _ _ <<<"${B[$k]}"
    d=$(${k}_describes) s=$(${k}_signs)
    # Azure's certificate form reads two things (certificate, secret).
    per=1
    [ $k = azure ] && per=2
    check "conc: $k cold cache: $N signs and $per..$((2 * per * N)) describe requests ($s signs, $d describes)" \
        [ "$s" = "$N" -a "$d" -ge $per -a "$d" -le $((2 * per * N)) ]
    if [ $k = azure ] || [ $k = gcp ]; then
        t=$(${k}_tokens)
        check "conc: $k cold cache: 1..$((2 * N)) token requests ($t)" [ "$t" -ge 1 -a "$t" -le $((2 * N)) ]
        check "conc: $k cold cache: one valid token cache entry" token_entry_ok "$XDG_RUNTIME_DIR"
    fi
    check "conc: $k cold cache: one valid entry" kms_entry_ok "$XDG_CACHE_HOME" "$spec" "$NK_TMP/$k.pub"
    check "conc: $k cold cache: no temp file left" [ "$(kms_temps "$XDG_CACHE_HOME")" = 0 ]
    : >"$NK_TMP/$k.jsonl"
    parallel_signs $k "warm key cache"
    d=$(${k}_describes) s=$(${k}_signs) a=$(${k}_all) what=describe
    [ $k = azure ] || [ $k = gcp ] && what="describe or token"
    check "conc: $k warm cache: no $what request, only the $N signs ($d describes, $s signs, $a requests)" \
        [ "$d" = 0 -a "$s" = "$N" -a "$a" = "$N" ]
done
unset XDG_RUNTIME_DIR

stamp "sign sequences"

# --- 2. parallel verify-signature on a cold, then warm CRL cache ---
cport=$(free_port)
rev_pki "$NK_TMP/rev" "$(free_port)" "$cport" "$(free_port)" "$(free_port)" ||
    { fail "conc: revocation PKI"; exit 1; }
W=$NK_TMP/rev/www
start_crl() {
    "$NK_PY" "$NK_ROOT/tests/lib/verify_server.py" "$cport" "$W" &
    CRL_PID=$!
    wait_port "$cport" 30
}
stop_crl() { kill "$CRL_PID" 2>/dev/null; wait "$CRL_PID" 2>/dev/null; return 0; }
start_crl || { fail "conc: CRL server did not start"; exit 1; }
at_exit stop_crl
REV='"SIGNATURE_VERIFIER.REVOCATION_CHECK"'
vreq() { # LEAF: verify-signature of the CRL-only leaf's chain, cache on
    printf '{"contractVersion":"1.0","signature":{"criticalAttributes":{"contentType":"application/vnd.cncf.notary.payload.v1+json","signingScheme":"notary.x509","expiry":"0001-01-01T00:00:00Z"},"unprocessedAttributes":null,"certificateChain":["%s","%s","%s"]},"trustPolicy":{"trustedIdentities":["*"],"signatureVerification":[%s]},"pluginConfig":{"crl-timeout":"60"}}' \
        "$(cat "$NK_TMP/rev/$1.b64")" "$(cat "$NK_TMP/rev/inter.b64")" "$(cat "$NK_TMP/rev/root.b64")" "$REV"
}
vreq leaf-crl >"$NK_TMP/vreq.json"
# v_ok FILE: a response whose revocation check passed via CRL.
v_ok() {
    jq -e ".verificationResults[$REV] | .success == true and (.reason|test(\"CRL Leaf\\\" good via CRL\"))" \
        "$1" >/dev/null 2>&1
}
parallel_verify() { # TAG
    local i pids=() ok=0
    for ((i = 1; i <= N; i++)); do
        "$NK_BIN" verify-signature <"$NK_TMP/vreq.json" >"$NK_TMP/v.$i" 2>"$NK_TMP/v.$i.err" &
        pids+=($!)
    done
    for ((i = 1; i <= N; i++)); do
        wait "${pids[i - 1]}" && v_ok "$NK_TMP/v.$i" && ok=$((ok + 1))
    done
    check "conc: $1: $N parallel verify-signature runs succeed ($ok/$N)" [ "$ok" = "$N" ]
}
# crl_entries_ok: the CRL cache holds exactly the two entries (inter.crl
# for the leaf, root.crl for the intermediate), each "nk-crl-cache 1",
# its URL, and the served DER CRL byte for byte (temp files are counted
# apart: crl_temps).
crl_entries_ok() {
    local n f h
    [ "$(crl_entries)" = 2 ] || return 1
    for n in inter root; do
        h=$(printf '%s' "http://127.0.0.1:$cport/$n.crl" | sha256sum | cut -d' ' -f1)
        f=$CDIR/$h
        printf 'nk-crl-cache 1\nhttp://127.0.0.1:%s/%s.crl\n' "$cport" "$n" | cat - "$W/$n.crl" |
            cmp -s - "$f" || return 1
    done
}
crl_temps() { find "$CDIR" -type f -name '*.tmp.*' 2>/dev/null | wc -l; }
crl_entries() { find "$CDIR" -type f ! -name '*.tmp.*' 2>/dev/null | wc -l; }
export XDG_CACHE_HOME=$NK_TMP/cache-crl
CDIR=$XDG_CACHE_HOME/notation-keystore/crl
parallel_verify "cold CRL cache"
check "conc: cold CRL cache: two complete entries" crl_entries_ok
check "conc: cold CRL cache: no temp file left" [ "$(crl_temps)" = 0 ]
stop_crl
parallel_verify "warm CRL cache, CRL server stopped"
check "conc: warm CRL cache: entries unchanged" crl_entries_ok

stamp "parallel verify"

# --- 3. SIGKILL in the middle of a cache write ---
# kill_at NAME SYSCALL[:when=K] STDIN CMD...: runs CMD under strace, which
# delivers SIGKILL when CMD enters that system call; passes when CMD died
# there (strace's log ends with that call and the kill).
kill_at() {
    local name=$1 sc=$2 in=$3 rc
    shift 3
    # (a second command keeps bash from exec'ing strace, so the subshell,
    # not this script, reports the kill, to /dev/null)
    (strace -qq -o "$NK_TMP/strace.log" -e trace="${sc%%:*}" -e inject="$sc:signal=KILL" \
        "$@" <"$in" >/dev/null 2>&1; exit $?) 2>/dev/null
    rc=$?
    if [ "$rc" = 137 ] && tail -1 "$NK_TMP/strace.log" | grep -q "killed by SIGKILL" &&
        tail -2 "$NK_TMP/strace.log" | head -1 | grep -q "^${sc%%:*}("; then
        pass "conc: $name: SIGKILL at ${sc%%:*}"
    else
        fail "conc: $name: SIGKILL at ${sc%%:*} (rc=$rc: $(tail -2 "$NK_TMP/strace.log" | head -c 300 | tr '\n' ' '))"
    fi
}
# nth_write_to PATTERN STDIN CMD...: the index of the first write(2) of CMD
# to a file whose path matches PATTERN, from a dry run under strace -y.
nth_write_to() {
    local pat=$1 in=$2
    shift 2
    strace -qq -y -o "$NK_TMP/dry.log" -e trace=write "$@" <"$in" >/dev/null 2>&1
    grep '^write(' "$NK_TMP/dry.log" | grep -n -m1 -E "^write\([0-9]+<$pat>" | cut -d: -f1
}

# The key cache (Vault; written once per describe on a cold cache).
IFS='|' read -r vkid _ _ vcfg _ <<<"${B[vault]}"
printf '{"contractVersion":"1.0","keyId":"%s","pluginConfig":%s}' "$vkid" "$vcfg" >"$NK_TMP/vdesc.json"
export XDG_CACHE_HOME=$NK_TMP/cache-kill-kms
KDIR=$XDG_CACHE_HOME/notation-keystore
kms_entries() { find "$KDIR" -type f -name '*.json' 2>/dev/null | wc -l; }
# kms_state TEMPS ENTRIES [EMPTY-TEMPS]: the key cache holds that many
# temp files and entries (and that many of the temp files are empty).
kms_state() {
    [ "$(kms_temps "$XDG_CACHE_HOME")" = "$1" ] && [ "$(kms_entries)" = "$2" ] &&
        { [ -z "${3-}" ] || [ "$(find "$KDIR" -name '*.json.*' -empty | wc -l)" = "$3" ]; }
}
w=$(nth_write_to "$KDIR/[0-9a-f]{64}\.json\.[A-Za-z0-9]{6}" "$NK_TMP/vdesc.json" "$NK_BIN" describe-key)
check "conc: key cache: the dry run found the entry's write (write #${w:-none})" [ -n "$w" ]
rm -rf "$KDIR"
kill_at "key cache, temp file created, nothing written" "write:when=${w:-1}" "$NK_TMP/vdesc.json" \
    "$NK_BIN" describe-key
check "conc: key cache after a kill at write: one empty temp file, no entry" kms_state 1 0 1
kill_at "key cache, temp file complete" rename "$NK_TMP/vdesc.json" "$NK_BIN" describe-key
check "conc: key cache after a kill at rename: a second, complete temp file, no entry" kms_state 2 0 1
: >"$NK_TMP/vault.jsonl"
plugin describe-key "$(cat "$NK_TMP/vdesc.json")"
check "conc: key cache: the next run ignores the temp files (describes the key again: $(vault_describes) GET)" \
    [ "$RC" = 0 -a "$(vault_describes)" = 1 ]
check "conc: key cache: the next run wrote a valid entry" \
    kms_entry_ok "$XDG_CACHE_HOME" EC-256 "$NK_TMP/vault.pub"
: >"$NK_TMP/vault.jsonl"
plugin describe-key "$(cat "$NK_TMP/vdesc.json")"
check "conc: key cache: and the run after that uses it (requests: $(vault_all))" \
    [ "$RC" = 0 -a "$(vault_all)" = 0 ]
# A kill while a damaged entry is being replaced: the damaged entry stays,
# and the next run still ignores it.
printf '{"ident":' >"$(find "$KDIR" -name '*.json')"
find "$KDIR" -name '*.json.*' >"$NK_TMP/old-temps"
kill_at "key cache, replacing a damaged entry" rename "$NK_TMP/vdesc.json" "$NK_BIN" describe-key
# The two temp files of the first kills are made 20 minutes old, as if
# their writers had died long ago; the third stands for a writer that may
# still be running. Two files that are not temp files of ours are old too.
xargs touch -d '-20 min' <"$NK_TMP/old-temps"
printf x >"$KDIR/notes.json.abcdef"
printf x >"$KDIR/$(printf '%064d' 0).json.ab-def"
touch -d '-20 min' "$KDIR/notes.json.abcdef" "$KDIR/$(printf '%064d' 0).json.ab-def"
: >"$NK_TMP/vault.jsonl"
plugin describe-key "$(cat "$NK_TMP/vdesc.json")"
check "conc: key cache: a damaged entry left by a kill is ignored and replaced ($(vault_describes) GET)" \
    [ "$RC" = 0 -a "$(vault_describes)" = 1 ]
check "conc: key cache: the replacement is valid" kms_entry_ok "$XDG_CACHE_HOME" EC-256 "$NK_TMP/vault.pub"
check "conc: key cache: a write removes the old temp files and keeps the recent one" \
    eval '[ "$(kms_temps "$XDG_CACHE_HOME")" = 1 ] && ! grep -q . <(xargs ls 2>/dev/null <"$NK_TMP/old-temps")'
check "conc: key cache: files that are not its temp files are kept" \
    test -e "$KDIR/notes.json.abcdef" -a -e "$KDIR/$(printf '%064d' 0).json.ab-def"

stamp "key cache kills"

# The CRL cache: four writes per entry (magic, URL, newline, DER), fsync,
# rename; two entries per run (the leaf's CRL, the intermediate's).
export XDG_CACHE_HOME=$NK_TMP/cache-kill-crl
CDIR=$XDG_CACHE_HOME/notation-keystore/crl
crl_state() { [ "$(crl_temps)" = "$1" ] && [ "$(crl_entries)" = "$2" ]; }
torn_header() { [ "$(head -c 15 "$(find "$CDIR" -name '*.tmp.*' | head -1)")" = "nk-crl-cache 1" ]; }
v_unknown() { printf '%s' "$OUT" | jq -e ".verificationResults[$REV] | .success == false and (.reason|test(\"is unknown: CRL\"))" >/dev/null; }
start_crl || fail "conc: CRL server restart"
w=$(nth_write_to "$CDIR/[0-9a-f]{64}\.tmp\.[A-Za-z0-9]{6}" "$NK_TMP/vreq.json" "$NK_BIN" verify-signature)
check "conc: CRL cache: the dry run found the first entry's writes (write #${w:-none})" [ -n "$w" ]
rm -rf "$XDG_CACHE_HOME"
kill_at "CRL cache, entry torn after its header" "write:when=$((${w:-1} + 1))" "$NK_TMP/vreq.json" \
    "$NK_BIN" verify-signature
check "conc: CRL cache after a torn write: one temp file, no entry" crl_state 1 0
check "conc: CRL cache: the torn temp file holds the header only" torn_header
kill_at "CRL cache, temp file complete before fsync" fsync "$NK_TMP/vreq.json" "$NK_BIN" verify-signature
find "$CDIR" -name '*.tmp.*' >"$NK_TMP/old-temps"
kill_at "CRL cache, second entry at its rename" rename:when=2 "$NK_TMP/vreq.json" "$NK_BIN" verify-signature
check "conc: CRL cache after three kills: three temp files, one complete entry" crl_state 3 1
# Two temp files hold complete CRLs now; with the server down, a run that
# used them would succeed. It must not: the missing entry is unknown.
stop_crl
plugin verify-signature "$(cat "$NK_TMP/vreq.json")"
check "conc: CRL cache: temp files are never used (server down: unknown)" \
    eval '[ "$RC" = 0 ] && v_unknown'
start_crl || fail "conc: CRL server restart"
xargs touch -d '-20 min' <"$NK_TMP/old-temps" # writers that died long ago
plugin verify-signature "$(cat "$NK_TMP/vreq.json")"
printf '%s' "$OUT" >"$NK_TMP/v.after"
check "conc: CRL cache: the next run with the server up succeeds" v_ok "$NK_TMP/v.after"
stop_crl
check "conc: CRL cache: and leaves two complete entries" crl_entries_ok
check "conc: CRL cache: its write removed the two old temp files, kept the recent one" \
    eval '[ "$(crl_temps)" = 1 ] && ! grep -q . <(xargs ls 2>/dev/null <"$NK_TMP/old-temps")'
plugin verify-signature "$(cat "$NK_TMP/vreq.json")"
printf '%s' "$OUT" >"$NK_TMP/v.after"
check "conc: CRL cache: the run after that uses them (server down)" v_ok "$NK_TMP/v.after"

echo "# 55-concurrency: $(($(date +%s) - T0)) s with NK_CONC=$N"
