# Two commands: `make run` (serve with demo data) and `make test` (whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080
WORKERS ?= 2
export FLASK_APP := app:create_app

.PHONY: run serve test test-full fuzz translations migrate seed bench bench-data bench-export clean ldap \
        oidc-provider

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# Signing in with LDAP / Active Directory (README): python-ldap, built against
# libldap2-dev and libsasl2-dev (apt-get install them first).
ldap: $(VENV)/.ldap

$(VENV)/.ldap: $(VENV)/.runtime requirements-ldap.txt
	$(BIN)/pip install --quiet -r requirements-ldap.txt
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

test: $(VENV)/.dev translations oidc-provider
	$(BIN)/pytest

# The suite with every case of the large matrices (the test run samples them, tests/sampling.py).
test-full: $(VENV)/.dev translations oidc-provider
	MATRIX_FULL=1 $(BIN)/pytest

# The OpenID Connect provider the sign-in tests start (tests/oidc: node, pinned by its
# lock file). Without npm the tests that need it are skipped (outside CI).
OIDC_PROVIDER := tests/oidc/node_modules/.package-lock.json
oidc-provider:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(OIDC_PROVIDER); \
	else echo "npm not found: the OpenID Connect sign-in tests will be skipped"; fi

$(OIDC_PROVIDER): tests/oidc/package.json tests/oidc/package-lock.json
	cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Every junk value into every field, filter and sort key (the test run samples them).
fuzz: $(VENV)/.dev translations
	FUZZ_FULL=1 $(BIN)/pytest tests/test_fuzz.py

# The PRODUCT.md section 8 volumes for the benchmarks (bench/scale.py): SQLite in
# instance/bench_scale.db, and PostgreSQL too when BENCH_DATABASE_URL is set (in the
# database beside it, name + _scale); kept when loaded already.
BENCH_SCALE ?= 1.0
bench-data: $(VENV)/.dev translations
	mkdir -p instance
	$(BIN)/python bench/scale.py --scale $(BENCH_SCALE) --reuse
	if [ -n "$$BENCH_DATABASE_URL" ]; then \
	  $(BIN)/python bench/scale.py --postgres --scale $(BENCH_SCALE) --reuse; \
	fi

# The benchmarks of docs/performance.md (SQLite; PostgreSQL too with BENCH_DATABASE_URL).
# Every page per role on the loaded §8 volumes, then (PostgreSQL) the load run on a copy;
# before the older scripts, which make fresh databases of their own at BENCH_DATABASE_URL.
BENCH_SQLITE ?= sqlite:///$(CURDIR)/instance/bench_scale.db
bench: $(VENV)/.dev translations bench-data
	$(BIN)/python bench/pages_bench.py --url $(BENCH_SQLITE)
	@if [ -n "$$BENCH_DATABASE_URL" ]; then status=0; \
	  scale_url=$$($(BIN)/python bench/scale.py --print-postgres-url); \
	  $(BIN)/python bench/pages_bench.py --url "$$scale_url" || status=1; \
	  $(BIN)/python bench/load_run.py --url "$$scale_url" || status=1; \
	  exit $$status; fi
	$(BIN)/python bench/seed_bench.py
	$(BIN)/python bench/scoping_bench.py
	$(BIN)/python bench/lists_bench.py
	$(BIN)/python bench/verify_bench.py
	$(BIN)/python bench/history_bench.py
	$(BIN)/python bench/charts_bench.py
	$(BIN)/python bench/inbox_bench.py

# Exports of 200,000 and 1,000,000 rows (docs/performance.md "Exports"): its own database
# (SQLite in /tmp, or BENCH_DATABASE_URL), built once and kept; then the gunicorn timeout check.
bench-export: $(VENV)/.dev translations
	$(BIN)/python bench/export_bench.py --gunicorn

clean:
	rm -rf $(VENV) instance .pytest_cache
