# Test PKI made with the openssl CLI: a root CA, an intermediate CA and
# code-signing leaves for the six key specs notation knows, plus broken
# variants (expired, serverAuth EKU, certificate for another key).
#
# Source it, then:
#   pki_all DIR          root, intermediate, ca-certs.pem and all six leaves
#   pki_key DIR NAME     (cached) key DIR/NAME.key for a name below
#   pki_leaf DIR NAME    DIR/NAME.pem (+ .der) for DIR/NAME.key
#   pki_leaf_expired DIR NAME OUT, pki_leaf_serverauth DIR NAME OUT,
#   pki_leaf_mismatch DIR NAME OUT   variants written to DIR/OUT.pem/.der
# Names: rsa2048 rsa3072 rsa4096 ec256 ec384 ec521. Keys are generated once
# per directory (RSA-4096 is slow), in parallel by pki_all.
# Files: DIR/root.{key,pem}, DIR/inter.{key,pem}, DIR/ca-certs.pem
# (intermediate then root), DIR/<name>.{key,pem,der}, DIR/<name>.key.der,
# DIR/<name>.pub.der.

PKI_NAMES="rsa2048 rsa3072 rsa4096 ec256 ec384 ec521"
PKI_SUBJ_PREFIX="/C=US/ST=WA/O=Notation Keystore Test"

# pki_genkey_args NAME: the openssl genpkey options for a key name.
pki_genkey_args() {
    case $1 in
    rsa2048*) echo "-algorithm RSA -pkeyopt rsa_keygen_bits:2048" ;;
    rsa3072*) echo "-algorithm RSA -pkeyopt rsa_keygen_bits:3072" ;;
    rsa4096*) echo "-algorithm RSA -pkeyopt rsa_keygen_bits:4096" ;;
    ec256*) echo "-algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve" ;;
    ec384*) echo "-algorithm EC -pkeyopt ec_paramgen_curve:P-384 -pkeyopt ec_param_enc:named_curve" ;;
    ec521*) echo "-algorithm EC -pkeyopt ec_paramgen_curve:P-521 -pkeyopt ec_param_enc:named_curve" ;;
    *) echo "pki: unknown key name '$1'" >&2; return 1 ;;
    esac
}

# Keys of one test run: tests/run.sh sets NK_KEY_CACHE to a directory of
# its own (removed when it ends), and the first script that makes a key of
# a name leaves a copy there for the others; an RSA-4096 key costs about a
# second of CPU, and some 20 scripts make the same six. A script run by
# itself (no NK_KEY_CACHE) makes its own. The keys within one script still
# differ by name (rsa2048, rsa2048-other ...).
pki_cached_key() { # NAME OUT: 0 when the run's key of that name was copied
    [ -n "${NK_KEY_CACHE:-}" ] && [ -s "$NK_KEY_CACHE/$1.key" ] &&
        cp "$NK_KEY_CACHE/$1.key" "$2"
}
pki_cache_key() { # NAME FILE: offers FILE as the run's key of that name
    [ -n "${NK_KEY_CACHE:-}" ] || return 0
    mkdir -p "$NK_KEY_CACHE" &&
        cp "$2" "$NK_KEY_CACHE/.$1.$$" && mv -f "$NK_KEY_CACHE/.$1.$$" "$NK_KEY_CACHE/$1.key"
}

# pki_key DIR NAME: makes DIR/NAME.key (PEM, PKCS#8) unless it exists, and
# its DER private and public forms for pkcs11-tool.
pki_key() {
    local dir=$1 name=$2 args
    mkdir -p "$dir"
    if [ ! -s "$dir/$name.key" ] && ! pki_cached_key "$name" "$dir/$name.key"; then
        args=$(pki_genkey_args "$name") || return 1
        # shellcheck disable=SC2086
        if ! openssl genpkey $args -out "$dir/$name.key.tmp" 2>"$dir/$name.log"; then
            cat "$dir/$name.log" >&2
            return 1
        fi
        mv "$dir/$name.key.tmp" "$dir/$name.key"
        pki_cache_key "$name" "$dir/$name.key"
    fi
    [ -s "$dir/$name.key.der" ] ||
        openssl pkey -in "$dir/$name.key" -outform DER -out "$dir/$name.key.der" || return 1
    [ -s "$dir/$name.pub.der" ] ||
        openssl pkey -in "$dir/$name.key" -pubout -outform DER -out "$dir/$name.pub.der"
}

# pki_ext DIR KIND: writes the extension file for root|inter|leaf|serverauth.
pki_ext() {
    local f="$1/$2.ext"
    case $2 in
    root)
        printf '%s\n' "basicConstraints = critical, CA:true" \
            "keyUsage = critical, keyCertSign, cRLSign" \
            "subjectKeyIdentifier = hash" >"$f" ;;
    inter)
        printf '%s\n' "basicConstraints = critical, CA:true, pathlen:0" \
            "keyUsage = critical, keyCertSign, cRLSign" \
            "subjectKeyIdentifier = hash" \
            "authorityKeyIdentifier = keyid:always" >"$f" ;;
    leaf)
        printf '%s\n' "basicConstraints = CA:false" \
            "keyUsage = critical, digitalSignature" \
            "extendedKeyUsage = codeSigning" \
            "subjectKeyIdentifier = hash" \
            "authorityKeyIdentifier = keyid:always" >"$f" ;;
    serverauth)
        printf '%s\n' "basicConstraints = CA:false" \
            "keyUsage = critical, digitalSignature" \
            "extendedKeyUsage = serverAuth" \
            "subjectKeyIdentifier = hash" \
            "authorityKeyIdentifier = keyid:always" >"$f" ;;
    esac
    echo "$f"
}

