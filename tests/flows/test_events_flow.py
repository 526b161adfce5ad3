"""Trade events end to end: the ingest flow (Prefect harness), the demo site, SMTP, both databases."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli.app import app
from flows.demo import SmtpSink, body_text, render_demo_config
from flows.ingest import ingest
from storage.db import make_engine
from storage.models import Article, TradeEvent

RULES = """
[[rules]]
name = "china-export-controls"
query = "affected:CN AND measure:export_control"
channels = ["desk-email"]
trade_only = true
"""


def _slug(article: Article) -> str:
    return article.url.rsplit("/", 1)[-1].removesuffix(".html")


def _config_with_event_rule(demo_site: str, sink: SmtpSink, database_url: str, target: Path) -> Path:
    config = render_demo_config(demo_site, sink.port, database_url, target)
    text = config.read_text(encoding="utf-8")
    text = text[: text.index("[[rules]]")] + RULES  # only the event rule, so its alert is the only one
    config.write_text(text, encoding="utf-8")
    return config


@pytest.mark.usefixtures("prefect_harness")
def test_a_rule_on_affected_alerts_for_the_right_article_with_the_event_line(
    demo_site: str, sink: SmtpSink, database_url: str, tmp_path: Path
) -> None:
    config = _config_with_event_rule(demo_site, sink, database_url, tmp_path / "tradewatch.toml")

    summary = ingest(config=str(config))
    deadline = time.monotonic() + 5
    while not sink.messages and time.monotonic() < deadline:
        time.sleep(0.05)

    # Three demo articles have an event affecting China; only one is an export control.
    assert summary.alerts_sent == 1
    (message,) = sink.messages
    assert "export controls" in message["Subject"]
    body = body_text(message)
    assert re.search(r"Event: US → CN · export controls · semiconductors", body), body
    assert "china-export-controls" in body

    engine = make_engine(database_url)
    with Session(engine) as session:
        events = {
            (_slug(a), e.measure, e.implementer.strip(), e.affected.strip())
            for e, a in session.exec(select(TradeEvent, Article).where(TradeEvent.article_id == Article.id))
        }
        non_trade_ids = {a.id for a in session.exec(select(Article).where(Article.is_trade == False))}  # noqa: E712
        assert not {e.article_id for e in session.exec(select(TradeEvent))} & non_trade_ids
    engine.dispose()
    assert ("trade-talks-japan", "agreement_negotiating", "US", "JP") in events
    assert ("eu-steel-anti-dumping", "anti_dumping", "EU", "CN") in events
    assert ("us-chip-export-controls", "export_control", "US", "CN") in events

    listed = CliRunner().invoke(
        app, ["articles", "list", "-c", str(config), "--country", "CN", "--measure", "anti_dumping", "--json"]
    )
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [r["url"].rsplit("/", 1)[-1] for r in rows] == ["eu-steel-anti-dumping.html"]
    assert rows[0]["events"][0]["measure"] == "anti_dumping"
    assert rows[0]["events"][0]["line"].startswith("EU → CN · anti-dumping duty · steel")

    backtest = CliRunner().invoke(
        app, ["rules", "test", "affected:CN AND measure:export_control", "-c", str(config), "--json"]
    )
    assert backtest.exit_code == 0, backtest.output
    assert [h["url"].rsplit("/", 1)[-1] for h in json.loads(backtest.output)] == [
        "us-chip-export-controls.html"
    ]

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        summaries = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["ingest-summary"]))
        )
    ours = [str(a.data) for a in summaries if summary.line() in str(a.data)]
    assert any("## Trade events" in data and "US → CN · export controls" in data for data in ours)

    again = ingest(config=str(config))
    time.sleep(0.3)
    assert again.alerts_sent == 0
    assert len(sink.messages) == 1


def test_an_unknown_measure_in_a_rule_stops_the_configuration_naming_the_rule(
    demo_site: str, sink: SmtpSink, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'db.sqlite'}"
    config = _config_with_event_rule(demo_site, sink, database, tmp_path / "t.toml")
    config.write_text(config.read_text().replace("measure:export_control", "measure:export_contrl"))
    result = CliRunner().invoke(app, ["config", "check", "-c", str(config)])
    assert result.exit_code == 2
    assert "china-export-controls" in result.output
    assert "unknown measure 'export_contrl'" in result.output
