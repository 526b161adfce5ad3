"""Shared fixtures: real databases (SQLite file, PostgreSQL server), Prefect's engine, the demo servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import Engine

from storage.db import init_db, make_engine
from tests.dbservers import fresh_postgres_database, postgres_server
from tests.httpserver import HTTPTestServer

if TYPE_CHECKING:
    from flows.demo import SmtpSink


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


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A temporary Prefect server and database for the whole session (starting one costs ~7 s).

    Shared by the flow tests and the CLI tests that run flows (tests/cli), hence here; Prefect is
    imported only when a test asks for it.
    """
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def demo_site() -> Iterator[str]:
    """The bundled demo site on a free 127.0.0.1 port; yields its base URL."""
    from flows.demo import serve_site

    with serve_site(port=0) as base_url:
        yield base_url


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    """A real SMTP server on 127.0.0.1 that records what it receives."""
    from flows.demo import smtp_sink

    with smtp_sink() as server:
        yield server
