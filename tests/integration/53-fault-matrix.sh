#!/usr/bin/env bash
# The fault matrix: every network client of the plugin against every fault
# of tests/lib/fault_server.py (matrix mode) on loopback. The fault server
# stands in front of the real mocks (AWS KMS/STS, IMDS and container
# credentials, Vault, Azure Key Vault, Entra ID and IMDS, Google Cloud KMS,
# OAuth token endpoint and metadata server, OCSP, CRL, TSA) and misbehaves
# for one client at a time. The KMS and credential rows run
# generate-signature (the key described, then signed with). Each cell
# asserts the errorCode (or, for OCSP/CRL, the revocation verdict), a
# message naming the fault, the elapsed time (at most the configured bound
# + 10% + NK_FAULT_SLACK_MS, default 300 ms, more than the row's successful
# run: process start and exit are not the network's), an empty stdout
# (verify rows: one verdict object), no sanitizer report on stderr, and
# that the fault server saw the request; a cell that succeeds after a
# retried fault, that the fault server saw the retry (and, after a 429
# with Retry-After: 1, that the second ask came a second later). Every
# signature a cell made is checked with Python cryptography at the end.
# Rows run in NK_FAULT_JOBS (4) parallel workers, each taking the next row
# when it is done. The ASan pass (NK_CHECK_PREFIX="asan ") leaves out the
# hang and 429-200 columns, which mostly wait. The matrix is printed as a Markdown
# table; docs/network.md carries it, and a check holds its cells to the
# matrix below.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/pki.sh"
. "$NK_ROOT/tests/lib/kms_pki.sh"
. "$NK_ROOT/tests/lib/aws.sh"
. "$NK_ROOT/tests/lib/ocsp.sh"
. "$NK_ROOT/tests/lib/softhsm.sh"
. "$NK_ROOT/tests/lib/tsa.sh"

T0_SCRIPT=${EPOCHREALTIME/./}
# Under ASan a run's CPU time varies more: more slack there.
case $NK_CHECK_PREFIX in asan*) SLACK_MS=${NK_FAULT_SLACK_MS:-1000} ;; *) SLACK_MS=${NK_FAULT_SLACK_MS:-300} ;; esac
# The ASan pass leaves out two columns that mostly wait: 429-200's answers
# are those of 429-1 and ok, parsed by the same code, after a second of
# Retry-After; hang gives the plugin nothing to read, and drip's timeout
# takes the same way out, with bytes read first. Each costs a second or
# more a row there, where the plugin's CPU time is what limits.
case $NK_CHECK_PREFIX in asan*) NOT_HERE=" hang 429-200 " ;; *) NOT_HERE= ;; esac
BOUND_MS=1000 # every timeout of a fault cell is 1 s (T below)
# T: the configured timeout of the current cell, in seconds. A cell whose
# answer is a success gets 10 s: it checks the behaviour, not the bound, and
# a loaded machine (ASan on two cores) can spend most of 1 s before the
# first request is even sent.
T=1
die() { fail "fault-matrix: $1"; exit 0; }

# ---- the real mocks ----
tls=$NK_TMP/tls
{ kms_tls "$tls" good && kms_tls "$tls" wrong && kms_tls_bad "$tls" good; } ||
    die "test TLS certificates"
