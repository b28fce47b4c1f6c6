# DataQuarantine: `make help` lists the targets.
SHELL := /usr/bin/env bash
GO    ?= go
PKGS  ?= ./...
# Pinned tool versions live here, in one place (scripts/test-deps.sh reads
# MINIO_VERSION from this file).
GOLANGCI_LINT_VERSION ?= v2.15.0
# The MinIO server the S3 tests run (the repository is archived; this is its
# last version, built with go install into bin/tools/minio).
MINIO_VERSION ?= v0.0.0-20260212201848-7aac2a2c5b7c
BIN   := $(CURDIR)/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/dataquarantine/dataquarantine/internal/cli.version=$(VERSION)

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/dataquarantine
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/dataquarantine ./cmd/dataquarantine

.PHONY: run
run: ## run the gateway embedded, with demo traffic (data in ./data)
	$(GO) run ./cmd/dataquarantine serve --demo

.PHONY: deps
deps: ## install what the tests need when missing (kcat, PostgreSQL, Prometheus, Chromium, a MinIO server in bin/tools)
	MINIO_VERSION=$(MINIO_VERSION) scripts/test-deps.sh

.PHONY: test
test: deps lint ## run the whole test suite (vet, lint, every test), installing what it needs first
	$(GO) test -count=1 -timeout 15m $(PKGS)

.PHONY: test-race
test-race: deps ## run the tests with the race detector
	$(GO) test -count=1 -race -timeout 20m $(PKGS)

.PHONY: ui-test
ui-test: ## run the web UI's browser tests in headless Chromium (screenshots in testdata/artifacts/ui/)
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || scripts/test-deps.sh
	CI=true $(GO) test -count=1 -run '^TestBrowser' -v ./internal/web/

.PHONY: bench
bench: ## run the benchmarks (figures go to docs/benchmarks.md)
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (default 30s)
	scripts/fuzz.sh $${FUZZTIME:-30s}

.PHONY: lint
lint: ## vet, gofmt check and golangci-lint (installed into bin/ at the pinned version)
	$(GO) vet $(PKGS)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	@$(BIN)/golangci-lint version 2>/dev/null | grep -q "$(GOLANGCI_LINT_VERSION:v%=%)" || GOBIN=$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	$(BIN)/golangci-lint run $(PKGS)

.PHONY: clean
clean: ## remove build output and the default data dir
	rm -rf $(BIN) ./data
