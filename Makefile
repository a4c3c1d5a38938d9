# Development tasks. `make run` and `make test` need nothing but Python 3.11+.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

HOST ?= 127.0.0.1
PORT ?= 5000
DEBUG ?= 0
PYTEST_ARGS ?=

TRANSLATIONS := pbx_platform/translations
LOCALES := ja en

.DEFAULT_GOAL := help
.PHONY: help venv setup run test lint format check-migrations translations screenshots clean

help:
	@echo "make run               serve the demo on http://localhost:$(PORT) (DEBUG=1 for the debugger)"
	@echo "make test              run the test suite (TEST_DATABASE_URL=postgresql://... for PostgreSQL)"
	@echo "make lint              ruff check and ruff format --check"
	@echo "make format            ruff format and ruff check --fix"
	@echo "make check-migrations  fail when the models and the migrations differ"
	@echo "make translations      extract, update and compile the message catalogs"
	@echo "make screenshots       walk the main pages in Chromium; refresh docs/screenshots/"
	@echo "make setup             create $(VENV) and install the project (done by the targets above)"
	@echo "make clean             remove $(VENV) and the caches"

venv setup: $(INSTALLED)

# Reinstalled when pyproject.toml changes; otherwise a no-op.
$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is needed; try make PYTHON=python3.12" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -e ".[dev]"
	touch $@

# SQLite in instance/; the demo data is loaded once and left alone afterwards.
run: $(INSTALLED)
	$(BIN)/pbx db upgrade
	$(BIN)/pbx demo load
	FLASK_DEBUG=$(DEBUG) $(BIN)/pbx run --host $(HOST) --port $(PORT)

# TEST_DATABASE_URL and REDIS_URL come from the environment (see README.md).
test: $(INSTALLED)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# A fresh SQLite database, upgraded to head, must match the models exactly.
check-migrations: $(INSTALLED)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	export PBX_ENV=testing PBX_SECRET_KEY=check-migrations \
		DATABASE_URL="sqlite:///$$tmp/check.sqlite3" && \
	unset MIGRATE_DATABASE_URL && \
	$(BIN)/pbx db upgrade && \
	$(BIN)/pbx db check

translations: $(INSTALLED)
	mkdir -p $(TRANSLATIONS)
	$(BIN)/pybabel extract -F babel.cfg -k _l -o $(TRANSLATIONS)/messages.pot .
	@for locale in $(LOCALES); do \
		if [ -f $(TRANSLATIONS)/$$locale/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l $$locale \
				|| exit 1; \
		else \
			$(BIN)/pybabel init -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l $$locale \
				|| exit 1; \
		fi; \
	done
	$(BIN)/pybabel compile -d $(TRANSLATIONS)

# The browser walk of tests/e2e/test_pages.py saves every main page at 1366 and 390 px;
# the README shows the few copied into docs/screenshots/.
DOC_SHOTS := console-home-1366 staff-home-1366 circle-home-1366 circle-home-390 staff-circle-390
screenshots: $(INSTALLED)
	SCREENSHOT_DIR=test-output/screenshots $(BIN)/pytest tests/e2e/test_pages.py -q
	mkdir -p docs/screenshots
	for shot in $(DOC_SHOTS); do cp test-output/screenshots/$$shot.png docs/screenshots/; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
