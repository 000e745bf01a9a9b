# OxyTrack. Quick start: `make run` (serve the demo) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PORT ?= 8000
export PORT

.PHONY: run test lint bench venv venv-dev lock screenshots reliability-report

# Runtime only: what `make run` needs, so the first start stays fast. Every
# distribution comes from the hash-pinned lock (`make lock` refreshes it); our
# two packages are built from this checkout, with the pinned setuptools.
$(VENV)/.installed: server/pyproject.toml agent/pyproject.toml requirements/runtime.lock
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --require-hashes -r requirements/runtime.lock
	$(VENV)/bin/python -m pip install -q --no-deps --no-build-isolation -e ./server -e ./agent
	$(VENV)/bin/python -m pip check
	touch $@

# Test, lint and benchmark tools on top, from their own lock (the same runtime pins).
$(VENV)/.installed-dev: $(VENV)/.installed requirements/dev.lock
	$(VENV)/bin/python -m pip install -q --require-hashes -r requirements/dev.lock
	$(VENV)/bin/python -m pip check
	touch $@

venv: $(VENV)/.installed
venv-dev: $(VENV)/.installed-dev

run: venv
	scripts/run.sh

test:
	scripts/test.sh

lint: venv-dev
	scripts/lint.sh

bench: venv-dev
	$(VENV)/bin/python bench/run_all.py

# Refresh requirements/*.lock from the pyprojects (pip-compile, with hashes);
# `make lock ARGS=--upgrade` moves every pin to the newest release allowed.
lock: venv-dev
	$(VENV)/bin/python scripts/lock.py $(ARGS)

# docs/reliability.md's "Last run" section, from the last `make test`'s results
# (var/test-results/); fails if the table names a test that does not exist.
reliability-report: venv
	$(VENV)/bin/python scripts/reliability_report.py

# The manuals' illustrations: the web app's browser tests save them under
# var/screenshots/; this copies them next to the manuals (docs/img/).
screenshots: venv-dev
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider e2e/test_web_app.py
	mkdir -p docs/img
	cp var/screenshots/*.png docs/img/
