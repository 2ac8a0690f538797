# notation-keystore: GNU make build. The version lives in VERSION only.
VERSION := $(shell cat VERSION)
BUILD   ?= build
CC      ?= cc
PKG_CONFIG ?= pkg-config
PKGS    := libcrypto libp11 libcjson libcbor

# SANITIZE=address,undefined builds with sanitizers (see `make check-asan`).
SANITIZE ?=

# WERROR=1 (what CI sets) makes every warning an error; a user's build
# with another compiler only warns.
WERROR ?=
WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings -Wvla \
	-Wimplicit-fallthrough -Wundef $(if $(filter 1 yes,$(WERROR)),-Werror)
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
	-ftrivial-auto-var-init=zero -fPIE
CPPFLAGS += -D_DEFAULT_SOURCE -DOPENSSL_API_COMPAT=30000 \
	-DNK_VERSION='"$(VERSION)"' -Iplugin -Iplugin/common -I. \
	$(shell $(PKG_CONFIG) --cflags $(PKGS))
CFLAGS  ?= -O2 -g
ifneq ($(SANITIZE),)
HARDEN  :=
SANFLAGS := -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
# COVERAGE=1 instruments for gcov (see `make coverage`, which also sets
# -O0 so that each line is counted where it is written). _FORTIFY_SOURCE
# warns without optimisation, so it goes; the other hardening stays.
COVERAGE ?=
ifneq ($(filter 1 yes,$(COVERAGE)),)
HARDEN  := $(filter-out -D_FORTIFY_SOURCE=2,$(HARDEN))
COVFLAGS := --coverage
endif
# override: a CFLAGS given on the command line (e.g. CFLAGS="-O1 -g") sets
# the optimisation level only; the language, warnings, hardening and
# sanitizers are always added.
# -MMD: each object depends on the headers it really includes (build/*.d).
# -ffile-prefix-map: no checkout path in the binary, so two checkouts of
# one commit give byte-identical release tarballs.
override CFLAGS  += -std=c11 $(WARN) $(HARDEN) $(SANFLAGS) $(COVFLAGS) \
	-MMD -MP -ffile-prefix-map=$(CURDIR)=.
override LDFLAGS += -pie -Wl,-z,relro,-z,now,-z,noexecstack -Wl,--as-needed \
	$(if $(SANITIZE),-fsanitize=$(SANITIZE)) $(COVFLAGS)
LDLIBS  += $(shell $(PKG_CONFIG) --libs $(PKGS)) -ldl

