# mezzo — `make demo` runs the demo, `make test` runs every test.
# Everything a fresh machine lacks (npm packages, Debian's chromium and
# brotli) is installed by the targets below, never by hand.

SHELL       := bash
.SHELLFLAGS := -eu -o pipefail -c
GO          ?= go
GOROOT      := $(shell $(GO) env GOROOT)
VERSION     ?= $(shell scripts/build/version.sh)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
DIST        := web/dist
GO_SOURCES  := $(shell find pkce jsbridge wasm -name '*.go' ! -name '*_test.go') go.mod go.sum
NPM_STAMP   := scripts/node_modules/.mezzo-installed
WASM_EXEC   := $(CURDIR)/scripts/test/wasm/go_js_wasm_exec
FUZZTIME    ?= 10000x
# Inlining off, except in crypto and math/big, where the speed is: it cuts
# mezzo.wasm by ~90 KB after brotli (see `make size`).
WASM_GCFLAGS := -gcflags=all=-l -gcflags=crypto/...= -gcflags=math/big=

.PHONY: all build deps demo names test lint test-go test-fuzz test-wasm test-node test-types test-browser test-package package size size-report counts bench bench-readme fuzz clean

all: build

## build: web/dist/ with mezzo.wasm, wasm_exec.js, mezzo.js, mezzo.mjs, mezzo-worker.js and the typings
build: $(DIST)/mezzo.wasm $(DIST)/wasm_exec.js $(DIST)/mezzo.js $(DIST)/mezzo.mjs $(DIST)/mezzo-worker.js $(DIST)/mezzo.d.ts $(DIST)/mezzo.d.mts

# One typings file serves both loaders: TypeScript looks for mezzo.d.ts next
# to mezzo.js and mezzo.d.mts next to mezzo.mjs.
$(DIST)/mezzo.d.ts $(DIST)/mezzo.d.mts: web/mezzo.d.ts
	@mkdir -p $(DIST)
	cp $< $@

# The version the build carries, rewritten only when it changes, so that
# the module and the loaders are rebuilt for a new commit and always carry
# the version `make package` stamps on the package.
$(DIST)/.version: FORCE
	@mkdir -p $(DIST)
	@[ "$$(cat $@ 2>/dev/null)" = '$(VERSION)' ] || echo '$(VERSION)' > $@

.PHONY: FORCE
FORCE:

$(DIST)/mezzo.wasm: $(GO_SOURCES) $(DIST)/.version
	@mkdir -p $(DIST)
	GOOS=js GOARCH=wasm $(GO) build -trimpath $(WASM_GCFLAGS) -ldflags='-s -w -X main.version=$(VERSION)' -o $@ ./wasm

# Go's own file, copied unmodified at build time.
$(DIST)/wasm_exec.js: $(GOROOT)/lib/wasm/wasm_exec.js
	@mkdir -p $(DIST)
	cp $< $@

# The loaders and the worker script, bundled from web/src/ by esbuild (one
# entry each, minified, with source maps), carry the same VERSION as
# mezzo.wasm: a SharedWorker is named after it, and pages and workers of
# two versions refuse each other's calls.
# The worker script starts with Go's wasm_exec.js, unmodified.
$(DIST)/mezzo.js $(DIST)/mezzo.mjs $(DIST)/mezzo-worker.js &: $(shell find web/src -name '*.js') scripts/build/build-loaders.mjs $(DIST)/wasm_exec.js $(DIST)/.version $(NPM_STAMP)
	@mkdir -p $(DIST)
	node scripts/build/build-loaders.mjs $(DIST) '$(VERSION)'

## names: rewrite what api/names.json generates (Go's codes, events, option
## and method names; web/src/names.js; mezzo.d.ts's generated regions)
names:
	node scripts/build/gen-names.mjs

## package: the npm package (web/npm/package.json) as build/<name>-<version>.tgz
PACKAGE_DIR := build
package: build
	node scripts/build/package.mjs $(DIST) '$(VERSION)' $(PACKAGE_DIR)

## test-package: install the tarball into a fresh app, build it with Vite
## (React) and webpack 5, and sign in with each in chromium
test-package: build $(NPM_STAMP) system-deps
	MEZZO_TARBALL=$$(node scripts/build/package.mjs $(DIST) '$(VERSION)' $(PACKAGE_DIR)) node --test scripts/test/package/package.test.mjs

## deps: npm packages (scripts/package-lock.json), chromium and brotli
deps: $(NPM_STAMP) system-deps

