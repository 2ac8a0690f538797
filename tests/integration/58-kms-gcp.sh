#!/usr/bin/env bash
# Google Cloud KMS (gcpkms://) against tests/lib/gcp_mock.py, a loopback
# mock with real keys, Cloud KMS's REST shapes, CRC32C integrity fields
# and Google's error model, over HTTPS with a test CA: the four algorithms
# notation can use and the ones it cannot, key version states, 403 with
# the missing permission, 404, CRC32C faults both ways, 429 and 503, the
# key and token caches (one HTTPS request for a warm generate-signature),
# notation envelopes (JWS, COSE) and the companion commands. Every
# signature is checked with Python cryptography or openssl, never by the
# mock. A contract test against a mock, not interop.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/pki.sh"
. "$NK_ROOT/tests/lib/kms_pki.sh"
. "$NK_ROOT/tests/lib/gcp.sh"

gcp_clear_env
gcp_mock_start || { fail "kms-gcp: the mock did not start ($(cat "$NK_TMP/gcp-mock.out"))"; exit 0; }
export GOOGLE_APPLICATION_CREDENTIALS=$GCP_CREDS/sa-signer.json
allerr=$NK_TMP/all-stderr
printf 'payload to be signed by Cloud KMS' >"$NK_TMP/payload"
payload=$(base64 -w0 "$NK_TMP/payload")
declare -A HASH=([RSA-2048]=SHA-256 [RSA-4096]=SHA-512 [EC-256]=SHA-256 [EC-384]=SHA-384)

# Every run's stderr is kept for the credential check at the end.
eval "$(declare -f plugin | sed '1s/^plugin/nk_plugin_orig/')"
plugin() {
    nk_plugin_orig "$@"
    printf '%s\n' "$ERR" >>"$allerr"
}
# cfg RING/KEY/V [EXTRA-JSON]: pluginConfig for that key's chain, the
# mock's endpoint and CA, plus EXTRA.
cfg() {
    local chain
    chain=$(gcp_chain "$1") || { echo '{}'; return 1; }
    jq -nc --arg c "$chain" --arg e "$GCP_EP" --arg ca "$GCP_CA" --argjson x "${2:-{\}}" \
        '{"certificate-chain":$c,"gcp-kms-endpoint":$e,"ca-bundle":$ca} + $x'
}
dreq() { # KEYID CFG
    jq -nc --arg k "$1" --argjson c "$2" '{contractVersion:"1.0",keyId:$k,pluginConfig:$c}'
}
sreq() { # KEYID SPEC CFG
    jq -nc --arg k "$1" --arg s "$2" --arg h "${HASH[$2]:-SHA-256}" --arg p "$payload" \
        --argjson c "$3" '{contractVersion:"1.0",keyId:$k,keySpec:$s,hashAlgorithm:$h,payload:$p,pluginConfig:$c}'
}
# err_ok NAME CODE REGEX: the last run failed with CODE and a message
# matching REGEX.
err_ok() {
    if [ "$RC" = 1 ] && [ -z "$OUT" ] && printf '%s' "$ERR" | jq -e --arg c "$2" --arg r "$3" \
        '.errorCode==$c and (.errorMessage|test($r))' >/dev/null; then
        pass "$1"
    else
        fail "$1 (rc=$RC err=${ERR:0:400} out=${OUT:0:80})"
    fi
}
# sign_ok NAME RING/KEY/V SPEC [EXTRA-JSON]: generate-signature, then an
# independent check of the signature (PSS salt = hash length, ECDSA r||s).
sign_ok() {
    local name=$1 k=$2 spec=$3 c sig
    c=$(cfg "$k" "${4:-{\}}")
    plugin generate-signature "$(sreq "$(gcp_kid "$k")" "$spec" "$c")"
    sig=$(printf '%s' "$OUT" | jq -r .signature 2>/dev/null)
    if [ "$RC" = 0 ] && [ "$(printf '%s' "$OUT" | jq '.certificateChain|length')" = 3 ] &&
        kms_verify "$(gcp_pub "$k")" "$spec" "$NK_TMP/payload" "$sig" 2>"$NK_TMP/verr"; then
        pass "$name"
    else
        fail "$name (rc=$RC err=${ERR:0:300} verify=$(tail -c 200 "$NK_TMP/verr" 2>/dev/null))"
    fi
}
nocache='{"cache":"false"}'

