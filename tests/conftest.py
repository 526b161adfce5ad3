"""Shared fixtures: real databases (SQLite file, PostgreSQL server) for storage and flow tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from storage.db import init_db, make_engine
from tests.dbservers import fresh_postgres_database, postgres_server
from tests.httpserver import HTTPTestServer


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    with postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs twice: on a SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tradewatch.db'}"
    return fresh_postgres_database(request.getfixturevalue("pg_server"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    init_db(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def http_server() -> Iterator[HTTPTestServer]:
    """A real HTTP server on 127.0.0.1 with a route table, recording the requests it receives."""
    server = HTTPTestServer().start()
    yield server
    server.stop()
