# Two commands: `make run` starts the whole product, `make test` installs and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install run test lint openapi migrate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

install: $(INSTALLED)

run: install  ## API on 127.0.0.1:$${PORT:-8000}, one worker and beat, on SQLite; Ctrl-C stops all
	$(BIN)/backstride up

test: install  ## lint, then the suite (also on PostgreSQL and Redis when BACKSTRIDE_TEST_* are set)
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .

openapi: install  ## rewrite openapi/openapi.json from the live spec
	$(BIN)/backstride openapi write

migrate: install
	$(BIN)/backstride db upgrade

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
