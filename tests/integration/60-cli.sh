#!/usr/bin/env bash
# The companion commands on SoftHSM: keys, cert generate-test (accepted by
# openssl and by the plugin's own pre-sign checks; --store, --trust, which
# replaces an existing anchor only with --force), cert request, doctor,
# usage errors, the trace log (and the files it refuses), and the offline
# verify against good and tampered JWS/COSE envelopes, compared with the
# independent checkers (tests/lib/check_jws.py, check_cose.py), plus expired
# and revoked signatures (CRL on loopback) checked against openssl / the
# header.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/softhsm.sh"
. "$NK_ROOT/tests/lib/ocsp.sh"

if ! softhsm_std_token "$NK_TMP/std" >"$NK_TMP/setup.log" 2>&1; then
    cat "$NK_TMP/setup.log"
    fail "cli: SoftHSM token setup"
    exit 1
fi
unset NOTATION_KEYSTORE_PIN NOTATION_KEYSTORE_PKCS11_MODULE
export NOTATION_CONFIG=$NK_TMP/notation XDG_CACHE_HOME=$NK_TMP/cache
M=$NK_P11_MODULE
PKI=$NK_P11_PKI
key_id() { echo "pkcs11:token=nk-test;object=$1?module-path=$M"; }
spec_of() {
    case $1 in
    rsa2048) echo RSA-2048 SHA-256 ;; rsa3072) echo RSA-3072 SHA-384 ;;
    rsa4096) echo RSA-4096 SHA-512 ;; ec256) echo EC-256 SHA-256 ;;
    ec384) echo EC-384 SHA-384 ;; ec521) echo EC-521 SHA-512 ;;
    esac
}
# ks ARGS...: runs the companion command; sets OUT, ERR, RC.
ks() {
    # shellcheck disable=SC2086
    $NK_WRAP "$NK_BIN" "$@" >"$NK_TMP/out" 2>"$NK_TMP/err"
    RC=$?
    OUT=$(cat "$NK_TMP/out")
    ERR=$(cat "$NK_TMP/err")
}
# expect_rc NAME RC REGEX ARGS...: exit status and a regex on stdout+stderr.
expect_rc() {
    local name=$1 want=$2 re=$3
    shift 3
    ks "$@"
    if [ "$RC" = "$want" ] && printf '%s\n%s' "$OUT" "$ERR" | grep -Ezq -- "$re"; then
        pass "cli: $name"
    else
        fail "cli: $name (rc=$RC want=$want out=${OUT:0:400} err=${ERR:0:300})"
    fi
}
cd "$NK_TMP" || exit 1

# ---- usage and help ----
for c in keys doctor verify "cert generate-test" "cert request"; do
    # shellcheck disable=SC2086
    expect_rc "$c --help" 0 'usage: notation-keystore' $c --help
done
expect_rc "top-level help lists the companion commands" 0 'cert generate-test' --help
expect_rc "doctor without --id is a usage error" 2 'is required' doctor
expect_rc "verify without --trust-store is a usage error" 2 'trust-store' verify x.sig
expect_rc "unknown option is a usage error" 2 'help' keys --bogus
expect_rc "cert with an unknown subcommand" 2 'generate-test or request' cert frob
expect_rc "bad --plugin-config pair" 2 'key=value' doctor --id x --plugin-config novalue
expect_rc "cert request refuses generate-test options" 2 'are for generate-test' \
    cert request --id x --subject CN=x --store
expect_rc "generate-test refuses --subject" 2 'subject is fixed' \
    cert generate-test --id x n --subject CN=x
expect_rc "generate-test name must be a store name" 2 'must match' \
    cert generate-test --id "$(key_id ec256)" 'a/b'

# ---- keys ----
expect_rc "keys without a PIN lists public keys" 0 \
    'public key "ec256" id 04 +EC-256' keys --module "$M"
export NOTATION_KEYSTORE_PIN=$NK_P11_PIN
expect_rc "keys with a PIN lists private keys with ids" 0 \
    "private key \"rsa3072\" id 02 +RSA-3072.*" keys --module softhsm2
ks keys --module "$M" --json
check "cli: keys --json: six private keys, each with a certificate and a URI" \
    test "$(printf '%s' "$OUT" | jq '[.slots[].token // empty | .keys[] |
        select(.class=="private" and .certificate and (.uri|startswith("pkcs11:token=nk-test;object=")))] | length')" = 6
