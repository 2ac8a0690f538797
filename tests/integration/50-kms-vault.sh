#!/usr/bin/env bash
# Vault / OpenBao Transit against tests/lib/vault_mock.py (a loopback mock
# with real keys and Vault's own defaults: salt_length auto = maximum salt),
# over HTTPS with a test CA and plain HTTP on loopback: the six key types,
# key versions, token / ~/.vault-token / AppRole / JWT / Kubernetes logins,
# namespaces, BAO_* with openbao://, a KV v2 chain, refused key types, 403
# and 404, and that no token ever shows up in an error or a log. Every
# signature is checked with Python cryptography (salt = hash length),
# never by the mock.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/pki.sh"
. "$NK_ROOT/tests/lib/kms_pki.sh"

tls=$NK_TMP/tls
kms_tls "$tls" vault || { fail "kms-vault: test TLS CA"; exit 0; }
hport=$(free_port) sport=$(free_port)
setup=$NK_TMP/vault.json mocklog=$NK_TMP/vault-requests.jsonl
VAULT_MOCK_LIFETIME=300 "$NK_PY" "$NK_ROOT/tests/lib/vault_mock.py" \
    --setup "$setup" --log "$mocklog" --http "$hport" \
    --https "$sport" "$tls/vault-server.pem" "$tls/vault-server.key" \
    >"$NK_TMP/vault.log" 2>&1 &
at_exit "kill $!"
wait_file "$setup" 60 || { fail "kms-vault: mock did not start"; cat "$NK_TMP/vault.log"; exit 0; }

export XDG_CACHE_HOME=$NK_TMP/cache HOME=$NK_TMP/home
mkdir -p "$HOME"
unset VAULT_TOKEN VAULT_NAMESPACE VAULT_ROLE_ID VAULT_SECRET_ID VAULT_JWT_ROLE \
    VAULT_K8S_ROLE BAO_ADDR BAO_TOKEN BAO_CACERT BAO_NAMESPACE \
    TRANSIT_SECRET_ENGINE_PATH VAULT_CACERT
export VAULT_ADDR=https://127.0.0.1:$sport VAULT_CACERT=$tls/vault-ca.pem
root=$(jq -r .root_token "$setup")
export VAULT_TOKEN=$root
pki=$NK_TMP/pki
allerr=$NK_TMP/all-stderr
printf 'payload to be signed by vault' >"$NK_TMP/payload"
payload=$(base64 -w0 "$NK_TMP/payload")

declare -A SPEC=([rsa-2048]=RSA-2048 [rsa-3072]=RSA-3072 [rsa-4096]=RSA-4096
    [ecdsa-p256]=EC-256 [ecdsa-p384]=EC-384 [ecdsa-p521]=EC-521)
declare -A HASH=([RSA-2048]=SHA-256 [RSA-3072]=SHA-384 [RSA-4096]=SHA-512
    [EC-256]=SHA-256 [EC-384]=SHA-384 [EC-521]=SHA-512)

