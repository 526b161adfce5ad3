"""Fixtures for flow tests: Prefect's real engine (one test harness per session) and the demo servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prefect.testing.utilities import prefect_test_harness

from flows.demo import SmtpSink, serve_site, smtp_sink


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A temporary Prefect server and database for the whole session (starting one costs ~7 s)."""
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def demo_site() -> Iterator[str]:
    """The bundled demo site on a free 127.0.0.1 port; yields its base URL."""
    with serve_site(port=0) as base_url:
        yield base_url


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    """A real SMTP server on 127.0.0.1 that records what it receives."""
    with smtp_sink() as server:
        yield server