# Every .c under these folders is part of the program; main.c holds only main().
SRC  := $(sort $(wildcard plugin/*.c plugin/*/*.c pkcs11/*.c kms/*.c))
OBJ  := $(SRC:%.c=$(BUILD)/%.o)
LIBOBJ := $(filter-out $(BUILD)/plugin/main.o,$(OBJ))
BIN  := $(BUILD)/notation-keystore

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

XDG_CONFIG_HOME ?= $(HOME)/.config
NOTATION_LIBEXEC ?= $(XDG_CONFIG_HOME)/notation
PLUGINDIR := $(DESTDIR)$(NOTATION_LIBEXEC)/plugins/keystore

.PHONY: all check check-full check-unit check-golden check-integration check-asan \
	check-valgrind coverage install install-man uninstall deps demo bench \
	fuzz fuzz-build clean dist format format-check

all: $(BIN)

$(BIN): $(OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c VERSION
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

-include $(OBJ:.o=.d) $(UNIT_BIN:=.d) $(BUILD)/tests/unit/fake_signer.d

# The unit tests named in FAKE_UNIT sign through the fake backend
# (tests/unit/fake_signer.c), which brings its own nk_signer_lookup: they
# link it in place of the backend registry plugin/signers.o, so the fake
# is never part of the program.
FAKE_UNIT := $(addprefix $(BUILD)/tests/test_,envelope signing commands)
FAKE_OBJ := $(BUILD)/tests/unit/fake_signer.o
UNIT_LINK = $(LIBOBJ)
$(FAKE_UNIT): UNIT_LINK = $(FAKE_OBJ) \
	$(filter-out $(BUILD)/plugin/signers.o,$(LIBOBJ))
$(FAKE_UNIT): $(FAKE_OBJ)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIBOBJ)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -o $@ $< $(UNIT_LINK) \
		$(LDFLAGS) $(LDLIBS) $(shell $(PKG_CONFIG) --libs cmocka)

# The whole suite: unit tests, golden protocol tests, integration tests on
# SoftHSM and loopback servers, then the same protocol tests under
# ASan+UBSan and valgrind. Ends with one line "N passed, N failed, N skipped".
# The build runs with a compiler per core unless make was given -j.
CHECK_J = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 1))
check:
	@$(MAKE) --no-print-directory $(CHECK_J) $(BIN) $(UNIT_BIN)
	@tests/run.sh all

# make check, with every integration script that talks to a token or a
# key service under ASan+UBSan too (about 3 minutes more on two cores).
check-full:
	@$(MAKE) --no-print-directory $(CHECK_J) $(BIN) $(UNIT_BIN)
	@tests/run.sh full

check-unit: $(BIN) $(UNIT_BIN)
	@tests/run.sh unit
check-golden: $(BIN)
	@tests/run.sh golden
check-integration: $(BIN)
	@tests/run.sh integration
check-valgrind: $(BIN)
	@tests/run.sh valgrind

# clang-format 14 with .clang-format: `make format` rewrites, `make
# format-check` lists every file that differs and fails.
FORMAT_SRC = $(sort $(wildcard plugin/*.[ch] plugin/*/*.[ch] pkcs11/*.[ch] \
	kms/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c tests/lib/*.c tests/bench/*.c))
format:
	clang-format -i $(FORMAT_SRC)
format-check:
	@bad=0; for f in $(FORMAT_SRC); do \
		clang-format --dry-run -Werror "$$f" >/dev/null 2>&1 || \
			{ echo "format-check: $$f differs (make format)"; bad=1; }; \
	done; exit $$bad

# Used by tests/run.sh: a separate sanitizer build in build-asan/.
check-asan:
	@$(MAKE) --no-print-directory BUILD=build-asan SANITIZE=address,undefined \
		CFLAGS="-O1 -g" build-asan/notation-keystore \
		$(UNIT_SRC:tests/unit/%.c=build-asan/tests/%)

# Line and branch coverage of the unit, golden and integration tests: an
# instrumented build in build-cov/ (COVERAGE=1, -O0), the three layers run
# against it, then gcovr's figures per folder (tests/coverage.py).
coverage:
	@$(MAKE) --no-print-directory BUILD=build-cov COVERAGE=1 CFLAGS="-O0 -g" \
		build-cov/notation-keystore $(UNIT_SRC:tests/unit/%.c=build-cov/tests/%)
	@tests/run.sh coverage

install: $(BIN) install-man
	install -d $(PLUGINDIR)
	install -m 0755 $(BIN) $(PLUGINDIR)/notation-keystore

# The man page goes under PREFIX (default ~/.local, which man(1) searches
# when ~/.local/bin is on PATH): make install-man PREFIX=/usr/local.
PREFIX ?= $(HOME)/.local
MANDIR := $(DESTDIR)$(PREFIX)/share/man/man1
install-man:
	install -d $(MANDIR)
	install -m 0644 doc/notation-keystore.1 $(MANDIR)/notation-keystore.1

# Release package for `notation plugin install --file/--url`: a tarball
# holding only the executable at its root, and its sha256sum line. The
# architecture is spelled as Go spells it (amd64, arm64).
DIST_ARCH := $(shell uname -m | sed -e 's/^x86_64$$/amd64/' -e 's/^aarch64$$/arm64/')
DIST_NAME := notation-keystore_$(VERSION)_linux_$(DIST_ARCH).tar.gz
dist: $(BIN)
	rm -rf $(BUILD)/dist && mkdir -p $(BUILD)/dist dist
	install -m 0755 -s $(BIN) $(BUILD)/dist/notation-keystore
	tar -C $(BUILD)/dist --owner=0 --group=0 --numeric-owner \
		--mtime=@$${SOURCE_DATE_EPOCH:-0} -cf - notation-keystore | \
		gzip -n -9 >dist/$(DIST_NAME)
	cd dist && sha256sum $(DIST_NAME) >$(DIST_NAME).sha256
	@echo "dist/$(DIST_NAME)"

# libFuzzer harnesses (clang, ASan+UBSan): builds build-fuzz/fuzz/fuzz_*
# and runs each from its seed corpus in tests/fuzz/corpus/<name>, for
# FUZZ_TIME seconds, or for FUZZ_RUNS executions when that is set.
# FUZZ_ONLY="fuzz_ocsp fuzz_crl" picks harnesses; FUZZ_CORPUS_OUT=DIR keeps
# each working corpus in DIR/<name> (see HACKING.md, Fuzzing).
FUZZ_TIME ?= 20
FUZZ_RUNS ?=
FUZZ_ONLY ?= $(FUZZ_SRC:tests/fuzz/%.c=%)
FUZZ_BIN := $(FUZZ_ONLY:%=build-fuzz/fuzz/%)
fuzz: fuzz-build
	@FUZZ_TIME=$(FUZZ_TIME) FUZZ_RUNS=$(FUZZ_RUNS) \
		FUZZ_CORPUS_OUT=$(FUZZ_CORPUS_OUT) tests/fuzz/run.sh $(FUZZ_BIN)

# The harnesses only (tests/run.sh builds them before it runs them).
fuzz-build:
	@$(MAKE) -s --no-print-directory BUILD=build-fuzz CC=clang \
		SANITIZE=address,undefined CFLAGS="-O1 -g -std=c11 \
		-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
		$(FUZZ_BIN)

-include $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%.d) $(BUILD)/fuzz/common.d

# Harnesses link with --wrap=dlopen: tests/fuzz/common.c stops any run
# that would load libcurl, so no harness can reach the network; and with
# --wrap=nk_buf_read_file, so that a file named in an input can be served
# from memory (fx_files) instead of the file system.
$(BUILD)/fuzz/common.o: tests/fuzz/common.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/fuzz/common.o $(LIBOBJ)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/fuzz $(CFLAGS) -fsanitize=fuzzer \
		-Wno-missing-prototypes -Wl,--wrap=dlopen,--wrap=nk_buf_read_file \
		-o $@ $< \
		$(BUILD)/fuzz/common.o $(LIBOBJ) $(LDFLAGS) $(LDLIBS)

uninstall:
	rm -f $(PLUGINDIR)/notation-keystore
	-rmdir $(PLUGINDIR)

# Installs the Debian packages the build, demo and tests need (as root).
deps:
	DEBIAN_FRONTEND=noninteractive apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		$$(grep -v '^#' .ci/packages)

# The build runs in a sub-make so that `make deps demo` works on a fresh
# machine (pkg-config is asked again after deps installed the libraries).
demo:
	@$(MAKE) --no-print-directory $(BIN)
	@tests/demo.sh

bench: $(BIN)
	@tests/bench.sh

clean:
	rm -rf $(BUILD) build-asan build-cov build-fuzz dist
