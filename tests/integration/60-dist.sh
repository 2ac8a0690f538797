#!/usr/bin/env bash
# make dist: the release tarball and its checksum, checked against the
# rules `notation plugin install --file` applies (reference section 1.3),
# then installed the way notation installs it and listed the way
# `notation plugin ls` lists it. Runs the real notation when it is on PATH.
. "$(dirname "$0")/../lib/harness.sh"

BUILD_DIR=$(dirname "$NK_BIN")
VERSION=$(cat "$NK_ROOT/VERSION")
case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac
TGZ=$NK_ROOT/dist/notation-keystore_${VERSION}_linux_${ARCH}.tar.gz

check "dist: make dist" \
    make -C "$NK_ROOT" --no-print-directory BUILD="$BUILD_DIR" dist
check "dist: tarball exists" test -s "$TGZ"
check "dist: checksum file exists" test -s "$TGZ.sha256"
check "dist: checksum file is one sha256sum line for the tarball" \
    grep -Eqx "[0-9a-f]{64}  $(basename "$TGZ")" "$TGZ.sha256"
check "dist: checksum matches" \
    bash -c "cd '$NK_ROOT/dist' && sha256sum --quiet -c '$(basename "$TGZ").sha256'"

# Reproducible: the same sources built in another directory give a
# byte-identical tarball (no checkout path or time inside).
other=$NK_TMP/elsewhere/deeper/notation-keystore
mkdir -p "$other"
cp -a "$NK_ROOT"/Makefile "$NK_ROOT"/VERSION "$NK_ROOT"/plugin "$NK_ROOT"/pkcs11 \
    "$NK_ROOT"/kms "$other"/
find "$other" \( -name '*.o' -o -name '*.d' \) -delete
if make -C "$other" --no-print-directory -j2 dist >"$NK_TMP/dist2.log" 2>&1 &&
    cmp -s "$TGZ" "$other/dist/$(basename "$TGZ")"; then
    pass "dist: byte-identical tarball from another checkout path"
else
    fail "dist: byte-identical tarball from another checkout path ($(tail -3 "$NK_TMP/dist2.log"))"
fi

# The install rules, step by step, as notation-go's plugin manager applies
# them to a gzip file; prints the extracted executable's path.
"$NK_PY" - "$TGZ" "$NK_TMP/extract" >"$NK_TMP/sim.out" 2>"$NK_TMP/sim.err" <<'PY'
import os, stat, sys, tarfile
tgz, dest = sys.argv[1], sys.argv[2]
data = open(tgz, "rb").read()
assert data[:2] == b"\x1f\x8b", "not gzip (http.DetectContentType would not say application/x-gzip)"
assert len(data) < 256 << 20, "tarball over 256 MiB"
os.makedirs(dest)
with tarfile.open(tgz, "r:gz") as tf:
    members = tf.getmembers()
    assert len(members) == 1, "want exactly one member, got %s" % [m.name for m in members]
    m = members[0]
    assert ".." not in m.name, "member name contains .."
    assert m.isreg(), "member is not a regular file"
    assert m.name == "notation-keystore", "member is %r, not at the root or misnamed" % m.name
    assert m.mode & stat.S_IXUSR, "member is not executable"
    total = 0
    for m in members:          # flatten by base name, regular files only
        if not m.isreg():
            continue
        total += m.size
        assert total < 256 << 20
        out = os.path.join(dest, os.path.basename(m.name))
        with open(out, "wb") as f:
            f.write(tf.extractfile(m).read())
        os.chmod(out, m.mode & 0o777)
cands = [f for f in os.listdir(dest) if f.startswith("notation-")
         and os.access(os.path.join(dest, f), os.X_OK)]
assert len(cands) == 1, "want one executable notation-{name}, got %s" % cands
print(os.path.join(dest, cands[0]))
PY
if [ $? = 0 ]; then pass "dist: tarball follows notation's install rules"
else fail "dist: tarball follows notation's install rules ($(cat "$NK_TMP/sim.err"))"; fi
EXE=$(cat "$NK_TMP/sim.out")

# SemVer 2.0.0 (the regex from semver.org), no leading v.
SEMVER='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-((0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(\.(0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?(\+([0-9a-zA-Z-]+(\.[0-9a-zA-Z-]+)*))?$'
metadata_ok() {
    local exe=$1 out name ver
    out=$(printf '{}' | "$exe" get-plugin-metadata) || return 1
    name=$(printf '%s' "$out" | jq -r .name)
    ver=$(printf '%s' "$out" | jq -r .version)
    [ "$name" = keystore ] && [ "$ver" = "$VERSION" ] &&
        printf '%s' "$ver" | grep -Eq "$SEMVER" &&
        printf '%s' "$out" | jq -e '(.supportedContractVersions | index("1.0")) and
            (.capabilities | length > 0) and (.description | length > 0) and
            (.url | length > 0)' >/dev/null
}
check "dist: extracted plugin answers get-plugin-metadata (name keystore, SemVer)" \
    metadata_ok "$EXE"

# What `notation plugin ls` does: walk {libexec}/plugins/<dir>, run
# notation-<dir> get-plugin-metadata, and require name == <dir>.
LIBEXEC=$NK_TMP/libexec
mkdir -p "$LIBEXEC/plugins/keystore"
cp "$EXE" "$LIBEXEC/plugins/keystore/"
list_ok() {
    local d n
    for d in "$LIBEXEC"/plugins/*/; do
        n=$(basename "$d")
        [ -f "$d/notation-$n" ] || return 1
        metadata_ok "$d/notation-$n" || return 1
    done
}
check "dist: installed layout lists as plugin keystore" list_ok

if command -v notation >/dev/null 2>&1; then
    export NOTATION_CONFIG=$NK_TMP/notation-config NOTATION_LIBEXEC=$NK_TMP/notation-libexec
    check "dist: notation plugin install --file" \
        notation plugin install --file "$TGZ" \
        --sha256sum "$(cut -d' ' -f1 "$TGZ.sha256")"
    check "dist: notation plugin ls lists keystore" \
        bash -c "notation plugin ls | grep -E '^keystore +.* $VERSION +\[SIGNATURE_GENERATOR'"
else
    skip "dist: notation plugin install --file" "no notation binary on PATH (not a Debian package)"
fi

# The man page: clean troff, the current version, installed by make install.
MAN=$NK_ROOT/doc/notation-keystore.1
check "man: groff reports no warnings" \
    bash -c "[ -z \"\$(groff -man -ww -z '$MAN' 2>&1)\" ]"
check "man: .TH names the VERSION" grep -q "^\.TH .*\"notation-keystore $VERSION\"" "$MAN"
check "man: documents every companion command" bash -c \
    "for c in 'B keys' 'B cert generate-test' 'B cert request' 'B doctor' 'B verify'; do grep -q \"^\.\$c\$\" '$MAN' || exit 1; done"
check "man: make install puts the plugin and the man page in place" bash -c \
    "make -C '$NK_ROOT' --no-print-directory BUILD='$BUILD_DIR' install DESTDIR='$NK_TMP/root' PREFIX=/usr/local NOTATION_LIBEXEC=/nl >/dev/null &&
     test -x '$NK_TMP/root/nl/plugins/keystore/notation-keystore' &&
     test -f '$NK_TMP/root/usr/local/share/man/man1/notation-keystore.1'"
