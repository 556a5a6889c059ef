# Rampart: build, install, test, benchmark and fuzz.
#
#   make                 build every command in cmd/ into bin/
#   make install         install them into $(PREFIX)/bin (PREFIX=~/.local)
#   make test            gofmt check, go vet, unit tests, the preload library's
#                        C tests and e2e: what CI runs
#   make unit            go test ./... (no npm download)
#   make preload         preload/lib/librampart.so (needs a C compiler); every
#                        Go binary is built after it, so rampart embeds it
#   make preload-test    the C test of every entry point against rampart serve
#   make bench           engine, audit and server benchmarks, the server's
#                        load test, whole-process (hook, rampart-sh) costs,
#                        and the time librampart.so adds per exec
#   make fuzz            each fuzz target for FUZZTIME (10s)
#   make lint            gofmt check and go vet
#   make e2e             the real Claude Code, Codex and Gemini CLIs (pinned,
#                        installed into .cache/) against fake model APIs, with
#                        Rampart's hooks
#   make e2e-capture     rewrite hooks/testdata/claude-code/ from what that
#                        Claude Code sends its hooks

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# Use go from PATH; fall back to the standard install location.
ifeq ($(shell command -v go 2>/dev/null),)
  ifneq ($(wildcard /usr/local/go/bin/go),)
    export PATH := /usr/local/go/bin:$(PATH)
  endif
endif

GO       ?= go
PREFIX   ?= $(HOME)/.local
BINDIR   ?= $(PREFIX)/bin
FUZZTIME ?= 10s
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS  := -s -w -X github.com/rampart-dev/rampart/internal/cli.Version=$(VERSION)

# Every cmd/NAME with a main.go is a binary: bin/rampart, later bin/rampart-sh.
COMMANDS := $(notdir $(patsubst %/main.go,%,$(wildcard cmd/*/main.go)))
BINARIES := $(addprefix bin/,$(COMMANDS))

.PHONY: all install test unit bench fuzz lint fmt-check vet clean e2e e2e-capture FORCE preload preload-test

all: $(BINARIES)

# rampart embeds librampart.so (go:embed of preload/lib): build it first.
preload:
	$(MAKE) -C preload --no-print-directory all

$(BINARIES): preload

# FORCE: go build decides what is up to date, not make.
# Static (CGO_ENABLED=0) and without symbol tables (-s -w): agents start
# rampart-hook and rampart-sh once per tool call, and a static binary skips
# the dynamic loader and starts about 1.5 ms sooner (docs/benchmarks.md).
# Panics still print file:line stack traces.
bin/%: FORCE
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./cmd/$*

install: all
	install -d '$(BINDIR)'
	install -m 0755 $(BINARIES) '$(BINDIR)/'
	@echo "installed $(COMMANDS) into $(BINDIR)"

# The whole suite: what README and .ci/run call. e2e needs the npm
# registry the first time (it caches Claude Code in .cache/).
test: fmt-check vet unit preload-test e2e

# The C test program calls every entry point of the library against a real
# "rampart serve"; the Go tests in preload/ run real programs under
# "rampart preload".
preload-test: all
	$(MAKE) -C preload --no-print-directory test RAMPART='$(CURDIR)/bin/rampart'

unit: preload
	$(GO) test ./...

lint: fmt-check vet

fmt-check:
	@unformatted="$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi

vet:
	$(GO) vet ./...

# Engine, audit and server micro-benchmarks, the server under concurrent
# load on loopback (bounded in count and time; it verifies the audit trail
# afterwards), then whole-process costs of the hook and rampart-sh next to
# /bin/true and bash in the same run.
bench: all
	$(GO) test -run '^$$' -bench . -benchmem ./engine/... ./policies/... ./audit/... ./server/
	$(GO) run ./server/loadtest
	$(GO) run ./internal/benchproc -rampart bin/rampart -rampart-sh bin/rampart-sh
	$(MAKE) -C preload --no-print-directory helpers
	$(GO) run ./preload/bench -rampart bin/rampart -lib preload/lib/librampart.so -checkloop preload/build/checkloop

# Find every Fuzz target in the module and run each for FUZZTIME.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' "$$pkg" | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$target ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime '$(FUZZTIME)' "$$pkg"; \
	  done; \
	done

# The e2e suite fails, never skips, when Claude Code cannot be installed.
E2E_CLAUDE = RAMPART_E2E_CLAUDE="$$(scripts/install-claude-code.sh)"; export RAMPART_E2E_CLAUDE
# ... and Codex CLI and Gemini CLI, likewise pinned and cached.
E2E_AGENTS = $(E2E_CLAUDE); \
	RAMPART_E2E_CODEX="$$(scripts/install-codex.sh)"; export RAMPART_E2E_CODEX; \
	RAMPART_E2E_GEMINI="$$(scripts/install-gemini.sh)"; export RAMPART_E2E_GEMINI

e2e:
	$(GO) vet -tags e2e ./e2e/...
	$(E2E_AGENTS); $(GO) test -tags e2e -count=1 ./e2e/...

e2e-capture:
	$(E2E_CLAUDE); $(GO) test -tags e2e -count=1 -run '^TestCaptureHookInputs$$' ./e2e/ -update

clean:
	rm -rf bin
	$(MAKE) -C preload --no-print-directory clean