URI=$(printf '%s' "$OUT" | jq -r '[.slots[].token // empty | .keys[] | select(.label=="ec384")][0].uri')
expect_rc "a listed URI works as a key id" 0 'EC-384 \(ECDSA-SHA-384\)' keys --id "$URI"
ks keys --id "$(key_id rsa2048)" --json
check "cli: keys --id --json describes the key" \
    test "$(printf '%s' "$OUT" | jq -r '[.backend,.keySpec,.signingAlgorithm,(.publicKeySha256|length)]|join(" ")')" = \
    "pkcs11 RSA-2048 RSASSA-PSS-SHA-256 64"
expect_rc "keys --id with a missing key fails" 1 'notation-keystore keys:' \
    keys --id "$(key_id nosuchkey)"

# ---- cert generate-test: every key spec ----
P=$(printf 'payload' | base64 -w0)
for k in rsa2048 rsa3072 rsa4096 ec256 ec384 ec521; do
    read -r spec hash <<<"$(spec_of $k)"
    expect_rc "generate-test $k" 0 "notation key add t-$k --plugin keystore" \
        cert generate-test --id "$(key_id $k)" "t-$k" --days 30
    check "cli: generate-test $k: openssl verifies the self-signature" \
        bash -c "openssl verify -partial_chain -check_ss_sig -CAfile t-$k.crt t-$k.crt >/dev/null"
    openssl x509 -in t-$k.crt -noout -subject -ext keyUsage,extendedKeyUsage,basicConstraints |
        tr -d '\n' >ext.txt
    check "cli: generate-test $k: subject and extensions as notation's" \
        grep -q "subject=C = US, ST = WA, O = Notary, CN = t-$k.*Basic Constraints: critical *CA:FALSE.*Key Usage: critical *Digital Signature *X509v3 Extended Key Usage: *Code Signing$" ext.txt
    expect_ok "cli: generate-test $k: accepted by generate-signature" generate-signature \
        "{\"contractVersion\":\"1.0\",\"keyId\":\"$(key_id $k)\",\"keySpec\":\"$spec\",\"hashAlgorithm\":\"$hash\",\"payload\":\"$P\",\"pluginConfig\":{\"certificate-chain\":\"$NK_TMP/t-$k.crt\"}}"
done
check "cli: generate-test: RSA certificates use RSASSA-PSS" \
    bash -c "openssl x509 -in t-rsa3072.crt -noout -text | grep -q 'Signature Algorithm: rsassaPss'"
sed '2s/^\(.\{10\}\)./\1A/' t-ec256.crt >bad.crt
if sed -n 2p t-ec256.crt | grep -q '^.\{10\}A'; then sed '2s/^\(.\{10\}\)./\1B/' t-ec256.crt >bad.crt; fi
check "cli: a changed certificate fails openssl verify (the check has teeth)" \
    bash -c "! openssl verify -partial_chain -check_ss_sig -CAfile bad.crt bad.crt >/dev/null 2>&1"

# ---- --store and --trust on a key without a certificate ----
pkcs11-tool --module "$M" --token-label nk-test --login --pin "$NK_P11_PIN" \
    --keypairgen --key-type EC:secp384r1 --id 20 --label fresh >/dev/null 2>&1
FRESH=$(key_id fresh)
expect_rc "doctor fails without a certificate, with the fix" 1 \
    'FAIL +certificate chain .*fix: store a certificate' doctor --id "$FRESH"
expect_rc "generate-test --store --trust" 0 \
    'stored on the token beside the key.*' cert generate-test --id "$FRESH" fresh-app --store --trust
check "cli: --trust wrote ca:fresh-app" \
    test -s "$NOTATION_CONFIG/truststore/x509/ca/fresh-app/fresh-app.crt"

# ---- --trust never silently replaces a trust anchor or its file ----
TO=$NOTATION_CONFIG/truststore/x509/ca/trust-once
NOKEY="pkcs11:token=no-such-token;object=x?module-path=$M"
expect_rc "generate-test --trust (first time)" 0 'added to notation.s trust store as ca:trust-once' \
    cert generate-test --id "$(key_id ec256)" trust-once --trust
cp "$TO/trust-once.crt" anchor-1.pem && cp trust-once.crt file-1.pem
expect_rc "generate-test --trust again is refused" 1 \
    '"trust-once.crt" already exists; add --force to replace it' \
    cert generate-test --id "$(key_id ec256)" trust-once --trust
check "cli: ... and both files stay byte-identical" \
    bash -c "cmp -s anchor-1.pem '$TO/trust-once.crt' && cmp -s file-1.pem trust-once.crt"
mv trust-once.crt trust-once.aside
# The refusals come before the key is opened: a key id that names no
# token would fail otherwise.
expect_rc "generate-test --trust is refused when ca:<name> alone exists" 1 \
    "trust store already has ca:trust-once \\(\"$TO\"\\); add --force" \
    cert generate-test --id "$NOKEY" trust-once --trust --json
