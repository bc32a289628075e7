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

# Run each fuzz target for a while (their seed corpora already run in
# `make test`). go test explores one target at a time.
FUZZTIME ?= 30s
FUZZ_TARGETS := \
	./framework/internal/wsframe:FuzzParseHeader \
	./framework/internal/jsonscan:FuzzMembers \
	./framework/internal/jsonscan:FuzzValid \
	./framework:FuzzFrames \
	./framework:FuzzDispatchDecode \
	./framework:FuzzRequestEnvelope \
	./framework:FuzzHandshakeHead \
	./framework/manager:FuzzManagerRequest \
	./library/encrypt:FuzzParse \
	./library/encrypt:FuzzClaimsUnmarshalJSON
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $$t"; \
		$(GO) test -run=^$$ -fuzz="^$${t#*:}$$" -fuzztime=$(FUZZTIME) "$${t%%:*}"; \
	done

bench:
	$(GO) test -run=^$$ -bench=. -benchmem ./...

clean:
	rm -rf bin
