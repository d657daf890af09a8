# maintbook — the two set-up commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
APT_PACKAGES := postgresql nginx openssh-server iproute2 prometheus-alertmanager openssl chromium
# Pinned "now" for validating the shipped runbooks: the emergency template's window is a
# fixed date, and `validate` judges the recurring ones over the 90 days after it. From the
# first Monday after the year-end freeze no multi-day blackout lies in those 90 days; from
# a date before Thanksgiving or the freeze, the nightly runbooks' skipped nights are
# (rightly) reported as warnings.
DOGFOOD_NOW ?= 2027-01-04T00:00:00Z

.PHONY: run test lint dogfood venv system-packages bench clean docs goldens

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/pip install --quiet -e '.[test]' 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -c "import maintbook, ansible_runner, pytest"
	touch $@

# Bytecode for maintbook's own code, as installing a wheel compiles it: an editable install
# has none, and where PYTHONDONTWRITEBYTECODE is set (as on CI) every maintbook process,
# ansible-playbook's included, compiled the package again (about 0.1 s a run).
venv: $(VENV)/.installed
	@$(PY) -m compileall -q src action_plugins callback_plugins lookup_plugins > /dev/null

# Debian packages for the real services the tests start (PostgreSQL, nginx, sshd in
# network namespaces, Alertmanager). Installed only when something is missing.
system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# axe-core for the status page's accessibility test (tests/site), in a git-ignored folder.
AXE_CORE := .cache/node/node_modules/axe-core/axe.min.js
.PHONY: node-deps
node-deps: $(AXE_CORE)
$(AXE_CORE):
	npm install --prefix .cache/node --no-save --no-audit --no-fund --silent axe-core@4.14.1

## The main job: the daily runbook (a recurring one) against this machine. Inside its
## window it runs the occurrence that is open; at any other time maintbook names the next
## occurrence and nothing runs (exit 2). FORCE=1 runs that next occurrence now, forced, and
## the record keeps why (REASON=... to say it yourself). NOW=<RFC 3339> judges as if it
## were then.
FORCE ?=
REASON ?= first run on this machine (make run FORCE=1)
NOW ?=
run: venv
	@$(BIN)/maintbook run runbooks/daily-health-cleanup.yml -i inventory/local.yml \
	  $(if $(NOW),--now "$(NOW)") $(if $(FORCE),--force-window --reason "$(REASON)") || { rc=$$?; \
	  if [ $$rc = 2 ] && [ -z "$(FORCE)" ]; then echo "make run FORCE=1 runs it now." >&2; fi; \
	  exit $$rc; }

lint: venv
	$(BIN)/ruff check src tests library bench doc_fragments
	$(BIN)/mypy
	$(BIN)/ansible-lint --offline --profile production roles/

dogfood: venv
	$(BIN)/maintbook validate runbooks/ --now $(DOGFOOD_NOW)

## Everything CI runs: the whole suite (tests/state starts its own PostgreSQL), then the
## lifecycle and policy suites again with every test project's state in PostgreSQL.
PG_SUITES ?= tests/run/test_lifecycle.py tests/policy
test: system-packages venv lint dogfood node-deps
	MAINTBOOK_REQUIRE_BROWSER=1 $(BIN)/pytest
	MAINTBOOK_TEST_STATE=postgresql $(BIN)/pytest -q $(PG_SUITES)

## Regenerate docs/ (the references generated from the schemas and the CLI's help), and the
## golden review pages of the standard runbooks after a deliberate change.
docs: venv
	$(PY) -m maintbook.docs docs

goldens: venv
	MAINTBOOK_UPDATE_GOLDENS=1 $(BIN)/pytest tests/review/test_render.py -q -p no:cacheprovider

bench: venv
	$(PY) bench/validate.py
	$(PY) bench/run_overhead.py
	$(PY) bench/check_overlap.py
	$(PY) bench/calendar.py
	$(PY) bench/state_backends.py
	$(PY) bench/fleet.py

clean:
	rm -rf .maintbook build dist .pytest_cache .mypy_cache .ruff_cache
