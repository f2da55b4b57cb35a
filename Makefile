# The two commands a newcomer needs: `make run` and `make test`. Everything installs from this repository.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
SIM_PORT ?= 8001
TEST_DATABASE_URL ?= postgres://portal@127.0.0.1:5432/portal
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test test-embedded test-services lint install simulator clean chromium services bench

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	DJANGO_DEBUG=true $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=true PORT=$(PORT) SIM_PORT=$(SIM_PORT) scripts/run-local.sh

simulator: $(STAMP)
	$(PY) -m simulator --port $(SIM_PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemigrations --check --dry-run

test: lint chromium services test-embedded test-services

# PostgreSQL and Redis on this machine: started if stopped. The multi-instance tests use Redis in both runs.
services:
	scripts/services.sh

# Browser tests drive Debian's Chromium (Playwright's own browser download is not possible here).
chromium:
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Chromium is missing: run 'sudo apt-get install chromium' (browser tests need it)"; exit 1; \
	  fi; \
	fi

# The embedded default: SQLite and the local-memory cache.
test-embedded: $(STAMP)
	@echo "=== tests on the embedded default (SQLite, local-memory cache) ==="
	env -u DATABASE_URL -u REDIS_URL PORTAL_FORBID_SKIPS=1 $(PY) -m pytest

# What production runs: PostgreSQL and Redis on this machine.
test-services: $(STAMP)
	@echo "=== tests against PostgreSQL and Redis ==="
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) PORTAL_FORBID_SKIPS=1 $(PY) -m pytest

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache

# The benchmark (not part of `make test`): see bench/run.py. Results land in bench/results/.
bench: $(STAMP) services
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || { echo "wrk is missing: apt-get install wrk"; exit 1; }
	$(PY) bench/run.py $(BENCH_ARGS)
