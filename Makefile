# regionwatch — see README.md. `make`, `make check`, `make demo`, `make bench`.
VERSION   = 0.1.0
PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR    = $(PREFIX)/bin
MANDIR    = $(PREFIX)/share/man/man1

CC       ?= cc
PKGS      = libunwind-ptrace libpcre2-8 ncursesw jansson libxxhash libmicrohttpd
WARN      = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wwrite-strings -Wvla -Wimplicit-fallthrough
OPT      ?= -O2 -g
# Evaluated lazily (=), so pkg-config runs after `deps` has installed what is missing.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
ALL_CFLAGS = $(WARN) $(OPT) -pthread -Iinclude -DRW_VERSION='"$(VERSION)"' $(PKG_CFLAGS) $(CFLAGS)
LIBS       = $(PKG_LIBS) -lm

SRCS      = $(wildcard src/*.c)
CORE_SRCS = $(filter-out src/main.c,$(SRCS))
B         = build
OBJS      = $(SRCS:src/%.c=$(B)/%.o)
CORE_OBJS = $(CORE_SRCS:src/%.c=$(B)/%.o)
UNIT_SRCS = $(wildcard tests/unit/t_*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
TARGET_SRCS = $(wildcard fixtures/targets/*.c)
TARGET_BINS = $(TARGET_SRCS:fixtures/targets/%.c=$(B)/fixtures/%)
GO_TARGETS  = $(B)/fixtures/go_leak $(B)/fixtures/go_cgoleak

.PHONY: all deps check check-run check-slow asan-check fuzz bench demo install uninstall clean fixtures
all: regionwatch

# Installs missing Debian packages (as root) and says so; silent when nothing is missing.
deps:
	@sh contrib/install-deps.sh

regionwatch: $(OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

# Each rule makes its own directory: `make fuzz` creates build/ before any of them.
$(B)/%.o: src/%.c $(wildcard include/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Unit tests link the core objects; the libraries they do not use are linked all the same.
$(B)/tests/%: tests/unit/%.c tests/tap.h tests/synth.h $(CORE_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(CORE_OBJS) $(LIBS)

# Fixture targets: programs with known memory behaviour (see fixtures/targets/README.md).
$(B)/fixtures/%: fixtures/targets/%.c fixtures/targets/fixture.h
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -O1 -g -pthread -Wall -Wextra $(CFLAGS) -o $@ $<

$(B)/fixtures/go_leak: $(wildcard fixtures/targets/go/leak/*)
	@mkdir -p $(@D)
	@if command -v go >/dev/null 2>&1; then \
		cd fixtures/targets/go/leak && GOTOOLCHAIN=local GOFLAGS=-mod=mod GO111MODULE=on \
		GOCACHE=$(CURDIR)/$(B)/gocache go build -o $(CURDIR)/$@ . ; \
	else echo "go not found: skipping the Go fixture"; fi

# cgo needs a C compiler (gcc is a build dependency anyway); skipped without Go.
$(B)/fixtures/go_cgoleak: $(wildcard fixtures/targets/go/cgoleak/*)
	@mkdir -p $(@D)
	@if command -v go >/dev/null 2>&1; then \
		cd fixtures/targets/go/cgoleak && GOTOOLCHAIN=local GOFLAGS=-mod=mod GO111MODULE=on \
		CGO_ENABLED=1 GOCACHE=$(CURDIR)/$(B)/gocache go build -o $(CURDIR)/$@ . ; \
	else echo "go not found: skipping the cgo fixture"; fi

fixtures: $(TARGET_BINS) $(GO_TARGETS)

# The test command the README gives. RW_BIN selects the binary under test.
RW_BIN ?= $(CURDIR)/regionwatch
check: deps
	@$(MAKE) --no-print-directory check-run

check-run: regionwatch $(UNIT_BINS) fixtures
	RW_BIN=$(RW_BIN) RW_BUILD=$(CURDIR)/$(B) RW_TOP=$(CURDIR) \
		prove -f $(UNIT_BINS) tests/cli/*.t tests/ui/*.t

# Slow fault cases (FREEZE_CYCLES freeze/thaw cycles, default 1000); CI runs a bounded count.
check-slow: deps regionwatch fixtures
	RW_BIN=$(RW_BIN) RW_BUILD=$(CURDIR)/$(B) RW_TOP=$(CURDIR) FREEZE_CYCLES=$(FREEZE_CYCLES) \
		prove -f tests/slow/*.t
FREEZE_CYCLES ?= 1000
ASAN_JOBS ?= 2

# The same suite, every binary built with ASan + UBSan in build-asan/. Its test files run
# ASAN_JOBS at a time (default 2): they mostly wait on their targets' samples, so two at once
# halve the wall time on 2 cores; every test is written to pass on a loaded machine.
ASAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
asan-check: deps
	@$(MAKE) --no-print-directory B=build-asan OPT="$(ASAN_FLAGS)" \
		LDFLAGS="$(LDFLAGS) -fsanitize=address,undefined" \
		RW_BIN=$(CURDIR)/build-asan/regionwatch-asan check-run-asan

check-run-asan: $(B)/regionwatch-asan $(UNIT_BINS) fixtures
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	RW_BIN=$(RW_BIN) RW_BUILD=$(CURDIR)/$(B) RW_TOP=$(CURDIR) \
		prove -f -j$(ASAN_JOBS) $(UNIT_BINS) tests/cli/*.t tests/ui/*.t

$(B)/regionwatch-asan: $(OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

# libFuzzer on the smaps/pmap parser, bounded: FUZZ_SECONDS (default 30).
FUZZ_SECONDS ?= 30
fuzz: deps
	@mkdir -p $(B)/fuzz $(B)/fuzz/corpus
	clang $(WARN) -O1 -g -Iinclude -fsanitize=fuzzer,address,undefined \
		-o $(B)/fuzz/fuzz_smaps contrib/fuzz/fuzz_smaps.c src/smaps.c src/region.c src/util.c -lm
	cp fixtures/smaps/*.smaps fixtures/smaps/*.pmap_* fixtures/smaps/bad/* fixtures/smaps/fuzz/* $(B)/fuzz/corpus/ 2>/dev/null || true
	$(B)/fuzz/fuzz_smaps -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=1024 \
		-print_final_stats=1 $(B)/fuzz/corpus

bench: deps regionwatch fixtures
	@sh contrib/bench/bench.sh

demo: deps regionwatch fixtures
	@sh contrib/demo.sh

install: regionwatch
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)
	install -m 0755 regionwatch $(DESTDIR)$(BINDIR)/regionwatch
	install -m 0644 contrib/regionwatch.1 $(DESTDIR)$(MANDIR)/regionwatch.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/regionwatch $(DESTDIR)$(MANDIR)/regionwatch.1

clean:
	rm -rf build build-asan regionwatch
