# The README's two commands: `make run` (dashboard with embedded Redis and demo data) and
# `make test` (lint, types, the whole test suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test lint node bench clean

$(VENV)/.installed-run: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || \
	  { echo "make run needs Python 3.11 (found: $(PYTHON)); set PYTHON=/path/to/python3.11"; exit 1; }
	@echo "--- installing the pinned requirements into $(VENV)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-run

# The Node.js original (redis-sessions 4.0.0), for interop tests and benchmarks.
node/node_modules/.package-lock.json: node/package.json node/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix node --no-audit --no-fund --loglevel=error; \
	else echo "!!! npm not found: Node interop tests will be skipped"; fi

node: node/node_modules/.package-lock.json

# Embedded Redis (no REDIS_URL), migrations, admin account, demo data and traffic, wipe loop,
# dashboard on 127.0.0.1:$(PORT); Ctrl-C stops it all. See project/dev.py.
run: $(VENV)/.installed-run
	PORT=$(PORT) exec $(PY) -m project.dev

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: $(VENV)/.installed-dev node lint
	$(VENV)/bin/pytest

bench: $(VENV)/.installed-dev node
	$(PY) -m bench.core
	$(PY) -m bench.wipe
	$(PY) -m bench.dashboard
	$(PY) -m bench.cluster
	$(PY) -m bench.cluster_pages

clean:
	rm -rf $(VENV) node/node_modules .mypy_cache .ruff_cache .pytest_cache
