# ztmm: `make run` starts the exporter on the demo organization; `make test` runs every test.
GO        ?= go
BIN       := bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH    ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
VPKG      := github.com/prometheus/common/version
LDFLAGS   := -s -w -X $(VPKG).Version=$(VERSION) -X $(VPKG).Revision=$(REVISION) -X $(VPKG).Branch=$(BRANCH) \
             -X $(VPKG).BuildUser=ztmm -X $(VPKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)
LISTEN    ?= 127.0.0.1:9917

# Packages that run concurrent code are tested with the race detector; the rest without, to keep
# `make test` well under 15 minutes on two cores.
RACE_PKGS := ./collectors/... ./internal/exporter/... ./internal/e2e/... ./cmd/...
PKGS      := $(shell $(GO) list ./... 2>/dev/null | grep -v -E '/collectors(/|$$)|/internal/exporter|/internal/e2e|/cmd/')

.PHONY: all build run test test-unit test-race vet generate check-generated bench stack clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ztmm-exporter ./cmd/ztmm-exporter
	$(GO) build -trimpath -o $(BIN)/ztmm-gen ./cmd/ztmm-gen

run: build
	$(BIN)/ztmm-exporter --demo --web.listen-address=$(LISTEN)

test: vet check-generated test-unit test-race

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...

check-generated:
	$(GO) run ./cmd/ztmm-gen -check

test-unit:
	$(GO) test -count=1 $(PKGS)

test-race:
	$(GO) test -count=1 -race $(RACE_PKGS)

generate:
	$(GO) run ./cmd/ztmm-gen

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./... | tee bench.txt
	@echo "compare runs with: go run golang.org/x/perf/cmd/benchstat@latest old.txt bench.txt"

# The exporter on the demo organization + Prometheus with the rules + Alertmanager, on 127.0.0.1, until
# Ctrl-C. Ports: STACK_EXPORTER_PORT, STACK_PROMETHEUS_PORT, STACK_ALERTMANAGER_PORT (see deploy/stack/stack.sh).
stack: build
	STACK_EXPORTER=$(BIN)/ztmm-exporter bash deploy/stack/stack.sh

clean:
	rm -rf $(BIN) bench.txt
