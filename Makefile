# crm_extended — the two commands of the README, and the developer's others.
# Odoo 18.0 is a prerequisite: ODOO_PATH=<source tree>, or `odoo` importable by python3.
.PHONY: run test lint bench i18n deps db-stop help

HARNESS := bash tools/harness.sh

help:
	@echo "make run      serve the demo database on http://127.0.0.1:8069 (admin/admin)"
	@echo "make test     fresh test database, whole suite with browser tours"
	@echo "make lint     ruff, ruff format --check, pylint-odoo"
	@echo "make bench    benchmark database (cached) and measurements; SCALE=0.01 for a quick run"
	@echo "make i18n     export crm_extended.pot and merge it into i18n/vi.po"
	@echo "make db-stop  stop the private PostgreSQL cluster started by run/test/bench"

run:
	@$(HARNESS) run

test:
	@$(HARNESS) test $(PYTEST_ARGS)

lint:
	@$(HARNESS) lint

bench:
	@$(HARNESS) bench $(BENCH_ARGS)

i18n:
	@$(HARNESS) i18n

deps:
	@$(HARNESS) deps

db-stop:
	@$(HARNESS) db-stop
