# A revocation test PKI made with the openssl CLI (openssl ca databases, so
# CRLs and the `openssl ocsp` responder's index come from the same source).
# Source it after harness.sh, then:
#   rev_pki DIR OCSP_PORT CRL_PORT ROGUE_PORT DOWN_PORT
# (rev_pki_more, at the end, adds certificates for the newer tests.)
# Files (PEM, plus .b64 = base64 of the DER, one line):
#   root, inter (CDP root.crl), inter2 (CDP root.crl, revoked by the root)
#   leaf-good      AIA OCSP + CDP inter.crl         good
#   leaf-revoked   AIA OCSP + CDP inter.crl         revoked (keyCompromise)
#   leaf-unknown   AIA OCSP + CDP inter.crl         not in the responder's
#                                                   index, revoked in the CRL
#   leaf-crl       CDP inter.crl only               good
#   leaf-crlrev    CDP inter.crl only               revoked (superseded)
#   leaf-i2        issued by inter2, no AIA/CDP
#   leaf-rogue     AIA -> ROGUE_PORT (responder signing with a foreign key)
#   leaf-down      AIA -> DOWN_PORT (a server that never answers)
#   leaf-stale     CDP stale.crl (nextUpdate in the past)
#   leaf-badsig    CDP badsig.crl (same issuer name, another key)
#   leaf-bare      no AIA, no CDP
#   ocsp.{pem,key} delegated responder (OCSPSigning) issued by inter
#   rogue.{pem,key} self-signed OCSPSigning certificate
# DIR/www holds root.crl, inter.crl, stale.crl, badsig.crl;
# DIR/ocsp-index.txt is the responder's index (without leaf-unknown).

rev_subj="/C=US/ST=WA/O=Notation Keystore Revocation Test"

rev_cnf() { # DIR: openssl ca config for the CA in DIR
    cat >"$1/ca.cnf" <<EOF
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = $1
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_md = sha256
default_days = 30
default_crl_days = 7
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
countryName = optional
stateOrProvinceName = optional
organizationName = optional
commonName = supplied
[ crl_ext ]
authorityKeyIdentifier = keyid:always
EOF
}

rev_ca_dir() { # DIR
    mkdir -p "$1/newcerts"
    : >"$1/index.txt"
    echo 1000 >"$1/serial"
    echo 1000 >"$1/crlnumber"
    rev_cnf "$1"
}

rev_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# rev_issue CADIR CAKEY CACERT NAME CN EXTFILE OUTDIR
rev_issue() {
    local ca=$1 key=$2 cert=$3 name=$4 cn=$5 ext=$6 out=$7
    rev_key "$out/$name.key"
    openssl req -new -key "$out/$name.key" -subj "$rev_subj/CN=$cn" \
        -out "$out/$name.csr" 2>/dev/null
    openssl ca -batch -notext -config "$ca/ca.cnf" -keyfile "$key" \
        -cert "$cert" -in "$out/$name.csr" -out "$out/$name.pem" \
        -extfile "$ext" >/dev/null 2>&1
}

rev_leaf_ext() { # FILE AIA-URL-or-empty CDP-URL-or-empty [EKU]
    {
        echo "basicConstraints = CA:false"
        echo "keyUsage = critical, digitalSignature"
        echo "extendedKeyUsage = ${4:-codeSigning}"
        echo "subjectKeyIdentifier = hash"
        echo "authorityKeyIdentifier = keyid:always"
        [ -z "$2" ] || echo "authorityInfoAccess = OCSP;URI:$2"
        [ -z "$3" ] || echo "crlDistributionPoints = URI:$3"
    } >"$1"
}