# free_ports N: N distinct free ports on 127.0.0.1 (held together while
# chosen, so no two are the same).
free_ports() {
    "$NK_PY" -c 'import socket,sys
ss=[socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1",0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}
read -r aport vport iport oport cport lo lc DEAD ctl azport gport other <<<"$(free_ports 12)"
[ -n "$other" ] || die "free ports"
# Started first and waited for last: they take seconds to make their keys.
"$NK_PY" "$NK_ROOT/tests/lib/aws_mock.py" --port "$aport" --setup "$NK_TMP/aws.json" \
    --log "$NK_TMP/aws.jsonl" >"$NK_TMP/aws-mock.out" 2>&1 &
at_exit "kill $!"
VAULT_MOCK_LIFETIME=300 "$NK_PY" "$NK_ROOT/tests/lib/vault_mock.py" --only ecdsa-p256 \
    --setup "$NK_TMP/vault.json" --http "$vport" >"$NK_TMP/vault.log" 2>&1 &
at_exit "kill $!"
AZURE_MOCK_LIFETIME=600 "$NK_PY" "$NK_ROOT/tests/lib/azure_mock.py" --only ec-256 \
    --setup "$NK_TMP/azure.json" --dir "$NK_TMP/azure" --http "$azport" >"$NK_TMP/azure-mock.out" 2>&1 &
at_exit "kill $!"
# Plain http: the fault server forwards to it; its credential files name
# this listener as the token endpoint.
GCP_MOCK_LIFETIME=600 "$NK_PY" "$NK_ROOT/tests/lib/gcp_mock.py" --only ec-256 \
    --setup "$NK_TMP/gcp.json" --dir "$NK_TMP/gcp" --http "$gport" >"$NK_TMP/gcp-mock.out" 2>&1 &
at_exit "kill $!"

# Revocation: a root and leaves whose AIA/CDP name the fault server's
# listeners (ports chosen now), or a port where nothing listens.
R=$NK_TMP/rev
mkdir -p "$R/www"
rev_ca_dir "$R/rootca"
rev_key "$R/root.key"
openssl req -x509 -new -key "$R/root.key" -subj "$rev_subj/CN=FM Root" -days 30 \
    -out "$R/root.pem" -addext "basicConstraints=critical,CA:true" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null || die "revocation root"
rev_leaf_ext "$R/o.ext" "http://127.0.0.1:$lo/good" ""
rev_leaf_ext "$R/c.ext" "" "http://127.0.0.1:$lc/root.crl"
rev_leaf_ext "$R/od.ext" "http://127.0.0.1:$DEAD/good" ""
rev_leaf_ext "$R/cd.ext" "" "http://127.0.0.1:$DEAD/root.crl"
for l in o c od cd; do
    rev_issue "$R/rootca" "$R/root.key" "$R/root.pem" "leaf-$l" "FM Leaf $l" "$R/$l.ext" "$R" ||
        die "leaf $l"
done
rev_crl "$R/rootca" "$R/root.key" "$R/root.pem" "$R/www/root.crl" || die "CRL"
for n in root leaf-o leaf-c leaf-od leaf-cd; do
    openssl x509 -in "$R/$n.pem" -outform DER | base64 -w0 >"$R/$n.b64" || die "b64 $n"
done
"$NK_PY" "$NK_ROOT/tests/lib/ocsp_server.py" "$oport" "$R/root.pem" "$R/root.key" \
    "$R/leaf-o.pem" "$R/leaf-od.pem" >"$NK_TMP/ocsp.log" 2>&1 &
at_exit "kill $!"
"$NK_PY" "$NK_ROOT/tests/lib/verify_server.py" "$cport" "$R/www" >"$NK_TMP/crl.log" 2>&1 &
at_exit "kill $!"

# TSA, and a SoftHSM key to sign with before the timestamp is asked for.
{ tsa_setup "$NK_TMP/tsa" && tsa_start "$NK_TMP/tsa"; } >"$NK_TMP/tsa.log" 2>&1 || die "TSA"
tport=${TSA_URL##*:}
S=$NK_TMP/p11
mkdir -p "$S"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$S/sig.key" 2>/dev/null ||
    die "signing key"
openssl pkey -in "$S/sig.key" -pubout -out "$S/sig.pub" || die "signing key"
kms_chain "$S" sig "$S/sig.pub" >/dev/null 2>&1 || die "signing chain"
softhsm_init "$S/hsm" nk-fm 12345678 4321 && softhsm_import_key nk-fm 01 sig "$S/sig.key" "$S/sig.pem" ||
    die "SoftHSM token"

wait_file "$NK_TMP/aws.json" 60 && wait_port "$aport" 10 || die "AWS mock did not start"
jq '{AccessKeyId:.signer.id, SecretAccessKey:.signer.secret, Token:""}' "$NK_TMP/aws.json" \
    >"$NK_TMP/creds.json" || die "signer credentials"
IMDS_MOCK_LIFETIME=300 "$NK_PY" "$NK_ROOT/tests/lib/imds_mock.py" --port "$iport" \
    --creds "$NK_TMP/creds.json" --container-token ecs-auth-fm >"$NK_TMP/imds.log" 2>&1 &
at_exit "kill $!"

# ---- the fault server: one listener per client ----
CLIENTS=(kms sts imds container vault approle jwt k8s akv entra azimds gkms goauth gmeta ocsp crl tsa)
declare -A L=([ocsp]=$lo [crl]=$lc) UP=([kms]=$aport [sts]=$aport [imds]=$iport
    [container]=$iport [vault]=$vport [approle]=$vport [jwt]=$vport [k8s]=$vport
    [akv]=$azport [entra]=$azport [azimds]=$azport
    [gkms]=$gport [goauth]=$gport [gmeta]=$gport
    [ocsp]=$oport [crl]=$cport [tsa]=$tport)
args=()
# kms-ok: the KMS the credential rows go on to, never faulted.
read -ra PORTS <<<"$(free_ports 23)"
[ "${#PORTS[@]}" = 23 ] || die "free ports"
UP[kms-ok]=$aport
for c in "${CLIENTS[@]}" kms-ok; do
    [ -n "${L[$c]:-}" ] || { L[$c]=${PORTS[0]}; PORTS=("${PORTS[@]:1}"); }
    args+=(--listen "$c" 127.0.0.1 "${L[$c]}" "${UP[$c]}")
done
declare -A TLSP=([tls-good]=${PORTS[0]} [tls-ca]=${PORTS[1]}
    [tls-expired]=${PORTS[2]} [tls-host]=${PORTS[3]})
FAULT_SERVER_LIFETIME=600 "$NK_PY" "$NK_ROOT/tests/lib/fault_server.py" \
    --setup "$NK_TMP/fault.json" --ctl "$ctl" "${args[@]}" \
    --listen other 127.0.0.2 "$other" "$cport" \
    --listen-tls tls-good "${TLSP[tls-good]}" "$tls/good-server.pem" "$tls/good-server.key" \
    --listen-tls tls-ca "${TLSP[tls-ca]}" "$tls/wrong-server.pem" "$tls/wrong-server.key" \
    --listen-tls tls-expired "${TLSP[tls-expired]}" "$tls/good-expired.pem" "$tls/good-expired.key" \
    --listen-tls tls-host "${TLSP[tls-host]}" "$tls/good-wronghost.pem" "$tls/good-wronghost.key" \
    >"$NK_TMP/fault.log" 2>&1 &
at_exit "kill $!"
wait_file "$NK_TMP/fault.json" 30 || die "fault server did not start ($(cat "$NK_TMP/fault.log"))"
wait_file "$NK_TMP/vault.json" 60 || die "Vault mock did not start"
wait_file "$NK_TMP/azure.json" 60 || die "Azure mock did not start ($(cat "$NK_TMP/azure-mock.out"))"
wait_file "$NK_TMP/gcp.json" 60 || die "Google mock did not start ($(cat "$NK_TMP/gcp-mock.out"))"
for p in "$iport" "$oport" "$cport"; do wait_port "$p" 10 || die "mock on port $p did not start"; done

# ctl PATH: a request to the control port (bash's /dev/tcp: no process per
# case); the body lands in CTL.
ctl() {
    local fd line
    CTL=
    exec {fd}<>"/dev/tcp/127.0.0.1/$ctl" || return 1
    printf 'GET /%s HTTP/1.0\r\n\r\n' "$1" >&"$fd"
    while IFS= read -r line <&"$fd"; do [ "$line" = $'\r' ] && break; done
    IFS= read -r CTL <&"$fd" || true
    exec {fd}>&-
}

# ---- the clients ----
export XDG_CACHE_HOME=$NK_TMP/cache HOME=$NK_TMP/home
mkdir -p "$HOME"
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN \
    AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION AWS_CONFIG_FILE \
    AWS_SHARED_CREDENTIALS_FILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
    AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_EC2_METADATA_SERVICE_ENDPOINT \
    AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \
    AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KMS AWS_ENDPOINT_URL_STS AWS_CA_BUNDLE \
    AWS_EC2_METADATA_DISABLED VAULT_TOKEN VAULT_NAMESPACE VAULT_ROLE_ID \
    VAULT_SECRET_ID VAULT_JWT_ROLE VAULT_K8S_ROLE BAO_ADDR BAO_TOKEN BAO_CACERT \
    BAO_NAMESPACE VAULT_CACERT TRANSIT_SECRET_ENGINE_PATH NOTATION_KEYSTORE_PKCS11_MODULE \
    NOTATION_KEYSTORE_LOG NOTATION_KEYSTORE_LOG_FILE GOOGLE_APPLICATION_CREDENTIALS \
    CLOUDSDK_CONFIG GCE_METADATA_HOST CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS
for v in $(env | sed -n 's/^\(AZURE_[A-Z_]*\|IDENTITY_[A-Z_]*\|IMDS_ENDPOINT\|MSI_[A-Z_]*\)=.*/\1/p'); do
    unset "$v"
done
# No az on PATH: an Azure row that fails must not go on to a real CLI.
mkdir -p "$NK_TMP/noaz" && ln -s /bin/false "$NK_TMP/noaz/az"
export AWS_REGION=us-east-1
V=$NK_TMP/vault.json
VROOT=$(jq -r .root_token "$V") VRID=$(jq -r .approle.role_id "$V")
VSID=$(jq -r .approle.secret_id "$V") VJROLE=$(jq -r .jwt.role "$V")
VKROLE=$(jq -r .k8s.role "$V")
{ jq -r .jwt.jwt "$V" >"$NK_TMP/ci.jwt" && jq -r .k8s.jwt "$V" >"$NK_TMP/sa.jwt"; } || die "Vault logins"
echo "web-identity-token-fm" >"$NK_TMP/wi.jwt"
SID=$(jq -r .signer.id "$NK_TMP/aws.json") SSEC=$(jq -r .signer.secret "$NK_TMP/aws.json")
ROLE=$(jq -r .role_arn "$NK_TMP/aws.json")
ATEN=$(jq -r .tenant "$NK_TMP/azure.json") AID=$(jq -r .signer.id "$NK_TMP/azure.json")
ASEC=$(jq -r .signer.secret "$NK_TMP/azure.json")
for v in VROOT VRID VSID VJROLE VKROLE SID SSEC ROLE ATEN AID ASEC; do
    [ -n "${!v}" ] && [ "${!v}" != null ] || die "mock setup lacks $v"
done
AWSOK=http://127.0.0.1:${L[kms-ok]}
GCA=$tls/good-ca.pem
AZ=http://127.0.0.1:$azport GK=http://127.0.0.1:$gport
GSA=$NK_TMP/gcp/sa-signer.json
# The KMS and credential rows sign PAYLOAD with an EC-256 key of their
# service; KEY names the row's key (its public key in $K/KEY.pub). The
# chains are the test PKI's for those keys; Azure's comes from Key Vault.
declare -A KEY=([kms]=aws [sts]=aws [imds]=aws [container]=aws [vault]=vault
    [approle]=vault [jwt]=vault [k8s]=vault [akv]=azure [entra]=azure
    [azimds]=azure [gkms]=gcp [goauth]=gcp [gmeta]=gcp)
K=$NK_TMP/keys
mkdir -p "$K"
printf 'fault matrix payload' >"$K/payload"
PAYLOAD=$(base64 -w0 "$K/payload")
{ jq -er '.keys["ec-256"].pub' "$NK_TMP/aws.json" >"$K/aws.pub" &&
    jq -er '.keys["/transit/ecdsa-p256"]["1"]' "$V" >"$K/vault.pub" &&
    jq -er '.keys["cert-ec-256"] | .pub[.versions[-1]]' "$NK_TMP/azure.json" >"$K/azure.pub" &&
    jq -er '.keys["notation/ec-256/1"].pub' "$NK_TMP/gcp.json" >"$K/gcp.pub" &&
    GNAME=$(jq -er '.keys["notation/ec-256/1"].name' "$NK_TMP/gcp.json"); } || die "public keys"
for n in aws vault gcp; do kms_chain "$K" "$n" "$K/$n.pub" >/dev/null 2>&1 || die "chain for $n"; done
sreq() { # KEYID PLUGINCONFIG-MEMBERS: generate-signature of PAYLOAD, EC-256
    printf '{"contractVersion":"1.0","keyId":"%s","keySpec":"EC-256","hashAlgorithm":"SHA-256","payload":"%s","pluginConfig":{"timeout":"%s","cache":"false",%s}}' \
        "$1" "$PAYLOAD" "$T" "$2"
}
sreq_aws() { sreq awskms:///alias/ec-256 "\"certificate-chain\":\"$K/aws-chain.pem\""; }
sreq_vault() { sreq hashivault://ecdsa-p256 "\"certificate-chain\":\"$K/vault-chain.pem\""; }
sreq_azure() { # VAULT-BASE [CREDENTIAL-TYPE]
    sreq "$1/certificates/cert-ec-256" \
        "\"token-cache\":\"false\",\"ca-bundle\":\"$GCA\",\"credential_type\":\"${2:-default}\""
}
sreq_gcp() { # CLOUD-KMS-ENDPOINT
    sreq "gcpkms://$GNAME" "\"token-cache\":\"false\",\"ca-bundle\":\"$GCA\",\"gcp-kms-endpoint\":\"$1\",\"certificate-chain\":\"$K/gcp-chain.pem\""
}
vreq() { # LEAF: verify-signature asking for the revocation check only
    printf '{"contractVersion":"1.0","signature":{"criticalAttributes":{"contentType":"application/vnd.cncf.notary.payload.v1+json","signingScheme":"notary.x509","expiry":"0001-01-01T00:00:00Z"},"unprocessedAttributes":null,"certificateChain":["%s","%s"]},"trustPolicy":{"trustedIdentities":["*"],"signatureVerification":["SIGNATURE_VERIFIER.REVOCATION_CHECK"]},"pluginConfig":{"crl-cache":"false","ocsp-timeout":"%s","crl-timeout":"%s"}}' \
        "$(cat "$R/$1.b64")" "$(cat "$R/root.b64")" "$T" "$T"
}
TPAYLOAD=$(printf '{"targetArtifact":{"digest":"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","mediaType":"application/vnd.oci.image.manifest.v1+json","size":528}}' | base64 -w0)
treq() { # BASE: generate-envelope with a timestamp from BASE/ok
    printf '{"contractVersion":"1.0","keyId":"pkcs11:token=nk-fm;object=sig?module-path=%s","payloadType":"application/vnd.cncf.notary.payload.v1+json","signatureEnvelopeType":"application/jose+json","payload":"%s","pluginConfig":{"mode":"envelope","ca-certs":"%s","timestamp-url":"%s/ok","timestamp-root-cert":"%s","timestamp-timeout":"%s"}}' \
        "$NK_P11_MODULE" "$TPAYLOAD" "$S/ca-certs.pem" "$1" "$NK_TMP/tsa/tsa-root.pem" "$T"
}

# prun CMD REQ: the plugin with the worker's own files (workers run in
# parallel); sets OUT, ERR, RC and MS, the binary's wall time alone.
prun() {
    local t0
    printf '%s' "$2" >"$WD/req"
    t0=${EPOCHREALTIME/./}
    # shellcheck disable=SC2086
    $NK_WRAP "$NK_BIN" "$1" <"$WD/req" >"$WD/out" 2>"$WD/err"
    RC=$?
    MS=$(((${EPOCHREALTIME/./} - t0) / 1000))
    OUT=$(<"$WD/out") ERR=$(<"$WD/err")
}

# client_run CLIENT BASE: runs CLIENT with its endpoint at BASE
# (scheme://host:port, or "dead" for the OCSP/CRL leaves naming a port
# where nothing listens).
client_run() {
    local c=$1 b=$2 leaf
    case $c in
    kms) AWS_ACCESS_KEY_ID=$SID AWS_SECRET_ACCESS_KEY=$SSEC AWS_ENDPOINT_URL_KMS=$b \
        AWS_CA_BUNDLE=$GCA AWS_EC2_METADATA_DISABLED=true prun generate-signature "$(sreq_aws)" ;;
    sts) AWS_WEB_IDENTITY_TOKEN_FILE=$NK_TMP/wi.jwt AWS_ROLE_ARN=$ROLE AWS_ENDPOINT_URL_STS=$b \
        AWS_ENDPOINT_URL_KMS=$AWSOK AWS_CA_BUNDLE=$GCA AWS_EC2_METADATA_DISABLED=true \
        prun generate-signature "$(sreq_aws)" ;;
    imds) AWS_EC2_METADATA_SERVICE_ENDPOINT=$b AWS_ENDPOINT_URL_KMS=$AWSOK \
        prun generate-signature "$(sreq_aws)" ;;
    container) AWS_CONTAINER_CREDENTIALS_FULL_URI=$b/container/credentials \
        AWS_CONTAINER_AUTHORIZATION_TOKEN=ecs-auth-fm AWS_CA_BUNDLE=$GCA \
        AWS_ENDPOINT_URL_KMS=$AWSOK AWS_EC2_METADATA_DISABLED=true prun generate-signature "$(sreq_aws)" ;;
    vault) VAULT_ADDR=$b VAULT_CACERT=$GCA VAULT_TOKEN=$VROOT prun generate-signature "$(sreq_vault)" ;;
    approle) VAULT_ADDR=$b VAULT_CACERT=$GCA VAULT_ROLE_ID=$VRID VAULT_SECRET_ID=$VSID \
        prun generate-signature "$(sreq_vault)" ;;
    jwt) VAULT_ADDR=$b VAULT_CACERT=$GCA VAULT_JWT_ROLE=$VJROLE VAULT_JWT_FILE=$NK_TMP/ci.jwt \
        prun generate-signature "$(sreq_vault)" ;;
    k8s) VAULT_ADDR=$b VAULT_CACERT=$GCA VAULT_K8S_ROLE=$VKROLE VAULT_K8S_TOKEN_FILE=$NK_TMP/sa.jwt \
        prun generate-signature "$(sreq_vault)" ;;
    akv) AZURE_TENANT_ID=$ATEN AZURE_CLIENT_ID=$AID AZURE_CLIENT_SECRET=$ASEC AZURE_AUTHORITY_HOST=$AZ \
        prun generate-signature "$(sreq_azure "$b")" ;;
    entra) AZURE_TENANT_ID=$ATEN AZURE_CLIENT_ID=$AID AZURE_CLIENT_SECRET=$ASEC AZURE_AUTHORITY_HOST=$b \
        prun generate-signature "$(sreq_azure "$AZ")" ;;
    azimds) PATH=$NK_TMP/noaz:$PATH AZURE_POD_IDENTITY_AUTHORITY_HOST=$b \
        prun generate-signature "$(sreq_azure "$AZ" managedid)" ;;
    gkms) GOOGLE_APPLICATION_CREDENTIALS=$GSA prun generate-signature "$(sreq_gcp "$b")" ;;
    goauth) # the service account file, its token_uri at BASE
        if jq --arg u "$b/token" '.token_uri = $u' "$GSA" >"$WD/sa.json"; then
            GOOGLE_APPLICATION_CREDENTIALS=$WD/sa.json prun generate-signature "$(sreq_gcp "$GK")"
        else
            RC=99 MS=0 OUT='' ERR="goauth: jq could not write the credentials file"
        fi ;;
    gmeta) GCE_METADATA_HOST=${b#http://} prun generate-signature "$(sreq_gcp "$GK")" ;;
    ocsp | crl)
        leaf=leaf-${c:0:1}
        [ "$b" = dead ] && leaf=${leaf}d
        prun verify-signature "$(vreq "$leaf")" ;;
    tsa) NOTATION_KEYSTORE_PIN=4321 prun generate-envelope "$(treq "$b")" ;;
    esac
}

