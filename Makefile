# Two commands: `make run` (serve with demo data) and `make test` (whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080
WORKERS ?= 2
export FLASK_APP := app:create_app

.PHONY: run serve test fuzz translations migrate seed bench clean

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

translations: $(VENV)/.runtime
	$(BIN)/pybabel compile --use-fuzzy -d app/translations

migrate: $(VENV)/.runtime
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed --demo

# Migrate, load demo data (idempotent), serve with gunicorn.
run: translations seed serve

serve: $(VENV)/.runtime translations
	$(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - "app:create_app()"

test: $(VENV)/.dev translations
	$(BIN)/pytest

# Every junk value into every field, filter and sort key (the test run samples them).
fuzz: $(VENV)/.dev translations
	FUZZ_FULL=1 $(BIN)/pytest tests/test_fuzz.py

# The benchmarks of docs/performance.md (SQLite; PostgreSQL too with BENCH_DATABASE_URL).
bench: $(VENV)/.dev translations
	$(BIN)/python bench/seed_bench.py
	$(BIN)/python bench/scoping_bench.py
	$(BIN)/python bench/verify_bench.py
	$(BIN)/python bench/history_bench.py
	$(BIN)/python bench/inbox_bench.py

clean:
	rm -rf $(VENV) instance .pytest_cache
