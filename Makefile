# GovCRM — the README's commands. Needs only Python 3.11+ on the machine.
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8000
TEST_WORKERS ?= 2
BIN    := $(VENV)/bin
export GOVCRM_HOME ?= $(CURDIR)/var

.PHONY: run test lint bench bench-load venv install install-test clean lock

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "GovCRM needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

venv: $(BIN)/python

# Installs exactly the versions in requirements.lock, then the project itself.
install: venv
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .

install-test: install
	$(BIN)/pip install --quiet -r requirements-test.lock
	bin/system-deps

## make run [PORT=8000] — install, migrate, load demo data if empty, serve everything
run: install
	$(BIN)/govcrm up --port $(PORT)

## make test — install what the tests need and run the whole suite (DATABASE_URL selects the database)
test: install-test
	$(BIN)/ruff check govcrm config bench
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python -m django makemigrations --check --dry-run
	$(BIN)/pytest -p no:cacheprovider -n $(TEST_WORKERS)

lint: install-test
	$(BIN)/ruff check govcrm config bench
	$(BIN)/ruff format --check govcrm config bench

bench: install-test
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/channels.py
	$(BIN)/python bench/queries.py
	$(BIN)/python bench/warehouse.py

## make bench-load — the load test on PostgreSQL at 127.0.0.1:5432 (bench/load.py; several minutes)
bench-load: install-test
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) build *.egg-info

## make lock — re-pin requirements*.lock from pyproject.toml in throw-away environments. Runtime and
## test dependencies are resolved together, so what `make run` installs is what the tests ran with
## (a test tool may cap a shared dependency); requirements.lock keeps the runtime packages only.
lock:
	rm -rf /tmp/govcrm-lock && $(PYTHON) -m venv /tmp/govcrm-lock
	/tmp/govcrm-lock/bin/pip install --quiet --upgrade pip
	/tmp/govcrm-lock/bin/pip install --quiet '.[test]'
	/tmp/govcrm-lock/bin/pip freeze --exclude govcrm > /tmp/govcrm-all.lock
	rm -rf /tmp/govcrm-lock && $(PYTHON) -m venv /tmp/govcrm-lock
	/tmp/govcrm-lock/bin/pip install --quiet --upgrade pip
	/tmp/govcrm-lock/bin/pip install --quiet -c /tmp/govcrm-all.lock .
	/tmp/govcrm-lock/bin/pip freeze --exclude govcrm > requirements.lock
	grep -vxFf requirements.lock /tmp/govcrm-all.lock > requirements-test.lock
	rm -rf /tmp/govcrm-lock /tmp/govcrm-all.lock build *.egg-info
