# Two commands matter: `make demo` and `make test`. Everything else is a step they share.
# Only python3 (3.11+) is assumed; uv is bootstrapped into .uv/ and installs the locked dependencies.
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .uv/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv
VENV_STAMP := .venv/.synced
RUN := .venv/bin

.PHONY: demo test lint typecheck unit e2e test-e2e chromium install clean bench bench-scale bench-latency \
	test-slow test-install test-lowest ci

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV_STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON) --quiet
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

unit: install
	$(RUN)/python -m pytest -q -m "not browser and not slow"

# Minutes-long acceptance checks (make demo beside CPU burners, every subcommand against broken setups).
test-slow: install
	$(RUN)/python -m pytest -q -m slow

# Browser tests need Debian's Chromium (installed with apt as root when missing; never a Playwright download).
chromium:
	scripts/ensure-chromium.sh

test-e2e: install chromium
	$(RUN)/python -m pytest -q -m browser tests/e2e

e2e: test-e2e

test: lint typecheck unit test-e2e

# What CI adds to `make test`: the install without the lock, and the lowest allowed versions.
test-install:
	scripts/check-pip-install.sh

test-lowest: $(UV)
	scripts/check-lowest.sh

ci: test test-slow test-install test-lowest

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
