# tenbin — build, test, benchmark and demo. `make help` lists the targets.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
BIN := bin
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Our C is compiled through cgo with -O3 -march=native -Wall -Wextra -Werror (see the
# #cgo lines in dataplane/); the binaries run on the machine that built them.
export CGO_ENABLED := 1

# Debian packages the build, the tests and the lab need.
DEB_PKGS := dpdk dpdk-dev libdpdk-dev pkg-config gcc libpcap-dev iproute2 nftables curl tcpdump ethtool iputils-ping
# Fuzz budget per target in `make test`: an input count, not a duration (a duration ends
# with a deadline that a busy cgo worker can overrun, failing the run with
# "context deadline exceeded" though nothing was found).
FUZZTIME ?= 50000x

.PHONY: help deps build test test-unit test-fuzz test-e2e bench demo lab-up lab-down clean generate

help:
	@echo "make deps    install the Debian packages (idempotent, quiet when present)"
	@echo "make build   build bin/tenbin and bin/tenbin-dataplane"
	@echo "make test    unit, packet-fixture, fuzz (short) and end-to-end tests"
	@echo "make bench   benchmarks side by side with their peers (BENCH_QUICK=1 for a short run)"
	@echo "make demo    lab demo: client → tenbin → real servers in network namespaces (KEEP=1 keeps it up)"
	@echo "make clean   remove build outputs"

deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@command -v $(GO) >/dev/null || { echo "Go 1.26 or newer is required (https://go.dev/dl/); put it on PATH" >&2; exit 1; }

build: deps
	@mkdir -p $(BIN)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/tenbin ./cmd/tenbin
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/tenbin-dataplane ./cmd/tenbin-dataplane

# The whole suite: what .ci/run calls. End-to-end tests need root and skip clearly without it.
test: deps build
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 25m $$($(GO) list ./... | grep -v '/test/e2e$$')
	$(MAKE) --no-print-directory test-fuzz
	$(MAKE) --no-print-directory test-e2e

# End-to-end tests in network namespaces (scripts/lab.sh), alone so that no other package's
# tests compete for the two cores the lab's timings count on; -v prints their figures.
test-e2e: build
	$(GO) test -count=1 -timeout 10m -v ./test/e2e/

test-unit:
	$(GO) test -count=1 -short ./...

# Each fuzz target runs briefly from its checked-in corpus (testdata/fuzz).
test-fuzz:
	@for spec in $$(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do \
		dir=$$(dirname $$spec); \
		for fn in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$spec | sed 's/^func //'); do \
			echo "fuzz $$dir $$fn ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s $$dir || exit 1; \
		done; \
	done

bench: build
	BENCH_QUICK=$(BENCH_QUICK) ./bench/run.sh

demo: build
	KEEP=$(KEEP) ./scripts/demo.sh

clean:
	rm -rf $(BIN)
	$(GO) clean -testcache
