# NovaCron: `make up` runs it, `make test` tests it. Both build .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=
PYTEST_ARGS ?=

.PHONY: up test lint fmt bench bench-boot bench-migration bench-corporate bench-threats clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "NovaCron needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

up: $(VENV)/.installed
	$(BIN)/novacron up $(ARGS)

test: $(VENV)/.dev-installed lint
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests benchmarks migrations
	$(BIN)/ruff format --check src tests benchmarks migrations
	$(BIN)/mypy

fmt: $(VENV)/.dev-installed
	$(BIN)/ruff format src tests benchmarks migrations
	$(BIN)/ruff check --fix src tests benchmarks migrations

bench: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/scheduler.py $(ARGS)

bench-boot: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/boot.py $(ARGS)

bench-migration: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/migration.py $(ARGS)

bench-corporate: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/corporate_montecarlo.py $(ARGS)

bench-threats: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/threats.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
