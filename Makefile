# One entry point for everything. `make help` lists the targets.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
SERVICES := services/otp services/core

.PHONY: help install run test lint format unit browser bench up down e2e compose-check clean lock

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(VENV)/.installed: $(wildcard services/*/requirements*.txt) libs/svckit/pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(foreach s,$(SERVICES),$(if $(wildcard $(s)/requirements-dev.txt),-r $(s)/requirements-dev.txt)) -e libs/svckit
	touch $@

install: $(VENV)/.installed  ## build the virtual environment (.venv) from the pinned requirements

run: install  ## start the whole product in the foreground (Ctrl-C stops it)
	infra/scripts/run.sh

lint: install  ## ruff check + ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install  ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

unit: install  ## pytest for every service, against real Redis/PostgreSQL (private ones if none answer)
	$(PY) infra/scripts/with_services.py --postgres -- infra/scripts/pytest-all.sh $(SERVICES)

browser: install  ## browser tests: headless Debian chromium + Playwright against the live local stack
	infra/scripts/with_stack.sh sh -c 'cd services/core && ../../$(BIN)/pytest -q -m browser'

test: lint unit browser  ## the test command (what CI runs): lint, every unit suite, the browser tests

e2e: install  ## run the Postman collection with newman against the live local stack (started if none answers)
	infra/scripts/e2e.sh

compose-check:  ## validate docker-compose.yml and the Dockerfiles statically (no Docker engine needed)
	infra/scripts/validate-compose.sh

up:  ## the docker-compose stack (needs a Docker engine)
	docker compose up --build

down:  ## stop the docker-compose stack
	docker compose down

lock:  ## re-pin every service's requirements.txt from its requirements.in
	for s in $(SERVICES); do infra/scripts/lock.sh $$s; done

$(VENV)/.bench: $(VENV)/.installed bench/requirements.txt
	$(BIN)/pip install --quiet -r bench/requirements.txt
	touch $@

bench: $(VENV)/.bench  ## load-test a production-like stack with locust: table, var/bench/results.json + latency.png
	$(PY) infra/scripts/with_services.py --postgres -- $(PY) bench/run.py $(BENCH_ARGS)

clean:  ## remove the virtual environment and run-time files
	rm -rf $(VENV) var
