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
# pytest-xdist workers per configuration (each worker has its own test database, Redis database and temp dirs).
TEST_WORKERS ?= 2
# The default `--dist load`: loadfile/loadscope/loadgroup key tests by node id, and schemathesis's cases share one
# under pytest 9.2, so all but one of them would be dropped. A test must not rely on another having run before it.
PYTEST := $(PY) -m pytest -n $(TEST_WORKERS)

.PHONY: run test test-embedded test-services lint install simulator clean chromium valgrind services bench bench-instructions gettext messages

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# The compiled translation catalogues: committed, and rebuilt from their .po by polib (no GNU gettext needed) whenever
# a .po is newer, so `make run` and the tests always use what the .po says.
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))
locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po $(STAMP)
	$(PY) manage.py catalogue --compile

# After changing marked strings: update the .po files from the code (needs GNU gettext), translate, compile.
messages: $(STAMP) gettext
	$(PY) manage.py catalogue

run: $(STAMP) $(CATALOGUES)
	DJANGO_DEBUG=true $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=true PORT=$(PORT) SIM_PORT=$(SIM_PORT) scripts/run-local.sh

simulator: $(STAMP)
	$(PY) -m simulator --port $(SIM_PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache  # the architecture: [tool.importlinter] in pyproject.toml
	$(VENV)/bin/mypy
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemigrations --check --dry-run

# The checks and the two configurations run side by side (most of the suite waits on sockets, subprocesses and
# deadlines, not on the CPU); each one's output is printed whole when it ends, and any failure fails `make test`.
test: chromium valgrind gettext services $(STAMP) $(CATALOGUES)
	@echo "=== lint, the embedded default and PostgreSQL+Redis, side by side: each one's output follows when it ends ==="
	@$(MAKE) --no-print-directory -j3 --output-sync=target lint test-embedded test-services

# PostgreSQL and Redis on this machine: started if stopped. The `processes` tests use Redis in test-embedded too.
services:
	scripts/services.sh

# Browser tests drive Debian's Chromium (Playwright's own browser download is not possible here).
# The benchmark's instruction counter and its test (tests/bench/test_instructions.py) run under valgrind.
valgrind:
	@if ! command -v valgrind >/dev/null || [ ! -f /usr/include/valgrind/callgrind.h ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; \
	  else \
	    echo "valgrind is missing: run 'sudo apt-get install valgrind' (the instruction counter needs it)"; exit 1; \
	  fi; \
	fi

chromium:
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Chromium is missing: run 'sudo apt-get install chromium' (browser tests need it)"; exit 1; \
	  fi; \
	fi

# makemessages (GNU gettext's xgettext and msgmerge): the catalogue test checks that no marked string is missing.
gettext:
	@if ! command -v xgettext >/dev/null || ! command -v msgmerge >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; \
	  else \
	    echo "GNU gettext is missing: run 'sudo apt-get install gettext' (the catalogue test needs it)"; exit 1; \
	  fi; \
	fi

# The embedded default: SQLite and the local-memory cache.
test-embedded: $(STAMP) $(CATALOGUES)
	@echo "=== tests on the embedded default (SQLite, local-memory cache) ==="
	env -u DATABASE_URL -u REDIS_URL PORTAL_FORBID_SKIPS=1 $(PYTEST)

# What production runs: PostgreSQL and Redis on this machine. The `processes` tests start portals on a database of
# their own whatever the configuration, so they run once, in test-embedded.
test-services: $(STAMP) $(CATALOGUES)
	@echo "=== tests against PostgreSQL and Redis ==="
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) PORTAL_FORBID_SKIPS=1 $(PYTEST) -m "not processes"

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache

# The benchmark (not part of `make test`): see bench/run.py and README, Benchmark. Results land in bench/results/.
# BENCH_QUICK=1 for a short run; BENCH_ARGS="--profile" adds the in-process profile (bench/profiling.py).
bench: $(STAMP) services
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || { echo "wrk is missing: apt-get install wrk"; exit 1; }
	$(PY) -m bench.run $(BENCH_ARGS)

# Instructions per lookup, counted by callgrind: the same on any day, however busy the machine
# (bench/instructions.py). BENCH_REVS="<before> HEAD" compares revisions, the last over the first; none: the work tree.
bench-instructions: $(STAMP) services valgrind
	$(PY) -m bench.instructions $(foreach rev,$(BENCH_REVS),--portal-rev $(rev)) $(BENCH_ARGS)
