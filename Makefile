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

# pip-audit looks every pinned requirement up in an advisory database (PyPI's JSON API). Where
# that cannot be reached — this network serves packages but not the JSON API, and api.osv.dev
# does not resolve — it skips every dependency yet says "No known vulnerabilities found" and
# exits 0. AUDIT_REPORT says plainly that nothing was audited (without failing lint: the
# network, not the code, is at fault), and fails on any vulnerability that is found.
define AUDIT_REPORT
import json, pathlib, sys
path = pathlib.Path(sys.argv[1])
if not path.exists():
    sys.exit("pip-audit failed before it could report (see above)")
deps = json.loads(path.read_text())["dependencies"]
found = [f"{d['name']} {d['version']}: {v['id']}" for d in deps for v in d.get("vulns", [])]
skipped = [d for d in deps if "skip_reason" in d]
for line in found:
    print("pip-audit: VULNERABLE", line)
if deps and len(skipped) == len(deps):
    print(f"pip-audit: NOT AUDITED — the advisory database could not be consulted, so its "
          f"'No known vulnerabilities found' means nothing: all {len(deps)} dependencies "
          f"were skipped ({skipped[0]['skip_reason']})")
else:
    print(f"pip-audit: {len(deps) - len(skipped)} dependencies audited, {len(skipped)} skipped, "
          f"{len(found)} known vulnerabilities")
sys.exit(1 if found else 0)
endef
export AUDIT_REPORT

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/bandit -q -c pyproject.toml -r evaluation models forms config.py wsgi.py
	@rm -f $(VENV)/pip-audit.json
	$(BIN)/pip-audit -r requirements.txt --progress-spinner off -f json -o $(VENV)/pip-audit.json; \
		$(BIN)/python -c "$$AUDIT_REPORT" $(VENV)/pip-audit.json

# Every docs/rules.md#scale-targets figure with its target and a floor, on SQLite (a temporary
# directory) and PostgreSQL side by side: BENCH_PG_URL, a PostgreSQL DATABASE_URL, TEST_DATABASE_URL's
# server or the local one, database ledger_bench created if missing (bench/databases.py); skipped,
# saying why, when no server answers. BENCH_ARGS=--keep reuses the databases,
# BENCH_ARGS="--databases sqlite" measures one.
bench: install-dev
	DATABASE_URL="$(DATABASE_URL)" BENCH_PG_URL="$(BENCH_PG_URL)" $(BIN)/python bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV)
