# The country data service. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo

.PHONY: help run test lint fmt bench build stub clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

run: ## Start the local service on embedded defaults (http://127.0.0.1:3000; PORT, BIND and the README's variables)
	$(CARGO) run --quiet -p countries-local --bin countries-local

test: lint ## Every test: formatting, clippy, unit, router, adapter and end-to-end tests
	$(CARGO) build --workspace --bins
	@# moto and redis-server start once for the whole run (installed if missing) and stop on exit.
	@# nextest (on every machine of this project's kind) runs each test in its own process and writes JUnit.
	./scripts/with-emulators.sh bash -c 'if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --no-fail-fast --profile ci; \
	else \
		$(CARGO) test --workspace --all-targets --no-fail-fast; \
	fi'

lint: ## cargo fmt --check and clippy with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

bench: ## In-process latency of /country (p50, p99)
	$(CARGO) bench -p countries-api --bench country_latency

build: ## Lambda zips in target/lambda/*/bootstrap.zip (arm64 where possible, else x86_64)
	./scripts/build-lambdas.sh

stub: ## Start the REST Countries stand-in on 127.0.0.1:8099 (STUB_PORT, STUB_API_KEY)
	$(CARGO) run --quiet -p countries-stub --bin countries-stub

clean: ## Remove build output
	$(CARGO) clean
