# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# psv build: BPF objects and skeletons, psvd, psvctl, tests, fuzzers.
# Quiet unless V=1.  Every target lands in build/.

BUILD ?= build
PREFIX ?= /usr/local
# systemd units: Debian 12 keeps the packaged ones in /lib (make deb).
UNITDIR ?= $(PREFIX)/lib/systemd/system
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
CLANG ?= clang
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
PKGS := libbpf libxdp libelf zlib inih json-c libmnl

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS ?= -g -O2
# The version psvd --version and psvctl --version print, and the
# package's: debian/changelog must say the same (make deb checks).
VERSION ?= 0.2.0
CFLAGS += -DPSV_VERSION='"$(VERSION)"'
# Sanitizers, for the second build of the unit tests (make san).
CFLAGS += $(SAN)
CFLAGS += -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -Iinclude -Iloader \
	  -I$(BUILD) $(shell pkg-config --cflags $(PKGS))
LDLIBS := $(shell pkg-config --libs $(PKGS)) -lm
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -Iinclude -Ibpf -I$(BUILD)

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

# The rooms of userspace (docs/ARCHITECTURE.md, "The rooms"): common/ is
# what psvd, psvctl and the tests share; psvctl links nothing else.
COMMON_SRCS := $(wildcard loader/common/*.c)
PSVD_SRCS := $(filter-out loader/psvd/main.c,\
	       $(wildcard loader/psvd/*.c loader/psvd/*/*.c))