$(NPM_STAMP): scripts/package.json scripts/package-lock.json
	cd scripts && npm ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: system-deps
system-deps:
	@scripts/build/ensure-system-deps.sh

## size: raw, gzip and brotli sizes (fails over the brotli budget); the npm
## package installed, and what it adds to a minimal Vite app
size: build system-deps
	scripts/build/size.sh $(DIST)
	node scripts/tools/app-size.mjs $$(node scripts/build/package.mjs $(DIST) '$(VERSION)' $(PACKAGE_DIR))

## size-report: which Go packages take the room in mezzo.wasm (a build
## with the release flags but with names kept, read by scripts/tools/wasm-sizes.mjs)
size-report:
	@mkdir -p .cache
	GOOS=js GOARCH=wasm $(GO) build -trimpath $(WASM_GCFLAGS) -o .cache/mezzo-names.wasm ./wasm
	node scripts/tools/wasm-sizes.mjs .cache/mezzo-names.wasm

## counts: the test counts the README quotes, as lines and JSON
counts: build $(NPM_STAMP)
	node scripts/tools/counts.mjs

## demo: the demo app against a bundled identity provider (Ctrl-C stops);
## PROFILE=intermezzo runs it against the Intermezzo profile instead of oidc-provider
PROFILE ?= oidc
demo: build $(NPM_STAMP)
	PROFILE=$(PROFILE) node scripts/dev/demo.mjs

## test: every test — lint, Go (native -race and wasm in node), node API
## suites, typings, size budget and the browser end-to-end suite
test: lint test-go test-fuzz test-wasm build size test-types test-node test-browser test-package
	@echo "make test: all suites passed"

# lint fails first when a file generated from api/names.json is stale.
lint:
	node scripts/build/gen-names.mjs --check
	@out=$$(gofmt -l pkce jsbridge wasm checks); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./...
	GOBIN=$(CURDIR)/.cache/bin $(GO) install $(STATICCHECK)
	.cache/bin/staticcheck ./...
	GOOS=js GOARCH=wasm .cache/bin/staticcheck ./...

test-go:
	$(GO) test -race -count=1 ./...

# The seed corpora already run in test-go; this gives each target a short
# burst of real fuzzing, counted in executions: a duration (-fuzztime 3s)
# can fail with a bare "context deadline exceeded" and no crasher when the
# deadline fires while a worker is mid-call, a race in go1.26's fuzz
# coordinator (go.dev/issue/75804, fixed in go1.27) that CI hit once.
# `make fuzz FUZZTIME=5m` is the long local run (rerun it if it ends that way).
# The listing must name every `func Fuzz` declared in pkce/*_test.go, so a
# failed or empty listing fails instead of fuzzing nothing.
test-fuzz fuzz:
	@want=$$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' pkce/*_test.go | sort); \
	listed=$$($(GO) test -list '^Fuzz' ./pkce) || { echo "go test -list failed:"; echo "$$listed"; exit 1; }; \
	got=$$(echo "$$listed" | grep '^Fuzz' | sort || true); \
	if [ -z "$$want" ] || [ "$$want" != "$$got" ]; then \
	  echo "fuzz targets declared in pkce/*_test.go:"; echo "$${want:-(none)}"; \
	  echo "fuzz targets listed by go test -list:"; echo "$${got:-(none)}"; exit 1; \
	fi; \
	for t in $$got; do \
	  echo "fuzz $$t ($(FUZZTIME))"; \
	  out=$$($(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./pkce 2>&1) || { echo "$$out"; exit 1; }; \
	done

test-wasm:
	GOOS=js GOARCH=wasm $(GO) test -count=1 -exec $(WASM_EXEC) ./jsbridge/... ./wasm/...

test-node: build $(NPM_STAMP)
	node --test --test-concurrency=1 scripts/test/node/*.test.mjs

test-types: $(NPM_STAMP)
	scripts/node_modules/.bin/tsc -p web/typings --noEmit

test-browser: build $(NPM_STAMP) system-deps
	node --test --test-concurrency=1 scripts/test/browser/*.test.mjs

## bench: mezzo, auth0-spa-js and oidc-client-ts side by side (scripts/bench/README.md)
bench: build $(NPM_STAMP) system-deps
	node scripts/bench/run.mjs

## bench-readme: keep the last `make bench` run (bench-results/results.json,
## trimmed) in scripts/bench/results.json and render README's figures from it
bench-readme: $(NPM_STAMP)
	node scripts/bench/readme.mjs --from bench-results/results.json

clean:
	rm -rf $(DIST) $(PACKAGE_DIR)
