"""`tradewatch stories`: see which articles were taken for copies of one story, and why; split one out.

A story is the articles of several outlets that the pipeline judged to be one piece of news (see
``classifiers.stories`` for the rules). Each joined article shows the earlier article it repeats, the
similarity and the reason, so a person can check the decision, and undo it with ``stories split``
(``flows.stories.split_article``): the article then has a story of its own (remembered, so no rerun or
later copy merges it back), and the alerts it would have sent as a new story are queued for the next run.

This module also gives ``articles list --json`` its ``story`` field. `list` and `show` only read the
store; `split` writes, so it brings the schema up to date first.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.common import ConfigOption, fail, group, iso, settings_for, store, window

if TYPE_CHECKING:  # imported where used: `tradewatch --help` must not load SQLAlchemy
    from sqlmodel import Session

    from storage import repo


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
            "seen_at": iso(m.seen_at),
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


def list_command(
    config: ConfigOption = None,
    since: Annotated[str, typer.Option(help="Stories started within this window: 30m, 12h, 7d, 2w.")] = "7d",
    min_articles: Annotated[
        int, typer.Option("--min-articles", help="Only stories with at least this many articles.")
    ] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array, for scripts.")] = False,
) -> None:
    """Stories carried by several outlets (newest first), with their outlets and why copies joined."""
    from sqlmodel import Session

    from storage import repo, stats
    from storage.models import utcnow

    started = utcnow() - window(since)
    with store(settings_for(config, required=False), write=False) as engine, Session(engine) as session:
        ids = stats.stories_since(session, started, min_articles)
        views = repo.story_views(session, ids)
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
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON, for scripts.")] = False,
) -> None:
    """One story: every article, where it came from, and the similarity that joined it."""
    from sqlmodel import Session

    from storage import repo

    with store(settings_for(config, required=False), write=False) as engine, Session(engine) as session:
        view = repo.story_views(session, [story_id]).get(story_id)
    if view is None:
        raise fail(f"there is no story {story_id}; see `tradewatch stories list`", code=1)
    row = story_json(view)
    if as_json:
        typer.echo(json.dumps(row, ensure_ascii=False, indent=2))
    else:
        _print_story(row)


def split_command(
    article_id: Annotated[
        int, typer.Argument(help="The article to take out of its story (`articles list --json`).")
    ],
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON, for scripts.")] = False,
) -> None:
    """Take a wrongly merged article out of its story into a story of its own; the decision is kept.

    Rules that group by story and match the article queue its alert, sent by the next run: it was held
    back only because it was taken for a copy.
    """
    from sqlmodel import Session

    from flows.stories import split_article
    from storage import repo
    from storage.models import utcnow

    with store(settings_for(config, required=False), write=True) as engine, Session(engine) as session:
        try:
            split = split_article(session, article_id, now=utcnow())
        except repo.NotInAStory as exc:
            raise fail(str(exc), code=1) from None
        session.commit()
    before, queued = split.from_story, split.alerts_queued
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


def register(app: typer.Typer) -> None:
    """Add the `stories` group to the tradewatch app."""
    stories = group(
        app, "stories", "Stories: one piece of news carried by several outlets, alerted once.", plain=False
    )
    stories.command("list")(list_command)
    stories.command("show")(show_command)
    stories.command("split")(split_command)
