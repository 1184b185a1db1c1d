# Two commands for a new machine: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The Postgres tests use this server; without one they skip (and fail under CI=true).
SEGMUX_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
export SEGMUX_TEST_DATABASE_URL

.PHONY: run test lint typecheck unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/segmux serve

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy --strict core/

test: lint typecheck
	$(BIN)/pytest

unit: $(VENV)/.test-installed
	$(BIN)/pytest tests/unit -q

# Figures go to bench/RESULTS.md by hand, with the machine and the commit; never into tests.
bench: $(VENV)/.test-installed
	$(BIN)/python -m bench.expr
	$(BIN)/python -m bench.hal_members

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