pki_serial() { echo "0x$(openssl rand -hex 12)"; }

# pki_sign DIR KEYNAME CN EXTKIND OUT: a leaf for DIR/KEYNAME.key signed by
# the intermediate, written to DIR/OUT.pem and DIR/OUT.der.
pki_sign() {
    local dir=$1 key=$2 cn=$3 kind=$4 out=$5 ext
    ext=$(pki_ext "$dir" "$kind")
    openssl req -new -key "$dir/$key.key" -subj "$PKI_SUBJ_PREFIX/CN=$cn" \
        -out "$dir/$out.csr" || return 1
    openssl x509 -req -in "$dir/$out.csr" -CA "$dir/inter.pem" \
        -CAkey "$dir/inter.key" -set_serial "$(pki_serial)" -days 30 \
        -sha384 -extfile "$ext" -out "$dir/$out.pem" 2>/dev/null || return 1
    openssl x509 -in "$dir/$out.pem" -outform DER -out "$dir/$out.der"
}

# pki_ca DIR: root and intermediate CAs (EC P-384: fast to make) and
# DIR/ca-certs.pem. Kept when already there.
pki_ca() {
    local dir=$1
    mkdir -p "$dir"
    [ -s "$dir/ca-certs.pem" ] && return 0
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 \
        -pkeyopt ec_param_enc:named_curve -out "$dir/root.key" || return 1
    openssl req -new -x509 -key "$dir/root.key" -days 3650 -sha384 \
        -subj "$PKI_SUBJ_PREFIX/CN=Notation Keystore Test Root" \
        -set_serial "$(pki_serial)" -extensions v3 \
        -config <(printf '[req]\ndistinguished_name=dn\n[dn]\n[v3]\n'; cat "$(pki_ext "$dir" root)") \
        -out "$dir/root.pem" || return 1
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 \
        -pkeyopt ec_param_enc:named_curve -out "$dir/inter.key" || return 1
    openssl req -new -key "$dir/inter.key" \
        -subj "$PKI_SUBJ_PREFIX/CN=Notation Keystore Test Intermediate" \
        -out "$dir/inter.csr" || return 1
    openssl x509 -req -in "$dir/inter.csr" -CA "$dir/root.pem" \
        -CAkey "$dir/root.key" -set_serial "$(pki_serial)" -days 1825 \
        -sha384 -extfile "$(pki_ext "$dir" inter)" -out "$dir/inter.pem" \
        2>/dev/null || return 1
    cat "$dir/inter.pem" "$dir/root.pem" >"$dir/ca-certs.pem.tmp" &&
        mv "$dir/ca-certs.pem.tmp" "$dir/ca-certs.pem"
}

# pki_leaf DIR NAME: the good code-signing leaf for DIR/NAME.key.
pki_leaf() {
    pki_key "$1" "$2" && pki_sign "$1" "$2" "$2" leaf "$2"
}

# pki_leaf_expired DIR NAME OUT: a leaf for NAME's key valid only in 2020.
pki_leaf_expired() {
    local dir=$1 name=$2 out=$3 ca="$1/expired-ca"
    pki_key "$dir" "$name" || return 1
    rm -rf "$ca" && mkdir -p "$ca" && : >"$ca/index.txt" || return 1
    printf '%s\n' "[ca]" "default_ca=d" "[d]" "database=$ca/index.txt" \
        "new_certs_dir=$ca" "serial=$ca/serial" "default_md=sha384" \
        "policy=p" "unique_subject=no" "copy_extensions=none" \
        "[p]" "commonName=supplied" >"$ca/ca.cnf"
    openssl rand -hex 12 >"$ca/serial"
    openssl req -new -key "$dir/$name.key" \
        -subj "$PKI_SUBJ_PREFIX/CN=$out" -out "$dir/$out.csr" || return 1
    openssl ca -batch -config "$ca/ca.cnf" -cert "$dir/inter.pem" \
        -keyfile "$dir/inter.key" -startdate 20200101000000Z \
        -enddate 20210101000000Z -preserveDN -notext \
        -extfile "$(pki_ext "$dir" leaf)" -in "$dir/$out.csr" \
        -out "$dir/$out.pem" 2>/dev/null || return 1
    openssl x509 -in "$dir/$out.pem" -outform DER -out "$dir/$out.der"
}

# pki_leaf_serverauth DIR NAME OUT: a leaf for NAME's key with only the
# serverAuth EKU (notation refuses it for code signing).
pki_leaf_serverauth() {
    pki_key "$1" "$2" && pki_sign "$1" "$2" "$3" serverauth "$3"
}

# pki_leaf_mismatch DIR NAME OUT: a good-looking leaf for a fresh key of
# the same type, so it does not match DIR/NAME.key.
pki_leaf_mismatch() {
    local dir=$1 name=$2 out=$3
    pki_key "$dir" "$name-other" && pki_sign "$dir" "$name-other" "$out" leaf "$out"
}

# pki_all DIR: CAs, six keys (made in parallel) and their leaves.
pki_all() {
    local dir=$1 n pids=() rc=0 p
    mkdir -p "$dir"
    for n in $PKI_NAMES; do
        pki_key "$dir" "$n" &
        pids+=($!)
    done
    pki_ca "$dir" || rc=1
    for p in "${pids[@]}"; do wait "$p" || rc=1; done
    [ $rc = 0 ] || return 1
    for n in $PKI_NAMES; do
        [ -s "$dir/$n.pem" ] || pki_sign "$dir" "$n" "$n" leaf "$n" || return 1
    done
}
