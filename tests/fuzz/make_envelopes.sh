#!/usr/bin/env bash
# Seed envelopes for fuzz_sigenv, made by the plugin itself: generate-envelope
# on a SoftHSM token (tests/lib/softhsm.sh), JWS and COSE, with and without
# expiry, verification-plugin attributes and an RFC 3161 timestamp from the
# local TSA (tests/lib/tsa.sh).
#   tests/fuzz/make_envelopes.sh OUTDIR     writes OUTDIR/fuzz_sigenv/*.sig
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/softhsm.sh"
. "$NK_ROOT/tests/lib/tsa.sh"
out=$1/fuzz_sigenv
mkdir -p "$out"
if ! softhsm_std_token "$NK_TMP/std" >"$NK_TMP/setup.log" 2>&1 ||
    ! tsa_setup "$NK_TMP/tsa" >"$NK_TMP/tsa.log" 2>&1 ||
    ! tsa_start "$NK_TMP/tsa"; then
    cat "$NK_TMP/setup.log" "$NK_TMP/tsa.log" 2>/dev/null
    exit 1
fi
export NOTATION_KEYSTORE_PIN=$NK_P11_PIN
unset NOTATION_KEYSTORE_PKCS11_MODULE
payload=$(printf '%s' '{"targetArtifact":{"digest":"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","mediaType":"application/vnd.oci.image.manifest.v1+json","size":528}}' | base64 -w0)
base='{"mode":"envelope","ca-certs":"'$NK_P11_CA'"'
tsa=',"timestamp-url":"'$TSA_URL/ok'","timestamp-root-cert":"'$NK_TMP/tsa/tsa-root.pem'"'
# envelope FILE KEY TYPE EXTRA-CONFIG [EXTRA-MEMBERS]
envelope() {
    plugin generate-envelope "$(printf '{"contractVersion":"1.0","keyId":"pkcs11:token=nk-test;object=%s?module-path=%s","payloadType":"application/vnd.cncf.notary.payload.v1+json","signatureEnvelopeType":"%s","payload":"%s","pluginConfig":%s%s}' \
        "$2" "$NK_P11_MODULE" "$3" "$payload" "$base$4}" "${5:+,$5}")"
    [ "$RC" = 0 ] || { echo "generate-envelope $1: ${ERR:0:300}" >&2; exit 1; }
    printf '%s' "$OUT" | jq -r .signatureEnvelope | base64 -d >"$out/$1"
}
for t in jws cose; do
    type=application/jose+json
    [ $t = cose ] && type=application/cose
    envelope "ec256.$t.sig" ec256 "$type" ''
    envelope "rsa2048-expiry.$t.sig" rsa2048 "$type" '' '"expiryDurationInSeconds":86400'
    envelope "ec384-novplugin.$t.sig" ec384 "$type" ',"verification-plugin":"false"'
    envelope "ec256-timestamp.$t.sig" ec256 "$type" "$tsa"
done
ls "$out"