echo "setup: $(((${EPOCHREALTIME/./} - T0_SCRIPT) / 1000)) ms"
# ---- the matrix ----
# Cells: OK (the call succeeds), an errorCode (ERROR, TIMEOUT, THROTTLED,
# ACCESS_DENIED; Azure's IMDS row: no answer is "no managed identity",
# ACCESS_DENIED, but a broken, throttled or failing answer is the
# service's fault, as for any other endpoint, and 5xx and 429 are retried;
# Google's metadata server, like AWS's IMDS, is the last place its chain
# looks: any fault there is "no Google credentials found", ACCESS_DENIED,
# with the cause, though 5xx and 429 are retried first), good/unknown
# (verify-signature's revocation verdict, exit 0), or - (does not apply:
# OCSP/CRL/instance metadata speak plain http only, and the TSA trusts the
# system store, where a test CA never is, so only "not trusted" can be
# staged for it).
FAULTS=(ok refused reset-hdr reset-body drip hang chunked big trunc-json bad-json ctype
    redir-host redir-http redir-file 429-1 429-huge 429-200 500-200 503 tls-ca tls-expired tls-host)
MATRIX=$(cat <<'EOF'
kms OK ERROR ERROR ERROR TIMEOUT TIMEOUT ERROR ERROR ERROR ERROR OK ERROR ERROR ERROR THROTTLED THROTTLED OK OK THROTTLED ERROR ERROR ERROR
sts OK ERROR ERROR ERROR TIMEOUT TIMEOUT ERROR ERROR ERROR ERROR OK ERROR ERROR ERROR THROTTLED THROTTLED OK OK THROTTLED ERROR ERROR ERROR
imds OK ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED OK ACCESS_DENIED - ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED - - -
container OK ERROR ERROR ERROR TIMEOUT TIMEOUT ERROR ERROR ERROR ERROR OK ERROR ERROR ERROR THROTTLED THROTTLED OK OK THROTTLED ERROR ERROR ERROR
vault OK ERROR ERROR ERROR TIMEOUT TIMEOUT ERROR ERROR ERROR ERROR OK ERROR ERROR ERROR THROTTLED THROTTLED OK OK THROTTLED ERROR ERROR ERROR
approle OK ERROR ERROR ERROR TIMEOUT TIMEOUT ERROR ERROR ERROR ERROR OK ERROR ERROR ERROR THROTTLED THROTTLED OK OK THROTTLED ERROR ERROR ERROR
jwt OK ERROR ERROR ERROR TIMEOUT TIMEOUT ERROR ERROR ERROR ERROR OK ERROR ERROR ERROR THROTTLED THROTTLED OK OK THROTTLED ERROR ERROR ERROR
k8s OK ERROR ERROR ERROR TIMEOUT TIMEOUT ERROR ERROR ERROR ERROR OK ERROR ERROR ERROR THROTTLED THROTTLED OK OK THROTTLED ERROR ERROR ERROR
akv OK ERROR ERROR ERROR TIMEOUT TIMEOUT ERROR ERROR ERROR ERROR OK ERROR ERROR ERROR THROTTLED THROTTLED OK OK THROTTLED ERROR ERROR ERROR
entra OK ERROR ERROR ERROR TIMEOUT TIMEOUT ERROR ERROR ERROR ERROR OK ERROR ERROR ERROR THROTTLED THROTTLED OK OK THROTTLED ERROR ERROR ERROR
azimds OK ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED ERROR ERROR OK ACCESS_DENIED - ACCESS_DENIED THROTTLED THROTTLED OK OK THROTTLED - - -
gkms OK ERROR ERROR ERROR TIMEOUT TIMEOUT ERROR ERROR ERROR ERROR OK ERROR ERROR ERROR THROTTLED THROTTLED OK OK THROTTLED ERROR ERROR ERROR
goauth OK ERROR ERROR ERROR TIMEOUT TIMEOUT ERROR ERROR ERROR ERROR OK ERROR ERROR ERROR THROTTLED THROTTLED OK OK THROTTLED ERROR ERROR ERROR
gmeta OK ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED OK ACCESS_DENIED - ACCESS_DENIED ACCESS_DENIED ACCESS_DENIED OK OK ACCESS_DENIED - - -
ocsp good unknown unknown unknown unknown unknown unknown unknown unknown unknown unknown unknown - unknown unknown unknown unknown unknown unknown - - -
crl good unknown unknown unknown unknown unknown unknown unknown unknown unknown good good - unknown unknown unknown unknown unknown unknown - - -
tsa OK TIMEOUT TIMEOUT TIMEOUT TIMEOUT TIMEOUT ERROR ERROR ERROR ERROR ERROR ERROR - ERROR THROTTLED THROTTLED THROTTLED ERROR ERROR ERROR - -
EOF
)
# What the message (or the verdict's reason) must say for each fault.
declare -A WHY=([ok]='' [refused]='connect' [reset-hdr]='broke off|reset|Recv failure'
    [reset-body]='broke off|reset|Recv failure|partial' [drip]='within|timed out'
    [hang]='within|timed out' [chunked]='exceeds [0-9]+ bytes' [big]='exceeds [0-9]+ bytes'
    [trunc-json]='JSON|DER|credentials' [bad-json]='JSON|DER|credentials'
    [ctype]='content type' [redir-host]='redirect' [redir-http]='redirect'
    [redir-file]='redirect'
    [429-1]='429' [429-huge]='429' [429-200]='429' [500-200]='500' [503]='503'
    [tls-ca]='TLS.*(issuer|certificate)' [tls-expired]='TLS.*expired'
    [tls-host]='TLS.*(host|name|match)')

