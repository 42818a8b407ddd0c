# The country data service. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo

# Infrastructure targets act on one environment and one stack: ENV=dev|prod, STACK=service|pipeline.
ENV ?= dev
STACK ?= service
TERRAFORM ?= terraform
TF = $(TERRAFORM) -chdir=terraform/$(STACK)
TFVARS = $(CURDIR)/terraform/environments/$(ENV)$(if $(filter pipeline,$(STACK)),.pipeline).tfvars
PLAN = $(CURDIR)/target/terraform/$(ENV)-$(STACK).tfplan
# The service stack deploys the zips `make build` made, for the architecture it built.
TF_VARS = $(if $(filter service,$(STACK)),-var 'lambda_dir=$(CURDIR)/target/lambda' -var "lambda_architecture=$$(cat $(CURDIR)/target/lambda/ARCH)")

.PHONY: help run test lint fmt bench bench-lambda bench-budget chaos load build stub clean check-infra smoke-test \
	bootstrap-state init-infra plan-infra apply-infra destroy-infra deploy infra-env contract-tools \
	audit audit-offline lock-infra test-arm64

help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

run: ## Start the local service on embedded defaults (http://127.0.0.1:3000; PORT, BIND and the README's variables)
	$(CARGO) run --quiet -p countries-local --bin countries-local

test: lint check-infra contract-tools ## Every test: formatting, clippy, terraform checks, unit, router, adapter, contract and end-to-end tests (a published v3.1 client, schemathesis)
	@# All targets in one build: the tests' dev-dependencies change some crates' features, so building
	@# only the binaries first would compile the AWS SDK twice. The e2e tests run the binaries built here.
	$(CARGO) build --workspace --all-targets
	@# moto and redis-server start once for the whole run (installed if missing) and stop on exit.
	@# nextest (on every machine of this project's kind) runs each test in its own process and writes JUnit.
	./scripts/with-emulators.sh bash -c 'if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --no-fail-fast --profile ci; \
	else \
		$(CARGO) test --workspace --all-targets --no-fail-fast; \
	fi'

lint: ## cargo fmt --check, clippy and rustdoc (broken links, bad HTML) with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --quiet

fmt: ## Format the code (Rust, and Terraform when a terraform CLI is installed)
	$(CARGO) fmt --all
	@if command -v $(TERRAFORM) >/dev/null; then $(TERRAFORM) fmt -recursive terraform; fi

contract-tools: ## Install the contract tests' tools, pinned: a published v3.1 client (npm) and schemathesis (PyPI)
	./scripts/contract-tools.sh

check-infra: ## Offline Terraform checks: fmt -check and checkov (the HCL/code contract is a cargo test)
	./scripts/check-terraform.sh

bench: ## In-process latency of /country (p50, p99)
	$(CARGO) bench -p countries-api --bench country_latency

LAMBDA_EMU ?= ../shared/tools/lambda_emu.py
# The Lambda binaries' code generation (scripts/build-lambdas.sh uses the same): non-PIE, so the loader has
# no relocations to apply at a cold start. With an explicit --target, RUSTFLAGS leave build scripts and
# proc-macros (which must stay position-independent) alone.
LAMBDA_RUSTFLAGS ?= -C relocation-model=static
HOST := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
bench-lambda: ## Cold start, warm GET /country/PY and memory of api-lambda next to hello-world, on moto and Redis (LAMBDA_EMU=path to the emulator)
	RUSTFLAGS="$(LAMBDA_RUSTFLAGS)" $(CARGO) build --profile lambda-release --target $(HOST) --target-dir target/lambda-bench \
		-p countries-lambdas --bin api-lambda
	@# The baseline in its own workspace (bench/hello-lambda): no feature unification with ours; same flags.
	RUSTFLAGS="$(LAMBDA_RUSTFLAGS)" $(CARGO) build --profile lambda-release --target $(HOST) --target-dir target/hello-lambda \
		--manifest-path bench/hello-lambda/Cargo.toml
	$(CARGO) build --bin countries-local
	./scripts/with-emulators.sh ./scripts/bench-cold-start.py --emulator $(LAMBDA_EMU) --rounds 200 \
		--local target/debug/countries-local \
		hello=target/hello-lambda/$(HOST)/lambda-release/hello-lambda api=target/lambda-bench/$(HOST)/lambda-release/api-lambda

bench-budget: ## Four workers sharing the upstream budget drain 200 jobs: most calls in any window, drain time
	$(CARGO) build -p e2e --example budget_drain
	./scripts/with-emulators.sh $(CARGO) run --quiet -p e2e --example budget_drain

chaos: ## The fault matrix: the local server on moto and Redis behind a fault proxy, one table row per case
	$(CARGO) build --bin countries-local
	$(CARGO) build -p e2e --example chaos
	./scripts/with-emulators.sh $(CARGO) run --quiet -p e2e --example chaos

load: ## Load and soak on a release build: requests/s, p50, p99 per route at 32 connections, memory (installs wrk)
	@command -v wrk >/dev/null || { sudo_cmd=""; [ "$$(id -u)" -ne 0 ] && sudo_cmd="sudo"; \
		$$sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo_cmd apt-get install -y -qq wrk >/dev/null; }
	$(CARGO) build --release -p countries-local
	./scripts/with-emulators.sh ./scripts/load.py

build: ## Lambda zips in target/lambda/*/bootstrap.zip (arm64 where possible, else x86_64)
	./scripts/build-lambdas.sh

