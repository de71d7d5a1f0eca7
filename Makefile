# Portaria — the two commands: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo
BIN := $(or $(CARGO_TARGET_DIR),target)/debug/portaria
NPM := npm --prefix frontend --no-audit --no-fund

.PHONY: help run test lint fmt openapi frontend frontend-deps build db db-stop bench e2e screenshots test-rust test-frontend release

help:
	@echo "make run    set everything up (npm, frontend, cargo, database, migrations) and serve on http://127.0.0.1:8080"
	@echo "make test   run every test (Rust unit + integration against PostgreSQL, frontend unit, browser e2e)"
	@echo "make lint   cargo fmt --check, clippy -D warnings, tsc --noEmit"
	@echo "make bench  benchmarks; figures go to docs/PERFORMANCE.md"

frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	$(NPM) ci --loglevel=error
	@touch $@

frontend-deps: frontend/node_modules/.package-lock.json

frontend: frontend-deps
	$(NPM) run build --silent

build:
	$(CARGO) build --bin portaria

db:
	@scripts/db.sh

db-stop:
	@scripts/db-stop.sh

run: frontend build
	@url=$$(scripts/db.sh) && \
	DATABASE_URL="$$url" PORTARIA_ENV=$${PORTARIA_ENV:-dev} FRONTEND_DIR=$${FRONTEND_DIR:-frontend/dist} \
	RUST_LOG=$${RUST_LOG:-info} exec $(BIN) serve

test: frontend
	@url=$$(scripts/db.sh) && export TEST_DATABASE_URL="$$url" && \
	$(MAKE) --no-print-directory test-rust && \
	$(MAKE) --no-print-directory test-frontend && \
	$(MAKE) --no-print-directory e2e

test-rust:
	$(CARGO) test --all-targets

test-frontend: frontend-deps
	$(NPM) run typecheck --silent
	$(NPM) test --silent

e2e: frontend build
	@if [ -f frontend/e2e/run.mjs ]; then url=$${TEST_DATABASE_URL:-$$(scripts/db.sh)} && \
	  TEST_DATABASE_URL="$$url" PORTARIA_BIN=$(abspath $(BIN)) $(NPM) run e2e --silent; fi

screenshots:
	E2E_UPDATE_DOCS=1 $(MAKE) --no-print-directory e2e

lint: frontend-deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(NPM) run typecheck --silent

fmt:
	$(CARGO) fmt --all

openapi: build
	$(BIN) openapi > openapi.yaml

bench:
	@scripts/bench.sh

# schemathesis against openapi.yaml: every phase, every check, as a signed-in staff user, bounded in time.
.PHONY: fuzz-api
fuzz-api:
	@scripts/fuzz-api.sh

release: frontend
	$(CARGO) build --release --bin portaria