PSVCTL_SRCS := $(wildcard loader/psvctl/*.c)
COMMON_OBJS := $(patsubst loader/%.c,$(BUILD)/loader/%.o,$(COMMON_SRCS))
PSVD_OBJS := $(patsubst loader/%.c,$(BUILD)/loader/%.o,$(PSVD_SRCS))
PSVCTL_OBJS := $(patsubst loader/%.c,$(BUILD)/loader/%.o,$(PSVCTL_SRCS))
# What tests, benches and fuzzers build on: every room but the mains, and
# of psvctl its frame classifier (a parser of network input: fuzzed).
LIB_SRCS := $(COMMON_SRCS) $(PSVD_SRCS) loader/psvctl/audit_frame.c
LIB_OBJS := $(COMMON_OBJS) $(PSVD_OBJS) $(BUILD)/loader/psvctl/audit_frame.o
# psvctl: no skeleton, no libxdp, no libelf.
PSVCTL_LDLIBS := $(shell pkg-config --libs libbpf json-c libmnl)
# sd_notify, for systemd's Type=notify: psvd's main only.
PSVD_LDLIBS := $(LDLIBS) $(shell pkg-config --libs libsystemd)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
# The tests' helpers (pkt.c, bpf_fixture.c), compiled once into an archive
# linked into every unit test and bench binary: each takes what it uses.
TESTLIB_SRCS := tests/unit/pkt.c tests/unit/bpf_fixture.c tests/unit/one_client_rx.c
TESTLIB_OBJS := $(patsubst tests/unit/%.c,$(BUILD)/testlib/%.o,$(TESTLIB_SRCS))
TESTLIB := $(BUILD)/testlib/libpsvtest.a
BENCH_SRCS := $(filter-out %.bpf.c,$(wildcard tests/bench/*.c))
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
# The bench's own BPF objects (prog_bench's floor programs).
BENCH_BPF_SRCS := $(wildcard tests/bench/*.bpf.c)
BENCH_BPF_OBJS := $(patsubst tests/bench/%.bpf.c,$(BUILD)/bench/%.bpf.o,$(BENCH_BPF_SRCS))
BENCH_SKELS := $(patsubst tests/bench/%.bpf.c,$(BUILD)/bench/%.skel.h,$(BENCH_BPF_SRCS))

.DELETE_ON_ERROR:
# Objects and skeletons are made by chained pattern rules: keep them, or
# every make would rebuild them.
.SECONDARY: $(BPF_OBJS) $(SKELS) $(BENCH_BPF_OBJS) $(BENCH_SKELS)
.PHONY: all deps test soak unit san unit-bins fuzz bench demo install clean \
	check-includes deb version
all: check-includes $(BUILD)/psvd $(BUILD)/psvctl

# Which room may include which: scripts/check-includes.sh.
check-includes:
	$(Q)scripts/check-includes.sh

deps:
	$(Q)scripts/install-deps.sh

$(BUILD) $(BUILD)/tests $(BUILD)/fuzz $(BUILD)/bench $(BUILD)/testlib:
	$(Q)mkdir -p $@

$(BUILD)/vmlinux.h: | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

# Atomic fetch-and-add hands out application ids.  Only here: clang 14's
# v3 code for egress does not pass the verifier (R1 !read_ok).
$(BUILD)/attribution.bpf.o: BPF_CFLAGS += -mcpu=v3
$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h include/psv.h $(wildcard bpf/lib/*.h)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/%.bpf.o: tests/bench/%.bpf.c $(BUILD)/vmlinux.h | $(BUILD)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(BUILD)/loader/%.o: loader/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# Each object waits only for the skeletons it includes.
$(BUILD)/loader/psvd/dataplane.o: $(BUILD)/egress.skel.h $(BUILD)/ingress.skel.h
$(BUILD)/loader/psvd/attribution.o: $(BUILD)/attribution.skel.h

$(BUILD)/psvd: $(BUILD)/loader/psvd/main.o $(PSVD_OBJS) $(COMMON_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(PSVD_LDLIBS) -o $@

$(BUILD)/psvctl: $(PSVCTL_OBJS) $(COMMON_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(PSVCTL_LDLIBS) -o $@

$(BUILD)/testlib/%.o: tests/unit/%.c $(SKELS) | $(BUILD)/testlib
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -MMD -MP -c $< -o $@

$(TESTLIB): $(TESTLIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) $(TESTLIB) $(SKELS) tests/unit/check.h | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -DPSV_SRC_DIR='"$(CURDIR)"' -MMD -MP \
		$< $(TESTLIB) $(LIB_OBJS) $(LDLIBS) -o $@

$(BUILD)/bench/%: tests/bench/%.c $(LIB_OBJS) $(TESTLIB) $(SKELS) $(BENCH_SKELS) | $(BUILD)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -MMD -MP $< $(TESTLIB) $(LIB_OBJS) $(LDLIBS) -o $@

# Fuzzers build the parsers they target from source with sanitizers.
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Iloader \
	       -I$(BUILD) -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS))
FUZZ_TEST_SRCS := tests/unit/one_client_rx.c
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(FUZZ_TEST_SRCS) $(SKELS) | $(BUILD)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(LIB_SRCS) $(FUZZ_TEST_SRCS) $(LDLIBS) -o $@

unit: all $(UNIT_BINS) $(FUZZ_BINS)

# The unit tests once more, built with ASan and UBSan in $(BUILD)/san:
# a bad access or undefined behaviour fails the test that made it.
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	     -fno-omit-frame-pointer
san:
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/san SAN="$(SAN_FLAGS)" \
		unit-bins

# test_psvctl runs the psvctl next to it: sanitized too.
unit-bins: $(BUILD)/psvctl $(UNIT_BINS)

test: unit san
	$(Q)BUILD=$(BUILD) tests/run.sh

# The long reliability tests (tests/soak/*.sh, minutes each): not in make
# test; RELIABILITY.md lists them with their results.
soak: all
	$(Q)BUILD=$(BUILD) tests/run.sh soak

fuzz: $(FUZZ_BINS)
	$(Q)tests/fuzz/run.sh long

bench: all $(BENCH_BINS)
	$(Q)tests/bench/run.sh

demo: all
	$(Q)tests/demo.sh

install: all
	install -D -m 0755 $(BUILD)/psvd $(DESTDIR)$(PREFIX)/sbin/psvd
	install -D -m 0755 $(BUILD)/psvctl $(DESTDIR)$(PREFIX)/sbin/psvctl
	install -D -m 0644 docs/psvd.8 $(DESTDIR)$(PREFIX)/share/man/man8/psvd.8
	install -D -m 0644 docs/psvctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/psvctl.8
	install -D -m 0644 docs/psv.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/psv.conf.5
	install -D -m 0644 docs/psv.conf.example \
		$(DESTDIR)$(PREFIX)/share/doc/psv/psv.conf.example
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/sbin/|$(PREFIX)/sbin/|' docs/psvd@.service \
		> $(DESTDIR)$(UNITDIR)/psvd@.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/psvd@.service

version:
	@echo $(VERSION)

# The Debian package, $(BUILD)/psv_VERSION_ARCH.deb (debian/, debhelper).
DEB_VERSION = $(shell dpkg-parsechangelog -SVersion)
deb:
	$(Q)[ "$(DEB_VERSION)" = "$(VERSION)" ] || { echo "debian/changelog \
	says $(DEB_VERSION), the Makefile's VERSION $(VERSION)" >&2; exit 1; }
	$(Q)mkdir -p $(BUILD)
	$(Q)dpkg-checkbuilddeps
	$(Q)debian/rules build
	$(Q)PSV_DEB_DIR=$(abspath $(BUILD)) debian/rules binary
	$(Q)ls $(BUILD)/psv_$(VERSION)_*.deb

clean:
	rm -rf $(BUILD)

-include $(wildcard $(BUILD)/loader/*/*.d $(BUILD)/loader/*/*/*.d \
	   $(BUILD)/tests/*.d $(BUILD)/bench/*.d $(BUILD)/testlib/*.d)
