"""The report's trade events: a table of events and a country-pair view, in HTML, markdown and JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from reports.data import build_report
from reports.events import artifact_section
from reports.render import render_html, render_markdown
from storage import repo
from storage.db import init_db, make_engine
from storage.repo import FeedSpec, NewArticle, NewEvent

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script> steel | [x](javascript:alert(2))"


def test_the_report_lists_events_and_counts_country_pairs(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    init_db(engine)
    with Session(engine) as session:
        (feed,) = repo.sync_feeds(session, [FeedSpec("Desk", "https://desk.example.com/rss")])
        events = {
            "a": [
                NewEvent(
                    measure="anti_dumping",
                    implementer=("EU",),
                    affected=("CN",),
                    products=(HOSTILE,),
                    rate_to="17.4–38.1%",
                    effective=date(2025, 6, 13),
                    summary=f"EU → CN · anti-dumping duty · {HOSTILE} · 17.4–38.1% · effective 2025-06-13",
                )
            ],
            "b": [
                NewEvent(
                    measure="tariff_increase",
                    implementer=("EU",),
                    affected=("CN", "US"),
                    summary="EU → CN, US",
                ),
                NewEvent(
                    measure="anti_dumping", implementer=("EU",), affected=("CN",), summary="EU → CN · AD"
                ),
            ],
            "c": [NewEvent(measure="export_ban", implementer=("IN",), summary="IN · export ban · rice")],
            "old": [NewEvent(measure="sanctions", implementer=("GB",), affected=("RU",), summary="old")],
        }
        for slug, found in events.items():
            when = NOW - timedelta(days=30 if slug == "old" else 1)
            article = NewArticle(
                canonical_url=f"https://desk.example.com/{slug}",
                url=f"https://desk.example.com/{slug}",
                entry_key=slug,
                feed_id=feed.id,
                title=f"<b>Story {slug}</b>",
                published_at=when,
                is_trade=True,
            )
            article_id = repo.insert_article(session, article, now=when)
            repo.insert_events(session, article_id or 0, found)
        session.commit()
        data = build_report(session, NOW - timedelta(days=7), NOW)
    engine.dispose()

    assert [(p.implementer, p.affected, p.events) for p in data.pairs] == [
        ("EU", "CN", 3),
        ("EU", "US", 1),
        ("IN", "", 1),
    ]
    assert dict(data.pairs[0].measures) == {"anti_dumping": 2, "tariff_increase": 1}
    assert all(e.summary != "old" for e in data.events)  # found before the period

    page = render_html(data)
    assert '<section id="trade-events">' in page
    assert '<section id="country-pairs">' in page
    assert "anti dumping ×2, tariff increase" in page
    assert "17.4–38.1%" in page
    assert "effective 2025-06-13" in page
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; steel" in page
    assert "&lt;b&gt;Story a&lt;/b&gt;" in page

    markdown = render_markdown(data)
    assert "## Trade events" in markdown
    assert "## Who did what to whom" in markdown
    assert "| EU | CN | 3 | anti dumping ×2, tariff increase |" in markdown
    assert "[x](javascript:" not in markdown  # the brackets are escaped: no link
    assert "\\[x\\](javascript:" in markdown
    assert "\\<script\\>" in markdown

    as_json = data.as_json()
    assert as_json["country_pairs"][0] == {
        "implementer": "EU",
        "affected": "CN",
        "events": 3,
        "measures": {"anti_dumping": 2, "tariff_increase": 1},
    }
    assert {e["measure"] for e in as_json["trade_events"]} == {
        "anti_dumping",
        "tariff_increase",
        "export_ban",
    }


def test_the_run_artifact_lists_new_events_linked_to_their_articles() -> None:
    lines = artifact_section(
        [
            ("US → CN · export controls · semiconductors", "https://x.example/a(1)"),
            ("IN · ban [x](y)", "javascript:1"),
        ]
    )
    assert lines[1] == "## Trade events"
    assert "- [US → CN · export controls · semiconductors](https://x.example/a%281%29)" in lines
    assert "- IN · ban \\[x\\](y)" in lines
    assert artifact_section([]) == []
