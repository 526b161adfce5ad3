"""The report lists a story once, with how many outlets carried it; `stories list/show/split` on a store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session
from typer.testing import CliRunner

from classifiers import stories
from cli.app import app
from reports.data import build_report
from reports.render import render_html, render_markdown
from storage import repo
from storage.db import init_db, make_engine

NOW = datetime.now(UTC)
BODY = (
    "Washington will raise tariffs on Chinese steel and aluminium to 25 percent from March 3, the Commerce "
    "Department said on Monday, in a move officials said answers years of dumping by state-backed mills. "
    "The new duties cover about $4.5 billion of imports a year, according to department figures."
)
OTHER = (
    "The European Union and New Zealand signed a free trade agreement in Brussels that removes duties on "
    "kiwifruit, wine and most manufactured goods, ending four years of negotiations over dairy and beef."
)


def _store(tmp_path: Path) -> tuple[str, Path]:
    url = f"sqlite:///{tmp_path / 'tw.db'}"
    engine = make_engine(url)
    init_db(engine)
    with Session(engine) as session:
        feeds = repo.sync_feeds(
            session, [repo.FeedSpec(name=f"Outlet {n}", url=f"https://o{n}.example/feed") for n in (1, 2, 3)]
        )
        for n, (title, text) in enumerate(
            [
                ("Steel tariffs", BODY),
                ("UPDATE 1-Steel tariffs", BODY + " Share this."),
                ("EU NZ deal", OTHER),
            ]
        ):
            article_url = f"https://o{n + 1}.example/{n}"
            article_id = repo.insert_article(
                session,
                repo.NewArticle(
                    canonical_url=article_url,
                    url=article_url,
                    entry_key=article_url,
                    feed_id=feeds[n].id,
                    title=title,
                    text=text,
                    is_trade=True,
                    published_at=NOW - timedelta(hours=1),
                ),
                now=NOW,
            )
            assert article_id is not None
            item = repo.StoryItem(article_id, stories.fingerprint(title, text), title)
            repo.assign_stories(session, [item], now=NOW, window=timedelta(hours=72))
        session.commit()
    engine.dispose()
    config = tmp_path / "tw.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    return url, config


def test_the_report_lists_a_story_once_with_its_outlets(tmp_path: Path) -> None:
    url, _config = _store(tmp_path)
    engine = make_engine(url)
    with Session(engine) as session:
        data = build_report(session, NOW - timedelta(days=1), NOW + timedelta(minutes=1))
    engine.dispose()
    assert len(data.trade) == 3, "every article still counts as found"
    assert [(h.title, h.outlets) for h in data.headlines] == [("Steel tariffs", 2), ("EU NZ deal", 1)]
    assert "also 1 other outlet" in render_html(data)
    assert "also 1 other outlet" in render_markdown(data)
    assert data.as_json()["headlines"][0]["outlets"] == 2


def test_stories_list_show_and_split_from_the_command_line(tmp_path: Path) -> None:
    _url, config = _store(tmp_path)
    runner = CliRunner()
    listed = runner.invoke(app, ["stories", "list", "--json", "-c", str(config)])
    assert listed.exit_code == 0, listed.output
    (story,) = json.loads(listed.output)
    assert story["articles"] == 2
    assert story["outlets"] == ["o1.example", "o2.example"]
    joined = story["sources"][1]
    assert joined["joined_via"] == story["sources"][0]["article_id"]
    assert "alike" in joined["reason"]

    shown = runner.invoke(app, ["stories", "show", str(story["id"]), "-c", str(config)])
    assert shown.exit_code == 0
    assert f"repeats {joined['joined_via']}: body" in shown.output

    split = runner.invoke(app, ["stories", "split", str(joined["article_id"]), "-c", str(config)])
    assert split.exit_code == 0, split.output
    assert f"split out of story {story['id']}" in split.output
    assert json.loads(runner.invoke(app, ["stories", "list", "--json", "-c", str(config)]).output) == []

    missing = runner.invoke(app, ["stories", "split", "9999", "-c", str(config)])
    assert missing.exit_code == 1
    assert "article 9999 does not exist" in missing.output
