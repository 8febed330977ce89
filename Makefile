# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make run    start the bot (terminal chat on a local SQLite file when no platform tokens are set)
#   make test   lint, type-check, check the import layers, and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/clusterbot run

test: $(BIN)/.installed
	$(BIN)/ruff check bot handlers knowledge tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -q -n 2

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/answer_path.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
