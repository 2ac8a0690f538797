# notation-keystore: GNU make build. The version lives in VERSION only.
VERSION := $(shell cat VERSION)
BUILD   ?= build
CC      ?= cc
PKG_CONFIG ?= pkg-config
PKGS    := libcrypto libp11 libcjson libcbor

# SANITIZE=address,undefined builds with sanitizers (see `make check-asan`).
SANITIZE ?=

WARN := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings -Wvla \
	-Wimplicit-fallthrough -Wundef
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
	-ftrivial-auto-var-init=zero -fPIE
CPPFLAGS += -D_DEFAULT_SOURCE -DOPENSSL_API_COMPAT=30000 \
	-DNK_VERSION='"$(VERSION)"' -Iplugin -Iplugin/common -I. \
	$(shell $(PKG_CONFIG) --cflags $(PKGS))
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 $(WARN) $(HARDEN)
LDFLAGS += -pie -Wl,-z,relro,-z,now,-z,noexecstack -Wl,--as-needed
LDLIBS  += $(shell $(PKG_CONFIG) --libs $(PKGS)) -ldl

ifneq ($(SANITIZE),)
CFLAGS  += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
HARDEN  :=
endif

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

.PHONY: all check check-unit check-golden check-integration check-asan \
	check-valgrind install uninstall deps demo bench fuzz clean dist format-check

all: $(BIN)

$(BIN): $(OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c $(wildcard plugin/*.h plugin/*/*.h pkcs11/*.h kms/*.h) VERSION
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIBOBJ)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -o $@ $< $(LIBOBJ) \
		$(LDFLAGS) $(LDLIBS) $(shell $(PKG_CONFIG) --libs cmocka)

# The whole suite: unit tests, golden protocol tests, integration tests on
# SoftHSM and loopback servers, then the same protocol tests under
# ASan+UBSan and valgrind. Ends with one line "N passed, N failed".
check: $(BIN) $(UNIT_BIN)
	@tests/run.sh all

check-unit: $(BIN) $(UNIT_BIN)
	@tests/run.sh unit
check-golden: $(BIN)
	@tests/run.sh golden
check-integration: $(BIN)
	@tests/run.sh integration

# Used by tests/run.sh: a separate sanitizer build in build-asan/.
check-asan:
	@$(MAKE) --no-print-directory BUILD=build-asan SANITIZE=address,undefined \
		CFLAGS="-O1 -g" build-asan/notation-keystore \
		$(UNIT_SRC:tests/unit/%.c=build-asan/tests/%)

install: $(BIN)
	install -d $(PLUGINDIR)
	install -m 0755 $(BIN) $(PLUGINDIR)/notation-keystore

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
	rm -rf $(BUILD) build-asan build-fuzz dist
