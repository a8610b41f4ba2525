# Greenroom: `make run` serves the example catalog, `make test` runs the tests.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: run build node-deps test bench generate check-generated compose-check lint clean

## run: the whole portal with the example data: the core, the Tech Radar plugin and the gateway at http://127.0.0.1:4000/ (the core alone, at :7007, without Node 20+)
run: build
	scripts/run.sh

## build: build bin/greenroom and bin/techradar
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/greenroom ./cmd/greenroom
	$(GO) build -o bin/techradar ./plugins/techradar

## test: run every test; PostgreSQL tests run when GREENROOM_TEST_POSTGRES_URL is set, the gateway's when Node 20+ is installed
test:
	@scripts/node-deps.sh || echo "node-deps failed: the gateway tests (gateway/e2e_test.go) are SKIPPED or FAIL"
	@test -n "$$GREENROOM_TEST_POSTGRES_URL" || echo "GREENROOM_TEST_POSTGRES_URL is not set: the PostgreSQL tests are SKIPPED (SQLite only)"
	$(GO) test -race -count=1 ./...
	@test -n "$$GREENROOM_TEST_POSTGRES_URL" || echo "GREENROOM_TEST_POSTGRES_URL is not set: the PostgreSQL tests were SKIPPED (SQLite only)"

## bench: ingestion benchmark on generated catalogs (SQLite; PostgreSQL when GREENROOM_TEST_POSTGRES_URL is set), then the gateway's 100-component screen
bench:
	$(GO) run ./cmd/greenroom-bench
	@scripts/node-deps.sh && $(GO) test ./gateway -run '^$$' -bench Screen -benchtime 1x || echo "the gateway's bench needs Node 20+: SKIPPED"

## node-deps: the gateway's and the TypeScript plugin's npm packages and build (scripts/node-deps.sh)
node-deps:
	scripts/node-deps.sh

## generate: regenerate graph/ from schema/*.graphqls, and each Go plugin's graph/ (stock gqlgen)
generate:
	$(GO) tool greenroom-gqlgen
	cd plugins/techradar && $(GO) tool gqlgen generate --config gqlgen.yml

## check-generated: fail if graph/ or resolvers/ differ from what the schema generates
check-generated: generate
	@git diff --exit-code -- graph resolvers plugins/techradar/graph plugins/techradar/resolvers || { echo "graph/ is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- graph resolvers plugins/techradar/graph plugins/techradar/resolvers)" || { git status --porcelain -- graph resolvers plugins/techradar/graph plugins/techradar/resolvers; echo "make generate created files: commit them"; exit 1; }

## compose-check: compose the core's SDL (alone, with a synthetic plugin, with the Go plugins' schemas) with Apollo's and The Guild's composition
compose-check:
	npm ci --prefix gateway --no-audit --no-fund
	mkdir -p bin
	$(GO) run ./cmd/greenroom schema > bin/schema.graphql
	node gateway/compose-check.mjs bin/schema.graphql techradar=plugins/techradar/schema.graphqls

## lint: formatting and vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); test -z "$$out" || { echo "gofmt needed:"; echo "$$out"; exit 1; }
	$(GO) vet ./...

clean:
	rm -rf bin .bench greenroom.db greenroom.db-shm greenroom.db-wal techradar.db techradar.db-shm techradar.db-wal