rev_pki() {
    local d=$1 op=$2 cp=$3 rp=$4 dp=$5 n
    local ocsp="http://127.0.0.1:$op" crl="http://127.0.0.1:$cp"
    mkdir -p "$d/www"
    rev_ca_dir "$d/rootca"
    rev_ca_dir "$d/interca"
    rev_ca_dir "$d/inter2ca"
    rev_key "$d/root.key"
    openssl req -x509 -new -key "$d/root.key" -subj "$rev_subj/CN=Rev Root" \
        -days 3650 -out "$d/root.pem" \
        -addext "basicConstraints=critical,CA:true" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    printf '%s\n' "basicConstraints = critical, CA:true" \
        "keyUsage = critical, keyCertSign, cRLSign" \
        "subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid:always" \
        "crlDistributionPoints = URI:$crl/root.crl" >"$d/inter.ext"
    rev_issue "$d/rootca" "$d/root.key" "$d/root.pem" inter "Rev Inter" "$d/inter.ext" "$d"
    rev_issue "$d/rootca" "$d/root.key" "$d/root.pem" inter2 "Rev Inter 2" "$d/inter.ext" "$d"
    rev_leaf_ext "$d/full.ext" "$ocsp" "$crl/inter.crl"
    rev_leaf_ext "$d/crl.ext" "" "$crl/inter.crl"
    rev_leaf_ext "$d/rogue.ext" "http://127.0.0.1:$rp" ""
    rev_leaf_ext "$d/down.ext" "http://127.0.0.1:$dp" ""
    rev_leaf_ext "$d/stale.ext" "" "$crl/stale.crl"
    rev_leaf_ext "$d/badsig.ext" "" "$crl/badsig.crl"
    rev_leaf_ext "$d/bare.ext" "" ""
    rev_leaf_ext "$d/ocspsign.ext" "" "" "critical, OCSPSigning"
    local ca="$d/interca" k="$d/inter.key" c="$d/inter.pem"
    rev_issue "$ca" "$k" "$c" leaf-good "Good Leaf" "$d/full.ext" "$d"
    rev_issue "$ca" "$k" "$c" leaf-revoked "Revoked Leaf" "$d/full.ext" "$d"
    rev_issue "$ca" "$k" "$c" leaf-crl "CRL Leaf" "$d/crl.ext" "$d"
    rev_issue "$ca" "$k" "$c" leaf-crlrev "CRL Revoked Leaf" "$d/crl.ext" "$d"
    rev_issue "$ca" "$k" "$c" leaf-rogue "Rogue Leaf" "$d/rogue.ext" "$d"
    rev_issue "$ca" "$k" "$c" leaf-down "Down Leaf" "$d/down.ext" "$d"
    rev_issue "$ca" "$k" "$c" leaf-stale "Stale Leaf" "$d/stale.ext" "$d"
    rev_issue "$ca" "$k" "$c" leaf-badsig "Badsig Leaf" "$d/badsig.ext" "$d"
    rev_issue "$ca" "$k" "$c" leaf-bare "Bare Leaf" "$d/bare.ext" "$d"
    rev_issue "$ca" "$k" "$c" ocsp "Rev OCSP Responder" "$d/ocspsign.ext" "$d"
    rev_issue "$ca" "$k" "$c" leaf-unknown "Unknown Leaf" "$d/full.ext" "$d"
    rev_issue "$d/inter2ca" "$d/inter2.key" "$d/inter2.pem" leaf-i2 "Inter2 Leaf" "$d/bare.ext" "$d"
    openssl ca -config "$ca/ca.cnf" -keyfile "$k" -cert "$c" -revoke "$d/leaf-revoked.pem" \
        -crl_reason keyCompromise >/dev/null 2>&1
    openssl ca -config "$ca/ca.cnf" -keyfile "$k" -cert "$c" -revoke "$d/leaf-crlrev.pem" \
        -crl_reason superseded >/dev/null 2>&1
    openssl ca -config "$ca/ca.cnf" -keyfile "$k" -cert "$c" -revoke "$d/leaf-unknown.pem" \
        -crl_reason keyCompromise >/dev/null 2>&1
    openssl ca -config "$d/rootca/ca.cnf" -keyfile "$d/root.key" -cert "$d/root.pem" \
        -revoke "$d/inter2.pem" -crl_reason cACompromise >/dev/null 2>&1
    # The responder's index: revocations of the CA, minus leaf-unknown.
    n=$(openssl x509 -in "$d/leaf-unknown.pem" -noout -serial | cut -d= -f2)
    grep -v "	$n	" "$ca/index.txt" >"$d/ocsp-index.txt"
    rev_crl "$ca" "$k" "$c" "$d/www/inter.crl"
    rev_crl "$d/rootca" "$d/root.key" "$d/root.pem" "$d/www/root.crl"
    rev_crl "$ca" "$k" "$c" "$d/www/stale.crl" \
        -crl_lastupdate 20200101000000Z -crl_nextupdate 20200102000000Z
    # Another key under the intermediate's name signs badsig.crl.
    rev_ca_dir "$d/rogueca"
    rev_key "$d/rogueca.key"
    openssl req -x509 -new -key "$d/rogueca.key" -subj "$rev_subj/CN=Rev Inter" \
        -days 30 -out "$d/rogueca.pem" 2>/dev/null
    rev_crl "$d/rogueca" "$d/rogueca.key" "$d/rogueca.pem" "$d/www/badsig.crl"
    rev_key "$d/rogue.key"
    openssl req -x509 -new -key "$d/rogue.key" -subj "$rev_subj/CN=Rogue Responder" \
        -days 30 -out "$d/rogue.pem" -addext "extendedKeyUsage=critical,OCSPSigning" 2>/dev/null
    for n in root inter inter2 leaf-good leaf-revoked leaf-unknown leaf-crl leaf-crlrev \
        leaf-i2 leaf-rogue leaf-down leaf-stale leaf-badsig leaf-bare; do
        openssl x509 -in "$d/$n.pem" -outform DER | base64 -w0 >"$d/$n.b64" || return 1
    done
}

