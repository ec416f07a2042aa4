# The two set-up commands of the README are `make dev` and `make test`; each installs what it needs:
# `make dev` the provider's run-time packages (the idp extra), `make test` the whole toolchain.
VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed-stamp
IDP_STAMP := $(VENV)/.idp-installed-stamp
export PYTHONDONTWRITEBYTECODE :=

.PHONY: dev test lint bench clean

# The full install (the dev extra) includes the idp extra, so it satisfies `make dev` too.
$(STAMP): pyproject.toml scripts/bootstrap node/package-lock.json
	bash scripts/bootstrap
	@touch $(STAMP) $(IDP_STAMP)

$(IDP_STAMP): pyproject.toml scripts/bootstrap
	bash scripts/bootstrap idp
	@touch $(IDP_STAMP)

## Run the main job locally: the identity provider on SQLite (tessera dev); e.g. make dev ARGS="--port 8001".
dev: $(IDP_STAMP)
	$(VENV)/bin/tessera dev $(ARGS)

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