# 1. The four algorithms notation can use: describe-key, then a signature
# checked independently; the request carries the digest under the key's
# hash and its CRC32C.
declare -A SPEC=([rsa-2048]=RSA-2048 [rsa-4096]=RSA-4096 [ec-256]=EC-256 [ec-384]=EC-384)
declare -A FIELD=([rsa-2048]=sha256 [rsa-4096]=sha512 [ec-256]=sha256 [ec-384]=sha384)
for k in rsa-2048 rsa-4096 ec-256 ec-384; do
    plugin describe-key "$(dreq "$(gcp_kid "notation/$k/1")" "$(cfg "notation/$k/1" "$nocache")")"
    check "kms-gcp describe $k" test "$(printf '%s' "$OUT" | jq -r .keySpec 2>/dev/null)" = "${SPEC[$k]}"
    sign_ok "kms-gcp sign $k" "notation/$k/1" "${SPEC[$k]}" "$nocache"
    check "kms-gcp $k: digest.${FIELD[$k]} and digestCrc32c sent" \
        test "$(gcp_count "(.path|endswith(\"/$k/cryptoKeyVersions/1:asymmetricSign\")) and .digest==[\"${FIELD[$k]}\"] and (.digestCrc32c|type)==\"string\"")" -ge 1
done

# 2. Algorithms notation cannot use: VALIDATION_ERROR naming the algorithm,
# why, and what to create instead.
for k in rsa-3072:RSA_SIGN_PSS_3072_SHA256:'RSA-3072 with SHA-384' \
    pkcs1:RSA_SIGN_PKCS1_2048_SHA256:'not PKCS#1 v1.5' \
    k256:EC_SIGN_SECP256K1_SHA256:'NIST curves' \
    decrypt:RSA_DECRYPT_OAEP_2048_SHA256:'decryption key' \
    symmetric:GOOGLE_SYMMETRIC_ENCRYPTION:'symmetric key'; do
    IFS=: read -r key alg why <<<"$k"
    plugin describe-key "$(dreq "$(gcp_kid "notation/$key/1")" \
        "{\"gcp-kms-endpoint\":\"$GCP_EP\",\"ca-bundle\":\"$GCP_CA\",\"cache\":\"false\"}")"
    err_ok "kms-gcp $alg refused, naming why and the fix" \
        VALIDATION_ERROR "algorithm $alg cannot sign for notation \\(.*$why.*\\); create a key version with RSA_SIGN_PSS_2048_SHA256, RSA_SIGN_PSS_4096_SHA512, EC_SIGN_P256_SHA256 or EC_SIGN_P384_SHA384\$"
done

# 3. Versions: the key id names one; states other than ENABLED are
# VALIDATION_ERROR saying what to do; a version-less id says how to find one.
sign_ok "kms-gcp sign with version 2 of a rotated key" notation/rotated/2 EC-256 "$nocache"
ep="{\"gcp-kms-endpoint\":\"$GCP_EP\",\"ca-bundle\":\"$GCP_CA\",\"cache\":\"false\"}"
for v in 1:DISABLED:'enable it \(gcloud kms keys versions enable\)' 3:DESTROYED:'its key material is gone' \
    4:DESTROY_SCHEDULED:'restore it'; do
    IFS=: read -r ver state fix <<<"$v"
    plugin describe-key "$(dreq "$(gcp_kid "notation/rotated/$ver")" "$ep")"
    err_ok "kms-gcp version $ver $state: VALIDATION_ERROR with the fix" \
        VALIDATION_ERROR "rotated/cryptoKeyVersions/$ver\" is $state, not ENABLED: $fix"
done
expect_error "kms-gcp key id without a version" VALIDATION_ERROR describe-key \
    "$(dreq "gcpkms://projects/nk-test/locations/global/keyRings/notation/cryptoKeys/ec-256" "$ep")" \
    'names no key version.*gcloud kms keys versions list --location global --keyring notation --key ec-256'
expect_error "kms-gcp version that does not exist (404)" VALIDATION_ERROR describe-key \
    "$(dreq "gcpkms://projects/nk-test/locations/global/keyRings/notation/cryptoKeys/ec-256/cryptoKeyVersions/9" "$ep")" \
    'HTTP 404 NOT_FOUND: CryptoKeyVersion .*ec-256/cryptoKeyVersions/9 not found.*request id mock-'
expect_error "kms-gcp malformed key id" VALIDATION_ERROR describe-key \
    "$(dreq "gcpkms://projects/nk-test/locations/global/keyRings/../cryptoKeys/x/cryptoKeyVersions/1" "$ep")" \
    'bad Google Cloud KMS key id'
expect_error "kms-gcp key-version does not apply" VALIDATION_ERROR describe-key \
    "$(dreq "$(gcp_kid notation/ec-256/1)" "{\"key-version\":\"2\"}")" 'names the version'
expect_error "kms-gcp keySpec mismatch" VALIDATION_ERROR generate-signature \
    "$(sreq "$(gcp_kid notation/ec-256/1)" EC-384 "$(cfg notation/ec-256/1 "$nocache")")" 'keySpec "EC-384" does not match'

# 4. Permissions: the viewer may read the public key but not sign; the
# message names Google's status, the permission, a role and the caller.
GOOGLE_APPLICATION_CREDENTIALS=$GCP_CREDS/sa-viewer.json plugin describe-key \
    "$(dreq "$(gcp_kid notation/ec-256/1)" "$(cfg notation/ec-256/1 "$nocache")")"
check "kms-gcp viewer can describe" test "$RC" = 0
GOOGLE_APPLICATION_CREDENTIALS=$GCP_CREDS/sa-viewer.json plugin generate-signature \
    "$(sreq "$(gcp_kid notation/ec-256/1)" EC-256 "$(cfg notation/ec-256/1 "$nocache")")"
err_ok "kms-gcp viewer cannot sign: ACCESS_DENIED naming the permission, role and caller" \
    ACCESS_DENIED 'asymmetricSign: HTTP 403 PERMISSION_DENIED: .*needs permission cloudkms.cryptoKeyVersions.useToSign \(roles/cloudkms.signer.*credentials: service account viewer@nk-test.iam.gserviceaccount.com.*request id mock-'

# 5. CRC32C both ways: damaged answers are refused (after one more try),
# a damaged first answer is retried, a digest Google did not verify or an
# answer for another version is refused, and a key that signs with
# another key is caught before anyone sees the signature.
fk() { gcp_kid "faults/$1/1"; }
fcfg() { cfg "faults/$1/1" "$nocache"; }
plugin describe-key "$(dreq "$(fk bad-pem-crc)" "$(fcfg bad-pem-crc)")"
err_ok "kms-gcp pemCrc32c mismatch: ERROR after 2 answers" ERROR "CRC-32C does not match pemCrc32c in 2 answers"
before=$(gcp_count '.path|endswith("flaky-pem-crc/cryptoKeyVersions/1/publicKey")')
sign_ok "kms-gcp pemCrc32c mismatch once: retried, then signs" faults/flaky-pem-crc/1 EC-256 "$nocache"
check "kms-gcp ... with 2 publicKey requests" \
    test $(($(gcp_count '.path|endswith("flaky-pem-crc/cryptoKeyVersions/1/publicKey")') - before)) = 2
plugin generate-signature "$(sreq "$(fk bad-sig-crc)" EC-256 "$(fcfg bad-sig-crc)")"
err_ok "kms-gcp signatureCrc32c mismatch: ERROR" ERROR 'CRC-32C integrity check failed in 2 answers'
before=$(gcp_count '.path|endswith("flaky-sig-crc/cryptoKeyVersions/1:asymmetricSign")')
sign_ok "kms-gcp signatureCrc32c mismatch once: retried, then signs" faults/flaky-sig-crc/1 EC-256 "$nocache"
check "kms-gcp ... with 2 asymmetricSign requests" \
    test $(($(gcp_count '.path|endswith("flaky-sig-crc/cryptoKeyVersions/1:asymmetricSign")') - before)) = 2
plugin generate-signature "$(sreq "$(fk unverified)" EC-256 "$(fcfg unverified)")"
err_ok "kms-gcp verifiedDigestCrc32c false: ERROR" ERROR 'digest not verified by Google'
plugin generate-signature "$(sreq "$(fk wrong-name)" EC-256 "$(fcfg wrong-name)")"
err_ok "kms-gcp answer for another version: ERROR" ERROR 'answer is for ".*wrong-name/cryptoKeyVersions/2", not the key version'
plugin generate-signature "$(sreq "$(fk liar)" EC-256 "$(cfg faults/liar/1)")"
err_ok "kms-gcp signature by another key: caught, nothing sent" ERROR 'bad signature; nothing was sent'

# 6. Throttling and unavailability: 429 RESOURCE_EXHAUSTED is retried
# within the timeout, then THROTTLED with Google's status and request id;
# a 503 once is retried and signs.
t0=$(date +%s%N)
plugin describe-key "$(dreq "$(fk throttled)" "$(cfg faults/throttled/1 '{"cache":"false","timeout":"2"}')")"
ms=$((($(date +%s%N) - t0) / 1000000))
err_ok "kms-gcp 429 RESOURCE_EXHAUSTED: THROTTLED with the status and request id" \
    THROTTLED 'HTTP 429 after [0-9]+ attempts.*RESOURCE_EXHAUSTED: Quota exceeded.*request id mock-'
check "kms-gcp 429: bounded by the 2 s timeout ($ms ms)" test "$ms" -lt 6000
sign_ok "kms-gcp 503 once, retried" faults/busy-once/1 EC-256 "$nocache"
# A proxy's 502 page instead of Google's error JSON: said so, and no
# empty status or request id made up.
plugin describe-key "$(dreq "$(fk proxy-page)" "$(cfg faults/proxy-page/1 '{"cache":"false","timeout":"2"}')")"
err_ok "kms-gcp 502 page of a proxy: the message says it is not Google's error JSON" \
    THROTTLED 'HTTP 502 after [0-9]+ attempts in [0-9.]+ s: an answer that is not Google.s error JSON \([0-9]+ bytes\)$'
check "kms-gcp ... and names no empty status or request id" \
    bash -c '! printf "%s" "$1" | grep -q "error: \|request id -"' _ "$ERR"
# asymmetricSign: a 429 with Retry-After: 2 is waited out, then signs; a
# 500 once is retried and signs.
t0=$(date +%s%N)
sign_ok "kms-gcp sign: 429 with Retry-After once, then signs" faults/wait-once/1 EC-256 "$nocache"
ms=$((($(date +%s%N) - t0) / 1000000))
check "kms-gcp ... after waiting the 2 s Retry-After asked for ($ms ms), 2 asymmetricSign requests" \
    bash -c "[ $ms -ge 1900 ] && [ $(gcp_count '.path|endswith("wait-once/cryptoKeyVersions/1:asymmetricSign")') = 2 ]"
sign_ok "kms-gcp sign: 500 once, retried, then signs" faults/error-once/1 EC-256 "$nocache"
check "kms-gcp ... with 2 asymmetricSign requests" \
    test "$(gcp_count '.path|endswith("error-once/cryptoKeyVersions/1:asymmetricSign")')" = 2

# 7. Caches: describe-key fetches a token and the public key; the
# generate-signature that follows makes exactly one HTTPS request
# (asymmetricSign); a describe-key with a warm cache loads no libcurl.
rm -rf "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"/notation-keystore
log=$NK_TMP/nk.log
c256=$(cfg notation/ec-256/1)
n0=$(wc -l <"$GCP_LOG")
NOTATION_KEYSTORE_LOG=debug NOTATION_KEYSTORE_LOG_FILE=$log \
    plugin describe-key "$(dreq "$(gcp_kid notation/ec-256/1)" "$c256")"
check "kms-gcp cold describe-key: a token and the public key (2 requests)" \
    test "$RC" = 0 -a $(($(wc -l <"$GCP_LOG") - n0)) = 2
n0=$(wc -l <"$GCP_LOG")
NOTATION_KEYSTORE_LOG=debug NOTATION_KEYSTORE_LOG_FILE=$log.2 \
    sign_ok "kms-gcp sign after describe (warm caches)" notation/ec-256/1 EC-256
check "kms-gcp warm generate-signature: exactly one HTTPS request, asymmetricSign" \
    bash -c "[ \$(wc -l <'$GCP_LOG') = $((n0 + 1)) ] && tail -1 '$GCP_LOG' | jq -e '(.path|endswith(\":asymmetricSign\")) and .tls' >/dev/null &&
        [ \$(grep -c 'http ' '$log.2') = 1 ] && grep -q 'key cache hit' '$log.2' && grep -q 'token cache [0-9a-f]*: hit' '$log.2'"
printf '%s' "$(dreq "$(gcp_kid notation/ec-256/1)" "$c256")" |
    LD_DEBUG=files "$NK_BIN" describe-key >/dev/null 2>"$NK_TMP/ld"
check "kms-gcp cached describe-key does not even load libcurl" \
    bash -c "grep -q 'calling init' '$NK_TMP/ld' && ! grep -q libcurl '$NK_TMP/ld'"
tokdir=$XDG_RUNTIME_DIR/notation-keystore
check "kms-gcp token cache: directory 0700, entry 0600" bash -c "
    [ \"\$(stat -c %a '$tokdir')\" = 700 ] && e=\$(ls '$tokdir'/*.json) && [ \"\$(stat -c %a \$e)\" = 600 ]"
token=$(jq -r .token "$tokdir"/*.json 2>/dev/null | head -1)
check "kms-gcp the cached token is a real one, and not in the key cache" \
    bash -c "[ -n '$token' ] && [ '$token' != null ] && ! grep -rqF -- '$token' '$XDG_CACHE_HOME'"
# A token Google no longer takes (revoked): dropped, a fresh one fetched,
# the signature made; one more token request, no error.
curl -sf --cacert "$GCP_CA" -X POST "$GCP_EP/ctl/revoke" >/dev/null
n0=$(gcp_count '.path=="/token"')
sign_ok "kms-gcp cached token revoked: refetched, signs" notation/ec-256/1 EC-256
check "kms-gcp ... with one new token request" test $(($(gcp_count '.path=="/token"') - n0)) = 1
check "kms-gcp ... and the revoked token left the cache" bash -c "! grep -rqF -- '$token' '$tokdir'"
# token-cache=false: every run asks for a token and stores none.
rm -rf "$tokdir"
n0=$(gcp_count '.path=="/token"')
sign_ok "kms-gcp token-cache=false signs" notation/ec-256/1 EC-256 '{"token-cache":"false"}'
sign_ok "kms-gcp token-cache=false signs again" notation/ec-256/1 EC-256 '{"token-cache":"false"}'
check "kms-gcp token-cache=false: a token request per run, nothing stored" \
    bash -c "[ $(($(gcp_count '.path=="/token"') - n0)) = 2 ] && ! ls '$tokdir'/*.json >/dev/null 2>&1"
# A token cache reached through a symbolic link is not used.
rm -rf "$tokdir" && mkdir -p -m 700 "$NK_TMP/elsewhere" && ln -s "$NK_TMP/elsewhere" "$tokdir"
sign_ok "kms-gcp token cache behind a symlink: signs without it" notation/ec-256/1 EC-256
check "kms-gcp ... and stores nothing there" bash -c "! ls '$NK_TMP/elsewhere'/*.json >/dev/null 2>&1"
rm -f "$tokdir"

# 8. Notation envelopes (mode=envelope, JWS and COSE) checked by
# independent code, and a raw JWS signature as make demo makes one,
# checked with openssl.
PTYPE=application/vnd.cncf.notary.payload.v1+json
printf '{"targetArtifact":{"digest":"sha256:%s","mediaType":"application/vnd.oci.image.manifest.v1+json","size":528}}' \
    "$(printf 'gcp' | sha256sum | cut -d' ' -f1)" >"$NK_TMP/payload.json"
for k in notation/ec-384/1:EC-384 notation/rsa-2048/1:RSA-2048; do
    IFS=: read -r key spec <<<"$k"
    for type in application/jose+json application/cose; do
        c=$(cfg "$key" '{"mode":"envelope"}')
        plugin generate-envelope "$(jq -nc --arg k "$(gcp_kid "$key")" --arg t "$type" --arg pt "$PTYPE" \
            --arg p "$(base64 -w0 "$NK_TMP/payload.json")" --argjson c "$c" \
            '{contractVersion:"1.0",keyId:$k,payloadType:$pt,signatureEnvelopeType:$t,payload:$p,pluginConfig:$c}')"
        checker=check_jws.py
        [ "$type" = application/cose ] && checker=check_cose.py
        if [ "$RC" = 0 ] && printf '%s' "$OUT" | jq -r .signatureEnvelope | base64 -d >"$NK_TMP/env" &&
            "$NK_PY" "$NK_ROOT/tests/lib/$checker" "$NK_TMP/env" --payload "$NK_TMP/payload.json" \
                --keyspec "$spec" --root "$NK_TMP/gcp-pki/root.pem" >"$NK_TMP/check.log" 2>&1; then
            pass "kms-gcp envelope $spec ${type#application/}"
        else
            fail "kms-gcp envelope $spec ${type#application/} (rc=$RC err=${ERR:0:200} $(cat "$NK_TMP/check.log" 2>/dev/null))"
        fi
    done
done
demo_jws() {
    local hdr pl tbs sig
    hdr=$(printf '{"alg":"ES256","crit":["io.cncf.notary.signingScheme"],"cty":"%s","io.cncf.notary.signingScheme":"notary.x509","io.cncf.notary.signingTime":"%s"}' \
        "$PTYPE" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" | basenc --base64url -w0 | tr -d =)
    pl=$(basenc --base64url -w0 <"$NK_TMP/payload.json" | tr -d =)
    tbs=$NK_TMP/demo.tbs
    printf '%s.%s' "$hdr" "$pl" >"$tbs"
    plugin generate-signature "$(jq -nc --arg k "$(gcp_kid notation/ec-256/1)" --arg p "$(base64 -w0 "$tbs")" \
        --argjson c "$(cfg notation/ec-256/1)" \
        '{contractVersion:"1.0",keyId:$k,keySpec:"EC-256",hashAlgorithm:"SHA-256",payload:$p,pluginConfig:$c}')"
    [ "$RC" = 0 ] || return 1
    printf '%s' "$OUT" | jq -r .signature | base64 -d >"$NK_TMP/demo.raw" || return 1
    printf '%s' "$OUT" | jq -r '.certificateChain[0]' | base64 -d |
        openssl x509 -inform DER -pubkey -noout >"$NK_TMP/demo.pub" || return 1
    "$NK_PY" -c 'import sys
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature as e
r = open(sys.argv[1], "rb").read(); h = len(r) // 2
assert h == 32
open(sys.argv[2], "wb").write(e(int.from_bytes(r[:h], "big"), int.from_bytes(r[h:], "big")))' \
        "$NK_TMP/demo.raw" "$NK_TMP/demo.der" || return 1
    openssl dgst -sha256 -verify "$NK_TMP/demo.pub" -signature "$NK_TMP/demo.der" "$tbs" >/dev/null
}
check "kms-gcp demo-style JWS signing input: openssl verifies with the leaf" demo_jws

# 9. Companion commands through the signer interface.
export NOTATION_CONFIG=$NK_TMP/notation
cli() { # NAME RC REGEX ARGS...
    local name=$1 want=$2 re=$3 out rc
    shift 3
    out=$(cd "$NK_TMP" && "$NK_BIN" "$@" 2>&1)
    rc=$?
    printf '%s\n' "$out" >>"$allerr"
    # The regex may span lines.
    if [ "$rc" = "$want" ] && printf '%s' "$out" | tr '\n' ' ' | grep -Eq -- "$re"; then
        pass "$name"
    else
        fail "$name (rc=$rc: ${out:0:1200})"
    fi
}
epc=(--plugin-config "gcp-kms-endpoint=$GCP_EP" --plugin-config "ca-bundle=$GCP_CA")
cli "kms-gcp keys --id" 0 'backend: +gcpkms.*EC-384 \(ECDSA-SHA-384\)' keys --id "$(gcp_kid notation/ec-384/1)" "${epc[@]}"
for k in ec-384 rsa-2048; do
    cli "kms-gcp cert generate-test signed by Cloud KMS ($k)" 0 "certificate-chain=.*/g-$k.crt" \
        cert generate-test --id "$(gcp_kid "notation/$k/1")" "g-$k" "${epc[@]}"
    check "kms-gcp openssl verifies the $k certificate" \
        bash -c "openssl verify -partial_chain -check_ss_sig -CAfile '$NK_TMP/g-$k.crt' '$NK_TMP/g-$k.crt' >/dev/null"
    cli "kms-gcp doctor passes, naming the credentials ($k)" 0 \
        'PASS +credentials +service account signer@nk-test.iam.gserviceaccount.com \(GOOGLE_APPLICATION_CREDENTIALS\).*PASS +test signature.*all checks passed' \
        doctor --id "$(gcp_kid "notation/$k/1")" "${epc[@]}" --plugin-config certificate-chain="$NK_TMP/g-$k.crt"
done
cli "kms-gcp cert request" 0 'BEGIN CERTIFICATE REQUEST' cert request --id "$(gcp_kid notation/ec-256/1)" \
    --subject "C=US, ST=WA, O=Acme, CN=gcp" "${epc[@]}"
GOOGLE_APPLICATION_CREDENTIALS=$GCP_CREDS/sa-viewer.json cli "kms-gcp doctor: no sign permission is a failed test signature naming it" 1 \
    'FAIL +test signature .*cloudkms.cryptoKeyVersions.useToSign.*fix: .*roles/cloudkms.signer' \
    doctor --id "$(gcp_kid notation/ec-384/1)" "${epc[@]}" --plugin-config certificate-chain="$NK_TMP/g-ec-384.crt"
GOOGLE_APPLICATION_CREDENTIALS=$NK_TMP/none.json cli "kms-gcp doctor: unreadable credentials file" 1 \
    'FAIL +key store .*Google credentials file \(GOOGLE_APPLICATION_CREDENTIALS\)' doctor --id "$(gcp_kid notation/ec-384/1)" "${epc[@]}"

# 10. Endpoints: plain http on loopback; gcloud's override variable (with
# its trailing /v1/); plain http elsewhere refused; TLS without the CA.
sign_ok "kms-gcp plain http on loopback" notation/ec-256/1 EC-256 \
    "{\"gcp-kms-endpoint\":\"http://127.0.0.1:$GCP_HPORT\",\"cache\":\"false\"}"
c=$(cfg notation/ec-256/1 "$nocache" | jq -c 'del(."gcp-kms-endpoint")')
CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS=$GCP_EP/v1/ plugin generate-signature \
    "$(sreq "$(gcp_kid notation/ec-256/1)" EC-256 "$c")"
check "kms-gcp CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS" test "$RC" = 0
expect_error "kms-gcp plain http off loopback refused" VALIDATION_ERROR describe-key \
    "$(dreq "$(gcp_kid notation/ec-256/1)" '{"gcp-kms-endpoint":"http://kms.example.com","cache":"false"}')" 'loopback'
expect_error "kms-gcp endpoint not a URL" VALIDATION_ERROR describe-key \
    "$(dreq "$(gcp_kid notation/ec-256/1)" '{"gcp-kms-endpoint":"kms.example.com","cache":"false"}')" 'https:// URL'
expect_error "kms-gcp TLS without the test CA" ERROR describe-key \
    "$(dreq "$(gcp_kid notation/ec-256/1)" "{\"gcp-kms-endpoint\":\"$GCP_EP\",\"cache\":\"false\",\"token-cache\":\"false\"}")" \
    'TLS|certificate'

# 11. No credential in any error message, the trace logs or the key cache:
# the service account's private key, the user's secrets, the CI job token,
# and the access tokens the mock issued.
secrets=()
mapfile -t secrets < <(jq -r '.secrets[]' "$GCP_SETUP")
leak=0
for s in "${secrets[@]}" "$token"; do
    [ -n "$s" ] && grep -rqF -- "$s" "$allerr" "$log" "$log.2" "$XDG_CACHE_HOME" && leak=1
done
check "kms-gcp no credential in stderr, logs or the key cache ($(wc -l <"$allerr") lines, ${#secrets[@]} secrets)" \
    test "$leak" = 0 -a "${#secrets[@]}" -ge 5
check "kms-gcp stderr really was captured" grep -q 'PERMISSION_DENIED' "$allerr"