# A CRL may be 32 MiB: streaming that much takes about as long as the 1 s
# timeout on a loaded machine, so either bound may stop an endless or a
# too big one, and the copying costs CPU time past the timeout: those two
# cells get the bound twice.
declare -A WHY_CELL=([crl:chunked]='exceeds [0-9]+ bytes|within'
    [crl:big]='exceeds [0-9]+ bytes|within')
# "no Google credentials found" names credentials anyway: the metadata
# server's broken answers must be named as such.
WHY_CELL+=([gmeta:trunc-json]='metadata server: .*JSON' [gmeta:bad-json]='metadata server: .*JSON')
declare -A EXTRA_CELL=([crl:chunked]=$BOUND_MS [crl:big]=$BOUND_MS)

# base_for CLIENT FAULT: the endpoint the client is given for FAULT.
base_for() {
    case $2 in
    refused) if [ "$1" = ocsp ] || [ "$1" = crl ]; then echo dead; else echo "http://127.0.0.1:$DEAD"; fi ;;
    redir-http) echo "https://127.0.0.1:${TLSP[tls-good]}" ;;
    tls-*) echo "https://127.0.0.1:${TLSP[$2]}" ;;
    *) echo "http://127.0.0.1:${L[$1]}" ;;
    esac
}

# The bound is for the network work, so a faulty run may take the bound +
# 10% + the slack longer than the row's successful run (its "ok" cell: the
# binary's start, a quick loopback exchange and its exit, which under ASan
# and on a loaded machine is far from free). LIMIT_MS is set per row.

