# KMS test helpers: a code-signing leaf for a public key whose private half
# lives in the key store (openssl x509 -req -force_pubkey), and an
# independent check of a notation raw signature with Python cryptography.
# Source after harness.sh and pki.sh.

# kms_chain DIR NAME PUBPEM: DIR/NAME-chain.pem = leaf (for PUBPEM),
# intermediate, root.
kms_chain() {
    local dir=$1 name=$2 pub=$3
    pki_ca "$dir" || return 1
    [ -s "$dir/csr.key" ] || openssl genpkey -algorithm EC \
        -pkeyopt ec_paramgen_curve:P-256 -out "$dir/csr.key" 2>/dev/null
    openssl req -new -key "$dir/csr.key" \
        -subj "/C=US/ST=WA/O=Notation Keystore Tests/CN=$name" \
        -out "$dir/$name.csr" || return 1
    openssl x509 -req -in "$dir/$name.csr" -force_pubkey "$pub" \
        -CA "$dir/inter.pem" -CAkey "$dir/inter.key" \
        -set_serial "0x$(openssl rand -hex 12)" -days 30 -sha384 \
        -extfile "$(pki_ext "$dir" leaf)" -out "$dir/$name.pem" \
        2>/dev/null || return 1
    cat "$dir/$name.pem" "$dir/ca-certs.pem" >"$dir/$name-chain.pem"
}

# kms_verify PUBPEM SPEC PAYLOADFILE SIGB64: PSS with salt = hash length,
# or ECDSA r||s, over the payload hashed with the spec's hash.
kms_verify() {
    "$NK_PY" - "$@" <<'PY'
import base64, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
pub = serialization.load_pem_public_key(open(sys.argv[1], "rb").read())
spec, data = sys.argv[2], open(sys.argv[3], "rb").read()
sig = base64.b64decode(sys.argv[4], validate=True)
h = {"RSA-2048": hashes.SHA256, "RSA-3072": hashes.SHA384,
     "RSA-4096": hashes.SHA512, "EC-256": hashes.SHA256,
     "EC-384": hashes.SHA384, "EC-521": hashes.SHA512}[spec]()
if isinstance(pub, rsa.RSAPublicKey):
    assert len(sig) == pub.key_size // 8
    pub.verify(sig, data, padding.PSS(mgf=padding.MGF1(h),
               salt_length=h.digest_size), h)
else:
    w = (pub.curve.key_size + 7) // 8
    assert len(sig) == 2 * w, "not fixed-width r||s"
    r, s = int.from_bytes(sig[:w], "big"), int.from_bytes(sig[w:], "big")
    pub.verify(utils.encode_dss_signature(r, s), data, ec.ECDSA(h))
PY
}

# kms_tls DIR NAME: a throw-away TLS CA DIR/NAME-ca.pem and a server
# certificate DIR/NAME-server.{pem,key} for 127.0.0.1 and localhost, for the
# loopback mock servers (Vault mock, fault server).
kms_tls() {
    local dir=$1 name=$2
    mkdir -p "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$dir/$name-ca.key" -out "$dir/$name-ca.pem" -days 2 \
        -subj "/CN=$name test TLS CA" \
        -addext "basicConstraints=critical,CA:true" \
        -addext "keyUsage=critical,keyCertSign" 2>/dev/null || return 1
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$dir/$name-server.key" -out "$dir/$name-server.csr" \
        -subj "/CN=127.0.0.1" 2>/dev/null || return 1
    printf '%s\n' "subjectAltName = IP:127.0.0.1, DNS:localhost" \
        "extendedKeyUsage = serverAuth" "basicConstraints = CA:false" \
        >"$dir/$name-server.ext"
    openssl x509 -req -in "$dir/$name-server.csr" -CA "$dir/$name-ca.pem" \
        -CAkey "$dir/$name-ca.key" -set_serial "0x$(openssl rand -hex 8)" \
        -days 2 -extfile "$dir/$name-server.ext" \
        -out "$dir/$name-server.pem" 2>/dev/null
}

# kms_tls_bad DIR NAME: after kms_tls DIR NAME, two server certificates
# from the same (trusted) CA that must still be refused: NAME-expired
# (valid for 127.0.0.1, expired a day ago) and NAME-wronghost (current, but
# only for wrong-host.example). Files DIR/NAME-{expired,wronghost}.{pem,key}.
kms_tls_bad() {
    "$NK_PY" - "$1" "$2" <<'PY'
import datetime, sys, ipaddress
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
d, name = sys.argv[1], sys.argv[2]
ca = x509.load_pem_x509_certificate(open(f"{d}/{name}-ca.pem", "rb").read())
cakey = serialization.load_pem_private_key(open(f"{d}/{name}-ca.key", "rb").read(), None)
now = datetime.datetime.utcnow()
for kind, start, end, san in (
        ("expired", now - datetime.timedelta(days=3), now - datetime.timedelta(days=1),
         [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
        ("wronghost", now - datetime.timedelta(hours=1), now + datetime.timedelta(days=2),
         [x509.DNSName("wrong-host.example")])):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{kind} server")]))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(san), False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), False)
            .sign(cakey, hashes.SHA256()))
    open(f"{d}/{name}-{kind}.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
    open(f"{d}/{name}-{kind}.key", "wb").write(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
PY
}

# wait_file FILE [SECONDS]: waits until FILE exists.
wait_file() {
    local f=$1 t=${2:-30} i
    for ((i = 0; i < t * 20; i++)); do
        [ -e "$f" ] && return 0
        sleep 0.05
    done
    return 1
}
