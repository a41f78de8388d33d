# Two commands set up everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
CONSTRAINTS := requirements/constraints.txt
PORT ?= 8000
export GIGBRIDGE_DATA_DIR ?= $(CURDIR)/.data

.PHONY: run test lint venv assets chromium clamav lock clean

# The venv is rebuilt only when the dependency list or the pins change.
$(BIN)/.installed: pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS) -e '.[test]'
	touch $@

venv: $(BIN)/.installed

# Front-end assets come from the npm registry through the lockfile, never a CDN.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

assets: node_modules/.package-lock.json

run: venv assets clamav
	$(BIN)/gigbridge init --demo
	$(BIN)/gigbridge up --port $(PORT)

# Browser tests drive Debian's chromium; install it when missing (root on these machines).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Virus scanning: `gigbridge up` and the tests run Debian's clamd (and sigtool, for the test
# signature database) when no GIGBRIDGE_CLAMD_ADDRESS is set; install them when missing.
clamav:
	@{ command -v clamd || test -x /usr/sbin/clamd; } >/dev/null && command -v sigtool >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clamav-daemon clamav >/dev/null; }

# Tests keep their own data folder (test database file, secret key) apart from `make run`'s.
test: export GIGBRIDGE_DATA_DIR := $(CURDIR)/.data/test
test: venv assets chromium clamav
	$(BIN)/ruff check gigbridge tests bench scripts conftest.py
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# lint-imports checks the architecture's import contracts ([tool.importlinter] in pyproject.toml).
lint: venv
	$(BIN)/ruff check gigbridge tests bench scripts conftest.py
	$(BIN)/lint-imports

# Re-pin every dependency after changing pyproject.toml.
lock:
	rm -rf /tmp/gigbridge-lock && $(PYTHON) -m venv /tmp/gigbridge-lock
	/tmp/gigbridge-lock/bin/pip install --quiet -e '.[test]'
	/tmp/gigbridge-lock/bin/pip freeze --exclude-editable | grep -v '^gigbridge' > $(CONSTRAINTS)

clean:
	rm -rf $(VENV) node_modules
