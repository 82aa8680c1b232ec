# Common tasks. Run `make help` for the list.

GO          ?= go
DATA_DIR    ?= ./data
BIN_DIR     ?= ./bin
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# Extra flags for `go test`, such as TEST_FLAGS='-run TestAdmin -count=1'.
TEST_FLAGS  ?=
# Per-package limit of `go test`; the conformance suites drive a live server.
TEST_TIMEOUT ?= 30m
# Packages run a second time under the race detector. The MongoDB backend
# is left out: its tests run against FerretDB with one writer, and
# in-process FerretDB under the detector takes many minutes.
RACE_PKGS   ?= ./schemas ./tenants ./scimserver ./storage/sqlite
# newman runs Microsoft's Postman collection in the conformance tests. It is
# installed into the git-ignored .ci/node_modules, pinned to this version.
NPM            ?= npm
NEWMAN_VERSION := 6.2.2
NEWMAN_BIN     := .ci/node_modules/.bin/newman
# Flags passed to the benchmark program, such as BENCH_FLAGS='-users 1000'.
BENCH_FLAGS ?=

LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: help run build test bench lint fmt

help:
	@echo "make run    start scimd on the embedded SQLite store in $(DATA_DIR)"
	@echo "make build  build a static binary into $(BIN_DIR)/scimd"
	@echo "make test   install newman if missing, run every test (TEST_FLAGS adds go test flags)"
	@echo "make bench  run cmd/scimbench (BENCH_FLAGS adds its flags)"
	@echo "make lint   check formatting with gofmt and run go vet"
	@echo "make fmt    rewrite files with gofmt"

run:
	$(GO) run -ldflags '$(LDFLAGS)' ./cmd/scimd --data-dir $(DATA_DIR)

# CGO_ENABLED=0 gives a static binary: the SQLite driver is pure Go.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN_DIR)/scimd ./cmd/scimd

test: $(NEWMAN_BIN)
	$(GO) test -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) ./...
	$(GO) test -race -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) $(RACE_PKGS)

$(NEWMAN_BIN):
	$(NPM) install --prefix .ci --no-save --no-audit --no-fund newman@$(NEWMAN_VERSION)

bench:
	$(GO) run ./cmd/scimbench $(BENCH_FLAGS)

lint:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

fmt:
	gofmt -w .
