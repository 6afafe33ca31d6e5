# The two commands a newcomer needs: `make run` and `make test`. Both install what is missing
# (Python environment, the jars of Kafka and of the database) and start the local services.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
LOCAL := .local
UV := $(LOCAL)/uv/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
SERVICES := deploy/local/services.sh
export UV_PYTHON_DOWNLOADS := never
# The local services' addresses, unless the environment names others.
SERVICE_ENV = set -a; eval "$$($(SERVICES) env)"; set +a

.PHONY: help install services-up services-down services-status run test lint typecheck \
	imports bench lock asyncapi demo clean browser reliability

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(LOCAL)/uv
	$(LOCAL)/uv/bin/pip install --quiet --disable-pip-version-check 'uv==0.13.9'

$(VENV)/.synced: requirements.lock $(UV)
	test -x $(PY) || $(UV) venv --quiet --python $(PYTHON) $(VENV)
	VIRTUAL_ENV=$(VENV) $(UV) pip sync --quiet --require-hashes requirements.lock
	touch $@

install: $(VENV)/.synced ## Python environment, the jars of Kafka and of the database (Maven)
	$(SERVICES) install

lock: $(UV) ## re-pin requirements.lock (all) and requirements-runtime.lock (the image's)
	$(UV) pip compile pyproject.toml --group dev --python $(PYTHON) --python-version 3.11 \
		--generate-hashes --no-header --quiet -o requirements.lock
	$(UV) pip compile pyproject.toml --python $(PYTHON) --python-version 3.11 \
		--generate-hashes --no-header --quiet -o requirements-runtime.lock

services-up: install ## start Kafka and the database (no-op for what already runs)
	$(SERVICES) up

services-down: ## stop Kafka and the database
	$(SERVICES) down

services-status: ## what runs where
	$(SERVICES) status

run: services-up ## run everything in the foreground (Ctrl-C stops it)
	deploy/local/run.sh

demo: $(VENV)/.synced ## beside `make run`: send signed webhooks, print the orders they became
	@set -a; . $(LOCAL)/run.env; set +a; $(PY) -m service demo

lint: $(VENV)/.synced ## ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.synced ## mypy --strict
	$(VENV)/bin/mypy

imports: $(VENV)/.synced ## the layer rules (import-linter)
	$(VENV)/bin/lint-imports

browser: ## Debian's Chromium for the admin page tests (installed once)
	deploy/local/browser.sh

test: services-up browser lint typecheck imports ## the whole suite against the real services
	@$(SERVICE_ENV); $(PY) -m pytest -q -p no:cacheprovider

reliability: install ## the fault table: kill each part mid-load, count losses (docs/reliability.md)
	$(PY) -m bench.reliability --record docs/reliability.md

asyncapi: $(VENV)/.synced ## regenerate contracts/asyncapi.json
	$(PY) -m service.asyncapi > contracts/asyncapi.json

bench: services-up ## benchmarks (see bench/README.md)
	@$(SERVICE_ENV); $(PY) -m bench

clean: services-down ## remove everything the scripts fetched, built or stored
	rm -rf $(LOCAL) $(VENV)