# pub KEYPATH VERSION: the mock's public key PEM file for that version.
pub() {
    local f=$NK_TMP/pub-${1//\//_}-$2.pem
    [ -s "$f" ] || jq -r --arg k "$1" --arg v "$2" '.keys[$k][$v]' "$setup" >"$f"
    echo "$f"
}

# Every run's stderr is kept for the credential check at the end.
eval "$(declare -f plugin | sed '1s/^plugin/nk_plugin_orig/')"
plugin() {
    nk_plugin_orig "$@"
    printf '%s\n' "$ERR" >>"$allerr"
}
run() { plugin "$@"; }
# logged JQ-CONDITION: some request the mock logged satisfies it.
logged() { jq -c "select($1)" "$mocklog" 2>/dev/null | grep -q .; }
# err_is CODE REGEX: the last run failed with CODE and a matching message.
err_is() {
    [ "$RC" = 1 ] && printf '%s' "$ERR" | jq -e --arg c "$1" --arg r "$2" \
        '.errorCode==$c and (.errorMessage|test($r))' >/dev/null
}

sigreq() { # KEYID SPEC CFGJSON
    printf '{"contractVersion":"1.0","keyId":"%s","keySpec":"%s","hashAlgorithm":"%s","payload":"%s","pluginConfig":%s}' \
        "$1" "$2" "${HASH[$2]}" "$payload" "$3"
}

# sign_ok NAME KEYID SPEC PUBPEM CFGJSON [CHAINLEN]: generate-signature,
# then an independent check of the signature.
sign_ok() {
    local name=$1 kid=$2 spec=$3 pubf=$4 cfg=$5 n=${6:-3} sig
    run generate-signature "$(sigreq "$kid" "$spec" "$cfg")"
    sig=$(printf '%s' "$OUT" | jq -r .signature 2>/dev/null)
    if [ "$RC" = 0 ] && [ "$(printf '%s' "$OUT" | jq '.certificateChain|length')" = "$n" ] &&
        kms_verify "$pubf" "$spec" "$NK_TMP/payload" "$sig" 2>"$NK_TMP/verr"; then
        pass "$name"
    else
        fail "$name (rc=$RC err=${ERR:0:300} verify=$(tail -c 200 "$NK_TMP/verr" 2>/dev/null))"
    fi
}

# chain NAME PUBPEM: a certificate chain for the key, echoes its path.
chain() {
    [ -s "$pki/$1-chain.pem" ] || kms_chain "$pki" "$1" "$2" >/dev/null 2>&1 ||
        fail "kms-vault: chain for $1"
    echo "$pki/$1-chain.pem"
}

# 1. The six key types over HTTPS: describe-key and a verified signature.
for t in rsa-2048 rsa-3072 rsa-4096 ecdsa-p256 ecdsa-p384 ecdsa-p521; do
    p=$(pub "/transit/$t" 1)
    cfg="{\"certificate-chain\":\"$(chain "$t" "$p")\"}"
    run describe-key "{\"contractVersion\":\"1.0\",\"keyId\":\"hashivault://$t\",\"pluginConfig\":$cfg}"
    check "kms-vault describe $t" test "$(printf '%s' "$OUT" | jq -r .keySpec 2>/dev/null)" = "${SPEC[$t]}"
    sign_ok "kms-vault sign $t" "hashivault://$t" "${SPEC[$t]}" "$p" "$cfg"
done

# 2. The plugin asks for salt = hash length; the mock (like Vault) would
# otherwise use the maximum salt, which the strict check rejects.
check "kms-vault sign request carries salt_length hash, prehashed, asn1" \
    logged '.path=="/v1/transit/sign/rsa-3072/sha2-384" and .body.salt_length=="hash" and
        .body.prehashed==true and .body.marshaling_algorithm=="asn1" and .body.signature_algorithm=="pss"'
openssl dgst -sha256 -binary "$NK_TMP/payload" >"$NK_TMP/d256"
vsig() { # EXTRA-JSON -> signature b64 from the mock with those fields; fails without one
    local r
    r=$(curl -sSf --cacert "$VAULT_CACERT" -H "X-Vault-Token: $root" -X POST \
        --data "$(jq -nc --arg i "$(base64 -w0 "$NK_TMP/d256")" --argjson x "$1" \
            '{input:$i,prehashed:true}+$x')" \
        "$VAULT_ADDR/v1/transit/sign/rsa-2048/sha2-256") || return 1
    jq -er '.data.signature | select(startswith("vault:v"))' <<<"$r" | cut -d: -f3
}
# A real signature that the strict check refuses (an empty one would too).
auto_salt_refused() {
    local s
    s=$(vsig '{}') && [ -n "$s" ] &&
        ! kms_verify "$(pub /transit/rsa-2048 1)" RSA-2048 "$NK_TMP/payload" "$s" 2>/dev/null
}
check "kms-vault mock's default salt (auto) fails the strict check" auto_salt_refused
check "kms-vault mock with salt_length hash passes the strict check" \
    kms_verify "$(pub /transit/rsa-2048 1)" RSA-2048 "$NK_TMP/payload" "$(vsig '{"salt_length":"hash"}')"

# 3. Key versions: latest is 2, key-version pins 1; a missing version fails.
p1=$(pub /transit/rotated 1) p2=$(pub /transit/rotated 2)
sign_ok "kms-vault sign latest version (2)" hashivault://rotated EC-256 "$p2" \
    "{\"certificate-chain\":\"$(chain rotated-v2 "$p2")\"}"
sign_ok "kms-vault sign key-version 1" hashivault://rotated EC-256 "$p1" \
    "{\"certificate-chain\":\"$(chain rotated-v1 "$p1")\",\"key-version\":\"1\"}"
check "kms-vault key-version 1 sent as key_version" \
    logged '(.path|startswith("/v1/transit/sign/rotated")) and .body.key_version==1'
expect_error "kms-vault key-version 3 does not exist" VALIDATION_ERROR describe-key \
    '{"contractVersion":"1.0","keyId":"hashivault://rotated","pluginConfig":{"key-version":"3","cache":"false"}}' 'version 3|usable version'

c256=$(chain ecdsa-p256 "$(pub /transit/ecdsa-p256 1)")
cfg256="{\"certificate-chain\":\"$c256\",\"cache\":\"false\"}"
p256=$(pub /transit/ecdsa-p256 1)

# 4. Token sources and logins.
(unset VAULT_TOKEN
 printf '%s\n' "$root" >"$HOME/.vault-token"
 sign_ok "kms-vault token from ~/.vault-token" hashivault://ecdsa-p256 EC-256 "$p256" "$cfg256"
 rm -f "$HOME/.vault-token"
 expect_error "kms-vault no token at all" ACCESS_DENIED describe-key \
     "{\"contractVersion\":\"1.0\",\"keyId\":\"hashivault://ecdsa-p256\",\"pluginConfig\":$cfg256}" 'VAULT_TOKEN'
 export VAULT_ROLE_ID VAULT_SECRET_ID
 VAULT_ROLE_ID=$(jq -r .approle.role_id "$setup") VAULT_SECRET_ID=$(jq -r .approle.secret_id "$setup")
 sign_ok "kms-vault AppRole login" hashivault://ecdsa-p256 EC-256 "$p256" "$cfg256"
 VAULT_SECRET_ID=wrong-secret run describe-key \
     "{\"contractVersion\":\"1.0\",\"keyId\":\"hashivault://ecdsa-p256\",\"pluginConfig\":$cfg256}"
 check "kms-vault AppRole wrong secret -> ACCESS_DENIED with Vault's text" \
     err_is ACCESS_DENIED 'invalid role or secret ID'
 unset VAULT_ROLE_ID VAULT_SECRET_ID
 jq -r .jwt.jwt "$setup" >"$NK_TMP/ci.jwt"
 VAULT_JWT_ROLE=$(jq -r .jwt.role "$setup") VAULT_JWT_FILE=$NK_TMP/ci.jwt \
     sign_ok "kms-vault JWT login" hashivault://ecdsa-p256 EC-256 "$p256" "$cfg256"
 jq -r .k8s.jwt "$setup" >"$NK_TMP/sa.jwt"
 VAULT_K8S_ROLE=$(jq -r .k8s.role "$setup") VAULT_K8S_TOKEN_FILE=$NK_TMP/sa.jwt \
     sign_ok "kms-vault Kubernetes login" hashivault://ecdsa-p256 EC-256 "$p256" "$cfg256"
 check "kms-vault AppRole login went to auth/approle" logged '.path=="/v1/auth/approle/login" and .token==false'
 check "kms-vault JWT login went to auth/jwt" logged '.path=="/v1/auth/jwt/login"'
 check "kms-vault Kubernetes login went to auth/kubernetes" logged '.path=="/v1/auth/kubernetes/login"')

# 5. Namespaces: the namespace's token works only with X-Vault-Namespace.
pns=$(pub team-a/transit/team-key 1)
cns="{\"certificate-chain\":\"$(chain team-key "$pns")\",\"cache\":\"false\"}"
VAULT_NAMESPACE=team-a VAULT_TOKEN=$(jq -r .ns_token "$setup") \
    sign_ok "kms-vault namespace" hashivault://team-key EC-384 "$pns" "$cns"
VAULT_TOKEN=$(jq -r .ns_token "$setup") expect_error "kms-vault namespace token without namespace" \
    ACCESS_DENIED describe-key "{\"contractVersion\":\"1.0\",\"keyId\":\"hashivault://team-key\",\"pluginConfig\":$cns}" 'permission denied'

# 6. OpenBao: openbao:// reads BAO_* first.
(unset VAULT_ADDR VAULT_TOKEN VAULT_CACERT
 export BAO_ADDR=https://127.0.0.1:$sport BAO_TOKEN=$root BAO_CACERT=$tls/vault-ca.pem
 sign_ok "kms-vault openbao:// with BAO_*" openbao://ecdsa-p256 EC-256 "$p256" "$cfg256"
 BAO_TOKEN=hvs.not-a-token expect_error "kms-vault openbao bad token" ACCESS_DENIED describe-key \
     "{\"contractVersion\":\"1.0\",\"keyId\":\"openbao://ecdsa-p256\",\"pluginConfig\":$cfg256}" 'OpenBao')

# 7. Another transit mount, plain http on loopback.
po=$(pub /signing-transit/other 1)
TRANSIT_SECRET_ENGINE_PATH=signing-transit sign_ok "kms-vault TRANSIT_SECRET_ENGINE_PATH" \
    hashivault://other EC-384 "$po" "{\"certificate-chain\":\"$(chain other "$po")\",\"cache\":\"false\"}"
VAULT_ADDR=http://127.0.0.1:$hport sign_ok "kms-vault plain http on loopback" \
    hashivault://ecdsa-p256 EC-256 "$p256" "$cfg256"
VAULT_ADDR=http://vault.example.com:8200 expect_error "kms-vault plain http refused off loopback" \
    VALIDATION_ERROR describe-key "{\"contractVersion\":\"1.0\",\"keyId\":\"hashivault://ecdsa-p256\",\"pluginConfig\":$cfg256}" 'loopback'
(unset VAULT_CACERT
 expect_error "kms-vault TLS without the test CA" ERROR describe-key \
     "{\"contractVersion\":\"1.0\",\"keyId\":\"hashivault://ecdsa-p256\",\"pluginConfig\":$cfg256}" 'TLS|certificate')
run describe-key "{\"contractVersion\":\"1.0\",\"keyId\":\"hashivault://ecdsa-p256\",\"pluginConfig\":{\"ca-bundle\":\"$tls/vault-ca.pem\",\"cache\":\"false\",\"certificate-chain\":\"$c256\"}}"
check "kms-vault pluginConfig ca-bundle" test "$RC" = 0

# 8. A chain kept in KV v2 (notation-hashicorp-vault's layout), default
# mount "secret" and field "certificate", then another mount and field.
curl -s --cacert "$VAULT_CACERT" -H "X-Vault-Token: $root" -X POST \
    --data "$(jq -nc --rawfile c "$c256" '{data:{certificate:$c}}')" \
    "$VAULT_ADDR/v1/secret/data/notation/ecdsa-p256" >/dev/null
curl -s --cacert "$VAULT_CACERT" -H "X-Vault-Token: $root" -X POST \
    --data "$(jq -nc --rawfile c "$c256" '{data:{chain:$c}}')" \
    "$VAULT_ADDR/v1/kv/data/ci/p256" >/dev/null
sign_ok "kms-vault chain from KV v2" hashivault://ecdsa-p256 EC-256 "$p256" \
    '{"vault-kv-path":"notation/ecdsa-p256","cache":"false"}'
sign_ok "kms-vault chain from KV v2, own mount and field" hashivault://ecdsa-p256 EC-256 "$p256" \
    '{"vault-kv-path":"ci/p256","vault-kv-mount":"kv","vault-kv-field":"chain","cache":"false"}'
expect_error "kms-vault KV v2 secret missing" VALIDATION_ERROR generate-signature \
    "$(sigreq hashivault://ecdsa-p256 EC-256 '{"vault-kv-path":"nope","cache":"false"}')" 'KV v2'
expect_error "kms-vault KV v2 chain for another key" VALIDATION_ERROR generate-signature \
    "$(sigreq hashivault://ecdsa-p384 EC-384 '{"vault-kv-path":"notation/ecdsa-p256","cache":"false"}')" 'public key'

# The KV chain is cached with the key description: a warm describe-key
# makes no request and does not load libcurl; a warm generate-signature
# makes exactly one (the sign), and returns the KV chain.
kvcfg='{"vault-kv-path":"notation/ecdsa-p256"}'
kvdesc="{\"contractVersion\":\"1.0\",\"keyId\":\"hashivault://ecdsa-p256\",\"pluginConfig\":$kvcfg}"
requests() { wc -l <"$mocklog"; }
run describe-key "$kvdesc" # cold: key and KV read, both cached
n0=$(requests)
printf '%s' "$kvdesc" | LD_DEBUG=files "$NK_BIN" describe-key >"$NK_TMP/kvout" 2>"$NK_TMP/kvld"
check "kms-vault warm describe-key with a KV chain makes no request" \
    test "$(jq -r .keySpec "$NK_TMP/kvout" 2>/dev/null)/$(( $(requests) - n0 ))" = EC-256/0
check "kms-vault warm describe-key with a KV chain does not load libcurl" \
    bash -c "grep -q 'calling init' '$NK_TMP/kvld' && ! grep -q libcurl '$NK_TMP/kvld'"
n0=$(requests)
sign_ok "kms-vault warm generate-signature with a KV chain" hashivault://ecdsa-p256 EC-256 "$p256" "$kvcfg"
check "kms-vault warm generate-signature with a KV chain makes exactly one request, the sign" \
    bash -c "[ \$(( \$(wc -l <'$mocklog') - $n0 )) = 1 ] &&
        tail -n 1 '$mocklog' | jq -e '.path|startswith(\"/v1/transit/sign/ecdsa-p256\")' >/dev/null"
check "kms-vault warm generate-signature returns the KV chain" \
    test "$(printf '%s' "$OUT" | jq '.certificateChain|length')" = 3

# 9. Keys notation cannot use, 403, 404.
expect_error "kms-vault aes256-gcm96 key" VALIDATION_ERROR describe-key \
    '{"contractVersion":"1.0","keyId":"hashivault://aes","pluginConfig":{"cache":"false"}}' 'aes256-gcm96.*cannot use'
expect_error "kms-vault ed25519 key" VALIDATION_ERROR describe-key \
    '{"contractVersion":"1.0","keyId":"hashivault://ed","pluginConfig":{"cache":"false"}}' 'ed25519'
VAULT_TOKEN=hvs.wrong-token-3141 expect_error "kms-vault wrong token -> ACCESS_DENIED" ACCESS_DENIED describe-key \
    "{\"contractVersion\":\"1.0\",\"keyId\":\"hashivault://ecdsa-p256\",\"pluginConfig\":$cfg256}" 'permission denied'
VAULT_TOKEN=$(jq -r .read_token "$setup") expect_error "kms-vault token without sign rights" ACCESS_DENIED \
    generate-signature "$(sigreq hashivault://ecdsa-p256 EC-256 "$cfg256")" 'sign.*permission denied'
expect_error "kms-vault missing key -> VALIDATION_ERROR" VALIDATION_ERROR describe-key \
    '{"contractVersion":"1.0","keyId":"hashivault://no-such-key","pluginConfig":{"cache":"false"}}' 'no-such-key.*(404|not found)'
expect_error "kms-vault bad key name" VALIDATION_ERROR describe-key \
    '{"contractVersion":"1.0","keyId":"hashivault://../sys/seal"}'
expect_error "kms-vault keySpec mismatch" VALIDATION_ERROR generate-signature \
    "$(sigreq hashivault://ecdsa-p256 EC-384 "$cfg256")"

# 10. The cache: describe-key fetched the key, generate-signature only signs.
log=$NK_TMP/nk.log
rm -rf "$XDG_CACHE_HOME"
cfgc="{\"certificate-chain\":\"$c256\"}"
NOTATION_KEYSTORE_LOG=debug NOTATION_KEYSTORE_LOG_FILE=$log \
    run describe-key "{\"contractVersion\":\"1.0\",\"keyId\":\"hashivault://ecdsa-p256\",\"pluginConfig\":$cfgc}"
NOTATION_KEYSTORE_LOG=debug NOTATION_KEYSTORE_LOG_FILE=$log.2 \
    sign_ok "kms-vault sign after describe (cached)" hashivault://ecdsa-p256 EC-256 "$p256" "$cfgc"
check "kms-vault cached sign makes one request" \
    bash -c "grep -q 'key cache hit' '$log.2' && [ \$(grep -c 'http ' '$log.2') = 1 ]"
printf '{"contractVersion":"1.0","keyId":"hashivault://ecdsa-p256","pluginConfig":{"certificate-chain":"%s"}}' "$c256" |
    LD_DEBUG=files "$NK_BIN" describe-key >/dev/null 2>"$NK_TMP/ld"
check "kms-vault cached describe-key does not even load libcurl" \
    bash -c "grep -q 'calling init' '$NK_TMP/ld' && ! grep -q libcurl '$NK_TMP/ld'"
check "kms-vault cache files are private and hold no token" bash -c "
    [ \"\$(stat -c %a '$XDG_CACHE_HOME/notation-keystore')\" = 700 ] &&
    ! grep -rq -- '$root' '$XDG_CACHE_HOME'"

# A cache entry is read only when it is a regular file of the user that
# nobody else can write: a symlink to a good entry, an entry of another
# user's or a FIFO is a miss (the key is read from Vault again), never a
# hang. The control run shows the planted copy would be used.
entry=$(ls "$XDG_CACHE_HOME"/notation-keystore/*.json 2>/dev/null | head -1)
cp "$entry" "$NK_TMP/good-entry" 2>/dev/null
dreq256="{\"contractVersion\":\"1.0\",\"keyId\":\"hashivault://ecdsa-p256\",\"pluginConfig\":$cfgc}"
not_reads_key() { ! reads_key; }
reads_key() { # LABEL: one describe-key; succeeds when it read the key from Vault
    local before after
    before=$(grep -c '"/v1/transit/keys/ecdsa-p256"' "$mocklog")
    NK_WRAP="timeout 20 $NK_WRAP" run describe-key "$dreq256"
    after=$(grep -c '"/v1/transit/keys/ecdsa-p256"' "$mocklog")
    [ "$RC" = 0 ] && [ "$after" -gt "$before" ]
}
plant_entry() { rm -f "$entry"; cp "$NK_TMP/good-entry" "$entry"; chmod 600 "$entry"; }
if [ -n "$entry" ] && [ -s "$NK_TMP/good-entry" ]; then
    plant_entry
    check "kms-vault a planted copy of the entry is used (control)" not_reads_key
    rm -f "$entry" && ln -s "$NK_TMP/good-entry" "$entry"
    check "kms-vault a symlinked cache entry is not followed" reads_key
    plant_entry && chown nobody "$entry"
    check "kms-vault a cache entry owned by another user is not used" reads_key
    plant_entry && chmod 666 "$entry"
    check "kms-vault a cache entry others may write is not used" reads_key
    rm -f "$entry" && mkfifo "$entry"
    check "kms-vault a FIFO as cache entry is a miss, not a hang" reads_key
    rm -f "$entry"
else
    fail "kms-vault: no cache entry to plant"
fi

# Rotation with the chain in KV: describe-key caches version 1; the key is
# rotated and the certificate in KV renewed for version 2; the next
# generate-signature must sign with version 2, not fail on the cached key.
vput() { # PATH JSON
    curl -s --cacert "$VAULT_CACERT" -H "X-Vault-Token: $root" -X POST --data "$2" "$VAULT_ADDR/v1/$1"
}
r1=$(pub /transit/rotate-me 1)
vput secret/data/rot "$(jq -nc --rawfile c "$(chain rotate-me-v1 "$r1")" '{data:{certificate:$c}}')" >/dev/null
cfgr='{"vault-kv-path":"rot"}'
run describe-key "{\"contractVersion\":\"1.0\",\"keyId\":\"hashivault://rotate-me\",\"pluginConfig\":$cfgr}"
check "kms-vault rotation: describe-key caches version 1" test "$RC" = 0
vput transit/keys/rotate-me/rotate '{}' | jq -r '.data.keys["2"].public_key' >"$NK_TMP/rot-v2.pem"
vput secret/data/rot "$(jq -nc --rawfile c "$(chain rotate-me-v2 "$NK_TMP/rot-v2.pem")" '{data:{certificate:$c}}')" >/dev/null
sign_ok "kms-vault rotation: renewed KV certificate, signs with version 2" hashivault://rotate-me EC-256 \
    "$NK_TMP/rot-v2.pem" "$cfgr"

# Rotation with the chain in pluginConfig certificate-chain: the cache
# holds version 1, the configured certificate is version 2's. The one
# generate-signature run drops the entry, reads the key once more and
# signs with version 2; the next run is a cache hit again.
rm -rf "$XDG_CACHE_HOME"
c1=$(pub /transit/rotate-cc 1)
run describe-key "{\"contractVersion\":\"1.0\",\"keyId\":\"hashivault://rotate-cc\",\"pluginConfig\":{\"certificate-chain\":\"$(chain rotate-cc-v1 "$c1")\"}}"
check "kms-vault rotation (certificate-chain): describe-key caches version 1" test "$RC" = 0
vput transit/keys/rotate-cc/rotate '{}' | jq -r '.data.keys["2"].public_key' >"$NK_TMP/rcc-v2.pem"
cfgcc="{\"certificate-chain\":\"$(chain rotate-cc-v2 "$NK_TMP/rcc-v2.pem")\"}"
# since N JQ-CONDITION: how many requests after line N of the mock's log match.
since() { tail -n +$(($1 + 1)) "$mocklog" | jq -c "select($2)" | wc -l; }
n0=$(wc -l <"$mocklog")
NOTATION_KEYSTORE_LOG=info NOTATION_KEYSTORE_LOG_FILE=$NK_TMP/rcc.log \
    sign_ok "kms-vault rotation (certificate-chain): signs with version 2 in the same run" \
    hashivault://rotate-cc EC-256 "$NK_TMP/rcc-v2.pem" "$cfgcc"
check "kms-vault rotation (certificate-chain): exactly one key read, one sign (version 2)" \
    test "$(since "$n0" '.path=="/v1/transit/keys/rotate-cc"')/$(since "$n0" '(.path|startswith("/v1/transit/sign/rotate-cc")) and .body.key_version==2')/$(since "$n0" '.')" = 1/1/2
check "kms-vault rotation (certificate-chain): the stale entry was dropped" \
    grep -q "cached key differs from the leaf certificate's: refetch" "$NK_TMP/rcc.log"
n0=$(wc -l <"$mocklog")
sign_ok "kms-vault rotation (certificate-chain): the next run signs from the cache" \
    hashivault://rotate-cc EC-256 "$NK_TMP/rcc-v2.pem" "$cfgcc"
check "kms-vault rotation (certificate-chain): the next run reads no key" \
    test "$(since "$n0" '.path=="/v1/transit/keys/rotate-cc"')/$(since "$n0" '.')" = 0/1

# A cached description that no longer matches the service's key (and a
# certificate made for that stale key) passes every check before signing;
# the signature then fails the check against the certificate, nothing is
# returned, and the entry is dropped so the next run fetches the key again.
rm -rf "$XDG_CACHE_HOME"
run describe-key "{\"contractVersion\":\"1.0\",\"keyId\":\"hashivault://ecdsa-p256\",\"pluginConfig\":$cfgc}"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null |
    openssl pkey -pubout -out "$NK_TMP/stale.pem"
entry=$(ls "$XDG_CACHE_HOME"/notation-keystore/*.json 2>/dev/null | head -n 1)
if [ -n "$entry" ]; then
    jq -c --arg p "$(openssl pkey -pubin -in "$NK_TMP/stale.pem" -outform DER | base64 -w0)" \
        '.pub=$p' "$entry" >"$entry.new" && mv "$entry.new" "$entry"
fi
run generate-signature "$(sigreq hashivault://ecdsa-p256 EC-256 \
    "{\"certificate-chain\":\"$(chain stale-p256 "$NK_TMP/stale.pem")\"}")"
check "kms-vault stale cached key: no signature, ERROR saying the entry was dropped" \
    err_is ERROR 'bad signature; nothing was sent.*cached description was dropped'
check "kms-vault stale cached key: the entry is gone" test ! -e "$entry"

# Parallel runs on a cold cache race to write the same entry: all succeed,
# one whole entry remains, no temporary file is left behind.
rm -rf "$XDG_CACHE_HOME"
sigreq hashivault://ecdsa-p256 EC-256 "$cfgc" >"$NK_TMP/par.json"
pids=()
for i in 1 2 3 4 5 6 7 8; do
    ("$NK_BIN" generate-signature <"$NK_TMP/par.json" >"$NK_TMP/par.$i.out" 2>"$NK_TMP/par.$i.err"
     echo $? >"$NK_TMP/par.$i.rc") &
    pids+=($!)
done
wait "${pids[@]}" # not a bare wait: the mock server is a child too
par_ok=1
for i in 1 2 3 4 5 6 7 8; do
    [ "$(cat "$NK_TMP/par.$i.rc")" = 0 ] &&
        kms_verify "$p256" EC-256 "$NK_TMP/payload" "$(jq -r .signature "$NK_TMP/par.$i.out")" 2>/dev/null ||
        par_ok=0
    cat "$NK_TMP/par.$i.err" >>"$allerr"
done
check "kms-vault 8 parallel runs on a cold cache all sign" test "$par_ok" = 1
check "kms-vault parallel runs leave one whole cache entry" bash -c "
    [ \$(ls '$XDG_CACHE_HOME/notation-keystore' | wc -l) = 1 ] &&
    jq -e .pub '$XDG_CACHE_HOME'/notation-keystore/*.json >/dev/null"

# user:password@ in VAULT_ADDR reaches neither stderr, nor the trace log,
# nor the cache file (its key names the address).
rm -rf "$XDG_CACHE_HOME"
credlog=$NK_TMP/cred.log dead=$(free_port)
VAULT_ADDR=https://vuser:s3cret@127.0.0.1:$sport NOTATION_KEYSTORE_LOG=debug NOTATION_KEYSTORE_LOG_FILE=$credlog \
    sign_ok "kms-vault VAULT_ADDR with user:password" hashivault://ecdsa-p256 EC-256 "$p256" "$cfgc"
check "kms-vault VAULT_ADDR with user:password: cache entry written, key cache traced" bash -c "
    ls '$XDG_CACHE_HOME'/notation-keystore/*.json >/dev/null &&
    grep -q 'key cache miss for vault https://127.0.0.1:$sport ' '$credlog'"
for a in "https://vuser:s3cret@127.0.0.1:$dead" "ftp://vuser:s3cret@127.0.0.1:$sport?t=s3cret" \
    "http://vuser:s3cret@vault.example.com:8200"; do
    VAULT_ADDR=$a NOTATION_KEYSTORE_LOG=debug NOTATION_KEYSTORE_LOG_FILE=$credlog \
        run describe-key "{\"contractVersion\":\"1.0\",\"keyId\":\"hashivault://ecdsa-p256\",\"pluginConfig\":$cfg256}"
    check "kms-vault VAULT_ADDR ${a%%:*}://vuser:...: fails" test "$RC" = 1
done
check "kms-vault no password from VAULT_ADDR in stderr, the log or the cache" \
    bash -c '! grep -rqF s3cret "$0" "$1" "$2"' "$allerr" "$credlog" "$XDG_CACHE_HOME"

# 11. No token, secret id or JWT in any error message or log.
secrets=("$root" "$(jq -r .ns_token "$setup")" "$(jq -r .read_token "$setup")"
    "$(jq -r .approle.secret_id "$setup")" "$(jq -r .jwt.jwt "$setup")" "$(jq -r .k8s.jwt "$setup")")
leak=0
for s in "${secrets[@]}"; do
    grep -qF -- "$s" "$allerr" "$log" "$log.2" && leak=1
done
check "kms-vault no credential in stderr or logs ($(wc -l <"$allerr") runs)" test "$leak" = 0
check "kms-vault stderr really was captured" grep -q 'permission denied' "$allerr"
