# msgo: `make run` starts a node on embedded defaults (memory store, SQLite);
# `make test` runs vet and the whole test suite, Redis and MariaDB included.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build run test vet fuzz bench clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/msgo ./console

run: build
	./bin/msgo start

vet:
	$(GO) vet ./...

test: vet
	$(GO) test -race -count=1 -timeout 20m ./...

# Run each fuzz target for a while (the seed corpus already runs in `make test`).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run=^$$ -fuzz=FuzzParseHeader -fuzztime=$(FUZZTIME) ./framework/internal/wsframe

bench:
	$(GO) test -run=^$$ -bench=. -benchmem ./...

clean:
	rm -rf bin
