"""`tradewatch report` on a real SQLite store filled through the repository functions the pipeline uses.

What an operator reads in the report must be right (counts per day and source, rules, troubled feeds,
headlines) and must be safe to open: titles, names and URLs come from strangers' feeds.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import typer
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from cli.app import app as tradewatch
from flows.durations import parse_duration
from reports.charts import CHART_WIDTH, DAY_CHART_HEIGHT, source_chart_height
from reports.data import build_report
from reports.render import render_html, render_markdown, report_markdown_for
from storage import repo
from storage.db import init_db, make_engine
from storage.repo import FeedSpec, NewArticle, RuleSpec

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=7)
HOSTILE_TITLE = "<script>alert(1)</script> Tariffs & [click](javascript:alert(2)) | pipes"
HOSTILE_FEED = '<img src=x onerror="alert(3)">'


@dataclass
class Store:
    engine: Engine
    url: str
    feeds: dict[str, int]


def _article(
    feed_id: int, slug: str, *, published: datetime | None, trade: bool = True, **kw: object
) -> NewArticle:
    values: dict[str, object] = {
        "canonical_url": f"https://news.example.com/{slug}",
        "url": f"https://news.example.com/{slug}",
        "entry_key": slug,
        "feed_id": feed_id,
        "title": f"Story {slug}",
        "published_at": published,
        "is_trade": trade,
        "trade_score": 0.9 if trade else 0.1,
    }
    values.update(kw)
    return NewArticle(**values)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """The store as it was at NOW, for exact dates."""
    yield from _make_store(tmp_path, NOW)


@pytest.fixture
def live_store(tmp_path: Path) -> Iterator[Store]:
    """The same store relative to the real clock, for the command (which reports up to now)."""
    yield from _make_store(tmp_path, datetime.now(UTC))


def _make_store(tmp_path: Path, now: datetime) -> Iterator[Store]:
    """Three feeds, trade and other articles over ten days, two rules with deliveries, one failing feed."""
    url = f"sqlite:///{tmp_path / 'tradewatch.db'}"
    engine = make_engine(url)
    init_db(engine)
    with Session(engine) as session:
        feeds = repo.sync_feeds(
            session,
            [
                FeedSpec("WTO news", "https://wto.example.org/feed.xml"),
                FeedSpec(HOSTILE_FEED, "https://hostile.example.net/rss"),
                FeedSpec("Broken feed", "https://broken.example.com/rss"),
            ],
        )
        ids = {f.name: int(f.id or 0) for f in feeds}
        wto, hostile = ids["WTO news"], ids[HOSTILE_FEED]
        day = lambda n: now - timedelta(days=n)  # noqa: E731
        inserted = {}
        for slug, feed, published, kw in [
            ("a1", wto, day(1), {}),
            ("a2", wto, day(1) - timedelta(hours=2), {}),
            ("a3", wto, day(3), {}),
            ("h1", hostile, day(3), {"title": HOSTILE_TITLE, "url": "javascript:alert(1)"}),
            ("h2", hostile, day(0) - timedelta(hours=1), {"url": "https://hostile.example.net/a?x=1&y=<2>"}),
            ("sport", wto, day(1), {"trade": False}),
            ("old", wto, day(10), {}),  # found before the period: not counted
        ]:
            article = _article(feed, slug, published=published, **kw)  # type: ignore[arg-type]
            inserted[slug] = repo.insert_article(session, article, now=published + timedelta(minutes=5))
        # Old news found yesterday (a feed's back-catalogue on its first poll): counted on the day found.
        inserted["backlog"] = repo.insert_article(
            session, _article(wto, "backlog", published=day(40)), now=day(1)
        )
        # A feed whose clock is wrong: published "next year", found two days ago.
        inserted["future"] = repo.insert_article(
            session, _article(wto, "future", published=now + timedelta(days=300)), now=day(2)
        )
        rules = repo.sync_rules(
            session,
            [
                RuleSpec("tariffs", "tariff OR tariffs", ("desk-email", "desk-slack")),
                RuleSpec("japan", "japan", ("desk-email",)),
            ],
        )
        tariffs, japan = int(rules["tariffs"].id or 0), int(rules["japan"].id or 0)
        for slug in ("a1", "a2"):
            for channel in ("desk-email", "desk-slack"):
                repo.enqueue_delivery(
                    session,
                    article_id=inserted[slug] or 0,
                    rule_id=tariffs,
                    channel=channel,
                    mode="instant",
                    now=day(1),
                )
        repo.enqueue_delivery(
            session,
            article_id=inserted["a3"] or 0,
            rule_id=japan,
            channel="desk-email",
            mode="instant",
            now=day(1),
        )
        # Outside the period: must not count for the rule.
        repo.enqueue_delivery(
            session,
            article_id=inserted["old"] or 0,
            rule_id=japan,
            channel="desk-email",
            mode="instant",
            now=day(10),
        )
        session.commit()
        sent = [d.id for d in repo.claim_deliveries(session, now=day(1)) if d.channel == "desk-email"]
        repo.mark_sent(session, [i for i in sent if i is not None], now=day(1))
        repo.record_feed_failure(
            session,
            ids["Broken feed"],
            now=day(0),
            next_poll_at=now + timedelta(hours=1),
            reason="http-404",
            message="https://broken.example.com/rss: HTTP 404 <Not Found>",
        )
        repo.record_feed_failure(
            session,
            ids["Broken feed"],
            now=day(0),
            next_poll_at=now + timedelta(hours=1),
            reason="http-404",
            message="https://broken.example.com/rss: HTTP 404 <Not Found>",
        )
        session.commit()
    yield Store(engine, url, ids)
    engine.dispose()


def test_trade_articles_are_counted_per_day_and_per_source_within_the_period(store: Store) -> None:
    with Session(store.engine) as session:
        data = build_report(session, SINCE, NOW)
    per_day = dict(data.per_day)
    assert list(per_day) == [date(2025, 6, 8) + timedelta(days=i) for i in range(8)], (
        "every day, zeros included"
    )
    assert per_day[date(2025, 6, 14)] == 3  # a1, a2 and the backlog story (the sport story is not trade)
    assert per_day[date(2025, 6, 12)] == 2  # a3 and the hostile one
    assert per_day[date(2025, 6, 13)] == 1  # the future-dated story
    assert per_day[date(2025, 6, 15)] == 1  # h2
    assert sum(per_day.values()) == len(data.trade) == 7
    assert data.per_source == [("WTO news", 5), (HOSTILE_FEED, 2)]
    assert data.articles_stored == 8, "found in the period, trade or not"
    titles = [a.title for a in data.headlines]
    assert titles[:4] == ["Story h2", "Story a1", "Story a2", "Story future"], "newest news first"
    assert titles[-1] == "Story backlog", "old news found late comes last"
    future = next(a for a in data.trade if a.title == "Story future")
    assert future.published_at == future.found_at, "a published time in the future is not believed"


def test_top_rules_count_distinct_articles_and_what_became_of_their_alerts(store: Store) -> None:
    with Session(store.engine) as session:
        data = build_report(session, SINCE, NOW)
    rules = [(r.rule, r.articles, r.sent, r.pending, r.failed) for r in data.rules]
    # tariffs: 2 articles × 2 channels; the e-mails were sent, the Slack ones were claimed and never marked.
    assert rules == [("tariffs", 2, 2, 2, 0), ("japan", 1, 1, 0, 0)]
    assert data.alerts_sent == 4, "sent in the period, including the alert for an older article"


def test_failing_feeds_are_listed_with_their_reason_and_healthy_ones_are_not(store: Store) -> None:
    with Session(store.engine) as session:
        data = build_report(session, SINCE, NOW)
    assert [(t.name, t.state, t.consecutive_failures, t.reason) for t in data.troubled] == [
        ("Broken feed", "failing", 2, "http-404")
    ]
    html = render_html(data)
    assert "failing ×2" in html
    assert "HTTP 404 &lt;Not Found&gt;" in html


def test_html_escapes_stranger_supplied_text_and_links_only_http_urls(store: Store) -> None:
    with Session(store.engine) as session:
        html = render_html(build_report(session, SINCE, NOW))
    assert "<script" not in html, "no script element at all: the report has none of its own"
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Tariffs &amp;" in html
    assert "javascript:" not in html.replace("[click](javascript:alert(2))", ""), "no javascript: link"
    assert 'href="javascript' not in html
    assert "<img" not in html
    assert "&lt;img src=x onerror=&#34;alert(3)&#34;&gt;" in html  # the template's autoescape
    assert 'href="https://hostile.example.net/a?x=1&amp;y=&lt;2&gt;"' in html
    assert 'href="https://news.example.com/a1"' in html
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert csp, "the report declares a Content-Security-Policy"
    assert "default-src 'none'" in csp.group(1), "nothing may load or run even if escaping failed"


def test_html_charts_have_one_bar_per_day_with_articles_and_one_per_source(store: Store) -> None:
    with Session(store.engine) as session:
        data = build_report(session, SINCE, NOW)
    html = render_html(data)
    day_svg = re.search(r'<svg[^>]*id="chart-per-day".*?</svg>', html, re.S)
    source_svg = re.search(r'<svg[^>]*id="chart-per-source".*?</svg>', html, re.S)
    assert day_svg
    assert source_svg
    assert f'width="{CHART_WIDTH}" height="{DAY_CHART_HEIGHT}"' in day_svg.group(0)
    assert f'height="{source_chart_height(2)}"' in source_svg.group(0)
    day_bars = re.findall(r'class="bar" data-label="([^"]+)" data-count="(\d+)"', day_svg.group(0))
    assert day_bars == [(d.isoformat(), str(n)) for d, n in data.per_day if n]
    source_bars = re.findall(r'class="bar" data-label="[^"]+" data-count="(\d+)"', source_svg.group(0))
    assert source_bars == ["5", "2"]


def test_an_empty_store_gives_a_report_that_says_so() -> None:
    engine = make_engine("sqlite://")
    init_db(engine)
    with Session(engine) as session:
        data = build_report(session, SINCE, NOW)
    engine.dispose()
    html = render_html(data)
    assert "No trade articles in this period" in html
    assert "All active feeds are polling normally." in html
    assert 'class="bar"' not in html
    assert "_No trade articles in this period._" in render_markdown(data)


def test_markdown_embeds_the_charts_as_images_and_keeps_hostile_text_inert(store: Store) -> None:
    markdown = report_markdown_for(store.url, SINCE, NOW)
    images = re.findall(r"!\[([^\]]+)\]\(data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)\)", markdown)
    assert [alt for alt, _ in images] == ["Trade articles per day", "Trade articles per source"]
    day_svg = base64.b64decode(images[0][1]).decode()
    assert day_svg.startswith("<svg")
    assert day_svg.count('class="bar"') == 4
    assert "| Sat 2025-06-14 | 3 | " in markdown, "the numbers are readable where images are not shown"
    # The hostile title cannot open a link, an HTML element or a new table cell.
    line = next(line for line in markdown.splitlines() if "alert(1)" in line)
    assert line.startswith(
        "- \\<script\\>alert(1)\\</script\\> Tariffs & \\[click\\](javascript:alert(2)) \\| pipes"
    )
    assert not re.search(r"(?<!\\)\]\(javascript", markdown), "no javascript: link"
    assert "[Story a1](https://news.example.com/a1)" in markdown
    assert "| tariffs | 2 | 2 | 2 | 0 |" in markdown
    assert "| Broken feed | failing ×2 | **http-404**: " in markdown


@pytest.mark.parametrize(
    ("text", "expected"), [("30m", 30 * 60), ("12h", 12 * 3600), ("7d", 7 * 86400), ("2w", 14 * 86400)]
)
def test_since_accepts_minutes_hours_days_weeks(text: str, expected: int) -> None:
    assert parse_duration(text).total_seconds() == expected


# --- the command ---------------------------------------------------------------------------------------

runner = CliRunner()


def _cli() -> typer.Typer:
    return tradewatch


def _config(tmp_path: Path, store: Store) -> Path:
    path = tmp_path / "tradewatch.toml"
    path.write_text(f'[database]\nurl = "{store.url}"\n', encoding="utf-8")
    return path


def test_report_command_writes_a_self_contained_html_file_and_says_what_it_holds(
    live_store: Store, tmp_path: Path
) -> None:
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()  # --output never creates folders (a mistyped path must fail)
    result = runner.invoke(
        _cli(),
        ["report", "--config", str(_config(tmp_path, live_store)), "--since", "30d", "--output", str(target)],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote {target}: 8 trade articles from 2 sources, 1 feeds in trouble")
    assert "\x1b" not in result.output, "no ANSI escapes when not a terminal"
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert not re.search(r"""(src|href)=["'](?!https?://)""", html), "nothing external but article links"


