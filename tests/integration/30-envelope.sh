#!/usr/bin/env bash
# generate-envelope on SoftHSM: all six key specs in JWS and COSE, each
# envelope checked by independent code (tests/lib/check_jws.py with
# jwcrypto, tests/lib/check_cose.py with cbor2 + cryptography); expiry and
# the verification-plugin attributes present and absent; RFC 3161
# timestamps from a local `openssl ts -reply` TSA checked with
# `openssl ts -verify`, and the TSA failures; request errors.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/softhsm.sh"
. "$NK_ROOT/tests/lib/tsa.sh"

if [ ! -x "$NK_BIN" ]; then
    fail "envelope: plugin binary $NK_BIN not built"
    exit 1
fi
if ! softhsm_std_token "$NK_TMP/std" >"$NK_TMP/setup.log" 2>&1; then
    cat "$NK_TMP/setup.log"
    fail "envelope: SoftHSM token setup"
    exit 1
fi
export NOTATION_KEYSTORE_PIN=$NK_P11_PIN
unset NOTATION_KEYSTORE_PKCS11_MODULE
if ! tsa_setup "$NK_TMP/tsa" >"$NK_TMP/tsa.log" 2>&1 || ! tsa_start "$NK_TMP/tsa"; then
    cat "$NK_TMP/tsa.log"
    fail "envelope: local TSA setup"
    exit 1
fi

JWS=application/jose+json
COSE=application/cose
PTYPE=application/vnd.cncf.notary.payload.v1+json
PAYLOAD='{"targetArtifact":{"annotations":{"org.example":"x"},"digest":"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","mediaType":"application/vnd.oci.image.manifest.v1+json","size":528}}'
printf '%s' "$PAYLOAD" >"$NK_TMP/payload.json"
PAYLOAD_B64=$(base64 -w0 <"$NK_TMP/payload.json")

key_id() { echo "pkcs11:token=nk-test;object=$1?module-path=$NK_P11_MODULE"; }
spec_of() {
    case $1 in
    rsa2048) echo RSA-2048 ;; rsa3072) echo RSA-3072 ;;
    rsa4096) echo RSA-4096 ;; ec256) echo EC-256 ;;
    ec384) echo EC-384 ;; ec521) echo EC-521 ;;
    esac
}

# request KEYNAME ENVTYPE CONFIG-JSON [EXTRA-MEMBERS]
request() {
    printf '{"contractVersion":"1.0","keyId":"%s","payloadType":"%s","signatureEnvelopeType":"%s","payload":"%s","pluginConfig":%s%s}' \
        "$(key_id "$1")" "$PTYPE" "$2" "$PAYLOAD_B64" "$3" "${4:+,$4}"
}

CFG='{"mode":"envelope","ca-certs":"'$NK_P11_CA'"}'
cfg_with() { printf '%s' "$CFG" | jq -c ". + $1"; }

# sign_check NAME KEY TYPE CONFIG EXTRA CHECKER-ARGS...: signs, decodes the
# envelope to $NK_TMP/env and runs the checker for TYPE on it.
sign_check() {
    local name=$1 key=$2 type=$3 cfg=$4 extra=$5 t0 t1 checker
    shift 5
    t0=$(date +%s)
    plugin generate-envelope "$(request "$key" "$type" "$cfg" "$extra")"
    t1=$(date +%s)
    if [ "$RC" != 0 ]; then
        fail "$name (rc=$RC err=${ERR:0:300})"
        return 1
    fi
    if [ "$(printf '%s' "$OUT" | jq -r .signatureEnvelopeType)" != "$type" ] ||
        [ "$(printf '%s' "$OUT" | jq -r 'keys - ["annotations"] | join(",")')" != \
            "signatureEnvelope,signatureEnvelopeType" ]; then
        fail "$name (response ${OUT:0:200})"
        return 1
    fi
    if ! printf '%s' "$OUT" | jq -r .signatureEnvelope | base64 -d >"$NK_TMP/env" 2>/dev/null; then
        fail "$name (envelope is not standard base64)"
        return 1
    fi
    checker=check_jws.py
    [ "$type" = "$COSE" ] && checker=check_cose.py
    if "$NK_PY" "$NK_ROOT/tests/lib/$checker" "$NK_TMP/env" \
        --payload "$NK_TMP/payload.json" --keyspec "$(spec_of "$key")" \
        --root "$NK_P11_PKI/root.pem" --not-before "$t0" --not-after "$t1" \
        "$@" >"$NK_TMP/check.log" 2>&1; then
        pass "$name"
    else
        fail "$name ($(cat "$NK_TMP/check.log"))"
        return 1
    fi
}

