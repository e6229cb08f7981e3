# Beachhead: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000
PYTEST_ARGS ?=
# The app reads them too: its links (BASE_URL) point at the address it is served on.
export HOST PORT
# What the tests drive beside Python: a command each, and the Debian package that brings it.
TEST_TOOLS := chromium:chromium pdftotext:poppler-utils zbarimg:zbar-tools
# What PyICU (requirements.txt) is built with: ICU's headers, pkg-config and a C++ compiler.
BUILD_TOOLS := libicui18n.so:libicu-dev pkg-config:pkg-config g++:g++
# What WeasyPrint lays PDFs out faster with: HarfBuzz's font subsetter (without it the KPI
# report spends seconds subsetting fonts in Python).
PDF_LIBS := libharfbuzz-subset.so.0:libharfbuzz-subset0

.PHONY: run test test-browser test-postgres fuzz lint db demo messages bench bench-http clean system-packages

$(VENV)/.runtime: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Beachhead needs Python 3.11 or newer")'
	@sh .ci/system-packages $(BUILD_TOOLS)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

## run: install, upgrade the SQLite database, load the demo if it is empty, serve on HOST:PORT (127.0.0.1:5000)
run: $(VENV)/.runtime db
	$(FLASK) demo --if-empty
	@$(PY) -c 'import config; print(config.serving_notice())'
	$(FLASK) run --host $(HOST) --port $(PORT)

db: $(VENV)/.runtime
	$(FLASK) db upgrade
	$(FLASK) sort-keys

demo: db
	$(FLASK) demo

## system-packages: Chromium, poppler-utils, zbar-tools and HarfBuzz's subsetter, installed when missing (as root or with passwordless sudo), else the command that would
system-packages:
	@sh .ci/system-packages $(TEST_TOOLS) $(PDF_LIBS)

## test: the system packages, lint, then the whole suite on SQLite (browser tests included;
## TEST_MARKS narrows it, as `.ci/run` does to run the browser tests beside the others)
TEST_MARKS ?= not postgres and not redis
test: system-packages $(VENV)/.dev lint
	$(PY) -m pytest -m "$(TEST_MARKS)" $(PYTEST_ARGS)

## test-browser: the browser tests alone (Chromium against live servers on SQLite)
test-browser: system-packages $(VENV)/.dev
	$(PY) -m pytest -m browser $(PYTEST_ARGS)

## test-postgres: the suite against TEST_DATABASE_URL, with the PostgreSQL and Redis tests
## (not the browser tests, nor those on a SQLite file of their own: `make test` runs those)
test-postgres: $(VENV)/.dev
	@test -n "$(TEST_DATABASE_URL)" || (echo "set TEST_DATABASE_URL=postgresql+psycopg://..." && exit 2)
	$(PY) -m pytest -m "not browser and not sqlite" $(PYTEST_ARGS)

## fuzz: the API fuzzed from its OpenAPI document, many examples per operation and token
API_FUZZ_EXAMPLES ?= 300
fuzz: $(VENV)/.dev
	API_FUZZ_EXAMPLES=$(API_FUZZ_EXAMPLES) $(PY) -m pytest tests/test_api_fuzz.py $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .

## messages: extract the translatable texts into webapp/translations/messages.pot and bring every language's catalogue up to date with it (README: "Languages")
messages: $(VENV)/.runtime
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l --add-location=file -o webapp/translations/messages.pot .
	$(VENV)/bin/pybabel update -i webapp/translations/messages.pot -d webapp/translations --no-fuzzy-matching --ignore-obsolete

## bench: page timings, the cost of a page's language, the KPI dashboard, the badge batch, a 5,000-reminder tick, the call for applications, a stalled database and a Redis outage (need PostgreSQL and Redis)
bench: $(VENV)/.dev
	$(PY) bench/pages.py
	$(PY) bench/dashboard.py
	$(PY) bench/badges.py
	$(PY) bench/jobs.py
	$(PY) bench/call.py
	$(PY) bench/stalled_database.py
	$(PY) bench/redis_outage.py
	$(PY) bench/validation.py
	$(PY) bench/languages.py

## bench-http: every page family under wrk against gunicorn (2 sync workers, production config) beside a bare Flask app, on SQLite and PostgreSQL at 1x and 10x the demo, then the 200-way race (about 15 minutes)
BENCH_POSTGRES ?= postgresql+psycopg://postgres@127.0.0.1:5432
BENCH_RACE_DB  := beachhead_bench_race
BENCH_PSQL      = psql "$(subst +psycopg,,$(BENCH_POSTGRES))/postgres" -v ON_ERROR_STOP=1 -q
bench-http: $(VENV)/.dev
	@sh .ci/system-packages wrk:wrk psql:postgresql-client
	$(PY) bench/throughput.py --postgres $(BENCH_POSTGRES)
	$(BENCH_PSQL) -c 'DROP DATABASE IF EXISTS $(BENCH_RACE_DB) WITH (FORCE)' -c 'CREATE DATABASE $(BENCH_RACE_DB)'
	$(PY) bench/race.py --postgres $(BENCH_POSTGRES)/$(BENCH_RACE_DB); status=$$?; \
	  $(BENCH_PSQL) -c 'DROP DATABASE IF EXISTS $(BENCH_RACE_DB) WITH (FORCE)'; exit $$status

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
