# Two commands do all the setup on a fresh machine with Python 3.11:
#   make run   - install (first time) and serve on http://127.0.0.1:8000 (SQLite in ./data)
#   make test  - install (first time) and run the test suite
# uv is bootstrapped into .uv/ when it is not on PATH; dependencies come from the committed uv.lock.

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .uv/bin/uv)
export UV_PYTHON_DOWNLOADS := never
# the browser tests use the system's Chromium: no browser is ever downloaded
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint install worker migrate migration bench fuzz audit clean

install: .venv/.installed

.uv/bin/uv:
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet "uv==$(UV_VERSION)"

# bytecode is compiled once here (dependencies and src/): a process that may not write it
# (PYTHONDONTWRITEBYTECODE) would otherwise compile every module at each start, doubling the time
# the server, each test worker and each process the tests start take to import
.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	.venv/bin/python -m compileall -q src
	@touch $@

run: install
	.venv/bin/cxinbox serve --host $(HOST) --port $(PORT)

worker: install
	.venv/bin/cxinbox worker

migrate: install
	.venv/bin/cxinbox migrate

# the suite runs in TEST_WORKERS processes (pytest-xdist; each has its own database); TEST_WORKERS=0 runs it in one.
# Two per core: a test waits (timers, fakes, subprocesses) about as long as it computes, so one per
# core leaves the cores idle nearly half the time
TEST_WORKERS ?= $(shell echo $$((2 * $$(nproc 2>/dev/null || echo 1))))
test: install
	.venv/bin/pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: install audit
	.venv/bin/ruff check src tests bench tools
	.venv/bin/ruff format --check src tests bench tools
	.venv/bin/mypy
	.venv/bin/lint-imports --no-cache

# make migration MSG="what it changes": a revision file named by date, from the models (read it before committing)
migration: install
	.venv/bin/python -c 'import sys; from cxinbox.config import Settings; from cxinbox.migrations import new_revision; print(new_revision(Settings().database_url, sys.argv[1]))' "$(MSG)"

# known vulnerabilities in the packages uv.lock pins (pip-audit on the OSV database; see the script)
audit: install
	.venv/bin/python tools/audit_dependencies.py

# the suite's fuzz, longer and unseeded: FUZZ_EXAMPLES requests per operation and mode
fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-50} FUZZ_RANDOM=1 .venv/bin/pytest -p no:cacheprovider \
		tests/sweeps/test_fuzz.py $(PYTEST_ARGS)

bench: install
	.venv/bin/python -m bench.webhook_ingest $(BENCH_ARGS)

clean:
	rm -rf .venv .uv .pytest_cache .ruff_cache
