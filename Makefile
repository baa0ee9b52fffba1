# 担当作为考核评价台账 — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
WORKERS ?= 2
export FLASK_APP := wsgi.py

.PHONY: run test install install-dev lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: $(BIN)/python requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

run: install
	$(BIN)/flask init-db
	$(BIN)/flask seed-demo --if-empty
	@echo
	@echo "担当作为考核评价台账: http://127.0.0.1:$(PORT)/login"
	@if [ -f instance/demo-credentials.txt ]; then \
		echo "演示账号 (role username password), also in instance/demo-credentials.txt:"; \
		sed 's/^/  /' instance/demo-credentials.txt; fi
	@echo
	$(BIN)/gunicorn --no-control-socket --workers $(WORKERS) --bind 127.0.0.1:$(PORT) \
		--access-logfile - wsgi:app

test: install-dev
	$(BIN)/pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/bandit -q -c pyproject.toml -r evaluation models forms config.py wsgi.py
	$(BIN)/pip-audit -r requirements.txt --progress-spinner off

# Every SPEC §10 figure with its target and a floor; SQLite in a temporary directory, or
# `make bench DATABASE_URL=postgresql+psycopg://…` (an empty database). BENCH_ARGS=--keep reuses it.
bench: install-dev
	DATABASE_URL="$(DATABASE_URL)" $(BIN)/python bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV)