# ---- six key specs x two formats; expiry and verification-plugin vary ----
for key in $PKI_NAMES; do
    sign_check "envelope: $key JWS (default attributes)" "$key" "$JWS" "$CFG" ""
    sign_check "envelope: $key COSE (default attributes)" "$key" "$COSE" "$CFG" ""
done
for type in "$JWS" "$COSE"; do
    t=${type#application/}
    sign_check "envelope: $t with expiry" ec384 "$type" "$CFG" \
        '"expiryDurationInSeconds":86400' --expiry 86400
    sign_check "envelope: $t verification-plugin=false" rsa3072 "$type" \
        "$(cfg_with '{"verification-plugin":"false"}')" "" --no-vplugin
    sign_check "envelope: $t expiry, no verification plugin" ec521 "$type" \
        "$(cfg_with '{"verification-plugin":"false"}')" \
        '"expiryDurationInSeconds":3600' --expiry 3600 --no-vplugin
done

# The checkers must catch a broken envelope (they are the oracle).
sign_check "envelope: checker baseline (JWS, tamper)" ec256 "$JWS" "$CFG" ""
"$NK_PY" - "$NK_TMP/env" <<'PY'
import json, sys
env = json.load(open(sys.argv[1]))
s = env["signature"]
env["signature"] = ("A" if s[0] != "A" else "B") + s[1:]
json.dump(env, open(sys.argv[1], "w"))
PY
check "envelope: check_jws rejects a tampered signature" \
    bash -c "! '$NK_PY' '$NK_ROOT/tests/lib/check_jws.py' '$NK_TMP/env' --payload '$NK_TMP/payload.json' --keyspec EC-256 >/dev/null 2>&1"
sign_check "envelope: checker baseline (JWS, expiry)" ec256 "$JWS" "$CFG" ""
check "envelope: check_jws notices a missing expiry" \
    bash -c "! '$NK_PY' '$NK_ROOT/tests/lib/check_jws.py' '$NK_TMP/env' --payload '$NK_TMP/payload.json' --keyspec EC-256 --expiry 60 >/dev/null 2>&1"
sign_check "envelope: checker baseline (COSE)" ec256 "$COSE" "$CFG" ""
printf 'x' >>"$NK_TMP/payload.json"
check "envelope: check_cose notices a changed payload" \
    bash -c "! '$NK_PY' '$NK_ROOT/tests/lib/check_cose.py' '$NK_TMP/env' --payload '$NK_TMP/payload.json' --keyspec EC-256 >/dev/null 2>&1"
printf '%s' "$PAYLOAD" >"$NK_TMP/payload.json"

# ---- timestamps ----
TSA_CFG() { cfg_with '{"timestamp-url":"'"$TSA_URL/$1"'","timestamp-root-cert":"'"$NK_TMP/tsa/tsa-root.pem"'"'"${2:+,$2}"'}'; }

# ts_verify NAME: the token in $NK_TMP/tst.der stamps $NK_TMP/sig.bin.
ts_verify() {
    if openssl ts -verify -data "$NK_TMP/sig.bin" -in "$NK_TMP/tst.der" \
        -token_in -CAfile "$NK_TMP/tsa/tsa-root.pem" \
        -untrusted "$NK_TMP/tsa/tsa.pem" >"$NK_TMP/tsv.log" 2>&1; then
        pass "$1"
    else
        fail "$1 ($(tr '\n' ' ' <"$NK_TMP/tsv.log"))"
    fi
}

for key in ec256 rsa3072; do
    for type in "$JWS" "$COSE"; do
        t=${type#application/}
        rm -f "$NK_TMP/sig.bin" "$NK_TMP/tst.der"
        if sign_check "envelope: $key $t timestamped" "$key" "$type" \
            "$(TSA_CFG ok)" "" --timestamp --sig-out "$NK_TMP/sig.bin" \
            --tst-out "$NK_TMP/tst.der"; then
            ts_verify "envelope: $key $t token verifies with openssl ts"
        fi
    done
done
# A DER root works as well as PEM.
openssl x509 -in "$NK_TMP/tsa/tsa-root.pem" -outform DER -out "$NK_TMP/tsa/tsa-root.der"
sign_check "envelope: DER timestamp-root-cert" ec384 "$COSE" \
    "$(cfg_with '{"timestamp-url":"'"$TSA_URL/ok"'","timestamp-root-cert":"'"$NK_TMP/tsa/tsa-root.der"'"}')" \
    "" --timestamp

TSREQ() { request ec256 "$JWS" "$(TSA_CFG "$@")"; }
DEAD=$(free_port)
# Unreachable counts as TIMEOUT (issue 3), with the cause in the message.
expect_error "envelope: TSA down gives TIMEOUT" TIMEOUT generate-envelope \
    "$(request ec256 "$JWS" "$(cfg_with '{"timestamp-url":"http://127.0.0.1:'"$DEAD"'/","timestamp-root-cert":"'"$NK_TMP/tsa/tsa-root.pem"'"}')")" \
    'timestamp authority .* is unreachable .*connect'
start=$(date +%s%N)
expect_error "envelope: TSA slow gives TIMEOUT" TIMEOUT generate-envelope \
    "$(TSREQ slow '"timestamp-timeout":"1"')" 'timestamp'
elapsed=$((($(date +%s%N) - start) / 1000000))
if [ "$elapsed" -lt 4000 ]; then
    pass "envelope: TSA timeout bounded (under 4 s with timestamp-timeout=1)"
else
    fail "envelope: TSA timeout bounded (took $elapsed ms)"
fi
expect_error "envelope: TSA garbage" ERROR generate-envelope "$(TSREQ garbage)" \
    'not a DER RFC 3161'
expect_error "envelope: TSA extra EKU" ERROR generate-envelope "$(TSREQ badeku)" \
    'timeStamping only'
expect_error "envelope: TSA wrong nonce" ERROR generate-envelope "$(TSREQ nonce)" \
    'nonce mismatch'
# The same reply to the same imprint, only the nonce differs.
expect_error "envelope: TSA reply differing only in its nonce" ERROR \
    generate-envelope "$(TSREQ othernonce)" 'answer rejected: nonce mismatch'
expect_error "envelope: TSA ESS v1 only" ERROR generate-envelope "$(TSREQ ess1)" \
    'signing-certificate-v2'
expect_error "envelope: TSA HTTP 500" ERROR generate-envelope "$(TSREQ status500)" \
    'HTTP 500'
expect_error "envelope: TSA wrong content type" ERROR generate-envelope \
    "$(TSREQ ctype)" 'content type'
expect_error "envelope: TSA token for another root" ERROR generate-envelope \
    "$(request ec256 "$COSE" "$(cfg_with '{"timestamp-url":"'"$TSA_URL/ok"'","timestamp-root-cert":"'"$NK_P11_PKI/root.pem"'"}')")" \
    'does not verify'

# Credentials in timestamp-url (user:password@, an API key in the query)
# reach neither stderr nor the trace log, whether the TSA answers or not.
CRED_LOG=$NK_TMP/cred-trace.log CRED_ERR=$NK_TMP/cred-stderr
: >"$CRED_ERR"
cred_run() { # NAME CODE URL [REGEX]: CODE "" means success
    local req
    req=$(request ec256 "$JWS" "$(cfg_with '{"timestamp-url":"'"$3"'","timestamp-root-cert":"'"$NK_TMP/tsa/tsa-root.pem"'"}')")
    if [ -z "$2" ]; then
        NOTATION_KEYSTORE_LOG=debug NOTATION_KEYSTORE_LOG_FILE=$CRED_LOG \
            expect_ok "$1" generate-envelope "$req"
    else
        NOTATION_KEYSTORE_LOG=debug NOTATION_KEYSTORE_LOG_FILE=$CRED_LOG \
            expect_error "$1" "$2" generate-envelope "$req" "${4-}"
    fi
    printf '%s\n' "$ERR" >>"$CRED_ERR"
}
TSA_HOSTPORT=${TSA_URL#http://}
cred_run "envelope: TSA with credentials, unreachable" TIMEOUT \
    "https://user:s3cret@127.0.0.1:$DEAD/tsa?apikey=s3cret2" \
    '"https://127.0.0.1:'"$DEAD"'/tsa" is unreachable'
cred_run "envelope: TSA with credentials, TLS to a plain server" ERROR \
    "https://user:s3cret@$TSA_HOSTPORT/ok?apikey=s3cret2" 'TLS'
cred_run "envelope: TSA with credentials, HTTP 500" ERROR \
    "http://user:s3cret@$TSA_HOSTPORT/status500?apikey=s3cret2" \
    '"http://'"$TSA_HOSTPORT"'/status500" answered HTTP 500'
cred_run "envelope: TSA with credentials, wrong content type" ERROR \
    "http://user:s3cret@$TSA_HOSTPORT/ctype?apikey=s3cret2" 'content type'
cred_run "envelope: TSA URL with credentials and a bad scheme" VALIDATION_ERROR \
    "ftp://user:s3cret@$TSA_HOSTPORT/tsa?apikey=s3cret2" '"ftp://'"$TSA_HOSTPORT"'/tsa"'
cred_run "envelope: TSA with credentials, timestamped" "" \
    "http://user:s3cret@$TSA_HOSTPORT/ok?apikey=s3cret2"
check "envelope: the credential runs were traced" \
    grep -q "timestamp from http://$TSA_HOSTPORT/ok " "$CRED_LOG"
check "envelope: their stderr was captured" grep -q 'answered HTTP 500' "$CRED_ERR"
check "envelope: no timestamp-url password or API key in stderr or the log" \
    bash -c '! grep -qF s3cret "$0" "$1"' "$CRED_ERR" "$CRED_LOG"

# ---- request and configuration errors ----
expect_error "envelope: unsupported envelope type" VALIDATION_ERROR generate-envelope \
    "$(request ec256 application/x-pkcs7 "$CFG")" 'signatureEnvelopeType'
expect_error "envelope: unsupported payload type" VALIDATION_ERROR generate-envelope \
    "$(request ec256 "$JWS" "$CFG" | jq -c '.payloadType="application/json"')" 'payloadType'
expect_error "envelope: payload not a notary payload" VALIDATION_ERROR generate-envelope \
    "$(request ec256 "$JWS" "$CFG" | jq -c --arg p "$(printf '{"subject":1}' | base64 -w0)" '.payload=$p')" \
    'payload'
expect_error "envelope: payload digest malformed" VALIDATION_ERROR generate-envelope \
    "$(request ec256 "$COSE" "$CFG" | jq -c --arg p "$(printf '{"targetArtifact":{"mediaType":"a/b","digest":"sha256:xyz","size":1}}' | base64 -w0)" '.payload=$p')" \
    'digest'
for bad in -5 0 1.5 '"60"'; do
    expect_error "envelope: bad expiry $bad" VALIDATION_ERROR generate-envelope \
        "$(request ec256 "$JWS" "$CFG" "\"expiryDurationInSeconds\":$bad")" \
        'expiryDurationInSeconds'
done
expect_error "envelope: timestamp-url without root" VALIDATION_ERROR generate-envelope \
    "$(request ec256 "$JWS" "$(cfg_with '{"timestamp-url":"'"$TSA_URL"'/ok"}')")" \
    'timestamp-root-cert'
expect_error "envelope: timestamp root without url" VALIDATION_ERROR generate-envelope \
    "$(request ec256 "$JWS" "$(cfg_with '{"timestamp-root-cert":"'"$NK_TMP/tsa/tsa-root.pem"'"}')")" \
    'timestamp-url'
expect_error "envelope: timestamp root not self-signed" VALIDATION_ERROR generate-envelope \
    "$(request ec256 "$JWS" "$(cfg_with '{"timestamp-url":"'"$TSA_URL"'/ok","timestamp-root-cert":"'"$NK_TMP/tsa/tsa.pem"'"}')")" \
    'self-signed'
expect_error "envelope: bad verification-plugin" VALIDATION_ERROR generate-envelope \
    "$(request ec256 "$JWS" "$(cfg_with '{"verification-plugin":"maybe"}')")" \
    'verification-plugin'
expect_error "envelope: bad mode (generate-envelope)" VALIDATION_ERROR generate-envelope \
    "$(request ec256 "$JWS" "$(cfg_with '{"mode":"both"}')")" 'mode'
expect_error "envelope: bad mode (metadata)" VALIDATION_ERROR get-plugin-metadata \
    '{"pluginConfig":{"mode":"both"}}' 'mode'
expect_error "envelope: wrong contract version" UNSUPPORTED_CONTRACT_VERSION generate-envelope \
    "$(request ec256 "$JWS" "$CFG" | jq -c '.contractVersion="2.0"')"

# ---- metadata follows the mode ----
plugin get-plugin-metadata '{"pluginConfig":{"mode":"envelope"}}'
check "envelope: metadata lists ENVELOPE, not RAW, in envelope mode" \
    test "$(printf '%s' "$OUT" | jq -c '[.capabilities[] | select(startswith("SIGNATURE_GENERATOR"))]')" = '["SIGNATURE_GENERATOR.ENVELOPE"]'
plugin get-plugin-metadata '{}'
check "envelope: metadata lists RAW by default" \
    test "$(printf '%s' "$OUT" | jq -c '[.capabilities[] | select(startswith("SIGNATURE_GENERATOR"))]')" = '["SIGNATURE_GENERATOR.RAW"]'
