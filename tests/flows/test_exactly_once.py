"""Exactly-once alerts through the real flow: outages, several rules, digests, a sender that died."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from flows.demo import SmtpSink, body_text, free_port, render_demo_config, smtp_sink
from flows.ingest import deliver, ingest
from flows.outbox import CLAIM_LEASE, deliver_pending
from flows.settings import load_settings
from storage import repo
from storage.db import make_engine
from storage.models import Delivery, utcnow

pytestmark = pytest.mark.usefixtures("prefect_harness")

EXTRA_RULES = """
[[rules]]
name = "export-controls"
query = '"export controls" OR "export control"'
channels = ["desk-email"]
trade_only = true

[[rules]]
name = "japan-any"
query = "japan"
channels = ["desk-email"]
"""

DIGEST_RULES = """
[[rules]]
name = "steel-digest"
query = "steel OR dumping"
channels = ["desk-email"]
mode = "digest"
digest = "daily"

[[rules]]
name = "chips-digest"
query = "chip* OR semiconductor*"
channels = ["desk-email"]
digest = "daily"
"""


@pytest.fixture
def db(database_url: str) -> str:
    """Every exactly-once scenario runs on SQLite and on PostgreSQL."""
    return database_url


def _config(demo_site: str, port: int, tmp_path: Path, extra: str = "", *, database_url: str) -> Path:
    config = render_demo_config(demo_site, port, database_url, tmp_path / "tw.toml")
    config.write_text(config.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return config


def _wait(sink: SmtpSink, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(sink.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # and nothing more arrives


def _statuses(config: Path) -> list[tuple[str, int]]:
    engine = make_engine(load_settings(config).database.url)
    with Session(engine) as session:
        rows = [(d.status, d.attempts) for d in session.exec(select(Delivery).order_by(Delivery.id))]  # type: ignore[arg-type]
    engine.dispose()
    return rows


def test_smtp_outage_on_run_one_is_delivered_once_on_run_two(demo_site: str, tmp_path: Path, db: str) -> None:
    port = free_port()
    config = _config(demo_site, port, tmp_path, database_url=db)

    first = ingest(config=str(config))  # nothing listens on the SMTP port
    assert first.alerts_sent == 0
    assert first.alerts_retrying == 1
    assert _statuses(config) == [("pending", 1)]

    with smtp_sink(port=port) as sink:
        settings = load_settings(config)
        engine = make_engine(settings.database.url)
        early = deliver_pending(engine, settings.channel_url)  # the retry is not due yet
        assert early.sent == 0
        report = deliver_pending(engine, settings.channel_url, now=utcnow() + timedelta(minutes=3))
        again = deliver_pending(engine, settings.channel_url, now=utcnow() + timedelta(hours=1))
        engine.dispose()
        _wait(sink, 1)
    assert (report.sent, again.sent) == (1, 0)
    assert len(sink.messages) == 1
    assert _statuses(config) == [("sent", 2)]


def test_an_article_matching_several_rules_is_one_message_listing_them(
    demo_site: str, sink: SmtpSink, tmp_path: Path, db: str
) -> None:
    config = _config(demo_site, sink.port, tmp_path, EXTRA_RULES, database_url=db)
    summary = ingest(config=str(config))
    _wait(sink, 3)
    subjects = sorted(str(m["Subject"]) for m in sink.messages)
    # japan-trade + japan-any on the seed article, export-controls (+ japan-any) on the chips article.
    assert summary.alerts_sent == len(sink.messages) == 2, subjects
    seed = next(m for m in sink.messages if "Trade Talks with Japan" in str(m["Subject"]))
    text = body_text(seed)
    assert "japan-trade" in text
    assert "japan-any" in text
    assert {status for status, _ in _statuses(config)} == {"sent"}


def test_daily_digest_sends_one_message_per_channel_grouping_every_match_by_rule(
    demo_site: str, sink: SmtpSink, tmp_path: Path, db: str
) -> None:
    config = _config(demo_site, sink.port, tmp_path, DIGEST_RULES, database_url=db)
    summary = ingest(config=str(config))
    _wait(sink, 1)
    assert summary.alerts_sent == 1  # only the instant rule; digest matches wait for their period
    queued = [s for s in _statuses(config) if s[0] == "pending"]
    assert len(queued) >= 2

    report = deliver(config=str(config), mode="daily")
    _wait(sink, 2)
    assert report.messages == 1
    assert report.sent == len(queued)
    digest = sink.messages[-1]
    text = body_text(digest)
    assert "steel-digest" in text
    assert "chips-digest" in text
    assert "anti-dumping" in text.lower()
    assert "export controls" in text.lower()
    assert deliver(config=str(config), mode="daily").messages == 0  # a second digest run sends nothing


def test_a_sender_killed_between_claim_and_mark_resends_only_after_the_lease(
    demo_site: str, sink: SmtpSink, tmp_path: Path, db: str
) -> None:
    """The documented window: a claimed row whose process died is retried once its lease expires."""
    config = _config(demo_site, sink.port, tmp_path, database_url=db)
    ingest(config=str(config), deliver=False)
    settings = load_settings(config)
    engine = make_engine(settings.database.url)
    with Session(engine) as session:
        claimed = repo.claim_deliveries(session, now=utcnow())  # ... and the process dies here
    assert len(claimed) == 1

    during = deliver_pending(engine, settings.channel_url, now=utcnow() + CLAIM_LEASE / 2)
    after = deliver_pending(engine, settings.channel_url, now=utcnow() + CLAIM_LEASE + timedelta(seconds=1))
    engine.dispose()
    _wait(sink, 1)
    assert (during.sent, after.sent) == (0, 1)
    assert len(sink.messages) == 1


def test_a_spent_delivery_budget_leaves_the_rest_pending_for_the_next_run(
    demo_site: str, sink: SmtpSink, tmp_path: Path
) -> None:
    config = _config(
        demo_site, sink.port, tmp_path, EXTRA_RULES, database_url=f"sqlite:///{tmp_path / 'b.db'}"
    )
    ingest(config=str(config), deliver=False)
    settings = load_settings(config)
    engine = make_engine(settings.database.url)
    first = deliver_pending(engine, settings.channel_url, budget_seconds=0.0)  # out of time at once
    assert (first.sent, first.deferred) == (0, 3)
    assert {status for status, _ in _statuses(config)} == {"pending"}
    assert {attempts for _, attempts in _statuses(config)} == {0}, "a deferred row is not a failed attempt"
    second = deliver_pending(engine, settings.channel_url)
    engine.dispose()
    _wait(sink, 2)
    assert (second.sent, second.messages) == (3, 2)
    assert len(sink.messages) == 2