check "cli: ... the refusal is JSON with --json" \
    bash -c 'printf "%s" "$0" | jq -e ".error.code == \"VALIDATION_ERROR\"" >/dev/null' "$OUT"
check "cli: ... no file written, the anchor unchanged" \
    bash -c "[ ! -e trust-once.crt ] && cmp -s anchor-1.pem '$TO/trust-once.crt'"
mv trust-once.aside trust-once.crt
printf 'keep me\n' >kept.pem
expect_rc "generate-test --trust is refused when the --out file exists" 1 \
    '"kept.pem" already exists; add --force' \
    cert generate-test --id "$NOKEY" trust-new --out kept.pem --trust
check "cli: ... the file is untouched and no ca:trust-new made" \
    bash -c "[ \"\$(cat kept.pem)\" = 'keep me' ] && [ ! -e '$NOTATION_CONFIG/truststore/x509/ca/trust-new' ]"
expect_rc "generate-test --trust --force replaces both" 0 'added to notation.s trust store as ca:trust-once' \
    cert generate-test --id "$(key_id ec256)" trust-once --trust --force
check "cli: ... with one new certificate in both places" \
    bash -c "! cmp -s anchor-1.pem '$TO/trust-once.crt' && cmp -s '$TO/trust-once.crt' trust-once.crt &&
        openssl x509 -in trust-once.crt -noout -subject | grep -q 'CN *= *trust-once'"
expect_rc "generate-test --force without --trust is a usage error" 2 'goes with --trust' \
    cert generate-test --id "$NOKEY" trust-once --force

ks keys --module "$M" --json
check "cli: the stored certificate sits beside the key" \
    test "$(printf '%s' "$OUT" | jq -r '[.slots[].token // empty | .keys[] | select(.label=="fresh")][0].certificateSubject')" = \
    "/C=US/ST=WA/O=Notary/CN=fresh-app"
expect_rc "doctor passes with the stored certificate" 0 \
    'PASS +test signature +ECDSA-SHA-384.*all checks passed' doctor --id "$FRESH"
expect_ok "cli: generate-signature uses the stored certificate" generate-signature \
    "{\"contractVersion\":\"1.0\",\"keyId\":\"$FRESH\",\"keySpec\":\"EC-384\",\"hashAlgorithm\":\"SHA-384\",\"payload\":\"$P\"}"
expect_rc "generate-test --store again replaces the certificate" 0 'stored' \
    cert generate-test --id "$FRESH" fresh-app2 --store
ks keys --module "$M" --json
check "cli: one certificate per key after a second --store" \
    test "$(printf '%s' "$OUT" | jq -r '[.slots[].token // empty | .keys[] | select(.label=="fresh")][0].certificateSubject')" = \
    "/C=US/ST=WA/O=Notary/CN=fresh-app2"
# A certificate that shares only the key's label (another CKA_ID): signing
# uses it, and the listing, built on the same lookup, says so too.
pkcs11-tool --module "$M" --token-label nk-test --login --pin "$NK_P11_PIN" \
    --keypairgen --key-type EC:prime256v1 --id 21 --label bylabel >/dev/null 2>&1
ks cert generate-test --id "$(key_id bylabel)" bylabel-app
openssl x509 -in bylabel-app.crt -outform DER -out bylabel-app.der
pkcs11-tool --module "$M" --token-label nk-test --login --pin "$NK_P11_PIN" \
    --write-object bylabel-app.der --type cert --id 22 --label bylabel >/dev/null 2>&1
ks keys --id "$(key_id bylabel)" --json
by_id=$(printf '%s' "$OUT" | jq -r .certificateSubject)
ks keys --module "$M" --json
check "cli: keys lists the certificate signing finds by label ($by_id)" \
    test "$(printf '%s' "$OUT" | jq -r '[.slots[].token // empty | .keys[] | select(.label=="bylabel")][0].certificateSubject')" = \
    "$by_id"
check "cli: ... and it is the bylabel-app certificate" test "$by_id" = "/C=US/ST=WA/O=Notary/CN=bylabel-app"
NOTATION_KEYSTORE_PIN=0000 expect_rc "keys with a wrong PIN fails as signing does, not retried" 1 \
    'wrong PIN for token "nk-test" \(from NOTATION_KEYSTORE_PIN\): CKR_PIN_INCORRECT; not retried' \
    keys --module "$M"

# ---- cert request ----
expect_rc "cert request" 0 'certificate request: req.pem' cert request \
    --id "$(key_id rsa3072)" --subject "C=US, ST=WA, O=Acme\, Inc, CN=release" --out req.pem
check "cli: openssl verifies the CSR signature" \
    bash -c "openssl req -in req.pem -verify -noout 2>&1 | grep -q 'verify OK'"
