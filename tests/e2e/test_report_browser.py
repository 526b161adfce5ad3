"""Issue 10: the HTML report, opened in Debian's Chromium (headless, driven by Playwright), is what it claims.

The report is built by `tradewatch report` from a real SQLite store filled through the repository functions
the pipeline uses: a fortnight of trade stories from the default feeds, alerts sent by two rules, one feed
failing and one hostile title. In the browser: both charts are drawn at their declared size with one bar
per day/source that has articles, the headlines are https links, the hostile title stayed text, and the
page logged no console error (a Content-Security-Policy violation would be one: the file must be
self-contained). The page is saved to ``screenshots/report.png``; it replaces the README's
``docs/report.png`` when that is missing or ``TRADEWATCH_UPDATE_DOCS=1`` (the dates in it change every run,
so an ordinary test run must not leave the checkout modified).
"""

from __future__ import annotations

import os
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage
from sqlmodel import Session
from typer.testing import CliRunner

from cli.app import app
from flows.demo import PROJECT_ROOT
from reports.charts import CHART_WIDTH, DAY_CHART_HEIGHT, source_chart_height
from reports.data import HEADLINES
from storage import repo
from storage.db import init_db, make_engine
from storage.repo import FeedSpec, NewArticle, RuleSpec

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

SCREENSHOT = PROJECT_ROOT / "screenshots" / "report.png"
DOCS_SCREENSHOT = PROJECT_ROOT / "docs" / "report.png"
HOSTILE = (
    "<img src=x onerror=\"document.title='pwned'\"> Tariff truce <script>document.title='pwned'</script>"
)
FEEDS = [
    ("WTO – latest news", "https://www.wto.org/library/rss/latest_news_e.xml"),
    ("Federal Register – USTR", "https://www.federalregister.gov/api/v1/documents.rss?agency=ustr"),
    ("GOV.UK – Trade Remedies Authority", "https://www.gov.uk/government/organisations/tra.atom"),
    ("BBC News – Business", "https://feeds.bbci.co.uk/news/business/rss.xml"),
    ("Google News – tariffs and trade policy", "https://news.google.com/rss/search?q=tariffs"),
]
HEADLINE_WORDS = [
    "EU opens anti-dumping probe into steel wire from three countries",
    "US and Japan resume trade talks on autos and farm goods",
    "New export controls on chipmaking tools take effect",
    "USTR proposes port fees on Chinese-built container ships",
    "WTO panel rules on solar panel safeguard duties",
    "UK extends steel safeguard measures for two years",
    "Canada and Mexico coordinate response to new tariffs",
    "Trade ministers agree to restart dispute settlement talks",
]


def _fill_store(database_url: str, now: datetime) -> tuple[int, int]:
    """A fortnight of trade news; returns (days with trade articles in the last 7 days, sources)."""
    engine = make_engine(database_url)
    init_db(engine)
    rng = random.Random(10)
    with Session(engine) as session:
        feeds = repo.sync_feeds(session, [FeedSpec(name, url) for name, url in FEEDS])
        rules = repo.sync_rules(
            session,
            [
                RuleSpec("tariffs", "tariff OR tariffs", ("desk-email",), trade_only=True),
                RuleSpec("anti-dumping", '"anti-dumping" OR safeguard', ("desk-email",), trade_only=True),
                RuleSpec("export-controls", '"export controls"', ("desk-slack",), trade_only=True),
            ],
        )
        days_with_articles: set[str] = set()
        sources: set[str] = set()
        for n in range(40):
            feed = feeds[min(int(rng.expovariate(0.8)), len(feeds) - 2)]  # the last feed stays quiet
            published = now - timedelta(hours=rng.uniform(0.5, 14 * 24))
            title = HOSTILE if n == 3 else f"{rng.choice(HEADLINE_WORDS)} ({n})"
            article_id = repo.insert_article(
                session,
                NewArticle(
                    canonical_url=f"https://news.example.com/story-{n}",
                    url=f"https://news.example.com/story-{n}?utm_source=feed&a=1",
                    entry_key=f"story-{n}",
                    feed_id=feed.id,
                    title=title,
                    published_at=published,
                    is_trade=n % 5 != 4,
                    trade_score=0.8,
                ),
                now=published + timedelta(minutes=5),
            )
            found = published + timedelta(minutes=5)
            if n % 5 != 4 and found > now - timedelta(days=7):
                days_with_articles.add(found.date().isoformat())
                sources.add(feed.name)
            rule = rules[["tariffs", "anti-dumping", "export-controls"][n % 3]]
            if n % 5 != 4 and article_id is not None:
                repo.enqueue_delivery(
                    session,
                    article_id=article_id,
                    rule_id=int(rule.id or 0),
                    channel=rule.channels[0],
                    mode="instant",
                    now=published + timedelta(minutes=5),
                )
        session.commit()
        claimed = repo.claim_deliveries(session, now=now)
        repo.mark_sent(session, [int(d.id or 0) for d in claimed if d.channel == "desk-email"], now=now)
        repo.record_feed_failure(
            session,
            int(feeds[-1].id or 0),
            now=now,
            next_poll_at=now + timedelta(hours=2),
            reason="http-404",
            message=f"{feeds[-1].url}: HTTP 404 Not Found",
        )
        session.commit()
    engine.dispose()
    return len(days_with_articles), len(sources)


def test_the_report_renders_its_charts_links_and_nothing_else_in_chromium(
    browser: Browser, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'tradewatch.db'}"
    days, sources = _fill_store(database_url, datetime.now(UTC))
    config = tmp_path / "tradewatch.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n', encoding="utf-8")
    report = tmp_path / "report.html"
    result = CliRunner().invoke(
        app, ["report", "--config", str(config), "--since", "7d", "--output", str(report)]
    )
    assert result.exit_code == 0, result.output

    page = browser.new_page(viewport={"width": 1000, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if _bad(m) else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")

    day_chart = page.locator("svg#chart-per-day")
    source_chart = page.locator("svg#chart-per-source")
    for chart, height, bars in (
        (day_chart, DAY_CHART_HEIGHT, days),
        (source_chart, source_chart_height(sources), sources),
    ):
        box = chart.bounding_box()
        assert box is not None, "the chart is on the page"
        assert (round(box["width"]), round(box["height"])) == (CHART_WIDTH, height)
        rects = chart.locator("rect.bar")
        assert rects.count() == bars
        for i in range(bars):
            bar = rects.nth(i).bounding_box()
            assert bar is not None
            assert bar["width"] > 0
            assert bar["height"] > 0, "every bar is drawn"
    assert page.locator("#rules tbody tr").count() == 3
    assert "failing ×1" in page.locator("#trouble").inner_text()
    assert "Google News" in page.locator("#trouble").inner_text()

    links = page.locator("ol.headlines a")
    assert 1 <= links.count() <= HEADLINES
    hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
    assert all(h.startswith("https://news.example.com/story-") for h in hrefs)
    assert all(links.nth(i).inner_text().strip() for i in range(links.count())), "every link has its headline"

    assert page.title().startswith("tradewatch report"), "the hostile title's script never ran"
    assert page.locator("main img, main script").count() == 0, "the hostile title stayed text"
    assert requests == [report.as_uri()], "the report loads nothing but itself"
    assert problems == [], "\n".join(problems)

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000
    if os.environ.get("TRADEWATCH_UPDATE_DOCS") == "1" or not DOCS_SCREENSHOT.exists():
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SCREENSHOT, DOCS_SCREENSHOT)
    page.close()


def _bad(message: ConsoleMessage) -> bool:
    return message.type in ("error", "warning")
