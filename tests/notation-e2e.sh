#!/usr/bin/env bash
# Used by `make demo` when a notation binary is on PATH: installs the plugin
# into a temporary notation config, signs an OCI image layout with
# `notation sign --oci-layout` (JWS and COSE) and verifies it with
# `notation verify --oci-layout --scope`.
#   tests/notation-e2e.sh WORKDIR KEY-URI PKI-DIR
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
work=$1 key=$2 pki=$3
export NOTATION_CONFIG=$work/notation NOTATION_LIBEXEC=$work/notation
export NOTATION_EXPERIMENTAL=1
make -s -C "$ROOT" install NOTATION_LIBEXEC="$NOTATION_LIBEXEC" >/dev/null

# A one-blob OCI image layout made by hand.
layout=$work/layout
mkdir -p "$layout/blobs/sha256"
put() { local d; d=$(sha256sum "$1" | cut -d' ' -f1); cp "$1" "$layout/blobs/sha256/$d"; echo "$d"; }
printf '{}' >"$work/config.json"
printf 'hello from notation-keystore\n' >"$work/layer.txt"
cd_=$(put "$work/config.json"); ld=$(put "$work/layer.txt")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":2},"layers":[{"mediaType":"text/plain","digest":"sha256:%s","size":%d}]}' \
    "$cd_" "$ld" "$(stat -c %s "$work/layer.txt")" >"$work/manifest.json"
md=$(put "$work/manifest.json")
printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d}]}' \
    "$md" "$(stat -c %s "$work/manifest.json")" >"$layout/index.json"

notation key add demo --plugin keystore --id "$key" \
    --plugin-config "ca-certs=$pki/ca-certs.pem" >/dev/null
notation cert add --type ca --store demo "$pki/root.pem" >/dev/null
cat >"$NOTATION_CONFIG/trustpolicy.json" <<JSON
{"version":"1.0","trustPolicies":[{"name":"demo","registryScopes":["local/demo"],
 "signatureVerification":{"level":"strict","override":{"revocation":"skip"}},
 "trustStores":["ca:demo"],
 "trustedIdentities":["x509.subject: C=US, ST=WA, O=Notation Keystore Test"]}]}
JSON
for fmt in jws cose; do
    notation sign --signature-format "$fmt" --key demo \
        --oci-layout "$layout@sha256:$md" >/dev/null
    printf '  %-34s %s\n' "notation sign --oci-layout" "$fmt signature stored"
done
notation verify --oci-layout "$layout@sha256:$md" --scope local/demo >/dev/null
printf '  %-34s %s\n' "notation verify --oci-layout" "both signatures verified"
