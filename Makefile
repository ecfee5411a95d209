# doghouse: `make run` builds the otelcol-doghouse distribution and runs it on config/default.yaml;
# `make test` is what CI runs (.ci/run). Everything is installed from pinned versions in
# internal/tools/go.mod; nothing is assumed on PATH but Go.

GO       ?= go
BUILDER  := build/bin/builder
MDATAGEN := build/bin/mdatagen
DIST     := build/otelcol-doghouse/otelcol-doghouse
CONFIGS  := $(wildcard config/*.yaml examples/*.yaml)
FUZZTIME ?= 20s

.PHONY: all build run test vet unit validate testbed-test gui-test bench fuzz generate tools clean prometheus chromium

all: build

tools: $(BUILDER) $(MDATAGEN)

$(BUILDER): internal/tools/go.mod internal/tools/go.sum
	$(GO) build -C internal/tools -o ../../$(BUILDER) go.opentelemetry.io/collector/cmd/builder

$(MDATAGEN): internal/tools/go.mod internal/tools/go.sum
	$(GO) build -C internal/tools -o ../../$(MDATAGEN) go.opentelemetry.io/collector/cmd/mdatagen

# The builder regenerates the distribution's sources and runs `go mod tidy` every time, so local
# component changes are always picked up (a warm rebuild takes seconds).
build: $(BUILDER)
	./$(BUILDER) --config builder-config.yaml

# CONFIG picks another configuration, e.g. `make run CONFIG=examples/show-values.yaml`.
CONFIG ?= config/default.yaml
run: build
	mkdir -p data run
	./$(DIST) --config $(CONFIG)

vet:
	@unformatted=$$(find . -name '*.go' -not -path './build/*' -not -path '*/testdata/*' -not -path './testbed/build/*' | xargs gofmt -l); \
	if [ -n "$$unformatted" ]; then echo "gofmt -w needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) mod tidy -diff
	cd testbed && $(GO) mod tidy -diff
	cd e2e/gui && $(GO) vet ./... && $(GO) mod tidy -diff

# Unit, component and end-to-end tests. DOGHOUSE_E2E=require makes the end-to-end test fail
# (instead of skip) when the built binary is missing.
# The remote-write end-to-end test (e2e/) runs Debian's prometheus (2.42); installed when missing.
prometheus:
	@command -v prometheus >/dev/null 2>&1 || { \
		echo "installing Debian's prometheus for the remote-write end-to-end test"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q prometheus >/dev/null || \
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q prometheus >/dev/null; }; }

unit: build prometheus
	DOGHOUSE_E2E=require DOGHOUSE_OTELCOL=$(CURDIR)/$(DIST) $(GO) test -race -count=1 ./...
	cd standins/statusutil && $(GO) test -count=1 ./...

validate: build
	@for c in $(CONFIGS); do \
		echo "validate $$c"; \
		./$(DIST) validate --config $$c || exit 1; \
	done

# The testbed's own tests and its smoke run against the built collector (doghouse only, about a
# minute); the full comparison suite runs in `make bench`.
testbed-test: build
	cd testbed && $(GO) vet ./... && DOGHOUSE_TESTBED_SMOKE=1 DOGHOUSE_OTELCOL=$(CURDIR)/$(DIST) $(GO) test -race -count=1 ./...

# The GUI's real-browser test (e2e/gui, a module of its own so the collector's module does not
# depend on chromedp): Debian's chromium, installed when missing, drives the built collector's
# page (about 15 s here; installing chromium took 88 s).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the GUI test"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null || \
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }; }

gui-test: build chromium
	cd e2e/gui && DOGHOUSE_E2E=require DOGHOUSE_OTELCOL=$(CURDIR)/$(DIST) $(GO) test -race -count=1 ./...

test: vet unit validate testbed-test gui-test

# Micro-benchmarks of the module, the chunk format against Prometheus' XOR chunks, and the
# testbed suite against the contrib statsd receiver (every measurement 3 times: about 40 minutes
# for scenarios 1-6 and 20 for the cardinality floods 7 and 8, see testbed/README.md). It rewrites
# docs/benchmarks.md and the table between the bench markers in README.md.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	cd bench/chunkcompare && $(GO) run .
	cd testbed && $(GO) run ./cmd/testbed suite -command 'make bench' -out ../docs/benchmarks.md -readme ../README.md

# A short bounded run of every fuzz target in the module.
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

# Regenerate the components' metadata packages from their metadata.yaml.
generate: $(MDATAGEN)
	@for m in $$(find receiver processor exporter -name metadata.yaml -not -path '*/testdata/*'); do \
		echo "mdatagen $$m"; ./$(MDATAGEN) $$m || exit 1; \
	done

clean:
	rm -rf build
