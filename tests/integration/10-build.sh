# make install locations, the single version source, --version and --help.
. "$(dirname "$0")/../lib/harness.sh"
cd "$NK_ROOT" || exit 1
version=$(cat VERSION)

check "build: VERSION is plain SemVer without a leading v" \
    grep -Eqx '(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?' VERSION
check "build: --version prints VERSION" \
    test "$("$NK_BIN" --version)" = "notation-keystore $version"
check "build: metadata version is VERSION" \
    test "$(echo '{}' | "$NK_BIN" get-plugin-metadata | jq -r .version)" = "$version"
out=$("$NK_BIN" --help)
check "build: --help speaks to people and exits 0" \
    grep -q 'get-plugin-metadata' <<<"$out"
"$NK_BIN" >/dev/null 2>"$NK_TMP/usage"
check "build: no command is a usage error (exit 2)" test $? = 2

d=$NK_TMP/stage
make -s install DESTDIR="$d" XDG_CONFIG_HOME=/home/u/.config PREFIX=/usr/local >/dev/null
check "install: default is \$XDG_CONFIG_HOME/notation/plugins/keystore" \
    test -x "$d/home/u/.config/notation/plugins/keystore/notation-keystore"
check "install: man page under PREFIX" \
    test -f "$d/usr/local/share/man/man1/notation-keystore.1"
make -s install DESTDIR="$d" NOTATION_LIBEXEC=/opt/notation >/dev/null
check "install: NOTATION_LIBEXEC wins" \
    test -x "$d/opt/notation/plugins/keystore/notation-keystore"
NOTATION_LIBEXEC=/srv/nl make -s install DESTDIR="$d" >/dev/null
check "install: NOTATION_LIBEXEC from the environment" \
    test -x "$d/srv/nl/plugins/keystore/notation-keystore"
check "install: the installed plugin answers metadata" \
    test "$(echo '{}' | "$d/opt/notation/plugins/keystore/notation-keystore" get-plugin-metadata | jq -r .name)" = keystore
