# alweb — `make run` sets up and runs the app; `make test` sets up and runs the tests.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export YOLO_OFFLINE := 1
export YOLO_AUTOINSTALL := False

.PHONY: run test lint system-deps system-deps-test install install-dev clean help

help:
	@echo "make run    set up (venv, packages, database, demo) and start web + worker"
	@echo "make test   set up everything the tests need and run ruff + pytest"

# Debian packages: OpenCV (pulled in by ultralytics) needs libGL and glib.
system-deps:
	@if ! dpkg -s libgl1 libglib2.0-0 >/dev/null 2>&1; then \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q libgl1 libglib2.0-0; fi

# Browser tests drive Debian's Chromium (never `playwright install`).
system-deps-test: system-deps
	@if ! command -v chromium >/dev/null 2>&1; then \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; fi

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

test: install-dev lint
	$(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var