openssl req -in req.pem -noout -subject -text >req.txt
check "cli: CSR subject" grep -Eq '^subject=C = US, ST = WA, O = "?Acme, Inc"?, CN = release$' req.txt
check "cli: CSR asks for critical digitalSignature and codeSigning" \
    bash -c "tr -d '\n' <req.txt | grep -Eq 'Key Usage: critical *Digital Signature.*Code Signing'"
check "cli: CSR public key is the token key" \
    bash -c "[ \"\$(openssl req -in req.pem -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)\" = \"\$(openssl pkey -pubin -inform DER -in '$PKI/rsa3072.pub.der' -outform DER | sha256sum)\" ]"
expect_rc "cert request with a slash subject to stdout" 0 'BEGIN CERTIFICATE REQUEST' \
    cert request --id "$(key_id ec256)" --subject /C=US/ST=WA/O=Acme/CN=x
expect_rc "cert request with a bad subject" 1 'not ATTR=value' \
    cert request --id "$(key_id ec256)" --subject "C=US, nonsense"

# ---- doctor ----
expect_rc "doctor passes with the test PKI chain" 0 \
    'PASS +certificate chain +3 certificates.*PASS +revocation' doctor --id "$(key_id ec256)" \
    --plugin-config ca-certs="$NK_P11_CA"
ks doctor --id "$(key_id ec256)" --plugin-config ca-certs="$NK_P11_CA" --json
check "cli: doctor --json" test "$(printf '%s' "$OUT" | jq -r '[.ok, .keyId == "'"$(key_id ec256)"'", .checks[0].check, ([.checks[] | select(.status=="fail")] | length)]|join(" ")')" = "true true key id 0"
expect_rc "doctor: unknown key id syntax" 1 'FAIL +key id' doctor --id nope:x
expect_rc "doctor: missing key names the fix" 1 'FAIL +key store .*fix: check the key id' \
    doctor --id "$(key_id nosuchkey)"
NOTATION_KEYSTORE_PIN=0000 expect_rc "doctor: wrong PIN names the credentials" 1 \
    'FAIL +key store .*fix: check the credentials' doctor --id "$(key_id ec256)"
pki_leaf_serverauth "$PKI" ec256 ec256-serverauth >/dev/null 2>&1
expect_rc "doctor: serverAuth certificate is refused with the reason" 1 \
    'FAIL +certificate chain .*(serverAuth|EKU|extended key usage)' doctor --id "$(key_id ec256)" \
    --plugin-config certificate-chain="$PKI/ec256-serverauth.pem" --plugin-config ca-certs="$NK_P11_CA"

# ---- verify: envelopes made by generate-envelope ----
PAYLOAD='{"targetArtifact":{"digest":"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","mediaType":"application/vnd.oci.image.manifest.v1+json","size":528}}'
printf '%s' "$PAYLOAD" >payload.json
PB64=$(base64 -w0 <payload.json)
mkdir -p store other-store
cp "$PKI/root.pem" store/
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -subj /CN=other -days 2 -out other-store/other.pem 2>/dev/null
# envelope KEY TYPE FILE [EXTRA-MEMBERS] [CONFIG-JSON]
envelope() {
    local cfg=${5:-"{\"mode\":\"envelope\",\"ca-certs\":\"$NK_P11_CA\"}"}
    plugin generate-envelope "$(printf '{"contractVersion":"1.0","keyId":"%s","payloadType":"application/vnd.cncf.notary.payload.v1+json","signatureEnvelopeType":"%s","payload":"%s","pluginConfig":%s%s}' \
        "$(key_id "$1")" "$2" "$PB64" "$cfg" "${4:+,$4}")"
    printf '%s' "$OUT" | jq -r .signatureEnvelope | base64 -d >"$3"
}
JWS=application/jose+json COSE=application/cose
envelope ec384 "$JWS" good.jws.sig
envelope rsa3072 "$COSE" good.cose.sig
ID='x509.subject: C=US, ST=WA, O=Notation Keystore Test'
DIG=sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08