# judge CLIENT FAULT WANT: checks the last run; prints why it failed.
judge() {
    local c=$1 f=$2 want=$3 got re=${WHY_CELL[$1:$2]:-${WHY[$2]}}
    if [[ $ERR =~ (ERROR: AddressSanitizer|runtime error:|LeakSanitizer) ]]; then
        echo "sanitizer report: ${ERR:0:300}"; return 1
    fi
    local limit=$((LIMIT_MS + ${EXTRA_CELL[$1:$2]:-0}))
    # 429-200 is asked to wait a second, on top of the network's bound.
    [ "$f" = 429-200 ] && limit=$((limit + 1000))
    [ "$MS" -le "$limit" ] || { echo "took $MS ms > $limit ms"; return 1; }
    case $want in
    OK)
        [ "$RC" = 0 ] && [[ $OUT == "{"* ]] || { echo "rc=$RC err=${ERR:0:300}"; return 1; }
        # A signature: kept for the check with Python cryptography at the
        # end (all at once: one interpreter for the whole matrix).
        if [ -n "${KEY[$c]:-}" ]; then
            printf '%s' "$OUT" >"$WD/sig.$f"
            echo "EC-256 $K/${KEY[$c]}.pub $K/payload $WD/sig.$f" >>"$WD/sigs"
        fi
        # Success after a retried fault: the retry was made, and after a
        # 429 it waited the second Retry-After asked for.
        case $f in
        500-200 | 429-200)
            ctl "hits/$c"
            [ "${CTL:-0}" -ge 2 ] || { echo "no retry: the fault server saw ${CTL:-0} request(s)"; return 1; } ;;
        esac
        if [ "$f" = 429-200 ]; then
            ctl "gap/$c"
            [ "${CTL:--1}" -ge 1000 ] || { echo "asked again after ${CTL:-?} ms, not after Retry-After: 1"; return 1; }
        fi ;;
    good | unknown)
        local exp=false
        [ "$want" = good ] && exp=true
        [ "$RC" = 0 ] && [[ $OUT =~ \"success\":$exp ]] ||
            { echo "rc=$RC out=${OUT:0:400} err=${ERR:0:200}"; return 1; }
        [ "$want" = good ] || [[ $OUT =~ is\ unknown:\ .*($re) ]] ||
            { echo "reason does not say $re: ${OUT:0:400}"; return 1; } ;;
    *)
        [[ $ERR =~ \"errorCode\":\"([A-Z_]+)\" ]] && got=${BASH_REMATCH[1]}
        [ "$RC" = 1 ] && [ -z "$OUT" ] && [ "${got:-}" = "$want" ] ||
            { echo "rc=$RC got=${got:-} err=${ERR:0:300} out=${OUT:0:80}"; return 1; }
        [[ $ERR =~ $re ]] || { echo "message does not say $re: ${ERR:0:300}"; return 1; } ;;
    esac
    # The fault was really served: the client's listener saw it (TLS
    # faults and redir-http are proven by the message).
    case $f in refused | tls-* | redir-http) return 0 ;; esac
    ctl "hits/$c"
    [ "${CTL:-0}" -ge 1 ] || { echo "the fault server saw no request"; return 1; }
}

short() {
    case $1 in
    ERROR) echo ERR ;; ACCESS_DENIED) echo DENIED ;; *) echo "$1" ;;
    esac
}

