# Two commands matter: `make demo` and `make test`. Everything else is a step they share.
# Only python3 (3.11+) is assumed; uv is bootstrapped into .uv/ and installs the locked dependencies.
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .uv/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv
# Bytecode caches, both kinds. uv installs without .pyc files and an environment with
# PYTHONDONTWRITEBYTECODE=1 never writes them, so every Python process the product starts (each
# `tradewatch run`, each extraction worker, Prefect's server) recompiled every module it imported:
# `import prefect` took 3.3 s instead of 1.4 s, and a `tradewatch run` with nothing new 10 CPU-seconds
# instead of 3.6. uv compiles the installed packages once at install (about 20 CPU-seconds, in parallel);
# our own modules get their caches written as they are first imported.
export UV_COMPILE_BYTECODE := 1
unexport PYTHONDONTWRITEBYTECODE
VENV_STAMP := .venv/.synced
RUN := .venv/bin

.PHONY: demo test lint typecheck unit suite e2e test-e2e chromium install clean bench bench-scale bench-latency \
	test-slow test-install test-lowest ci

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --all-extras: the demo's SMTP sink, PostgreSQL's driver and `classifier train`'s scikit-learn, which
# `make demo` and `make test` need and a plain `pip install .` leaves out (see pyproject.toml).
$(VENV_STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --python $(PYTHON) --quiet
	touch $@

install: $(VENV_STAMP)

demo: install
	$(RUN)/tradewatch demo

lint: install
	$(RUN)/ruff check .
	$(RUN)/ruff format --check .
	$(RUN)/lint-imports

typecheck: install
	$(RUN)/mypy

# One xdist worker more than there are cores (at most 4): about a third of the suite's time is spent
# waiting on servers, subprocesses and deadlines, and a spare worker fills that idle core-time. Measured on
# 2 cores: 301 s with 3 workers against 329 s with 2 (BENCHMARKS.md, "The default test run").
PYTEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); echo $$(( n < 4 ? n + 1 : 4 )))
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist worksteal

unit: install
	$(RUN)/python -m pytest -q $(PYTEST_PARALLEL) -m "not browser and not slow"

# The default suite in one pytest run, browser tests included, so their waits overlap other tests' work.
suite: install chromium
	$(RUN)/python -m pytest -q $(PYTEST_PARALLEL) -m "not slow"

# Minutes-long acceptance checks (make demo beside CPU burners, every subcommand against broken setups).
test-slow: install
	$(RUN)/python -m pytest -q -m slow

# Browser tests need Debian's Chromium (installed with apt as root when missing; never a Playwright download).
chromium:
	scripts/ensure-chromium.sh

test-e2e: install chromium
	$(RUN)/python -m pytest -q -m browser tests/e2e

e2e: test-e2e

# On CI (CI=true: .ci/run sets it when the CI service has not) `make test` also runs the minutes-long
# tests, the install without the lock, and the lowest allowed versions; elsewhere it stays short.
CI_CHECKS := $(if $(filter true 1 yes,$(CI)),test-slow test-install test-lowest)

test: lint typecheck suite $(CI_CHECKS)

test-install:
	scripts/check-pip-install.sh

test-lowest: $(UV)
	PYTEST_WORKERS=$(PYTEST_WORKERS) scripts/check-lowest.sh

ci:
	$(MAKE) test CI=true

bench: install
	$(RUN)/python bench/extraction.py
	$(RUN)/python bench/classification.py
	$(RUN)/python bench/pipeline.py --runs 3

bench-scale: install
	$(RUN)/python bench/pipeline.py --runs 3 --scale

bench-latency: install
	$(RUN)/python bench/pipeline.py --runs 3 --latency-sweep 0,25,50

clean:
	rm -rf .venv .venv-lowest .uv data .pytest_cache .mypy_cache .ruff_cache