# tamper IN OUT WHAT: changed payload / header / chain / signature.
tamper() {
    "$NK_PY" - "$@" "$PKI/ec256.der" <<'PY'
import base64, json, sys, cbor2
src, dst, what, other = sys.argv[1:5]
data = open(src, "rb").read()
b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
unb64u = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
if data[:1] == b"{":
    e = json.loads(data)
    if what == "payload":
        p = json.loads(unb64u(e["payload"])); p["targetArtifact"]["size"] += 1
        e["payload"] = b64u(json.dumps(p).encode())
    elif what == "header":
        h = json.loads(unb64u(e["protected"])); h["io.cncf.notary.signingTime"] = "2020-01-01T00:00:00Z"
        e["protected"] = b64u(json.dumps(h).encode())
    elif what == "chain":
        e["header"]["x5c"][0] = base64.b64encode(open(other, "rb").read()).decode()
    elif what == "signature":
        s = bytearray(unb64u(e["signature"])); s[5] ^= 1; e["signature"] = b64u(bytes(s))
    out = json.dumps(e).encode()
else:
    t = cbor2.loads(data); v = list(t.value)
    if what == "payload":
        p = json.loads(v[2]); p["targetArtifact"]["size"] += 1; v[2] = json.dumps(p).encode()
    elif what == "header":
        h = cbor2.loads(v[0]); h[3] = "application/json"; v[0] = cbor2.dumps(h)
    elif what == "chain":
        v[1][33][0] = open(other, "rb").read()
    elif what == "signature":
        s = bytearray(v[3]); s[5] ^= 1; v[3] = bytes(s)
    out = cbor2.dumps(cbor2.CBORTag(18, v))
open(dst, "wb").write(out)
PY
}
# agree NAME FILE STORE WANT(0|1) CHECKER KEYSPEC [ROOT]: our verify and the
# independent checker both accept (0) or both reject (1).
agree() {
    local name=$1 f=$2 store=$3 want=$4 checker=$5 spec=$6 root=${7:-$PKI/root.pem} theirs
    ks verify "$f" --trust-store "$store" --identity "$ID" --payload-digest "$DIG"
    "$NK_PY" "$NK_ROOT/tests/lib/$checker" "$f" --payload payload.json --keyspec "$spec" \
        --root "$root" >"$NK_TMP/checker.out" 2>&1
    theirs=$?
    [ "$theirs" -gt 1 ] && theirs=1
    if [ "$RC" = "$want" ] && [ "$theirs" = "$want" ]; then
        pass "cli: verify $name (agrees with $checker)"
    else
        fail "cli: verify $name (ours rc=$RC theirs=$theirs want=$want out=${OUT:0:600} checker=$(head -c 300 "$NK_TMP/checker.out"))"
    fi
}
for fmt in jws cose; do
    if [ $fmt = jws ]; then c=check_jws.py s=EC-384; else c=check_cose.py s=RSA-3072; fi
    agree "$fmt good" good.$fmt.sig store 0 $c $s
    for w in payload header chain signature; do
        tamper good.$fmt.sig $w.$fmt.sig $w
        agree "$fmt changed $w" $w.$fmt.sig store 1 $c $s
    done
    agree "$fmt wrong trust store" good.$fmt.sig other-store 1 $c $s other-store/other.pem
done
expect_rc "verify names the failed check" 1 'FAIL +integrity .*does not verify' \
    verify payload.jws.sig --trust-store store
expect_rc "verify: identity mismatch" 1 'FAIL +trusted identity' \
    verify good.cose.sig --trust-store store --identity 'x509.subject: C=US, ST=WA, O=Someone Else'
# The same key in a leaf whose O holds a NUL byte after the policy's O: the
# signature still verifies, the identity must not match.
craft_sig() { # O OUT: good.cose.sig with a crafted rsa3072 leaf
    "$NK_PY" "$NK_ROOT/tests/lib/x509_craft.py" leaf "$PKI/inter.pem" "$PKI/inter.key" \
        "$2.pem" --o "$1" --pub "$PKI/rsa3072.pub.der" &&
        openssl x509 -in "$2.pem" -outform DER -out "$2.der" &&
        tamper good.cose.sig "$2" chain "$2.der"
}
craft_sig 'Notation Keystore Test' crafted.cose.sig &&
    craft_sig 'Notation Keystore Test\0.evil.example' nul.cose.sig ||
    fail "cli: cannot craft the NUL leaf"
expect_rc "verify: crafted leaf with the policy's O (control)" 0 \
    'PASS +integrity.*PASS +trusted identity' \
    verify crafted.cose.sig --trust-store store --identity "$ID"
expect_rc "verify: NUL byte in the leaf's O does not match" 1 \
    'PASS +integrity.*FAIL +trusted identity .*NUL' \
    verify nul.cose.sig --trust-store store --identity "$ID"
expect_rc "verify: payload digest mismatch" 1 'FAIL +payload .*signature covers' \
    verify good.jws.sig --trust-store store --payload-digest sha256:0000
ks verify good.cose.sig --trust-store store --json
check "cli: verify --json" test "$(printf '%s' "$OUT" | jq -r '[.ok, .format, (.checks|map(select(.status=="fail"))|length)]|join(" ")')" = "true cose 0"
printf '{"payload":"","protected":"","header":{},"signature":"","extra":1}' >junk.sig
expect_rc "verify: strict parsing refuses unknown members" 1 'FAIL +envelope .*unknown member' \
    verify junk.sig --trust-store store
