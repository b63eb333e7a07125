# sipsift - passive VoIP attack analyzer. Plain GNU make.
#   make            build ./sipsift
#   make demo       install build deps (Debian), build, analyse pcaps/demo.pcap
#   make test       install test deps, build, run every test, then again under ASan+UBSan
#   make bench      throughput benchmark (see tests/bench.sh)
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
BUILD   ?= build
CC      ?= cc
OPT     ?= -O2 -g
SAN     ?=
WERROR  ?= -Werror
PKGS    := libpcap sqlite3 jansson nettle libsodium

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  += -std=gnu11 $(OPT) $(SAN) -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes \
           -Wno-missing-field-initializers -D_GNU_SOURCE -I. $(PKG_CFLAGS) -MMD -MP
LDFLAGS += $(SAN)
# libnids and libnet ship no .pc file (DEPENDENCIES.md); libnids needs -lpcap after it.
LDLIBS  += -lnids -lnet $(PKG_LIBS) -lpcap -lm

MAIN_SRC := main/sipsift.c
SRCS     := $(filter-out $(MAIN_SRC),$(wildcard lib/*.c capture/*.c dissect/*.c rules/*.c output/*.c main/*.c))
OBJS     := $(SRCS:%.c=$(BUILD)/%.o)
TEST_SRCS := $(wildcard tests/unit/*.c)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o)

.PHONY: all deps test test-fast test-san unit e2e demo bench fuzz install clean

all: sipsift

sipsift: $(BUILD)/sipsift
	@cp $< $@

$(BUILD)/sipsift: $(BUILD)/main/sipsift.o $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/unit/run: $(TEST_OBJS) $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

deps:
	@sh tests/deps.sh

# One pass of every test against the binaries in $(BUILD).
test-fast: $(BUILD)/sipsift $(BUILD)/tests/unit/run
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

install: sipsift
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/sipsift/rules
	install -m 755 sipsift $(DESTDIR)$(PREFIX)/bin/sipsift
	install -m 644 rules/*.rules $(DESTDIR)$(PREFIX)/share/sipsift/rules/ 2>/dev/null || true

clean:
	rm -rf build sipsift

-include $(OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(BUILD)/main/sipsift.d
