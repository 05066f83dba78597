# alweb — `make run` sets up and runs the app; `make test` sets up and runs the tests.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export YOLO_OFFLINE := 1
export YOLO_AUTOINSTALL := False

.PHONY: run test lint system-deps system-deps-test install install-dev clean help

help:
	@echo "make run    set up (venv, packages, database, demo) and start web + worker"
	@echo "make test   set up everything the tests need and run ruff + pytest"
	@echo "           (SQLite, then PostgreSQL and Redis: see scripts/test.sh)"

# Debian packages, installed with one `apt-get update` when any is missing:
# OpenCV (pulled in by ultralytics) needs libGL and glib; the tests also need
# Debian's Chromium (never `playwright install`) and the PostgreSQL and Redis
# servers that scripts/test.sh starts for the multi-machine runs. No package
# registry means a loud failure here, never a skipped run.
DEBS := libgl1 libglib2.0-0
DEBS_TEST := $(DEBS) chromium postgresql redis-server

system-deps:
	@bash scripts/install-debs.sh $(DEBS)

system-deps-test:
	@bash scripts/install-debs.sh $(DEBS_TEST)

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(VENV)/bin/activate
	$(PIP) install -q --upgrade pip==25.3
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PIP) install -q -r requirements-dev.txt
	touch $@

install: system-deps $(VENV)/.installed
install-dev: system-deps-test $(VENV)/.installed-dev

run: install
	@bash scripts/run.sh

lint: install-dev
	$(VENV)/bin/ruff check .

# The whole suite on SQLite, then the database-bound tests on PostgreSQL and
# the Redis-broker smoke test (scripts/test.sh starts and stops both servers).
test: install-dev lint
	@bash scripts/test.sh $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var