head -c 100 good.cose.sig >trunc.sig
expect_rc "verify: truncated COSE" 1 'FAIL +envelope' verify trunc.sig --trust-store store

# timestamped (local TSA): verified with --tsa-store, reported without.
. "$NK_ROOT/tests/lib/tsa.sh"
if tsa_setup "$NK_TMP/tsa" >"$NK_TMP/tsa.log" 2>&1 && tsa_start "$NK_TMP/tsa"; then
    envelope ec256 "$COSE" ts.cose.sig "" \
        "{\"mode\":\"envelope\",\"ca-certs\":\"$NK_P11_CA\",\"timestamp-url\":\"$TSA_URL/ok\",\"timestamp-root-cert\":\"$NK_TMP/tsa/tsa-root.pem\"}"
    mkdir -p tsastore && cp "$NK_TMP/tsa/tsa-root.pem" tsastore/
    expect_rc "verify: timestamp verified with --tsa-store" 0 \
        'PASS +timestamp +timestamped 20[0-9-]+T.*by a trusted TSA.*PASS +expiry +certificates valid at the timestamp' \
        verify ts.cose.sig --trust-store store --tsa-store tsastore
    expect_rc "verify: timestamp present, not verified without --tsa-store" 0 \
        'WARN +timestamp .*give --tsa-store' verify ts.cose.sig --trust-store store
    expect_rc "verify: timestamp from an untrusted TSA" 1 'FAIL +timestamp' \
        verify ts.cose.sig --trust-store store --tsa-store store
else
    cat "$NK_TMP/tsa.log"
    fail "cli: local TSA setup"
fi

# expired: a 1-second expiry; the header says so independently.
envelope ec256 "$JWS" expiring.jws.sig '"expiryDurationInSeconds":1'
sleep 2
expect_rc "verify: expired signature" 1 'FAIL +expiry +the signature expired' \
    verify expiring.jws.sig --trust-store store
check "cli: the expiry header is in the past (independent)" "$NK_PY" -c '
import base64, json, sys, datetime
e = json.load(open("expiring.jws.sig")); p = e["protected"]
h = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
t = datetime.datetime.fromisoformat(h["io.cncf.notary.expiry"].replace("Z", "+00:00"))
sys.exit(0 if t < datetime.datetime.now(datetime.timezone.utc) else 1)'

# revoked: keys of the revocation PKI imported into the token, CRL served
# on loopback; openssl -crl_check is the independent judge.
RP=$NK_TMP/rev
CRL_PORT=$(free_port)
if rev_pki "$RP" "$(free_port)" "$CRL_PORT" "$(free_port)" "$(free_port)" >"$NK_TMP/rev.log" 2>&1; then
    "$NK_PY" "$NK_ROOT/tests/lib/verify_server.py" "$CRL_PORT" "$RP/www" &
    CRL_PID=$!
    at_exit "kill $CRL_PID"
    wait_port "$CRL_PORT"
    cat "$RP/inter.pem" "$RP/root.pem" >"$RP/ca.pem"
    mkdir -p revstore && cp "$RP/root.pem" revstore/
    i=30
    for n in leaf-crl leaf-crlrev; do
        i=$((i + 1))
        softhsm_import_key nk-test "$i" "$n" "$RP/$n.key" >/dev/null 2>&1
        envelope "$n" "$COSE" "$n.cose.sig" "" \
            "{\"mode\":\"envelope\",\"certificate-chain\":\"$RP/$n.pem\",\"ca-certs\":\"$RP/ca.pem\"}"
    done
    expect_rc "verify: CRL-checked good signature" 0 'PASS +revocation +no certificate is revoked' \
        verify leaf-crl.cose.sig --trust-store revstore --plugin-config crl-cache=false
    expect_rc "verify: revoked signing certificate" 1 'FAIL +revocation .*revoked' \
        verify leaf-crlrev.cose.sig --trust-store revstore --plugin-config crl-cache=false
    expect_rc "verify: --skip-revocation in an air gap" 0 'SKIP +revocation' \
        verify leaf-crlrev.cose.sig --trust-store revstore --skip-revocation
    check "cli: openssl -crl_check also calls it revoked (independent)" bash -c \
        "openssl verify -crl_check -CRLfile '$RP/www/inter.crl' -CAfile '$RP/root.pem' -untrusted '$RP/inter.pem' '$RP/leaf-crlrev.pem' 2>&1 | grep -q 'certificate revoked'"
else
    cat "$NK_TMP/rev.log"
    fail "cli: revocation PKI setup"
fi

