# Developer and CI entry points. Everything runs from the project's own venv in .venv.
#   make venv    create .venv and install the project with the pinned dev set
#   make demo    run the demo plant
#   make test    ruff, import contracts, mypy on the pure layers, then the whole suite offscreen
#                (on two worker processes; TEST_WORKERS=0 for one)
#   make lint    ruff check, ruff format --check, import contracts, mypy
#   make format  ruff format and the safe ruff fixes
#   make bench   every bench/bench_*.py, and bench/RESULTS.md from their figures
#   make package dist/hmi (PyInstaller, one folder), smoke-tested; wheel and sdist in dist/
#   make docs    docs/screens.md and its pictures, from the screen schema (python -m hmi.guide)
#   make clean   caches and build output (keeps .venv; remove it by hand to start over)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The first interpreter >= 3.11 on PATH; `make PYTHON=/path/to/python` overrides. Recursive (=)
# so the search runs only when the venv has to be made.
PYTHON = $(shell for p in python3.11 python3.12 python3.13 python3; do \
	if command -v $$p >/dev/null 2>&1 && \
	   $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then \
		echo $$p; break; fi; done)

.PHONY: venv demo test lint format bench package docs clean

venv: $(STAMP)

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "error: no Python 3.11 or newer found (tried python3.11, python3.12," \
		     "python3.13, python3); install one or run make PYTHON=/path/to/python3.11" >&2; \
		exit 1; fi
	@echo "creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version))"
	$(PYTHON) -m venv $(VENV)

# Re-install only when the dependencies or their pins changed since the last install.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q \
		-c constraints.txt -e '.[dev]'
	touch $@

demo: venv
	$(BIN)/hmi demo

# The suite on TEST_WORKERS processes (pytest-xdist), each taking whole test files, so a
# module's servers start once: `make test TEST_WORKERS=0` runs it in this one process.
TEST_WORKERS ?= 2

test: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: venv
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/results.py

# The built program is smoke-tested from a temporary folder with no venv on PATH (see
# packaging/smoke.py); the wheel and sdist are built from the venv's hatchling (offline).
package: venv
	rm -rf dist/hmi build/pyinstaller
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
		packaging/hmi.spec
	$(BIN)/python packaging/smoke.py --bundle dist/hmi
	$(BIN)/python -m build --no-isolation --outdir dist .

docs: venv
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m hmi.guide

clean:
	rm -rf build dist .pytest_cache .ruff_cache .mypy_cache .import_linter_cache *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
