# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make run    start the bot (terminal chat on a local SQLite file when no platform tokens are set)
#   make test   lint, type-check, check the import layers, and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test bench catalogs clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

# Compiled catalogs load fast; the renderer falls back to the .po files when these are stale.
# Our modules are compiled to bytecode here too: where PYTHONDONTWRITEBYTECODE is set (CI
# machines), every process would otherwise compile them again, a sixth of a cold `ask`.
catalogs: $(BIN)/.installed
	$(BIN)/pybabel compile -d templates/locale >/dev/null
	$(BIN)/python -m compileall -q bot handlers knowledge tests benchmarks

run: catalogs
	$(BIN)/clusterbot run

test: catalogs
	$(BIN)/ruff check bot handlers knowledge tests benchmarks
	$(BIN)/ruff format --check bot handlers knowledge tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -q -n 3

bench: catalogs
	$(BIN)/python benchmarks/answer_path.py
	$(BIN)/python benchmarks/checklist_step.py
	$(BIN)/python benchmarks/telegram.py
	$(BIN)/python benchmarks/slack.py
	$(BIN)/python benchmarks/slack_burst.py
	$(BIN)/python benchmarks/serve_burst.py
	$(BIN)/python benchmarks/outbox.py
	$(BIN)/python benchmarks/records_import.py
	$(BIN)/python benchmarks/presence_import.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