# ---- the trace log: steps with times, never a secret ----
SECRET_PIN=Zq7-secret-PIN-x41
softhsm_init "$NK_TMP/std/softhsm" nk-log 87654321 "$SECRET_PIN" >/dev/null
pkcs11-tool --module "$M" --token-label nk-log --login --pin "$SECRET_PIN" \
    --keypairgen --key-type EC:prime256v1 --id 01 --label logkey >/dev/null 2>&1
LOGKEY="pkcs11:token=nk-log;object=logkey?module-path=$M"
NOTATION_KEYSTORE_PIN=$SECRET_PIN "$NK_BIN" cert generate-test --id "$LOGKEY" logkey --store >/dev/null 2>&1
LOG=$NK_TMP/trace.log
NOTATION_KEYSTORE_PIN=$SECRET_PIN NOTATION_KEYSTORE_LOG=debug NOTATION_KEYSTORE_LOG_FILE=$LOG \
    expect_ok "cli: signing with the trace log on" generate-signature \
    "{\"contractVersion\":\"1.0\",\"keyId\":\"$LOGKEY&pin-value=$SECRET_PIN\",\"keySpec\":\"EC-256\",\"hashAlgorithm\":\"SHA-256\",\"payload\":\"$P\"}"
for step in 'info command generate-signature' 'debug pkcs11: module ' \
    'info pkcs11: loaded module "[^"]+" \([0-9.]+ ms, [0-9]+ slots\)' \
    'info pkcs11: logged in to token "nk-log" \([0-9.]+ ms\)' \
    'info key pkcs11:token=nk-log;object=logkey: pkcs11 backend' \
    'info certificate chain: 1 certificates' 'info signed with pkcs11 backend \([0-9.]+ ms\)' \
    'info command generate-signature done in [0-9.]+ ms'; do
    check "cli: trace log has \"$step\"" grep -Eq "^20[0-9-]+T[0-9:.]+Z \+[0-9.]+ms \[[0-9]+\] $step" "$LOG"
done
check "cli: trace log holds no PIN" bash -c "! grep -qF '$SECRET_PIN' '$LOG'"
check "cli: trace log file is private (0600)" test "$(stat -c %a "$LOG")" = 600
rm -f "$NK_TMP/nolog"
NOTATION_KEYSTORE_LOG_FILE=$NK_TMP/nolog "$NK_BIN" keys --id "$(key_id ec256)" >/dev/null 2>&1
check "cli: no trace without NOTATION_KEYSTORE_LOG" test ! -e "$NK_TMP/nolog"

