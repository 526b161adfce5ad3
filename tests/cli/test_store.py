"""CLI views of the store (`articles list`, `alerts status`, `rules test`, `feeds status`) on real rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from cli.app import app
from storage import repo
from storage.db import init_db, make_engine

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    url = f"sqlite:///{tmp_path / 'tw.db'}"
    engine = make_engine(url)
    init_db(engine)
    with Session(engine) as session:
        (feed,) = repo.sync_feeds(session, [repo.FeedSpec("Wire", "https://wire.example/rss")])
        rules = repo.sync_rules(session, [repo.RuleSpec("steel", "steel", ("desk",))])
        articles = [
            ("https://wire.example/steel", "EU steel duties", "The EU set duties on steel imports.", True),
            ("https://wire.example/nba", "Hawks trade guard", "The Hawks traded their guard.", False),
        ]
        ids = []
        for url_, title, text, is_trade in articles:
            ids.append(
                repo.insert_article(
                    session,
                    repo.NewArticle(
                        canonical_url=url_,
                        url=url_,
                        entry_key=url_,
                        feed_id=feed.id,
                        title=title,
                        text=text,
                        is_trade=is_trade,
                        trade_score=0.9 if is_trade else 0.0,
                        published_at=datetime(2026, 11, 20, tzinfo=UTC),
                    ),
                )
            )
        rule_id = rules["steel"].id
        assert ids[0] is not None
        assert rule_id is not None
        repo.enqueue_delivery(session, article_id=ids[0], rule_id=rule_id, channel="desk", mode="instant")
        (row,) = repo.claim_deliveries(session, now=datetime.now(UTC))
        assert row.id is not None
        repo.mark_attempt_failed(
            session, [row.id], now=datetime.now(UTC), error="smtp connect failed", retry_at=None
        )
        session.commit()
    engine.dispose()
    path = tmp_path / "tw.toml"
    path.write_text(f"[database]\nurl = '{url}'\n", encoding="utf-8")
    return path


def test_articles_list_json_has_the_documented_fields(config: Path) -> None:
    result = runner.invoke(app, ["articles", "list", "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {r["title"] for r in rows} == {"EU steel duties", "Hawks trade guard"}
    for key in ("url", "title", "text", "is_trade", "trade_score", "feed", "published_at"):
        assert key in rows[0]
    assert rows[0]["feed"] == "Wire"
    trade = json.loads(
        runner.invoke(app, ["articles", "list", "--json", "--trade-only", "--config", str(config)]).output
    )
    assert [r["title"] for r in trade] == ["EU steel duties"]


def test_articles_list_for_people_is_plain_text_in_a_pipe(config: Path) -> None:
    result = runner.invoke(app, ["articles", "list", "--config", str(config)])
    assert result.exit_code == 0
    assert "\x1b[" not in result.output
    assert "EU steel duties" in result.output


def test_alerts_status_shows_the_failed_delivery_and_its_reason(config: Path) -> None:
    result = runner.invoke(app, ["alerts", "status", "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["counts"] == {"failed": 1}
    (row,) = data["deliveries"]
    assert (row["status"], row["rule"], row["channel"], row["last_error"]) == (
        "failed",
        "steel",
        "desk",
        "smtp connect failed",
    )
    table = runner.invoke(app, ["alerts", "status", "--config", str(config)])
    assert "smtp connect failed" in table.output
    assert "\x1b[" not in table.output


def test_rules_test_backtests_with_the_matched_sentence(config: Path) -> None:
    result = runner.invoke(
        app, ["rules", "test", "steel -football", "--since", "3650d", "--json", "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    (hit,) = json.loads(result.output)
    assert hit["title"] == "EU steel duties"
    assert hit["hit"].lower() == "steel"
    assert "steel imports" in hit["sentence"]
    whole_word = runner.invoke(
        app, ["rules", "test", "trade", "--since", "3650d", "--json", "--config", str(config)]
    )
    assert [h["title"] for h in json.loads(whole_word.output)] == ["Hawks trade guard"]


def test_rules_test_with_a_broken_query_exits_2_with_the_position(config: Path) -> None:
    result = runner.invoke(app, ["rules", "test", "steel AND (", "--config", str(config)])
    assert result.exit_code == 2
    assert "position" in result.output


def test_feeds_status_json_lists_each_feed_with_its_counters(config: Path) -> None:
    result = runner.invoke(app, ["feeds", "status", "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    (feed,) = json.loads(result.output)
    assert (feed["name"], feed["articles"], feed["consecutive_failures"], feed["silent"]) == (
        "Wire",
        2,
        0,
        False,
    )


def test_articles_search_finds_by_words(config: Path) -> None:
    result = runner.invoke(app, ["articles", "search", "steel imports", "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert [r["title"] for r in json.loads(result.output)] == ["EU steel duties"]
    plain = runner.invoke(app, ["articles", "search", "guard", "--config", str(config)])
    assert "1 article(s) match" in plain.output
    assert "Hawks trade guard" in plain.output
