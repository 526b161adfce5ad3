"""`tradewatch stories`: see which articles were taken for copies of one story, and why; split one out.

A story is the articles of several outlets that the pipeline judged to be one piece of news (see
``classifiers.stories`` for the rules). Each joined article shows the earlier article it repeats, the
similarity and the reason, so a person can check the decision, and undo it with ``stories split``:
the article then has a story of its own (remembered, so no rerun or later copy merges it back), and the
alerts it would have sent as a new story are queued for the next run.

This module also gives ``articles list --json`` its ``story`` field.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flows.settings import ConfigError, load_settings

if TYPE_CHECKING:  # imported where used: `tradewatch --help` must not load SQLAlchemy
    from sqlmodel import Session

    from storage import repo

_ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="TOML configuration (default: $TRADEWATCH_CONFIG or ./tradewatch.toml)."
    ),
]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def story_json(view: repo.StoryView, article_id: int | None = None) -> dict[str, Any]:
    """A story for scripts: its articles in the order found, each with why it joined.

    With ``article_id``, the fields of that article's own membership come first (how it got there).
    """
    members = [
        {
            "article_id": m.article_id,
            "title": m.title,
            "url": m.url,
            "feed": m.feed,
            "outlet": m.outlet,
            "joined_via": m.joined_via,
            "similarity": m.similarity,
            "reason": m.reason,
            "decided_by": m.decided_by,
            "seen_at": _iso(m.seen_at),
        }
        for m in view.members
    ]
    result: dict[str, Any] = {}
    own = next((m for m in members if m["article_id"] == article_id), None)
    if own is not None:
        result.update(
            joined_via=own["joined_via"],
            similarity=own["similarity"],
            reason=own["reason"],
            decided_by=own["decided_by"],
        )
    result.update(
        id=view.story_id,
        title=view.title,
        articles=len(members),
        outlets=view.outlets,
        sources=members,
    )
    return result


def stories_for_articles(session: Session, article_ids: list[int]) -> dict[int, dict[str, Any]]:
    """article id → its story as JSON (``articles list --json``); articles in no story are absent."""
    from storage import repo

    story_of = repo.stories_of(session, article_ids)
    views = repo.story_views(session, story_of.values())
    return {a: story_json(views[s], a) for a, s in story_of.items() if s in views}


def _engine(config: Path | None) -> Any:
    from storage.db import init_db, make_engine

    try:
        settings = load_settings(config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    engine = make_engine(settings.database.url)
    init_db(engine)
    return engine


def _story_ids_since(session: Session, since: datetime, min_articles: int) -> list[int]:
    from sqlmodel import col, select

    from storage import repo
    from storage.models import Story

    ids = [
        int(story_id)
        for story_id in session.exec(
            select(Story.id).where(col(Story.created_at) >= since).order_by(col(Story.id).desc())
        )
        if story_id is not None
    ]
    views = repo.story_views(session, ids)
    return [i for i in ids if i in views and len(views[i].members) >= min_articles]


def list_command(
    config: _ConfigOption = None,
    since: Annotated[str, typer.Option(help="Stories started within this window: 30m, 12h, 7d, 2w.")] = "7d",
    min_articles: Annotated[
        int, typer.Option("--min-articles", help="Only stories with at least this many articles.")
    ] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array, for scripts.")] = False,
) -> None:
    """Stories carried by several outlets (newest first), with their outlets and why copies joined."""
    from sqlmodel import Session

    from flows.report import parse_window
    from storage import repo
    from storage.models import utcnow

    try:
        window = parse_window(since)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    engine = _engine(config)
    with Session(engine) as session:
        ids = _story_ids_since(session, utcnow() - window, min_articles)
        views = repo.story_views(session, ids)
    engine.dispose()
    rows = [story_json(views[i]) for i in ids]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo(f"no story with {min_articles} or more articles started in the last {since}")
    for row in rows:
        _print_story(row)


def _print_story(row: dict[str, Any]) -> None:
    typer.echo(
        f"story {row['id']}: {row['title']}  ({row['articles']} articles, {len(row['outlets'])} outlets)"
    )
    for m in row["sources"]:
        how = "first" if m["joined_via"] is None else f"repeats {m['joined_via']}: {m['reason']}"
        if m["decided_by"] == "person":
            how = m["reason"] or "placed by a person"
        typer.echo(f"  article {m['article_id']}  {m['feed'] or m['outlet']}  {m['title'][:70]}  [{how}]")


def show_command(
    story_id: Annotated[
        int, typer.Argument(help="A story id (see `stories list` or `articles list --json`).")
    ],
    config: _ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON, for scripts.")] = False,
) -> None:
    """One story: every article, where it came from, and the similarity that joined it."""
    from sqlmodel import Session

    from storage import repo

    engine = _engine(config)
    with Session(engine) as session:
        view = repo.story_views(session, [story_id]).get(story_id)
    engine.dispose()
    if view is None:
        typer.echo(f"error: there is no story {story_id}; see `tradewatch stories list`", err=True)
        raise typer.Exit(1)
    row = story_json(view)
    if as_json:
        typer.echo(json.dumps(row, ensure_ascii=False, indent=2))
    else:
        _print_story(row)


def split_command(
    article_id: Annotated[
        int, typer.Argument(help="The article to take out of its story (`articles list --json`).")
    ],
    config: _ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON, for scripts.")] = False,
) -> None:
    """Take a wrongly merged article out of its story into a story of its own; the decision is kept.

    Rules that group by story and match the article queue its alert, sent by the next run: it was held
    back only because it was taken for a copy.
    """
    from sqlmodel import Session

    from storage import repo
    from storage.models import utcnow

    engine = _engine(config)
    with Session(engine) as session:
        try:
            before = repo.stories_of(session, [article_id]).get(article_id)
            split = repo.split_article(session, article_id, now=utcnow())
        except repo.NotInAStory as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        queued = _queue_split_alerts(session, article_id, split.story_id)
        session.commit()
    engine.dispose()
    result = {
        "article_id": article_id,
        "from_story": before,
        "story": split.story_id,
        "alerts_queued": queued,
    }
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(
        f"article {article_id} split out of story {before} into story {split.story_id}; "
        f"{queued} alert(s) queued for the next run"
    )


def _queue_split_alerts(session: Session, article_id: int, story_id: int) -> int:
    """The alerts the article would have queued had it started its own story (story-grouped rules only)."""
    from sqlmodel import col, select

    from alerts.rules import Document, parse, prepare
    from storage import repo
    from storage.models import AlertRule, Article, Feed

    article = session.get(Article, article_id)
    if article is None:
        return 0
    feed = session.get(Feed, article.feed_id) if article.feed_id is not None else None
    rules = session.exec(
        select(AlertRule).where(col(AlertRule.active)).where(col(AlertRule.grouping) == "story")
    ).all()
    document = prepare(Document(title=article.title, text=article.text, source=feed.name if feed else ""))
    queued = 0
    for rule in rules:
        if rule.trade_only and not article.is_trade:
            continue
        match = parse(rule.query).match(document)
        if match is None:
            continue
        for channel in rule.channels:
            queued += repo.enqueue_delivery(
                session,
                article_id=article_id,
                rule_id=rule.id or 0,
                channel=channel,
                mode=rule.mode,
                match_field=match.field,
                match_sentence=match.sentence,
                match_start=match.hit_start,
                match_end=match.hit_end,
                story_id=story_id,
                kind="story",
            )
    return queued


def register(app: typer.Typer) -> None:
    """Add the ``stories`` commands to the ``tradewatch`` app."""
    stories_app = typer.Typer(
        help="Stories: one piece of news carried by several outlets, alerted once.", no_args_is_help=True
    )
    stories_app.command("list")(list_command)
    stories_app.command("show")(show_command)
    stories_app.command("split")(split_command)
    app.add_typer(stories_app, name="stories")


__all__ = ["register", "stories_for_articles", "story_json"]
