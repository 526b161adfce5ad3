"""`tradewatch feeds`: the health of each feed (read from the store), and the feed list in the configuration.

`status` only reads the store. `add`, `remove`, `import` and `export` edit or print the configuration
file, never the store (``flows.feedlist`` keeps the TOML's comments); the next run polls what they add.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import ConfigOption, config_path, fail, group, iso, settings_for, store, table
from flows.settings import ConfigError, load_settings


def feeds_status(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array, for scripts.")] = False,
) -> None:
    """Per feed: last success, last error and reason, failure streak, next poll, items seen, silence."""
    from sqlmodel import Session

    from extractors.redact import redact_text, redact_url
    from storage import repo

    with store(settings_for(config), write=False) as engine, Session(engine) as session:
        health = repo.feed_health(session, datetime.now(UTC))
    rows = [
        {
            "name": h.feed.name,
            "url": redact_url(h.feed.url),
            "active": h.feed.active,
            "last_success_at": iso(h.feed.last_success_at),
            "last_polled_at": iso(h.feed.last_polled_at),
            "last_error_reason": h.feed.last_error_reason if h.feed.consecutive_failures else None,
            "last_error": redact_text(h.feed.last_error or "") or None
            if h.feed.consecutive_failures
            else None,
            "consecutive_failures": h.feed.consecutive_failures,
            "next_poll_at": iso(h.feed.next_poll_at),
            "items_seen": h.feed.items_seen,
            "articles": h.articles,
            "latest_article_at": iso(h.latest_article_at),
            "usual_cadence_hours": round(h.cadence.total_seconds() / 3600, 2) if h.cadence else None,
            "silent": h.silent,
            "warning": h.feed.last_warning,
        }
        for h in health
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table(
        rows,
        [
            ("feed", lambda r: r["name"]),
            ("state", _feed_state),
            ("last success", lambda r: (r["last_success_at"] or "never")[:16]),
            ("next poll", lambda r: (r["next_poll_at"] or "-")[:16]),
            ("items", lambda r: str(r["items_seen"])),
            ("last error", lambda r: r["last_error_reason"] or ""),
        ],
    )


def feeds_add(
    url: Annotated[str, typer.Argument(help="The feed's http(s) URL, or a web page that links to its feed.")],
    name: Annotated[str | None, typer.Option(help="A label for the feed (default: its host).")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="A tag; repeatable.")] = None,
    check: Annotated[
        bool, typer.Option(help="Fetch the URL first: a web page is replaced by the feed it advertises.")
    ] = True,
    config: ConfigOption = None,
) -> None:
    """Add a feed to the configuration file (kept with its comments); the next run polls it."""
    from urllib.parse import urlsplit

    from flows.feedlist import FeedLine, add_feeds, discover_feed
    from flows.settings import FeedSettings

    path = config_path(config)
    try:
        FeedSettings(name=name or "feed", url=url)
    except ValueError:
        raise fail(f"{url!r}: a feed URL must start with http:// or https://") from None
    if not path.is_file():
        raise fail(f"{path}: configuration file not found; create one with `tradewatch init {path}`")
    note = ""
    if check:
        try:
            found = discover_feed(url, load_settings(path).fetch.policy())
        except ConfigError as exc:
            raise fail(str(exc), code=1 if "advertises none" in str(exc) else 2) from None
        url, note = found.url, found.note
    line = FeedLine(name=name or urlsplit(url).hostname or url, url=url, tags=tuple(tag or ()))
    try:
        added = add_feeds(path, [line])
    except ConfigError as exc:
        raise fail(str(exc)) from None
    if note:
        typer.echo(note)
    typer.echo(
        f"added {line.name!r} ({url}) to {path}" if added else f"{url} is already configured in {path}"
    )


def feeds_remove(
    feed: Annotated[str, typer.Argument(help="The feed's name or URL.")],
    config: ConfigOption = None,
) -> None:
    """Remove a feed from the configuration file; its stored articles are kept."""
    from flows.feedlist import remove_feed

    path = config_path(config)
    try:
        removed = remove_feed(path, feed)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"removed {removed.name!r} ({removed.url}) from {path}")


def feeds_import(
    opml: Annotated[Path, typer.Argument(help="An OPML file exported from another feed reader.")],
    config: ConfigOption = None,
) -> None:
    """Add every feed of an OPML file to the configuration (folders become tags; duplicates skipped)."""
    from flows.feedlist import add_feeds, read_opml

    if not opml.is_file():
        raise fail(f"{opml}: no such file; give the path of an .opml file")
    path = config_path(config)
    try:
        lines = read_opml(opml.read_bytes())
        added = add_feeds(path, lines, rename_duplicates=True)
    except ConfigError as exc:
        raise fail(f"{opml}: {exc}") from None
    typer.echo(f"imported {len(added)} new feed(s) of {len(lines)} into {path}")


def feeds_export(config: ConfigOption = None) -> None:
    """Print the configured feeds as OPML 2.0 (for another feed reader, or a backup)."""
    from flows.feedlist import write_opml

    typer.echo(write_opml(settings_for(config)), nl=False)


def _feed_state(row: dict[str, Any]) -> str:
    if not row["active"]:
        return "inactive"
    if row["consecutive_failures"]:
        return f"failing x{row['consecutive_failures']}"
    return "SILENT" if row["silent"] else "ok"


def register(app: typer.Typer) -> None:
    """Add the `feeds` group to the tradewatch app."""
    feeds = group(app, "feeds", "Feed health and management.")
    feeds.command("status")(feeds_status)
    feeds.command("add")(feeds_add)
    feeds.command("remove")(feeds_remove)
    feeds.command("import")(feeds_import)
    feeds.command("export")(feeds_export)
