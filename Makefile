# The project's commands (README). `make test` is the quick loop: unit tests
# only, with nothing but Go installed. `make test-all` is CI (.ci/run runs
# the same script): it installs what the integration tests need and runs
# everything.
.PHONY: test test-all run lint bench build

test: ## unit tests: workflows, client, store on SQLite, bridge, codec, config (< 2 min)
	go test ./...

test-all: ## everything CI runs, in CI's order (about 8 minutes once the tools are installed)
	bash scripts/test.sh

run: ## the whole product locally, with a demo (go run ./deploy/localstack)
	go run ./deploy/localstack

lint: ## golangci-lint v2 (.golangci.yml)
	bash scripts/lint.sh

bench: ## the full benchmarks of BENCHMARKS.md (long: run one at a time for figures)
	go run ./bench/bridge
	go run ./bench/volume
	go run ./bench/incremental
	go run ./bench/e2e
	go run ./bench/soak

build: ## the shipped commands, into bin/
	go build -o bin/ ./cmd/...
