#!/usr/bin/env bash
# The lowest versions pyproject.toml allows for each direct dependency (uv's lowest-direct resolution),
# in their own venv, must pass the unit tests: a lower bound that is not tested is a guess.
# Covered: every test package except tests/faults (crash and fault injection: our own reliability, not
# a dependency's API) and tests/bench, and not the browser tests, on every core as `make unit` runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-.uv/bin/uv}
VENV=${LOWEST_VENV:-.venv-lowest}
rm -rf "$VENV"
"$UV" venv --quiet --python "${PYTHON:-python3}" "$VENV"
VIRTUAL_ENV="$VENV" "$UV" pip install --quiet --resolution lowest-direct '.[train,postgres,demo]' --group dev
echo "check-lowest: direct dependencies at their lower bounds:"
VIRTUAL_ENV="$VENV" "$UV" pip freeze | grep -iE '^(prefect|typer|lxml|lxml-html-clean|apprise|trafilatura|sqlmodel|httpx|pydantic|psycopg|alembic|feedparser|numpy|scikit-learn|aiosmtpd)==' | tr '\n' ' '
echo
"$VENV/bin/python" -m pytest -q -n "${PYTEST_WORKERS:-auto}" --dist worksteal -m "not browser and not slow" --ignore=tests/faults --ignore=tests/bench -p no:cacheprovider
