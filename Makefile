# The two set-up commands of the README are `make dev` and `make test`; each installs what it needs.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
export PYTHONDONTWRITEBYTECODE :=

.PHONY: dev test lint bench clean

$(STAMP): pyproject.toml scripts/bootstrap node/package-lock.json
	bash scripts/bootstrap
	@touch $(STAMP)

## Run the main job locally.
dev: $(STAMP)
	$(PY) scripts/verify_demo.py

## Lint, type-check and run the whole test suite.
test: $(STAMP) lint
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check
	$(VENV)/bin/ruff format --check
	$(VENV)/bin/mypy

## Run every benchmark and print the tables.
bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