test-arm64: build ## The arm64 bootstraps make build zipped answer HTTP API and SQS events under qemu, moto and IAM (installs qemu-user-static)
	@command -v qemu-aarch64-static >/dev/null && [ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || { \
		sudo_cmd=""; [ "$$(id -u)" -ne 0 ] && sudo_cmd="sudo"; \
		$$sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo_cmd apt-get install -y -qq \
			qemu-user-static libc6-arm64-cross libgcc-s1-arm64-cross >/dev/null; }
	$(CARGO) build -p e2e --example arm64
	./scripts/with-emulators.sh $(CARGO) run --quiet -p e2e --example arm64

stub: ## Start the REST Countries stand-in on 127.0.0.1:8099 (STUB_PORT, STUB_API_KEY)
	$(CARGO) run --quiet -p countries-stub --bin countries-stub

clean: ## Remove build output
	$(CARGO) clean

smoke-test: ## Smoke-test a deployment: ENV=dev|prod (or URL=http://... for any running service)
	@url="$(URL)"; if [ -z "$$url" ]; then \
		$(MAKE) --no-print-directory init-infra STACK=service ENV=$(ENV) >/dev/null && \
		url="$$($(TERRAFORM) -chdir=terraform/service output -raw api_url)"; fi; \
	./scripts/smoke-test.py "$$url"

infra-env:
	@case "$(ENV)" in dev|prod) ;; *) echo "ENV must be dev or prod, not '$(ENV)'" >&2; exit 2;; esac
	@case "$(STACK)" in service|pipeline) ;; *) echo "STACK must be service or pipeline, not '$(STACK)'" >&2; exit 2;; esac
	@command -v $(TERRAFORM) >/dev/null || { echo "needs the terraform CLI (>= 1.11) and AWS credentials" >&2; exit 2; }

bootstrap-state: infra-env ## Create the S3 state bucket of ENV (once per account and environment)
	$(TERRAFORM) -chdir=terraform/bootstrap init -input=false
	$(TERRAFORM) -chdir=terraform/bootstrap workspace select -or-create $(ENV)
	$(TERRAFORM) -chdir=terraform/bootstrap apply -input=false -var environment=$(ENV)

init-infra: infra-env ## terraform init of STACK (service|pipeline) against ENV's state bucket and key
	@# The state is written with the bootstrap's key (it holds the Redis password), not S3's own.
	account="$$(aws sts get-caller-identity --query Account --output text)" && \
	region="$$(sed -n 's/^region *= *"\(.*\)".*/\1/p' terraform/environments/$(ENV).backend.hcl)" && \
	state_key="$$(aws kms describe-key --region "$$region" --key-id alias/countries-tfstate-$(ENV) --query KeyMetadata.Arn --output text)" && \
	$(TF) init -input=false -reconfigure \
		-backend-config=$(CURDIR)/terraform/environments/$(ENV).backend.hcl \
		-backend-config="bucket=countries-tfstate-$$account-$(ENV)" \
		-backend-config="key=$(STACK).tfstate" \
		-backend-config="kms_key_id=$$state_key"

plan-infra: init-infra ## Plan STACK for ENV and save the plan (target/terraform/)
	@if [ "$(STACK)" = service ] && [ ! -f target/lambda/ARCH ]; then echo "no Lambda zips: run make build first" >&2; exit 2; fi
	mkdir -p target/terraform
	$(TF) plan -input=false -var-file=$(TFVARS) $(TF_VARS) -out=$(PLAN)

apply-infra: infra-env ## Apply the plan plan-infra saved for ENV and STACK (nothing else)
	@test -f $(PLAN) || { echo "no saved plan $(PLAN): run make plan-infra ENV=$(ENV) STACK=$(STACK)" >&2; exit 2; }
	$(TF) apply -input=false $(PLAN)
	rm -f $(PLAN)

destroy-infra: init-infra ## Destroy STACK of ENV (asks for confirmation; prod tables and log groups refuse while protected)
	@# The service stack hashes the zips (filebase64sha256) even to destroy, and needs their architecture.
	@if [ "$(STACK)" = service ] && [ ! -f target/lambda/ARCH ]; then echo "no Lambda zips: run make build first" >&2; exit 2; fi
	$(TF) destroy -var-file=$(TFVARS) $(TF_VARS)

deploy: ## Build the zips, plan and apply the service for ENV
	$(MAKE) build
	$(MAKE) plan-infra STACK=service ENV=$(ENV)
	$(MAKE) apply-infra STACK=service ENV=$(ENV)

# cargo-deny's version is pinned in scripts/ci-toolchain.sh, which the pipeline's Test stage runs.
audit: ## cargo deny check (deny.toml): RustSec advisories (fetches their database), licences, bans, sources
	./scripts/ci-toolchain.sh --no-rust --deny
	$(CARGO) deny check --hide-inclusion-graph

# Not in make test: installing cargo-deny compiles it (about 5 minutes on 2 cores); the pipeline's Test
# stage runs the whole `cargo deny check`.
audit-offline: ## The part of make audit that needs no advisory database: licences, bans, sources
	./scripts/ci-toolchain.sh --no-rust --deny
	$(CARGO) deny check --allow duplicate --hide-inclusion-graph licenses bans sources

LOCK_PLATFORMS ?= linux_amd64 linux_arm64 darwin_arm64
lock-infra: ## Write each stack's .terraform.lock.hcl with the providers' hashes for LOCK_PLATFORMS (needs the Terraform registry; commit them)
	@command -v $(TERRAFORM) >/dev/null || { echo "needs the terraform CLI (>= 1.11)" >&2; exit 2; }
	@# -upgrade: a moved pin in versions.tf replaces the locked version instead of failing on it.
	for stack in service pipeline bootstrap; do \
		$(TERRAFORM) -chdir=terraform/$$stack init -backend=false -input=false -upgrade >/dev/null && \
		$(TERRAFORM) -chdir=terraform/$$stack providers lock $(addprefix -platform=,$(LOCK_PLATFORMS)) || exit 1; \
	done
