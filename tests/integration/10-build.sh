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

# The Makefile: every .PHONY target has a rule (a phony name without one
# "succeeds" doing nothing), headers are real dependencies (-MMD), and
# -Werror comes only with WERROR=1 (CI).
phony_ok() {
    local t
    for t in $(sed -n '/^\.PHONY:/,/[^\\]$/p' Makefile | tr -d '\\' | sed 's/^\.PHONY://'); do
        grep -q "^$t:" Makefile || { echo "no rule for .PHONY target $t"; return 1; }
    done
}
check "build: every .PHONY target has a rule" phony_ok
b64_rebuilt() {
    local o=$NK_TMP/b/plugin/common/b64.o
    make -s BUILD="$NK_TMP/b" "$o" >/dev/null 2>&1 &&
        [ -z "$(make -n BUILD="$NK_TMP/b" "$o" 2>/dev/null | grep -- '-c -o')" ] &&
        make -n -W plugin/common/b64.h BUILD="$NK_TMP/b" "$o" 2>/dev/null | grep -q -- '-c -o'
}
check "build: a header change rebuilds what includes it" b64_rebuilt
werror_in() { make -n -W plugin/common/b64.c BUILD="$NK_TMP/b" WERROR="$1" "$NK_TMP/b/plugin/common/b64.o" | grep -c -- '-Werror'; }
check "build: -Werror only with WERROR=1" \
    test "$(werror_in '')" = 0 -a "$(werror_in 1)" = 1
# The tree stays formatted: clang-format 14 with .clang-format finds
# nothing to change (make format-check; `make format` fixes).
check "build: make format-check (clang-format 14) finds nothing to change" \
    make -s format-check
