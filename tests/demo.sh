#!/usr/bin/env bash
# make demo: a throwaway SoftHSM token with an EC P-256 key and a
# code-signing certificate chain, then exactly the plugin calls notation
# makes for a JWS signature over an OCI descriptor, the result checked with
# openssl and python3-jwcrypto. With `notation` on PATH it also signs and
# verifies an OCI image layout through notation itself.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/build/notation-keystore
PY=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/nk-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
NK_TMP=$work
. "$ROOT/tests/lib/softhsm.sh"

say() { printf '  %-34s %s\n' "$1" "$2"; }
need() {
    command -v "$1" >/dev/null 2>&1 || {
        echo "make demo needs '$1' (run: sudo bash .ci/run, or apt-get install $2)" >&2
        exit 1
    }
}
need softhsm2-util softhsm2
need pkcs11-tool opensc
need openssl openssl
need jq jq

echo "notation-keystore $("$BIN" --version | cut -d' ' -f2) demo"
t0=$(date +%s%N)
pki_ca "$work/pki" && pki_leaf "$work/pki" ec256 >/dev/null
softhsm_init "$work/softhsm" demo-token 12345678 4321
softhsm_import_key demo-token 01 release "$work/pki/ec256.key" "$work/pki/ec256.pem"
rm -f "$work/pki/ec256.key" "$work/pki/ec256.key.der" # the key now lives only in the token
say "token" "SoftHSM \"demo-token\" in $work/softhsm ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"

KEY="pkcs11:token=demo-token;object=release?module-path=$NK_P11_MODULE"
CFG=$(jq -nc --arg ca "$work/pki/ca-certs.pem" '{"ca-certs":$ca}')
export NOTATION_KEYSTORE_PIN=4321
call() { # call COMMAND JSON -> stdout JSON
    printf '%s' "$2" | "$BIN" "$1"
}

# 1. get-plugin-metadata
meta=$(call get-plugin-metadata "$(jq -nc --argjson c "$CFG" '{pluginConfig:$c}')")
say "get-plugin-metadata" "$(jq -r '"\(.name) \(.version) \(.capabilities|join(","))"' <<<"$meta")"

# 2. describe-key
desc=$(call describe-key "$(jq -nc --arg k "$KEY" --argjson c "$CFG" \
    '{contractVersion:"1.0",keyId:$k,pluginConfig:$c}')")
spec=$(jq -r .keySpec <<<"$desc")
say "describe-key" "keySpec $spec"

# 3. generate-signature over a JWS signing input for an OCI descriptor,
#    built the way notation builds it (sorted compact JSON, whole seconds).
"$PY" - "$work" <<'PY'
import base64, json, sys, time
d = sys.argv[1]
b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")
payload = json.dumps({"targetArtifact": {
    "digest": "sha256:" + "ab" * 32,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "size": 528}}, sort_keys=True, separators=(",", ":")).encode()
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
hdr = json.dumps({"alg": "ES256", "crit": ["io.cncf.notary.signingScheme"],
    "cty": "application/vnd.cncf.notary.payload.v1+json",
    "io.cncf.notary.signingScheme": "notary.x509",
    "io.cncf.notary.signingTime": now}, sort_keys=True,
    separators=(",", ":")).encode()
open(d + "/protected", "wb").write(b64u(hdr))
open(d + "/payload", "wb").write(b64u(payload))
open(d + "/tbs", "wb").write(b64u(hdr) + b"." + b64u(payload))
PY
req=$(jq -nc --arg k "$KEY" --arg s "$spec" --arg p "$(base64 -w0 "$work/tbs")" \
    --argjson c "$CFG" '{contractVersion:"1.0",keyId:$k,keySpec:$s,
    hashAlgorithm:"SHA-256",payload:$p,pluginConfig:$c}')
t0=$(date +%s%N)
sig=$(call generate-signature "$req")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
say "generate-signature" "$(jq -r .signingAlgorithm <<<"$sig"), chain of $(jq '.certificateChain|length' <<<"$sig") ($ms ms)"

# 4. Check it with code that is not ours.
jq -r .signature <<<"$sig" | base64 -d >"$work/sig.raw"
jq -r '.certificateChain[0]' <<<"$sig" | base64 -d >"$work/leaf.der"
openssl x509 -inform DER -in "$work/leaf.der" -pubkey -noout >"$work/leaf.pub"
"$PY" - "$work/sig.raw" "$work/sig.der" <<'PY'
import sys
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
raw = open(sys.argv[1], "rb").read(); h = len(raw) // 2
open(sys.argv[2], "wb").write(encode_dss_signature(
    int.from_bytes(raw[:h], "big"), int.from_bytes(raw[h:], "big")))
PY
openssl dgst -sha256 -verify "$work/leaf.pub" -signature "$work/sig.der" "$work/tbs" >/dev/null
say "openssl dgst -verify" "signature OK"
jq -nc --arg p "$(cat "$work/payload")" --arg h "$(cat "$work/protected")" \
    --arg s "$(base64 -w0 "$work/sig.raw" | tr '+/' '-_' | tr -d '=')" \
    --argjson x5c "$(jq -c .certificateChain <<<"$sig")" \
    '{payload:$p,protected:$h,header:{x5c:$x5c,"io.cncf.notary.signingAgent":"notation-keystore-demo"},signature:$s}' \
    >"$work/envelope.jws"
if "$PY" -c 'import jwcrypto' 2>/dev/null; then
    "$PY" - "$work/envelope.jws" <<'PY'
import base64, json, sys
from jwcrypto import jwk, jws
from jwcrypto.common import JWSEHeaderParameter
from cryptography import x509
env = json.load(open(sys.argv[1]))
leaf = x509.load_der_x509_certificate(base64.b64decode(env["header"]["x5c"][0]))
key = jwk.JWK.from_pyca(leaf.public_key())
# notation's critical header member, declared so jwcrypto accepts it
reg = {"io.cncf.notary.signingScheme":
       JWSEHeaderParameter("notary signing scheme", True, True, None)}
tok = jws.JWS(header_registry=reg)
tok.deserialize(json.dumps(env))
tok.verify(key, alg="ES256")
PY
    say "python3-jwcrypto" "JWS envelope verifies with the x5c leaf"
fi
openssl verify -CAfile "$work/pki/root.pem" -untrusted "$work/pki/inter.pem" \
    <(openssl x509 -inform DER -in "$work/leaf.der") >/dev/null
say "openssl verify" "certificate chain OK"

# 5. notation itself, when installed.
if command -v notation >/dev/null 2>&1; then
    "$ROOT/tests/notation-e2e.sh" "$work" "$KEY" "$work/pki" || exit 1
else
    say "notation" "not on PATH: skipped notation sign/verify --oci-layout"
fi
echo "demo OK: the key never left the token; see README.md for real use"
