# The one test command: `make test` (README, .ci/run). It checks formatting,
# vets, and runs every test with the race detector, in the main module and
# in the bench module.
GO ?= go

.PHONY: test build install demo bench fmt

test:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -race -timeout 15m ./...
	cd bench && $(GO) vet ./... && $(GO) test -race -timeout 10m ./...

build:
	$(GO) build -o trawl ./cmd/trawl

install:
	$(GO) install ./cmd/trawl

demo:
	$(GO) run ./cmd/trawl demo

bench:
	cd bench && $(GO) run . -scenario many-hosts && $(GO) run . -scenario big-site

fmt:
	gofmt -w $$(git ls-files '*.go')
