# One entry point for everything. `make help` lists the targets.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
SERVICES := services/otp services/core

.PHONY: help install run test lint docs docs-serve format unit suites browser bench up down e2e compose-check compose-smoke k8s-check clean lock

help:  ## list the targets
	@grep -E '^[a-z0-9-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(VENV)/.installed: $(wildcard services/*/requirements*.txt) libs/svckit/pyproject.toml libs/devstack/pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes $(foreach s,$(SERVICES),-r $(s)/requirements-dev.txt)
	@# editable: there is no single file to hash; its declared dependencies are all in the locks above
	$(BIN)/pip install --quiet --no-deps -e libs/svckit
	@# development only (make run, tests, bench): the images install libs/svckit alone
	$(BIN)/pip install --quiet --no-deps -e libs/devstack
	$(BIN)/pip check
	touch $@

install: $(VENV)/.installed  ## build the virtual environment (.venv) from the pinned requirements

run: install  ## start the whole product in the foreground (Ctrl-C stops it)
	$(PY) -m devstack run

lint: install  ## ruff check + ruff format --check + mypy (per service: each has its own config package) + the core's import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd services/core && ../../$(BIN)/lint-imports --no-cache
	@for s in $(SERVICES); do echo "mypy $$s"; (cd $$s && ../../$(BIN)/mypy) || { \
	  echo "mypy failed in $$s (settings: $$s/pyproject.toml [tool.mypy]; a library without types goes in its overrides)"; \
	  exit 1; }; done

format: install  ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

unit: install  ## pytest for every service, against real Redis/PostgreSQL (private ones if none answer)
	$(PY) -m devstack servers --postgres -- $(MAKE) --no-print-directory suites

suites:  # each service's suite from its own directory (each has its own `config` package)
	@for s in $(SERVICES); do echo "== $$s"; (cd $$s && ../../$(BIN)/pytest -q) || exit 1; done

browser: install  ## browser tests: headless Debian chromium + Playwright against the live local stack
	cd services/core && ../../$(PY) -m devstack stack -- ../../$(BIN)/pytest -q -m browser

test: lint docs unit browser  ## the test command (what CI runs): lint, the docs site, every unit suite, the browser tests

# The site's tools get a virtual environment of their own: no service depends on them, and the
# services' locks stay as they are.
DOCS_VENV := var/tools/docs

$(DOCS_VENV)/.installed: docs/requirements.txt
	python3 -m venv $(DOCS_VENV)
	@# --no-deps: the lock names every dependency, and pip's resolver would triple the install time;
	@# pip check then proves the set complete
	$(DOCS_VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r docs/requirements.txt
	$(DOCS_VENV)/bin/pip check
	touch $@

docs: $(DOCS_VENV)/.installed  ## build the documentation site (MkDocs Material) into var/site; --strict: a broken link or a page missing from the nav fails
	@# not --quiet: mkdocs then stops counting the warnings that --strict turns into a failure
	NO_MKDOCS_2_WARNING=1 $(DOCS_VENV)/bin/mkdocs build --strict

DOCS_BIND ?= 127.0.0.1:8002

docs-serve: $(DOCS_VENV)/.installed  ## serve the documentation site with live reload on DOCS_BIND (127.0.0.1:8002)
	NO_MKDOCS_2_WARNING=1 $(DOCS_VENV)/bin/mkdocs serve --strict --dev-addr $(DOCS_BIND)

NEWMAN := postman/node_modules/.bin/newman

$(NEWMAN): postman/package-lock.json
	@command -v npm >/dev/null || { echo "e2e: npm not found; install Node.js 18+ (apt-get install nodejs npm)" >&2; exit 2; }
	npm ci --prefix postman --no-audit --no-fund --loglevel=error >/dev/null
	touch $@

e2e: install $(NEWMAN)  ## run the Postman collection with newman against the live local stack (started if none answers)
	@mkdir -p var/e2e
	$(PY) -m devstack stack -- sh -c '$(NEWMAN) run postman/referrals.postman_collection.json \
	  --environment postman/local.postman_environment.json --env-var "core_url=$$CORE_URL" --env-var "otp_url=$$OTP_URL" \
	  $${OTP_SERVICE_TOKEN:+--env-var "otp_service_token=$$OTP_SERVICE_TOKEN"} --timeout-request 10000 \
	  --reporters cli,junit --reporter-junit-export var/e2e/newman.xml $(NEWMAN_ARGS)'

compose-check:  ## validate docker-compose.yml and the Dockerfiles statically (no Docker engine needed)
	python3 infra/scripts/compose_check.py

K8S_TOOLS := var/tools/k8s

# CI-only tools (kubernetes-validate, checkov) in their own venv, hash-pinned, reinstalled when the pins change
$(K8S_TOOLS)/.installed: infra/k8s/requirements-tools.txt
	rm -rf $(K8S_TOOLS)
	python3 -m venv $(K8S_TOOLS)
	$(K8S_TOOLS)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r infra/k8s/requirements-tools.txt
	touch $@

k8s-check: install $(K8S_TOOLS)/.installed  ## validate infra/k8s without a cluster: each overlay rendered, Kubernetes schemas, Pod Security restricted, network policies, production settings, checkov
	$(PY) infra/scripts/validate_k8s.py

compose-smoke: install  ## start the compose stack for real (podman, local Debian base images): healthy, newman over HTTPS, production refusals
	$(PY) infra/scripts/compose_smoke.py

up:  ## the docker-compose stack (needs a Docker engine)
	docker compose up --build

down:  ## stop the docker-compose stack
	docker compose down

PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(abspath $(BIN))/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	--no-emit-find-links

lock:  ## re-pin every service's requirements*.txt and docs/requirements.txt, with hashes, from their .in files (pip-compile)
	test -x $(BIN)/pip-compile || { python3 -m venv $(VENV) && $(BIN)/pip install --quiet pip-tools==7.6.2; }
	cd services/core && for n in requirements requirements-dev; do $(PIP_COMPILE) -o $$n.txt $$n.in || exit 1; done
	@# make install puts both services in one venv, so where their trees meet the OTP service takes the core's pins
	cd services/otp && for n in requirements requirements-dev; do \
	  $(PIP_COMPILE) -c ../core/requirements-dev.txt -o $$n.txt $$n.in || exit 1; done
	cd docs && $(PIP_COMPILE) -o requirements.txt requirements.in

$(VENV)/.bench: $(VENV)/.installed bench/requirements.txt
	$(BIN)/pip install --quiet -r bench/requirements.txt
	touch $@

bench: $(VENV)/.bench  ## load-test a production-like stack with locust: table, var/bench/results.json + latency.png; then the framework's floors
	$(PY) -m devstack servers --postgres -- $(PY) bench/run.py $(BENCH_ARGS)
	$(PY) -m devstack servers --postgres -- $(PY) bench/floors.py

clean:  ## remove the virtual environment and run-time files
	rm -rf $(VENV) var
