# 公文流转 — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# The suite runs against the machine's PostgreSQL and Redis (never the embedded defaults).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/gongwen
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# A key prefix of its own, so that a run never reads another run's queued messages.
# Both cores: pytest-xdist's workers, each with its own test database (gongwen_gw0, …), broker keys
# and ports; a file's tests stay on one worker, so that its module fixtures are built once.
TEST_WORKERS ?= 2
TEST_ENV = DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) SECRET_KEY=test-only-secret \
	BROKER_KEY_PREFIX=gongwen-test-$$$$: DEBUG=0 SECURE_SSL_REDIRECT=0 SECURE_COOKIES=0 EMAIL_URL=dummymail:// \
	AUDIT_SIGNING_KEY_FILE= AUDIT_PUBLIC_KEY_FILE=

.PHONY: help run test bench bench-scale lint fmt messages openapi references system services clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

system: ## install the Debian packages (Chromium, CJK fonts) when missing
	@bash scripts/system-packages.sh

services: ## make sure PostgreSQL and Redis are up (start them if stopped)
	@bash scripts/ensure-services.sh

run: $(VENV)/.installed system ## the demo on the embedded default (SQLite, no broker server): web, worker, beat; PORT=8001 for another port
	@bash scripts/run-demo.sh

test: $(VENV)/.installed system services ## the whole suite on PostgreSQL and Redis
	$(TEST_ENV) $(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: $(VENV)/.installed system services ## benchmarks; writes bench/results.json
	$(TEST_ENV) $(PY) bench/run.py

bench-scale: $(VENV)/.installed system services ## the pages at national scale (10^5–10^6 rows); writes bench/results.json "scale" and bench/scale.png
	$(TEST_ENV) $(PY) bench/scale.py

lint: $(VENV)/.installed ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(VENV)/.installed ## ruff fix and format
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: $(VENV)/.installed ## rebuild the translation catalogues (zh-hans source, English translation)
	DEBUG=1 $(PY) manage.py makemessages -l en --ignore=.venv --ignore=var
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv

openapi: $(VENV)/.installed ## regenerate openapi.yaml, the checked-in schema of /api/v1/ (tests/api/test_schema.py compares)
	SECRET_KEY=openapi-only DEBUG=0 $(PY) manage.py spectacular --lang zh-hans --validate --fail-on-warn --file openapi.yaml

references: $(VENV)/.installed system services ## rewrite the reviewed pictures of the official layout (tests/documents/references/): look at them before committing
	UPDATE_REFERENCES=1 $(TEST_ENV) $(VENV)/bin/pytest -q tests/documents/test_reference_pictures.py -k every_page

clean: ## remove the demo database, broker files and caches (not the virtualenv)
	rm -rf var .pytest_cache .ruff_cache
