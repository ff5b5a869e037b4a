# The two commands: `make run` and `make test`. Both keep the virtual
# environment in .venv and install the pinned packages from requirements/.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test bench install install-dev lint types clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-base: requirements/base.txt requirements/constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/base.txt -c requirements/constraints.txt
	touch $@

$(VENV)/.installed-dev: requirements/dev.txt requirements/base.txt requirements/constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/dev.txt -c requirements/constraints.txt
	touch $@ $(VENV)/.installed-base

install: $(VENV)/.installed-base
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  The practice is running at http://localhost:$(PORT)/  (admin: http://localhost:$(PORT)/admin/)"
	@echo "  Press Ctrl+C to stop the web server, the worker and beat."
	@echo ""
	@# The quick start skips the staff second factor unless DEBUG is off.
	PATH="$(CURDIR)/$(BIN):$$PATH" \
	  STAFF_MFA_REQUIRED="$${STAFF_MFA_REQUIRED:-$$( [ "$${DEBUG:-true}" = false ] && echo true || echo false )}" \
	  $(BIN)/honcho start -f Procfile

test: install-dev
	$(BIN)/python scripts/run_tests.py $(ARGS)

# wrk drives the load; as root on Debian it is installed when missing.
bench: install-dev
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && { apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }; }; } \
	  || { echo "make bench needs wrk (Debian: apt-get install wrk)" >&2; exit 1; }
	$(BIN)/python bench/run.py $(ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install-dev
	$(BIN)/mypy .

clean:
	rm -rf var/ .pytest_cache .ruff_cache .mypy_cache
