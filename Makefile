# msgo: `make run` starts a node on embedded defaults (memory store, SQLite);
# `make test` runs vet and the whole test suite, Redis and MariaDB included.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build run test vet fuzz bench bench-compare bench-smoke clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/msgo ./console

run: build
	./bin/msgo start

vet:
	$(GO) vet ./...

test: vet bench-smoke
	$(GO) test -race -count=1 -timeout 20m ./...

# msgo beside the gorilla/websocket, nbio and gws hubs and the C floor, the
# same client for all, medians of 3 (bench/, its own module). Takes about
# 20 minutes; run it on an otherwise idle machine.
bench-compare:
	cd bench && $(GO) run ./compare

# Every server answers every scenario, small and short (seconds).
bench-smoke:
	cd bench && $(GO) vet ./... && $(GO) run ./compare -quick -runs 1 -only rpc >/dev/null

# Run each fuzz target for a while (the seed corpus already runs in `make test`).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run=^$$ -fuzz=FuzzParseHeader -fuzztime=$(FUZZTIME) ./framework/internal/wsframe

bench:
	$(GO) test -run=^$$ -bench=. -benchmem ./...

clean:
	rm -rf bin