# run_row CLIENT CELLS...: one row of the matrix; its table line goes to
# $NK_TMP/row.CLIENT.
run_row() {
    local client=$1 i f w why row="| $1 |"
    LIMIT_MS=$((BOUND_MS * 11 / 10 + SLACK_MS))
    shift
    local -a want=("$@")
    WD=$NK_TMP/w.$client
    mkdir -p "$WD"
    if [ "${#want[@]}" != "${#FAULTS[@]}" ]; then
        fail "fault-matrix: row $client has ${#want[@]} cells"
        return
    fi
    for i in "${!FAULTS[@]}"; do
        f=${FAULTS[$i]} w=${want[$i]}
        if [ "$w" = - ]; then row="$row - |"; continue; fi
        if [[ $NOT_HERE == *" $f "* ]]; then row="$row (not run) |"; continue; fi
        case $f in tls-* | refused | redir-http) ctl "set/$client/ok" ;; *) ctl "set/$client/$f" ;; esac
        [ "$CTL" = ok ] || { fail "fault-matrix $client $f: control port"; continue; }
        case $w in OK | good) T=10 ;; *) T=1 ;; esac
        client_run "$client" "$(base_for "$client" "$f")"
        [ "$f" = ok ] && LIMIT_MS=$((BOUND_MS * 11 / 10 + SLACK_MS + MS))
        if why=$(judge "$client" "$f" "$w"); then
            pass "fault-matrix $client $f -> $w ($MS ms, limit $LIMIT_MS)"
            row="$row $(short "$w") $MS |"
        else
            fail "fault-matrix $client $f -> $w ($MS ms, limit $LIMIT_MS): $why"
            row="$row **FAIL** $(short "$w") $MS |"
        fi
    done
    echo "$row" >"$NK_TMP/row.$client"
}

