# cachalot — run `make help` for the targets.
GO      ?= go
BIN     ?= bin/cachalot
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
FUZZTIME ?= 10s

# install locations (make install PREFIX=/usr DESTDIR=/tmp/pkg)
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
DESTDIR    ?=

.PHONY: help build run test bench bench-ratelimit hitratio fuzz lint clean install uninstall verify-unit

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

bench: build ## redis-benchmark against cachalot and redis-server, interleaved, then the rate-limit comparison; prints ratios
	CACHALOT_BIN=$(CURDIR)/$(BIN) ./bench/run.sh
	CACHALOT_BIN=$(CURDIR)/$(BIN) ./bench/ratelimit.sh

bench-ratelimit: build ## rate-limit decisions/s: CL.THROTTLE and RL.TAKE vs Redis GCRA Lua (EVALSHA) and INCR
	CACHALOT_BIN=$(CURDIR)/$(BIN) ./bench/ratelimit.sh

hitratio: build ## Zipf GET-or-SET-on-miss hit ratio, redis-server vs cachalot, allkeys-lru and allkeys-lfu (HITRATIO_ARGS=-keys 200000 …)
	$(GO) run ./bench/hitratio -redis-server $$(command -v redis-server) -cachalot $(CURDIR)/$(BIN) $(HITRATIO_ARGS)

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

install: build ## install the binary, systemd unit and packaged config (PREFIX, DESTDIR, BINDIR, SYSCONFDIR, UNITDIR)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/cachalot
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/cachalot
	sed -e 's|/usr/bin/cachalot|$(BINDIR)/cachalot|g' -e 's|/etc/cachalot|$(SYSCONFDIR)/cachalot|g' \
	  deploy/cachalot.service > $(DESTDIR)$(UNITDIR)/cachalot.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/cachalot.service
	@# never overwrite a config the administrator may have edited
	if [ -e $(DESTDIR)$(SYSCONFDIR)/cachalot/cachalot.toml ]; then \
	  install -m 0640 deploy/cachalot.toml $(DESTDIR)$(SYSCONFDIR)/cachalot/cachalot.toml.new; \
	else install -m 0640 deploy/cachalot.toml $(DESTDIR)$(SYSCONFDIR)/cachalot/cachalot.toml; fi
	@echo "installed; create the user (useradd --system --home /var/lib/cachalot cachalot), then: systemctl daemon-reload && systemctl enable --now cachalot"

uninstall: ## remove what install put in place (the config file is kept)
	rm -f $(DESTDIR)$(BINDIR)/cachalot $(DESTDIR)$(UNITDIR)/cachalot.service

verify-unit: ## systemd-analyze verify on the unit, pointed at a fresh build
	tmp=$$(mktemp -d) && $(MAKE) install DESTDIR=$$tmp PREFIX=/usr >/dev/null && \
	  sed -e "s|/usr/bin/cachalot|$$tmp/usr/bin/cachalot|g" $$tmp/usr/lib/systemd/system/cachalot.service > $$tmp/cachalot.service && \
	  systemd-analyze verify $$tmp/cachalot.service; rc=$$?; rm -rf $$tmp; exit $$rc
