# The README's two commands: `make run` (dashboard with embedded Redis and demo data) and
# `make test` (lint, types, the whole test suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test lint node bench clean

$(VENV)/.installed-run: requirements.txt
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

run: $(VENV)/.installed-run
	PORT=$(PORT) $(PY) -m project.dev

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

clean:
	rm -rf $(VENV) node/node_modules .mypy_cache .ruff_cache .pytest_cache
