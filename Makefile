# Factura: `make run` starts everything locally, `make test` checks everything.
# Both build the virtualenv from nothing when needed (and rebuild it when dependencies change).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEPS_HASH := $(shell cat pyproject.toml layers/core/requirements.txt | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(DEPS_HASH)
export PYTHONPATH := $(CURDIR)/layers/core:$(CURDIR)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint bench system-deps clean

$(STAMP):
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	@echo "installing Python dependencies into $(VENV) (log: $(VENV)/install.log)"
	@{ $(PY) -m pip install --upgrade pip && \
	   $(PY) -m pip install -r layers/core/requirements.txt --group dev; } > $(VENV)/install.log 2>&1 \
	   || { tail -40 $(VENV)/install.log; exit 1; }
	touch $@

run: $(STAMP)
	$(PY) -m local

system-deps:
	bash scripts/system-deps.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/cfn-lint template.yaml
	$(PY) -m local.asl_check statemachines/*.asl.json

test: lint system-deps
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache
