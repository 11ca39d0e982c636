# ov-movement — every target bootstraps .venv itself, so a fresh clone needs nothing else.
#   make pipeline CONFIG=bert.json        run (or resume) a pipeline; CONFIG is looked up in pipelines/
#   make stage STAGE=convert CONFIG=...   rerun one stage from its cached upstream
#   make test                             the full suite, as CI runs it
#   make test-latest                      the full suite on today's stack (transformers 5.x), in .venv-latest
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The second tested set (constraints-latest.txt: transformers 5.x), in its own venv.
VENV_LATEST := .venv-latest
STAMP_LATEST := $(VENV_LATEST)/.installed
CONFIG ?= bert.json
STAGE ?=
ARGS ?=
# A bare name is looked up in pipelines/; a path is used as is.
CONFIG_PATH := $(if $(wildcard $(CONFIG)),$(CONFIG),pipelines/$(CONFIG))

.PHONY: setup setup-latest pipeline stage test test-fast test-latest test-latest-fast schemas lint bench clean

setup: $(STAMP)

# Reinstall only when the dependency definition changes (fast no-op otherwise).
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,deploy]"
	@touch $(STAMP)

setup-latest: $(STAMP_LATEST)

$(STAMP_LATEST): pyproject.toml constraints-latest.txt
	@test -x $(VENV_LATEST)/bin/python || $(PYTHON) -m venv $(VENV_LATEST)
	$(VENV_LATEST)/bin/python -m pip install --quiet --upgrade "pip>=24"
	$(VENV_LATEST)/bin/python -m pip install --quiet -c constraints-latest.txt -e ".[dev]"
	@touch $(STAMP_LATEST)

pipeline: $(STAMP)
	$(BIN)/ov-movement run $(CONFIG_PATH) $(ARGS)

stage: $(STAMP)
	@test -n "$(STAGE)" || { echo "usage: make stage STAGE=<sparsify|mask|export|convert|quantize|benchmark|baseline|package|report> CONFIG=..."; exit 2; }
	$(BIN)/ov-movement run $(CONFIG_PATH) --only $(STAGE) $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(ARGS)

test-latest: $(STAMP_LATEST)
	$(VENV_LATEST)/bin/python -m pytest $(ARGS)

test-latest-fast: $(STAMP_LATEST)
	$(VENV_LATEST)/bin/python -m pytest -m "not slow" $(ARGS)

schemas: $(STAMP)
	$(BIN)/ov-movement schema --out schemas/ --docs docs/configuration.md

lint: $(STAMP)
	$(BIN)/ruff check ov_movement tests benchmarks
	$(BIN)/ruff format --check ov_movement tests benchmarks

# Every script runs; the target fails when one did, including a script that found its figures noisy.
bench: $(STAMP)
	@status=0; for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || status=1; done; exit $$status

clean:
	rm -rf runs .pytest_cache .ruff_cache build dist *.egg-info
	find . -name __pycache__ -type d -prune -not -path "./$(VENV)/*" -exec rm -rf {} +