# ---- the trace log file: only a private regular file of the user's ----
TL=$NK_TMP/tl
mkdir -p "$TL"
# tl PATH [ARGS...]: with the trace on into PATH, the metadata command
# (which succeeds) or the command for people ARGS; sets OUT, ERR, RC.
tl() {
    local f=$1
    shift
    if [ $# = 0 ]; then
        NOTATION_KEYSTORE_LOG=debug NOTATION_KEYSTORE_LOG_FILE=$f plugin get-plugin-metadata '{}'
    else
        NOTATION_KEYSTORE_LOG=debug NOTATION_KEYSTORE_LOG_FILE=$f ks "$@"
    fi
}
quiet_ok() { [ "$RC" = 0 ] && [ -z "$ERR" ] && printf '%s' "$OUT" | jq -e .name >/dev/null; }
tl "$TL/fresh.log"
check "cli: trace log: a fresh path is created 0600, ours, and written" bash -c "
    [ \"\$(stat -c '%a %u' '$TL/fresh.log')\" = '600 $(id -u)' ] &&
    grep -q 'info command get-plugin-metadata' '$TL/fresh.log'"
tl "$TL/fresh.log"
check "cli: trace log: our own 0600 file is appended to" \
    test "$(grep -c 'debug log opened' "$TL/fresh.log")" = 2
printf 'not a log\n' >"$TL/target"
chmod 600 "$TL/target"
ln -s "$TL/target" "$TL/link.log"
tl "$TL/link.log"
check "cli: trace log: a symbolic link is not followed (run quiet and fine)" quiet_ok
check "cli: trace log: the link's target is untouched" test "$(cat "$TL/target")" = 'not a log'
ln -s "$TL/made-by-link" "$TL/dangling.log"
tl "$TL/dangling.log"
check "cli: trace log: a dangling link creates nothing" test ! -e "$TL/made-by-link"
: >"$TL/nobody.log"
chmod 600 "$TL/nobody.log"
if chown nobody "$TL/nobody.log" && [ "$(stat -c %U "$TL/nobody.log")" = nobody ]; then
    tl "$TL/nobody.log"
    check "cli: trace log: a file of another user is not appended to" \
        bash -c "[ ! -s '$TL/nobody.log' ] && [ $RC = 0 ] && [ -z \"\$0\" ]" "$ERR"
else
    fail "cli: trace log: cannot chown a file to nobody (the test needs root)"
fi
: >"$TL/open.log"
chmod 644 "$TL/open.log"
tl "$TL/open.log"
check "cli: trace log: an existing 0644 file is refused" \
    bash -c "[ ! -s '$TL/open.log' ] && [ \"\$(stat -c %a '$TL/open.log')\" = 644 ]"
check "cli: trace log: ... and the protocol command stays quiet" quiet_ok
mkfifo -m 600 "$TL/fifo.log"
NOTATION_KEYSTORE_LOG=debug NOTATION_KEYSTORE_LOG_FILE=$TL/fifo.log \
    timeout 10 "$NK_BIN" get-plugin-metadata </dev/null >/dev/null 2>&1
check "cli: trace log: a FIFO at the path does not hang the plugin" test $? = 0
NOTATION_KEYSTORE_LOG=debug NOTATION_KEYSTORE_LOG_FILE=$TL/open.log \
    plugin generate-signature '{"contractVersion":"1.0"}'
check "cli: trace log refused: a failing protocol command's stderr is the error JSON alone" \
    bash -c "[ $RC = 1 ] && [ \"\$(printf '%s\n' \"\$0\" | wc -l)\" = 1 ] &&
        printf '%s' \"\$0\" | jq -e .errorCode >/dev/null" "$ERR"
tl "$TL/open.log" keys --help
check "cli: trace log refused: a command for people says why, once, on stderr" \
    bash -c "[ $RC = 0 ] && [ \"\$0\" = 'notation-keystore: trace log \"$TL/open.log\" not written: group or others may use it (chmod 600 it)' ]" "$ERR"
tl "$TL/link.log" keys --help
check "cli: trace log refused: ... naming a symbolic link" \
    bash -c "[ \"\$0\" = 'notation-keystore: trace log \"$TL/link.log\" not written: it is a symbolic link' ]" "$ERR"

# ---- KMS keys (the loopback Vault Transit mock): keys --id, generate-test,
# request and doctor through the signer interface ----
. "$NK_ROOT/tests/lib/kms_pki.sh"
vport=$(free_port)
VAULT_MOCK_LIFETIME=300 "$NK_PY" "$NK_ROOT/tests/lib/vault_mock.py" \
    --setup "$NK_TMP/vault.json" --http "$vport" --only rsa-2048,ecdsa-p384 \
    >"$NK_TMP/vault.log" 2>&1 &
at_exit "kill $!"
if wait_file "$NK_TMP/vault.json" 60; then
    (
        unset VAULT_NAMESPACE BAO_ADDR BAO_TOKEN TRANSIT_SECRET_ENGINE_PATH VAULT_CACERT
        export VAULT_ADDR=http://127.0.0.1:$vport
        VAULT_TOKEN=$(jq -r .root_token "$NK_TMP/vault.json")
        export VAULT_TOKEN HOME=$NK_TMP/home
        mkdir -p "$HOME"
        expect_rc "vault: keys --id describes a Transit key" 0 \
            'backend: +hashivault.*EC-384 \(ECDSA-SHA-384\)' keys --id hashivault://ecdsa-p384
        for k in ecdsa-p384 rsa-2048; do
            expect_rc "vault: generate-test signed by Transit ($k)" 0 \
                "certificate-chain=.*/v-$k.crt" cert generate-test --id "hashivault://$k" "v-$k"
            check "cli: vault: openssl verifies the $k certificate" \
                bash -c "openssl verify -partial_chain -check_ss_sig -CAfile v-$k.crt v-$k.crt >/dev/null"
            expect_rc "vault: doctor passes with the generated certificate ($k)" 0 \
                'PASS +test signature.*all checks passed' doctor --id "hashivault://$k" \
                --plugin-config certificate-chain="$NK_TMP/v-$k.crt"
        done
        expect_rc "vault: cert request" 0 'BEGIN CERTIFICATE REQUEST' cert request \
            --id hashivault://rsa-2048 --subject "C=US, ST=WA, O=Acme, CN=vault"
        expect_rc "vault: --store needs a PKCS#11 key" 1 '--store needs a pkcs11: key' \
            cert generate-test --id hashivault://ecdsa-p384 v-store --store
        VAULT_TOKEN=not-a-token expect_rc "vault: doctor with a bad token names the credentials" 1 \
            'FAIL +key store .*fix: check the credentials' doctor --id hashivault://ecdsa-p384
    )
else
    cat "$NK_TMP/vault.log"
    fail "cli: vault mock did not start"
fi