def test_report_json_has_the_numbers_for_scripts(live_store: Store, tmp_path: Path) -> None:
    result = runner.invoke(
        _cli(), ["report", "--config", str(_config(tmp_path, live_store)), "--json", "--since", "30d"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["trade_articles"] == 8
    assert data["per_source"] == [
        {"feed": "WTO news", "trade_articles": 6},
        {"feed": HOSTILE_FEED, "trade_articles": 2},
    ]
    # Over 30 days the older Japan alert counts too: a tie, broken by name.
    assert [
        (r["rule"], r["articles"], r["sent"], r["pending"], r["failed"], r["active"]) for r in data["rules"]
    ] == [
        ("japan", 2, 2, 0, 0, True),
        ("tariffs", 2, 2, 2, 0, True),
    ]
    assert data["feeds_in_trouble"][0]["reason"] == "http-404"
    assert data["headlines"][0]["url"] == "https://hostile.example.net/a?x=1&y=<2>"
    assert len(data["per_day"]) == 31


def test_report_markdown_to_stdout(live_store: Store, tmp_path: Path) -> None:
    result = runner.invoke(
        _cli(), ["report", "--config", str(_config(tmp_path, live_store)), "--markdown", "--output", "-"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Trade news report\n")


@pytest.mark.parametrize("since", ["7", "7x", "0d", "-1d", "d"])
def test_report_refuses_an_unreadable_period_with_exit_2(
    live_store: Store, tmp_path: Path, since: str
) -> None:
    result = runner.invoke(
        _cli(), ["report", "--config", str(_config(tmp_path, live_store)), "--since", since]
    )
    assert result.exit_code == 2
    assert "30m, 12h, 7d or 2w" in result.output
