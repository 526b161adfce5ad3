"""The SMTP server down, then rejecting (5xx), then slow (10 s a message): runs finish, nothing is lost.

The pipeline runs in this process (`tests.faults.driver.run`, the functions `flows.ingest` wraps) against
the real demo corpus site and a real aiosmtpd server on a fixed port that is stopped, made to answer 554,
or made to sleep before answering. Retries happen on later runs, simulated by advancing the delivery clock.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from flows.outbox import deliver_pending
from flows.settings import load_settings
from storage.db import make_engine
from storage.models import Delivery, utcnow
from tests.faults.conftest import CorpusSite, SinkServer, store_state, write_config
from tests.faults.driver import run

#: Bound for one run over the demo corpus when the SMTP server misbehaves; a clean run takes ~2 s.
RUN_BOUND_S = 60


def _rows(url: str) -> list[Delivery]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = list(session.exec(select(Delivery)))
    engine.dispose()
    return rows


def test_smtp_down_then_rejecting_then_back_delivers_every_alert_once(
    corpus_site: CorpusSite, faulty_sink: SinkServer, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'tw.db'}"
    feeds = list(zip(["rss", "atom"], corpus_site.feed_urls(), strict=True))
    config = write_config(tmp_path / "tw.toml", database_url=db, feeds=feeds, smtp_port=faulty_sink.port)
    settings = load_settings(config)
    sink = faulty_sink.handler
    faulty_sink.stop()  # down: nothing listens on the port

    started = time.monotonic()
    outcomes, report = run(settings)
    assert time.monotonic() - started < RUN_BOUND_S
    state = store_state(make_engine(db))
    assert sum(o.new_articles for o in outcomes) == state.articles == 8
    assert state.unclassified == 0
    queued = state.deliveries["pending"]
    assert state.deliveries == {"pending": queued}
    assert queued >= 8
    assert report.sent == 0
    assert report.retrying == queued
    assert {r.attempts for r in _rows(db)} == {1}
    assert {r.last_error for r in _rows(db)} == {
        f"delivery to {channel} failed (transient): smtp connect failed"
        for channel in ("desk-email", "ops-email")
    }
    assert all(e.startswith(("desk-email: ", "ops-email: ")) for e in report.errors)

    # Rejecting: the server is up but answers 554 to every message; rows stay queued, attempts counted.
    sink.mode = "reject"
    faulty_sink.start()
    engine = make_engine(db)
    early = deliver_pending(engine, settings.channel_url)  # retry not due yet: nothing is tried
    assert (early.sent, early.retrying, sink.rejected) == (0, 0, 0)
    rejected = deliver_pending(engine, settings.channel_url, now=utcnow() + timedelta(minutes=3))
    messages = sink.rejected
    assert rejected.retrying == queued
    assert rejected.sent == 0
    assert messages >= 8  # one message per (article, channel)
    assert {r.status for r in _rows(db)} == {"pending"}
    assert {r.attempts for r in _rows(db)} == {2}
    assert {(r.last_error or "").split(": ", 1)[1] for r in _rows(db)} == {"smtp send failed"}
    assert sink.snapshot() == []

    # Back to normal: the next due retry sends each message exactly once; a further run sends nothing.
    sink.mode = "ok"
    sent = deliver_pending(engine, settings.channel_url, now=utcnow() + timedelta(minutes=10))
    again = deliver_pending(engine, settings.channel_url, now=utcnow() + timedelta(hours=2))
    engine.dispose()
    received = sink.settle(messages)
    assert (sent.sent, sent.messages, again.sent) == (queued, messages, 0)
    assert len(received) == messages
    assert set(Counter((r.to, r.subject) for r in received).values()) == {1}
    assert store_state(make_engine(db)).deliveries == {"sent": queued}
    assert {r.attempts for r in _rows(db)} == {3}


def test_smtp_slow_ten_seconds_per_message_finishes_within_its_bound(
    corpus_site: CorpusSite, faulty_sink: SinkServer, tmp_path: Path
) -> None:
    """10 s per message is under apprise's 15 s SMTP socket timeout: the run waits, delivers once."""
    db = f"sqlite:///{tmp_path / 'tw.db'}"
    feeds = list(zip(["rss", "atom"], corpus_site.feed_urls(), strict=True))
    config = write_config(
        tmp_path / "tw.toml", database_url=db, feeds=feeds, smtp_port=faulty_sink.port, rules=""
    )
    sink = faulty_sink.handler
    sink.mode, sink.delay = "slow", 10.0
    started = time.monotonic()
    outcomes, report = run(load_settings(config))
    elapsed = time.monotonic() - started
    assert elapsed < 10.0 + RUN_BOUND_S
    assert sum(o.new_articles for o in outcomes) == 8
    assert (report.sent, report.messages, report.retrying) == (1, 1, 0)
    assert len(sink.settle(1)) == 1
    assert store_state(make_engine(db)).deliveries == {"sent": 1}
