# Problembild: `make demo` starts the app with real and demo data; `make test` runs every test.
SHELL := /bin/bash
BIN := .venv/bin
export PROBLEMBILD_DATA_DIR ?= $(CURDIR)/var
DEMO_INCIDENTS ?= 200000
DEMO_YEARS ?= 5
DEMO_SEED ?= 1

.PHONY: install demo data test test-postgres bench lint format clean

install: .venv/.installed

.venv/.installed: pyproject.toml scripts/install.sh
	scripts/install.sh

## Set up the SQLite database with the real register, the real police events and synthetic demo data.
data: install
	$(BIN)/problembild init
	$(BIN)/problembild import polisen-events
	$(BIN)/problembild demo-data --incidents $(DEMO_INCIDENTS) --years $(DEMO_YEARS) --seed $(DEMO_SEED)
	$(BIN)/problembild refresh
	$(BIN)/problembild allocate --unit 5312 --save "Exempel: Stockholm syd med väntat tillskott" --example
	$(BIN)/problembild training-plan --period $$(( $$(date +%Y) + 1 )) --unit SE --budget 4000000 --save "Exempel: nationell utbildningsplan" --example
	$(BIN)/problembild demo-users

demo: data
	$(BIN)/problembild serve --host 127.0.0.1 --port 8000

test: install
	scripts/test.sh

test-postgres: install
	PROBLEMBILD_TEST_POSTGRES=1 scripts/test.sh

## Every benchmark on SQLite, then import, refresh, daily and web on PostgreSQL (a throw-away cluster in
## /tmp/problembild-bench-pg on port 54330, stopped at the end); figures in benchmarks/results.json.
bench: install
	PROBLEMBILD_BENCH=1 PROBLEMBILD_TEST_POSTGRES=1 scripts/system-deps.sh
	status=0; $(BIN)/python benchmarks/run.py --engine both || status=$$?; \
	PGTEST_DIR=$${PROBLEMBILD_BENCH_PG_DIR:-/tmp/problembild-bench-pg} PGTEST_PORT=$${PROBLEMBILD_BENCH_PG_PORT:-54330} \
	  scripts/pg-test-cluster.sh stop; exit $$status

lint: install
	$(BIN)/ruff check src tests benchmarks && $(BIN)/ruff format --check src tests benchmarks && $(BIN)/mypy src/problembild/analysis && $(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff format src tests benchmarks && $(BIN)/ruff check --fix src tests benchmarks

clean:
	rm -rf .venv var test-artifacts .pytest_cache .mypy_cache .ruff_cache
