# Portaria — the two commands: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo
BIN := $(or $(CARGO_TARGET_DIR),target)/debug/portaria
NPM := npm --prefix frontend --no-audit --no-fund
# CARGO_FEATURES=bundled-libpq builds libpq from source (no system libpq; no TLS to PostgreSQL).
CARGO_FEATURES ?=
FEATURES := $(if $(CARGO_FEATURES),--features $(CARGO_FEATURES))

.PHONY: help run demo test lint fmt openapi frontend frontend-types frontend-deps build db db-stop bench e2e screenshots test-rust test-frontend release soak

help:
	@echo "make run    set everything up (npm, frontend, cargo, database, migrations) and serve on http://127.0.0.1:8080"
	@echo "make demo   a fresh demo database filled by \`portaria simulate\` (every source and scenario), served on http://127.0.0.1:8080"
	@echo "make test   run every test (Rust unit + integration against PostgreSQL, frontend unit, browser e2e)"
	@echo "make lint   cargo fmt --check, clippy -D warnings, frontend types up to date with openapi.yaml, biome format, tsc --noEmit"
	@echo "make bench  benchmarks; figures go to docs/PERFORMANCE.md"
	@echo "make soak   the long load-with-faults run and 20x the property cases; figures go to docs/RELIABILITY.md"

# What the machine lacks (Rust, Node.js, libpq; for tests Chromium and psql): installed as root with apt-get,
# otherwise one line saying what to install (scripts/ensure-deps.sh).
.PHONY: deps deps-test
deps:
	@CARGO_FEATURES="$(CARGO_FEATURES)" scripts/ensure-deps.sh run

deps-test:
	@CARGO_FEATURES="$(CARGO_FEATURES)" scripts/ensure-deps.sh test

frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	$(NPM) ci --loglevel=error
	@touch $@

frontend-deps: frontend/node_modules/.package-lock.json

frontend: frontend-deps
	$(NPM) run build --silent

build:
	$(CARGO) build $(FEATURES) --bin portaria

db:
	@scripts/db.sh

db-stop:
	@scripts/db-stop.sh

run: deps frontend build
	@url=$$(scripts/db.sh) && \
	DATABASE_URL="$$url" PORTARIA_ENV=$${PORTARIA_ENV:-dev} FRONTEND_DIR=$${FRONTEND_DIR:-frontend/dist} \
	RUST_LOG=$${RUST_LOG:-info} exec $(BIN) serve

# A populated app to look at: drops and recreates the portaria_demo database (scripts/demo.sh).
demo: deps frontend build
	@PORTARIA_BIN=$(abspath $(BIN)) scripts/demo.sh

test: deps-test frontend
	@url=$$(scripts/db.sh) && export TEST_DATABASE_URL="$$url" && \
	$(MAKE) --no-print-directory test-rust && \
	$(MAKE) --no-print-directory test-frontend && \
	$(MAKE) --no-print-directory e2e

test-rust:
	$(CARGO) test $(FEATURES) --all-targets

test-frontend: frontend-deps
	$(NPM) run typecheck --silent
	$(NPM) test --silent

e2e: deps-test frontend build
	@if [ -f frontend/e2e/run.mjs ]; then url=$${TEST_DATABASE_URL:-$$(scripts/db.sh)} && \
	  TEST_DATABASE_URL="$$url" PORTARIA_BIN=$(abspath $(BIN)) $(NPM) run e2e --silent; fi

screenshots:
	E2E_UPDATE_DOCS=1 $(MAKE) --no-print-directory e2e

lint: deps frontend-deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy $(FEATURES) --all-targets -- -D warnings
	$(NPM) run check:types --silent
	$(NPM) run check:format --silent
	$(NPM) run typecheck --silent

# frontend/src/api-types.gen.ts from openapi.yaml (after `make openapi`); `make lint` fails while it is stale.
frontend-types: frontend-deps
	$(NPM) run gen:types --silent

fmt: frontend-deps
	$(CARGO) fmt --all
	$(NPM) run format --silent

openapi: build
	$(BIN) openapi > openapi.yaml

bench:
	@scripts/bench.sh

# The long version of backend/tests/faults.rs (20,000 webhooks and three faults per scenario, on a
# private PostgreSQL cluster it starts itself) and of backend/tests/properties.rs.
soak:
	@url=$$(scripts/db.sh) && export TEST_DATABASE_URL="$$url" && \
	PORTARIA_SOAK=1 $(CARGO) test --no-fail-fast --test faults --test properties -- --nocapture --test-threads=1

# schemathesis against openapi.yaml: every phase, every check, as a signed-in staff user, bounded in time.
.PHONY: fuzz-api
fuzz-api:
	@scripts/fuzz-api.sh

release: frontend
	$(CARGO) build $(FEATURES) --release --bin portaria