rev_crl() { # CADIR KEY CERT OUT [openssl ca options]
    local ca=$1 key=$2 cert=$3 out=$4
    shift 4
    openssl ca -gencrl -config "$ca/ca.cnf" -keyfile "$key" -cert "$cert" \
        -crlexts crl_ext "$@" -out "$out.pem" >/dev/null 2>&1 &&
        openssl crl -in "$out.pem" -outform DER -out "$out"
}

# rev_responder DIR PORT SIGNER-NAME LOG: starts `openssl ocsp` in the
# background and waits until it listens; sets REV_PID. (Do not probe it
# with wait_port: the single-threaded responder would wait on the probe.)
rev_responder() {
    local d=$1 port=$2 signer=$3 log=$4 i
    openssl ocsp -index "$d/ocsp-index.txt" -port "$port" -rsigner "$d/$signer.pem" \
        -rkey "$d/$signer.key" -CA "$d/inter.pem" -nmin 10 -ignore_err -timeout 2 \
        >"$log" 2>&1 &
    REV_PID=$!
    for ((i = 0; i < 200; i++)); do
        grep -qs 'waiting for OCSP client' "$log" && return 0
        sleep 0.05
    done
    return 1
}

# rev_pki_more DIR CRL_PORT PYOCSP_PORT: after rev_pki, the certificates for
# the CRL scope tests and the Python OCSP responder (tests/lib/ocsp_server.py):
#   leaf-idp        CDP idp.crl (the test writes crafted CRLs there)
#   inter-nocrl     CA under the root whose keyUsage lacks cRLSign
#   leaf-nocrl      issued by inter-nocrl, CDP nocrl.crl
#   leaf-2dp-rev    CDPs rev-2dp.crl then empty.crl
#   leaf-2dp-down   CDPs missing.crl (404) then empty.crl
#   leaf-ogood, leaf-ostale, leaf-oreplay   AIA PYOCSP_PORT/good|stale|replay
rev_pki_more() {
    local d=$1 crl="http://127.0.0.1:$2" py="http://127.0.0.1:$3" n
    local ca="$d/interca" k="$d/inter.key" c="$d/inter.pem"
    rev_leaf_ext "$d/idp.ext" "" "$crl/idp.crl"
    rev_leaf_ext "$d/nocrl.ext" "" "$crl/nocrl.crl"
    rev_leaf_ext "$d/2dp-rev.ext" "" "$crl/rev-2dp.crl, URI:$crl/empty.crl"
    rev_leaf_ext "$d/2dp-down.ext" "" "$crl/missing.crl, URI:$crl/empty.crl"
    for n in good stale replay; do
        rev_leaf_ext "$d/o$n.ext" "$py/$n" ""
        rev_issue "$ca" "$k" "$c" "leaf-o$n" "Py OCSP $n Leaf" "$d/o$n.ext" "$d"
    done
    rev_issue "$ca" "$k" "$c" leaf-idp "IDP Leaf" "$d/idp.ext" "$d"
    rev_issue "$ca" "$k" "$c" leaf-2dp-rev "Two DP Revoked Leaf" "$d/2dp-rev.ext" "$d"
    rev_issue "$ca" "$k" "$c" leaf-2dp-down "Two DP Down Leaf" "$d/2dp-down.ext" "$d"
    printf '%s\n' "basicConstraints = critical, CA:true" \
        "keyUsage = critical, keyCertSign" \
        "subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid:always" \
        "crlDistributionPoints = URI:$crl/root.crl" >"$d/nocrlca.ext"
    rev_ca_dir "$d/nocrlca"
    rev_issue "$d/rootca" "$d/root.key" "$d/root.pem" inter-nocrl "Rev Inter NoCRLSign" \
        "$d/nocrlca.ext" "$d"
    rev_issue "$d/nocrlca" "$d/inter-nocrl.key" "$d/inter-nocrl.pem" leaf-nocrl \
        "NoCRLSign Leaf" "$d/nocrl.ext" "$d"
    for n in leaf-idp inter-nocrl leaf-nocrl leaf-2dp-rev leaf-2dp-down leaf-ogood \
        leaf-ostale leaf-oreplay; do
        openssl x509 -in "$d/$n.pem" -outform DER | base64 -w0 >"$d/$n.b64" || return 1
    done
}