# Rows run in NK_FAULT_JOBS parallel workers (most of a row's time is
# spent waiting on timeouts and backoff); a worker that is done takes the
# next row nobody has (rows take 5 to 10 s: fixed shares left one worker
# a row longer than the others).
JOBS=${NK_FAULT_JOBS:-4}
mapfile -t ROWS <<<"$MATRIX"
echo 0 >"$NK_TMP/next-row"
# next_row: prints the index of the next row not taken (a counter under
# flock), fails when every row is taken.
next_row() {
    local fd n
    exec {fd}>>"$NK_TMP/next-row.lock"
    flock "$fd" || return 1
    n=$(<"$NK_TMP/next-row")
    echo $((n + 1)) >"$NK_TMP/next-row"
    exec {fd}>&-
    [ "$n" -lt "${#ROWS[@]}" ] && echo "$n"
}
pids=()
for ((j = 0; j < JOBS; j++)); do
    (
        while k=$(next_row); do
            read -ra cells <<<"${ROWS[$k]}"
            run_row "${cells[@]}"
        done
    ) &
    pids+=($!)
done
wait "${pids[@]}"

# Every signature an OK cell made, checked with Python cryptography (the
# signing rows' OK cells, counted from the matrix: a missing one fails).
want_sigs=0
for r in "${ROWS[@]}"; do
    read -ra cells <<<"$r"
    [ -n "${KEY[${cells[0]}]:-}" ] || continue
    for i in "${!FAULTS[@]}"; do
        [ "${cells[i + 1]}" = OK ] && [[ $NOT_HERE != *" ${FAULTS[i]} "* ]] && want_sigs=$((want_sigs + 1))
    done
