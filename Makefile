# doorstep's verbs. `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DOORSTEP := $(VENV)/bin/doorstep
HOST ?= 127.0.0.1
PORT ?= 8000
# Request threads per granian worker (2 workers). More threads let more lottery applications
# and walk-ins share a commit (docs/performance.md); CPU-bound search prefers few.
THREADS ?= 2
export DJANGO_SETTINGS_MODULE := doorstep.settings

.PHONY: run test lint bench messages demo install clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

demo: install
	$(DOORSTEP) migrate --noinput -v 0
	$(DOORSTEP) load-demo

run: demo
	@echo "doorstep is serving on http://$(HOST):$(PORT)/ (Ctrl-C stops it and its worker)"
	$(DOORSTEP) worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/granian --interface wsgi --host $(HOST) --port $(PORT) \
		--workers 2 --blocking-threads $(THREADS) --access-log --log-level warning \
		doorstep.wsgi:application

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check src tests $(wildcard bench)
	$(VENV)/bin/ruff format --check src tests $(wildcard bench)
	$(VENV)/bin/mypy $(filter-out src/doorstep/core/%,$(wildcard src/doorstep/*/services.py src/doorstep/*/services/*.py src/doorstep/*/selectors.py src/doorstep/*/api.py)) src/doorstep/core/ src/doorstep/api.py
	$(VENV)/bin/lint-imports --no-cache
	$(DOORSTEP) makemigrations --check --dry-run
	$(PY) -m doorstep.core.i18ncheck

messages: install
	cd src/doorstep && ../../$(DOORSTEP) makemessages -l zh_Hans --no-obsolete --ignore 'static/*'
	$(PY) -m doorstep.core.i18ncheck --compile

bench: install
	$(PY) bench/run.py
	test ! -f bench/rush.py || $(PY) bench/rush.py
	test ! -f bench/statement.py || $(PY) bench/statement.py
	test ! -f bench/visits.py || $(PY) bench/visits.py
	test ! -f bench/notices.py || $(PY) bench/notices.py
	test ! -f bench/rooms.py || $(PY) bench/rooms.py
	test ! -f bench/requests.py || $(PY) bench/requests.py
	test ! -f bench/coverage.py || $(PY) bench/coverage.py
	test ! -f bench/scaling.py || $(PY) bench/scaling.py
	test ! -f bench/partition.py || $(PY) bench/partition.py --visits 5000000
	test ! -f bench/gym.py || $(PY) bench/gym.py
	# A 90-day city keeps `make bench` near half an hour; the full year (generation and
	# rollup ~45 min here) is `bench/figures.py` alone (docs/figures.md).
	test ! -f bench/figures.py || $(PY) bench/figures.py --days 90

clean:
	rm -rf $(VENV) node_modules data
