# sipsift - passive VoIP attack analyzer. Plain GNU make.
#   make            build ./sipsift
#   make demo       install build deps (Debian), build, analyse pcaps/demo.pcap
#   make test       install test deps, build, run every test, then again under ASan+UBSan
#   make bench      throughput benchmark (see tests/bench.sh)
#   make fuzz       build the libFuzzer targets with clang, run each FUZZ_SECONDS (docs/fuzzing.md)
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
BUILD   ?= build
CC      ?= cc
OPT     ?= -O2 -g
SAN     ?=
WERROR  ?= -Werror
PKGS    := libpcap sqlite3 jansson nettle libsodium libpcre2-8 libmaxminddb

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  += -std=gnu11 $(OPT) $(SAN) -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes \
           -Wno-missing-field-initializers -D_GNU_SOURCE -I. $(PKG_CFLAGS) -MMD -MP
LDFLAGS += $(SAN)
# libnids and libnet ship no .pc file (DEPENDENCIES.md); libnids needs -lpcap after it.
LDLIBS  += -lnids -lnet $(PKG_LIBS) -lpcap -lm

MAIN_SRC := main/sipsift.c
SRCS     := $(filter-out $(MAIN_SRC),$(wildcard lib/*.c capture/*.c dissect/*.c rules/*.c output/*.c main/*.c))
# Files compiled into the binary (lib/embedded.h): default rules, E.164 table.
EMBED    := rules/sipsift.rules rules/e164-country-codes.tsv
OBJS     := $(SRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/embedded.o
# The decoder's tests run in their own binary, linked without capture/reasm.c,
# so their reassembly doubles (weak symbols) check what decode hands over.
DECODE_TEST_SRCS := tests/unit/test_capture.c
DECODE_SRCS := lib/slice.c lib/ipaddr.c lib/table.c lib/timefmt.c capture/input.c \
               capture/pcapng.c capture/decode.c capture/hep.c
TEST_SRCS := $(filter-out $(DECODE_TEST_SRCS),$(wildcard tests/unit/*.c))
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o)
DECODE_TEST_OBJS := $(DECODE_TEST_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/tests/unit/main.o \
                    $(DECODE_SRCS:%.c=$(BUILD)/%.o)

.PHONY: all deps test test-fast test-san unit e2e demo bench fuzz install clean

all: sipsift

sipsift: $(BUILD)/sipsift
	@cp $< $@

$(BUILD)/sipsift: $(BUILD)/main/sipsift.o $(OBJS)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/unit/run: $(TEST_OBJS) $(OBJS)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/unit/run-decode: $(DECODE_TEST_OBJS)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/gen/embedded.c: $(EMBED) tools/embed.sh
	@mkdir -p $(dir $@)
	@echo "  EMBED   $(EMBED)"
	@sh tools/embed.sh $(EMBED) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/embedded.o: $(BUILD)/gen/embedded.c
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

deps:
	@sh tests/deps.sh

# One pass of every test against the binaries in $(BUILD).
test-fast: $(BUILD)/sipsift $(BUILD)/tests/unit/run $(BUILD)/tests/unit/run-decode
	@sh tests/run.sh $(BUILD)

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer).
test-san:
	@$(MAKE) --no-print-directory BUILD=build/san OPT="-O1 -g" \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    test-fast

test: deps
	@$(MAKE) --no-print-directory test-fast
	@$(MAKE) --no-print-directory test-san
	@echo "make test: all suites passed"

demo: deps sipsift
	./sipsift analyze -r pcaps/demo.pcap --db sipsift.db --report demo-report.json

bench: sipsift
	@sh tests/bench.sh

# Fuzzing (docs/fuzzing.md): one libFuzzer target per parser in tests/fuzz/, built
# with clang from the same sources into build/fuzz/ (every stage but the outputs
# and the CLI), each run FUZZ_SECONDS; any crash, leak or timeout fails the make.
FUZZ_TARGETS := sip sdp digest uri hep frame pcap rules
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_SRCS    := $(wildcard lib/*.c capture/*.c dissect/*.c rules/*.c) main/engine.c output/dump.c

fuzz: deps
	@command -v $(FUZZ_CC) >/dev/null || { echo "sipsift: make fuzz: $(FUZZ_CC) not found:" \
	    "install clang and libclang-rt-14-dev (make deps)" >&2; exit 2; }
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=$(FUZZ_CC) OPT="-O1 -g" \
	    SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    fuzz-build
	@sh tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

.PHONY: fuzz-build
fuzz-build: $(FUZZ_TARGETS:%=$(BUILD)/fuzz_%)

$(BUILD)/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/embedded.o
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

.SECONDARY: $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz/fuzz_%.o)

-include $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz/fuzz_%.d)

install: sipsift
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/sipsift/rules
	install -m 755 sipsift $(DESTDIR)$(PREFIX)/bin/sipsift
	install -m 644 rules/*.rules $(DESTDIR)$(PREFIX)/share/sipsift/rules/ 2>/dev/null || true

clean:
	rm -rf build sipsift

-include $(OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(DECODE_TEST_OBJS:.o=.d) $(BUILD)/main/sipsift.d
