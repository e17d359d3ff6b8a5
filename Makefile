# nq71-monitor: one place for the commands people and CI run.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: install demo run test test-fast bench lint clean browser wheel-check

$(STAMP): pyproject.toml
	@echo "Cài đặt / installing into $(VENV) ..." >&2
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@# -qq: errors only; pip's index notices and setuptools' build warnings would bury the demo's output
	@$(BIN)/python -m pip install -qq --upgrade pip
	@$(BIN)/python -m pip install -qq -e '.[test,redis]'
	@touch $(STAMP)

install: $(STAMP)

## Headless Chromium for the review UI's browser tests (Debian's package; Playwright's download does not work offline).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || { echo "Could not install chromium: run 'apt-get install chromium' as root" >&2; exit 1; }; }

## The main job on the embedded default: SQLite + bundled offline demo outlets served locally.
demo: $(STAMP)
	@$(BIN)/nq71 demo

## Production start: migrations, sources sync, scheduler and review UI on the configured database.
run: $(STAMP)
	$(BIN)/nq71 run

## The whole test suite (SQLite; also PostgreSQL when NQ71_TEST_DATABASE_URL is set).
test: $(STAMP) browser
	$(BIN)/python -m pytest

## A plain (non-editable) install works: wheel -> clean venv -> classify and demo from an empty folder.
wheel-check: $(STAMP)
	PY=$(BIN)/python .ci/wheel-check

test-fast: $(STAMP)
	$(BIN)/python -m pytest -x -q -m "not browser"

bench: $(STAMP)
	@for b in tests/bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/python -m mypy --strict settings.py cli jobs.py workers.py scheduler.py store crawler classify review report demo

clean:
	rm -rf var .pytest_cache