done
cat "$NK_TMP"/w.*/sigs >"$NK_TMP/sigs" 2>/dev/null
got_sigs=$("$NK_PY" "$NK_ROOT/tests/lib/check_sigs.py" "$NK_TMP/sigs" 2>"$NK_TMP/sigs.err")
check "fault-matrix: the $want_sigs signatures of the OK cells verify with Python cryptography (${got_sigs:-0}$(head -c 300 "$NK_TMP/sigs.err"))" \
    [ "${got_sigs:-0}" = "$want_sigs" ]

# docs/network.md carries this matrix: its header and every cell's result
# (the times there are one run's).
doc_rows=$(awk '/^\| client \|/ { on = 1 } on && !/^\|/ { exit } on' "$NK_ROOT/docs/network.md" |
    sed -E '2d; 3,$s/ [0-9]+ \|/ |/g')
want_rows="| client | $(printf '%s | ' "${FAULTS[@]}")"
want_rows=${want_rows% }
for r in "${ROWS[@]}"; do
    read -ra cells <<<"$r"
    line="| ${cells[0]} |"
    for w in "${cells[@]:1}"; do line="$line $(short "$w") |"; done
    want_rows="$want_rows"$'\n'"$line"
done
if [ "$doc_rows" = "$want_rows" ]; then
    pass "fault-matrix: docs/network.md carries this matrix"
else
    fail "fault-matrix: docs/network.md carries this matrix: $(diff <(echo "$want_rows") <(echo "$doc_rows") | head -c 600)"
fi

TABLE="| client | $(printf '%s | ' "${FAULTS[@]}")"
TABLE="${TABLE% }"$'\n'"|---|$(printf -- '---|%.0s' "${FAULTS[@]}")"
for r in "${ROWS[@]}"; do
    c=${r%% *}
    if [ -s "$NK_TMP/row.$c" ]; then
        TABLE="$TABLE"$'\n'"$(cat "$NK_TMP/row.$c")"
    else
        fail "fault-matrix: row $c did not finish"
    fi
done
total=$(((${EPOCHREALTIME/./} - T0_SCRIPT) / 1000))
echo
echo "Fault matrix (cell: result and the binary's elapsed ms; limit: the row's ok time + ${BOUND_MS} ms bound + 10% + ${SLACK_MS} ms slack; script ${total} ms, $JOBS workers):"
echo
echo "$TABLE"
