"""`tradewatch articles list` and `articles search`: the stored articles, as lines or JSON.

Both only read the store (no migration). ``article_rows`` is the JSON shape of an article, shared with
`rules test` and the demo's closing table.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import typer

from cli.common import ConfigOption, fail, group, settings_for, store, table
from cli.common import since as since_arg
from flows.settings import Settings


def article_rows(
    settings: Settings,
    *,
    trade_only: bool,
    limit: int | None,
    since: datetime | None = None,
    search: Callable[[str, str, str], bool] | None = None,
    events: dict[str, str | None] | None = None,
) -> list[dict[str, Any]]:
    from sqlmodel import Session

    from cli.stories import stories_for_articles
    from storage import repo

    with store(settings, write=False) as engine, Session(engine) as session:
        if search is not None:
            rows = repo.search_articles(session, search, limit=limit or 50)
        else:
            filters = events or {}
            rows = repo.list_articles(session, trade_only=trade_only, since=since, limit=limit, **filters)
        found = repo.events_for_articles(session, [a.id for a, _f in rows if a.id is not None])
        stories = stories_for_articles(session, [a.id for a, _f in rows if a.id is not None])
        result = [
            {
                "id": a.id,
                "url": a.url,
                "canonical_url": a.canonical_url,
                "title": a.title,
                "author": a.author,
                "feed": f.name if f else None,
                "published_at": a.published_at.isoformat() if a.published_at else None,
                "fetched_at": a.fetched_at.isoformat() if a.fetched_at else None,
                "is_trade": a.is_trade,
                "trade_score": a.trade_score,
                "trade_evidence": a.trade_evidence,
                "classifier_version": a.classifier_version,
                "language": a.language,
                "extraction_status": a.extraction_status,
                "extraction_error": a.extraction_error,
                "events": [_event_json(e) for e in found.get(a.id or 0, [])],
                "text": a.text,
                "story": stories.get(a.id or 0),
            }
            for a, f in rows
        ]
    return result


def _event_json(event: Any) -> dict[str, Any]:
    return {
        "measure": event.measure,
        "implementer": event.implementer_codes,
        "affected": event.affected_codes,
        "products": event.products,
        "hs_chapters": event.hs_chapters,
        "subjects": event.subjects,
        "rate_from": event.rate_from,
        "rate_to": event.rate_to,
        "announced": event.announced.isoformat() if event.announced else None,
        "effective": event.effective.isoformat() if event.effective else None,
        "line": event.summary,
        "evidence": event.evidence,
    }


def _event_filters(
    country: str | None, measure: str | None, implementer: str | None, affected: str | None
) -> dict[str, str | None]:
    """Validate `articles list`'s event options the way rules are validated (exit 2 with the fix)."""
    from classifiers.events import check_rule_field, jurisdiction_code

    if measure is not None and (problem := check_rule_field("measure", measure.casefold())):
        raise fail(f"--measure: {problem}")
    codes: dict[str, str | None] = {}
    for name, value in (("country", country), ("implementer", implementer), ("affected", affected)):
        code = jurisdiction_code(value) if value is not None else None
        if value is not None and code is None:
            raise fail(f"--{name}: unknown country or bloc {value!r}; use an ISO 3166 code such as CN")
        codes[name] = code
    return {**codes, "measure": measure.casefold() if measure else None}


def articles_list(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array, for scripts.")] = False,
    trade_only: Annotated[
        bool, typer.Option("--trade-only", help="Only articles classified as trade.")
    ] = False,
    since: Annotated[
        str | None, typer.Option(help="Only articles fetched within this window, e.g. 7d.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many, newest first.")] = None,
    country: Annotated[
        str | None, typer.Option(help="Only articles with a trade event by or on this country (CN, EU).")
    ] = None,
    measure: Annotated[
        str | None, typer.Option(help="Only articles with a trade event of this kind, e.g. tariff_increase.")
    ] = None,
    implementer: Annotated[str | None, typer.Option(help="Only events taken by this country.")] = None,
    affected: Annotated[str | None, typer.Option(help="Only events affecting this country.")] = None,
) -> None:
    """Stored articles, newest first; with --country/--measure, those reporting such a trade event."""
    events = _event_filters(country, measure, implementer, affected)
    rows = article_rows(
        settings_for(config), trade_only=trade_only, limit=limit, since=since_arg(since), events=events
    )
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    print_article_lines(rows)


def articles_search(
    query: Annotated[
        str,
        typer.Argument(
            help='A rule-language query: words (plurals too), word*, "phrases", OR, -word, title:.'
        ),
    ],
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array, for scripts.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many, most recently stored first.")] = 20,
) -> None:
    """Search stored articles with the rules' query language: the same hits on SQLite and PostgreSQL."""
    from alerts.rules import Document, RuleSyntaxError, parse

    try:
        compiled = parse(query)
    except RuleSyntaxError as exc:
        raise fail(str(exc)) from None
    settings = settings_for(config)

    def matches(title: str, text: str, source: str) -> bool:
        return compiled.match(Document(title=title, text=text, source=source)) is not None

    rows = article_rows(settings, trade_only=False, limit=limit, search=matches)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{len(rows)} article(s) match {query!r}")
    print_article_lines(rows)


def print_article_lines(rows: list[dict[str, Any]]) -> None:
    table(
        rows,
        [
            ("trade", lambda r: "trade" if r["is_trade"] else "-"),
            ("score", lambda r: f"{r['trade_score']:.2f}" if r["trade_score"] is not None else "-"),
            ("published", lambda r: (r["published_at"] or "")[:10]),
            ("feed", lambda r: r["feed"] or ""),
            ("title", lambda r: r["title"]),
            ("trade event", lambda r: r["events"][0]["line"] if r.get("events") else ""),
        ],
    )


def register(app: typer.Typer) -> None:
    """Add the `articles` group to the tradewatch app."""
    articles = group(app, "articles", "Look at stored articles.")
    articles.command("list")(articles_list)
    articles.command("search")(articles_search)
