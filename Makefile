# Recondesk. `make run` for a demo on this machine, `make test` for the suite.
SHELL := /bin/bash
GO ?= go
GOFLAGS ?=
TEST_TIMEOUT ?= 15m
BIN := bin/recondesk

.PHONY: run build test generate verify lint bench css templ clean fuzz

run: node_modules ## migrate, start embedded defaults, load demo data, serve
	$(GO) run ./cmd/recondesk dev

build: ## build the binary into bin/
	$(GO) build -o $(BIN) ./cmd/recondesk

test: ## every test: real PostgreSQL, embedded FerretDB, in-process SMTP, headless Chromium
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

generate: node_modules templ css ## regenerate templ code, CSS and .env.example
	$(GO) run ./cmd/genenv

templ:
	$(GO) tool templ generate

css: node_modules
	npx --no-install tailwindcss -c tailwind.config.js -i static/css/input.css -o static/css/app.css --minify

node_modules: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch node_modules

verify: generate lint ## fail if generated files are stale or code is unformatted
	@if [ -n "$$(git status --porcelain -- '*.go' static/css .env.example)" ]; then \
		echo "generated files are stale; run make generate and commit:"; git status --porcelain -- '*.go' static/css .env.example; exit 1; fi

lint: ## go vet and gofmt
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

bench: ## build the benchmark data sets and print the figures table
	$(GO) run ./cmd/recondesk-bench

FUZZTIME ?= 10s
fuzz: ## run each parser fuzz target briefly (CI does this too)
	GO=$(GO) scripts/fuzz-one.sh ./internal/ezpass FuzzCSVReader $(FUZZTIME)
	GO=$(GO) scripts/fuzz-one.sh ./internal/ezpass FuzzXLSXReader $(FUZZTIME)
	GO=$(GO) scripts/fuzz-one.sh ./internal/ezpass FuzzParseAmount $(FUZZTIME)
	GO=$(GO) scripts/fuzz-one.sh ./web/query FuzzSafeNext $(FUZZTIME)
	GO=$(GO) scripts/fuzz-one.sh ./web/query FuzzPage $(FUZZTIME)
	GO=$(GO) scripts/fuzz-one.sh ./web/query FuzzAfter $(FUZZTIME)
	GO=$(GO) scripts/fuzz-one.sh ./web/query FuzzText $(FUZZTIME)
	GO=$(GO) scripts/fuzz-one.sh ./web/query FuzzDate $(FUZZTIME)
	GO=$(GO) scripts/fuzz-one.sh ./web/query FuzzIDLimitCursor $(FUZZTIME)

clean:
	rm -rf bin .data
