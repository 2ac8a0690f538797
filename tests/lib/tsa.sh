# A test timestamp authority: its own root, TSA certificates and an
# `openssl ts -reply` configuration, served by tests/lib/tsa_server.py on
# 127.0.0.1. Source it after harness.sh, then:
#   tsa_setup DIR    DIR/tsa-root.pem (self-signed), DIR/tsa.pem (critical
#                    timeStamping EKU, critical digitalSignature keyUsage),
#                    DIR/tsa-badeku.pem (timeStamping plus another usage),
#                    DIR/tsa.cnf (sections tsa_ok, tsa_badeku, tsa_ess1)
#   tsa_start DIR    starts the server; sets TSA_URL (http://127.0.0.1:N)
#                    and TSA_PID; stopped at exit

_tsa_cert() { # DIR NAME EKU
    local d=$1 n=$2 eku=$3
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$d/$n.key" 2>/dev/null || return 1
    openssl req -new -key "$d/$n.key" -subj "/C=US/ST=WA/O=NK Test TSA/CN=$n" \
        -out "$d/$n.csr" || return 1
    printf '%s\n' "basicConstraints = critical, CA:false" \
        "keyUsage = critical, digitalSignature" \
        "extendedKeyUsage = $eku" "subjectKeyIdentifier = hash" \
        "authorityKeyIdentifier = keyid:always" >"$d/$n.ext"
    openssl x509 -req -in "$d/$n.csr" -CA "$d/tsa-root.pem" \
        -CAkey "$d/tsa-root.key" -set_serial "0x$(openssl rand -hex 8)" \
        -days 30 -sha256 -extfile "$d/$n.ext" -out "$d/$n.pem" 2>/dev/null
}

_tsa_section() { # DIR SECTION CERT ESSALG
    printf '%s\n' "[ $2 ]" "serial = $1/$2.serial" "crypto_device = builtin" \
        "signer_cert = $1/$3.pem" "signer_key = $1/$3.key" \
        "signer_digest = sha256" "default_policy = 1.2.3.4.1" \
        "digests = sha256, sha384, sha512" "accuracy = secs:1" \
        "ordering = yes" "tsa_name = yes" "ess_cert_id_chain = no" \
        "ess_cert_id_alg = $4" ""
    echo 01 >"$1/$2.serial"
}

tsa_setup() {
    local d=$1
    mkdir -p "$d"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$d/tsa-root.key" 2>/dev/null || return 1
    openssl req -new -x509 -key "$d/tsa-root.key" -days 365 -sha256 \
        -subj "/C=US/ST=WA/O=NK Test TSA/CN=NK Test TSA Root" \
        -addext "basicConstraints=critical,CA:true" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$d/tsa-root.pem" || return 1
    _tsa_cert "$d" tsa "critical, timeStamping" || return 1
    _tsa_cert "$d" tsa-badeku "critical, timeStamping, 1.3.6.1.4.1.99999.1" ||
        return 1
    {
        printf '%s\n' "[ tsa ]" "default_tsa = tsa_ok" ""
        _tsa_section "$d" tsa_ok tsa sha256
        _tsa_section "$d" tsa_badeku tsa-badeku sha256
        _tsa_section "$d" tsa_ess1 tsa sha1
    } >"$d/tsa.cnf"
}

tsa_start() {
    local d=$1 port
    port=$(free_port)
    "$NK_PY" "$NK_ROOT/tests/lib/tsa_server.py" --port "$port" \
        --config "$d/tsa.cnf" --slow "${TSA_SLOW:-5}" 2>"$d/server.log" &
    TSA_PID=$!
    at_exit "kill $TSA_PID 2>/dev/null"
    # shellcheck disable=SC2034 # used by the sourcing script
    TSA_URL=http://127.0.0.1:$port
    wait_port "$port" 10
}
