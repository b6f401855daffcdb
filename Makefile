# cachalot — run `make help` for the targets.
GO      ?= go
BIN     ?= bin/cachalot
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
FUZZTIME ?= 10s

.PHONY: help build run test bench bench-ratelimit fuzz lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## build bin/cachalot
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

run: build ## build and start on 127.0.0.1:6379 with the embedded defaults
	./$(BIN)

test: ## lint, then every test with the race detector (differential tests need redis-server)
	$(MAKE) lint
	$(GO) test -race -count=1 -timeout 20m ./...
	$(GO) test -count=1 -run 'TestHotPathAllocations' ./server/ # allocation counts need a non-race build

bench: build ## redis-benchmark against cachalot and redis-server, interleaved; prints ratios
	CACHALOT_BIN=$(CURDIR)/$(BIN) ./bench/run.sh

bench-ratelimit: build ## rate-limit decisions/s: CL.THROTTLE and RL.TAKE vs Redis GCRA Lua (EVALSHA) and INCR
	CACHALOT_BIN=$(CURDIR)/$(BIN) ./bench/ratelimit.sh

fuzz: ## run each fuzz target briefly (FUZZTIME=10s each)
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

lint: ## gofmt and go vet must be clean
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean: ## remove build output
	rm -rf bin
