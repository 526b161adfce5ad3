"""The ``tradewatch`` command line: runs, the demo, extraction, and looks into the store.

Exit status: 0 when the command did its job (a run with failed feeds still completed: failures are
counted in the summary line), 1 when the thing asked for could not be done (a page that cannot be
extracted), 2 for unusable configuration or arguments, with a message naming the field and the fix.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from flows.settings import ConfigError, Settings, load_settings, require_config

# Help is plain click text (rich_markup_mode=None): it fits 80 columns, keeps `[classifier]` and
# `[[feeds]]` literal (rich markup would swallow them), shows flags without a `<bool>` type, and does
# not import rich, so `--help` answers at once.
app = typer.Typer(
    name="tradewatch",
    help="Watch international-trade news feeds and alert people when something they care about is published.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
articles_app = typer.Typer(help="Look at stored articles.", no_args_is_help=True, rich_markup_mode=None)
classifier_app = typer.Typer(
    help="Train and evaluate a trade classifier on your own labels.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(articles_app, name="articles")
app.add_typer(classifier_app, name="classifier")
feeds_app = typer.Typer(help="Feed health and management.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(feeds_app, name="feeds")
alerts_app = typer.Typer(
    help="The alert outbox: what was sent, what waits, what failed; send what is due.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(alerts_app, name="alerts")
rules_app = typer.Typer(help="Alert rules.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(rules_app, name="rules")
db_app = typer.Typer(help="Database schema.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(db_app, name="db")


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            installed = version("tradewatch")
        except PackageNotFoundError:
            installed = "(not installed; run from a checkout)"
        typer.echo(f"tradewatch {installed}")
        raise typer.Exit()


@app.callback()
def _root(
    _version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Watch international-trade news feeds and alert people when something they care about is published."""


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="TOML configuration (default: $TRADEWATCH_CONFIG or ./tradewatch.toml)."
    ),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _settings(config: Path | None, *, required: bool = True) -> Settings:
    """The configuration; ``required`` refuses to answer from defaults when no file was found."""
    try:
        if required:
            require_config(config)
        return load_settings(config)
    except ConfigError as exc:
        raise _fail(str(exc)) from None


#: Prefect's temporary API server took 35-40 s to start on a busy 2-core machine, against Prefect's
#: default limit of 20 s; the limit is only a bound on failure, so a generous one costs nothing.
EPHEMERAL_STARTUP_TIMEOUT_S = 180


def _prefect_env(*, quiet_console: bool) -> None:
    """Prefect settings for commands that run flows; each only where the user has not set it.

    ``quiet_console`` keeps Prefect's INFO lines off the terminal of `run` and `demo` (the progress and
    the summary line say what happened) by raising the console handler's level, not the loggers': the
    loggers stay at INFO, so every flow run still sends its logs to the API and its run page shows them.
    (``PREFECT_LOGGING_LEVEL=WARNING`` did that too, and `serve` passed it to every flow run it started.)
    """
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "tradewatch")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault(
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(EPHEMERAL_STARTUP_TIMEOUT_S)
    )
    if quiet_console:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")


def _prefect_api(*, announce: bool) -> None:
    """Fail in one line when PREFECT_API_URL names a server that does not answer; else say what we wait for.

    Without a URL, Prefect starts a temporary server for this process, which takes tens of seconds on a
    busy machine: ``announce`` says so on stderr, so a silent terminal is not mistaken for a hang.
    """
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    url = PREFECT_API_URL.value()
    if not url:
        if announce:
            typer.echo(
                "waiting for Prefect's temporary API server to start (tens of seconds on a busy machine; "
                f"limit {PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()} s) ...",
                err=True,
            )
        return
    import httpx

    loopback = (httpx.URL(url).host or "") in ("127.0.0.1", "localhost", "::1")
    try:
        httpx.get(f"{url.rstrip('/')}/health", timeout=10, trust_env=not loopback)
    except httpx.TransportError as exc:
        raise _fail(_dead_api(url, exc), code=1) from None


def _dead_api(url: str, exc: BaseException) -> str:
    return (
        f"the Prefect API at PREFECT_API_URL={url} does not answer ({type(exc).__name__}); "
        "start it with `prefect server start`, or unset PREFECT_API_URL to let tradewatch start a "
        "temporary one for this command"
    )


def _check_feed_selection(settings: Settings, wanted: list[str]) -> None:
    """`run --feed X` with an X no feed has would poll nothing and exit 0; refuse it, listing the choices."""
    names = [f.name for f in settings.feeds]
    tags = sorted({tag for f in settings.feeds for tag in f.tags})
    known = {*names, *tags, *(f.url for f in settings.feeds)}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        import difflib

        guesses = [g for w in unknown for g in difflib.get_close_matches(w, [*names, *tags], n=1)]
        hint = f" (did you mean {', '.join(map(repr, guesses))}?)" if guesses else ""
        raise _fail(
            f"--feed {', '.join(map(repr, unknown))}: no configured feed has this name, URL or tag{hint}; "
            f"names: {', '.join(names)}; tags: {', '.join(tags) or 'none'}"
        )


@app.command()
def run(
    config: ConfigOption = None,
    feed: Annotated[
        list[str] | None, typer.Option("--feed", "-f", help="Only this feed (name, URL or tag); repeatable.")
    ] = None,
    due_only: Annotated[bool, typer.Option(help="Skip feeds whose next poll time has not come.")] = False,
    dry_run: Annotated[
        bool, typer.Option(help="Fetch, extract and classify; store and send nothing.")
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print only the summary, as JSON, on stdout (the summary line goes to stderr)."
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress; only the summary line.")] = False,
) -> None:
    """One ingest + delivery run of the configured feeds, through the Prefect flow."""
    settings = _settings(config)
    if not settings.feeds:
        raise _fail(
            f"{config or 'configuration'}: no [[feeds]] configured; add at least one feed (name, url)"
        )
    if feed:
        _check_feed_selection(settings, feed)
    _prefect_env(quiet_console=True)
    _prefect_api(announce=not (quiet or as_json))
    with _progress(enabled=not (quiet or as_json)):
        # A feed given by its URL is passed on by name: Prefect stores and shows flow parameters, and a
        # feed URL may carry a token.
        by_url = {f.url: f.name for f in settings.feeds}
        chosen = [by_url.get(f, f) for f in feed or []]
        summary = _run_flow(str(config) if config else None, chosen, due_only, dry_run)
    if as_json:
        typer.echo(summary.model_dump_json())
        typer.echo(summary.line(), err=True)
        return
    if not quiet:
        _print_failures(summary)
    typer.echo(summary.line())


@contextmanager
def _progress(*, enabled: bool) -> Iterator[None]:
    """A progress bar on a terminal (stderr), one plain line per feed otherwise; nothing when disabled."""
    from flows.progress import listening

    if not enabled:
        yield
        return
    if sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        bar = Progress(
            TextColumn("polling feeds"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            transient=True,
        )
        task_id = bar.add_task("", total=None)

        def advance(outcome: Any, done: int, total: int) -> None:
            bar.update(task_id, completed=done, total=total, description=outcome.name[:40])

        with bar, listening(advance):
            yield
        return

    def line(outcome: Any, done: int, total: int) -> None:
        detail = f"{outcome.reason}" if outcome.status == "failed" else f"{outcome.new_articles} new"
        typer.echo(f"[{done}/{total}] {outcome.name}: {outcome.status}, {detail}", err=True)

    with listening(line):
        yield


def _print_failures(summary: Any) -> None:
    """Failures by classified reason, just above the summary line (which stays last for scripts)."""
    if summary.failures_by_reason:
        reasons = ", ".join(f"{reason}={n}" for reason, n in sorted(summary.failures_by_reason.items()))
        typer.echo(f"failures by reason: {reasons}  (details: tradewatch feeds status)")


def _run_flow(config: str | None, feeds: list[str], due_only: bool, dry_run: bool) -> Any:
    from flows.ingest import ingest

    return ingest(config=config, feeds=feeds, due_only=due_only, dry_run=dry_run)


def _demo_database(port: int) -> str:
    """The demo's store, one per port: stored URLs name the port, so another port is another demo."""
    from flows.demo import DEMO_PORT

    return (
        "sqlite:///data/demo/tradewatch.db"
        if port == DEMO_PORT
        else f"sqlite:///data/demo/tradewatch-{port}.db"
    )


@app.command()
def demo(
    database: Annotated[
        str | None,
        typer.Option(help="Where the demo stores articles (default: data/demo/tradewatch.db, one per port)."),
    ] = None,
    port: Annotated[int, typer.Option(help="Port of the demo site on 127.0.0.1.")] = 8765,
    site_only: Annotated[
        bool, typer.Option("--site-only", help="Only serve the demo site (and its feeds) until Ctrl-C.")
    ] = False,
) -> None:
    """Serve the bundled demo site on 127.0.0.1, run the real pipeline on it, print the alerts received."""
    import time

    from flows import demo as demo_site

    def show(message: Any) -> None:
        typer.echo("\n=== alert received by the demo SMTP sink " + "=" * 30)
        typer.echo(f"From: {message['From']}\nTo: {message['To']}\nSubject: {message['Subject']}\n")
        typer.echo(demo_site.body_text(message).strip())
        typer.echo("=" * 72)

    database = database or _demo_database(port)
    with ExitStack() as stack:
        try:
            base_url = stack.enter_context(demo_site.serve_site(port=port))
        except OSError as exc:
            raise _fail(
                f"127.0.0.1:{port} is in use ({exc.strerror}): another `tradewatch demo --site-only`, or "
                "another program; stop it, or pick another port with --port N (that demo keeps its own "
                "database)",
                code=1,
            ) from None
        typer.echo(f"demo site: {base_url}/  (feeds: {base_url}/feeds/rss.xml, {base_url}/feeds/atom.xml)")
        if site_only:
            typer.echo("serving until Ctrl-C ...")
            with suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
            return
        _prefect_env(quiet_console=True)
        sink = stack.enter_context(demo_site.smtp_sink(on_message=show))
        config = demo_site.render_demo_config(
            base_url, sink.port, database, Path("data/demo/tradewatch.toml")
        )
        typer.echo(f"SMTP sink: 127.0.0.1:{sink.port}   configuration: {config}   database: {database}")
        settings = _settings(config)
        _prefect_api(announce=True)
        with _progress(enabled=True):
            summary = _run_flow(str(config), [], False, False)
        deadline = time.monotonic() + 5
        while len(sink.messages) < summary.alerts_sent and time.monotonic() < deadline:
            time.sleep(0.05)
        _print_articles_table(settings)
    _print_failures(summary)
    typer.echo(summary.line())


@app.command()
def serve(config: ConfigOption = None) -> None:
    """Serve the scheduled and manual deployments from this process (one machine; see deployments/)."""
    import importlib.util

    _settings(config)
    _prefect_env(quiet_console=False)
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        typer.echo(
            "note: PREFECT_API_URL is not set, so the deployments are served on a temporary Prefect server "
            "that only this process sees; for the UI, run `prefect server start` and export "
            "PREFECT_API_URL=http://127.0.0.1:4200/api",
            err=True,
        )
    _prefect_api(announce=False)
    path = Path(__file__).resolve().parent.parent / "deployments" / "serve.py"
    spec = importlib.util.spec_from_file_location("tradewatch_serve", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise _fail(f"{path} is missing; reinstall tradewatch (pip install .) from a full checkout", code=1)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    typer.echo("serving the tradewatch deployments (Ctrl-C stops them) ...", err=True)
    module.main(str(config.resolve()) if config else None)


def _print_articles_table(settings: Settings) -> None:
    rows = _article_rows(settings, trade_only=False, limit=None)
    typer.echo(f"\nstored articles ({len(rows)}):")
    for row in rows:
        flag = "TRADE" if row["is_trade"] else "     "
        typer.echo(f"  {flag} {row['trade_score']:.2f}  {row['title'][:80]}")


@app.command()
def extract(
    source: Annotated[str, typer.Argument(help="An HTML file, or an http(s) URL to fetch.")],
    config: ConfigOption = None,
) -> None:
    """Print the extracted article (title, author, published, url, text) as JSON."""
    from extractors.article import extract as extract_article
    from extractors.errors import StageError

    url: str | None = None
    try:
        if source.startswith(("http://", "https://")):
            from extractors.http import fetch_page_sync

            response = fetch_page_sync(source, _settings(config, required=False).fetch.policy())
            html: bytes = response.content
            url = response.url
        else:
            path = Path(source)
            if not path.is_file():
                raise _fail(f"{source}: no such file; give an HTML file path or an http(s):// URL")
            html = path.read_bytes()
        article = extract_article(html, url)
    except StageError as exc:
        raise _fail(str(exc), code=1) from None
    payload = {
        "title": article.title,
        "author": article.author,
        "published": article.published.isoformat() if article.published else None,
        "url": article.url or url,
        "canonical_url": article.canonical_url,
        "language": article.language,
        "text": article.text,
    }
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))


def _article_rows(
    settings: Settings,
    *,
    trade_only: bool,
    limit: int | None,
    since: datetime | None = None,
    search: Callable[[str, str, str], bool] | None = None,
    events: dict[str, str | None] | None = None,
) -> list[dict[str, Any]]:
    from sqlmodel import Session

    from flows.stories import stories_for_articles
    from storage import repo
    from storage.db import init_db, make_engine

    engine = make_engine(settings.database.url)
    init_db(engine)
    with Session(engine) as session:
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
    engine.dispose()
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
        raise _fail(f"--measure: {problem}")
    codes: dict[str, str | None] = {}
    for name, value in (("country", country), ("implementer", implementer), ("affected", affected)):
        code = jurisdiction_code(value) if value is not None else None
        if value is not None and code is None:
            raise _fail(f"--{name}: unknown country or bloc {value!r}; use an ISO 3166 code such as CN")
        codes[name] = code
    return {**codes, "measure": measure.casefold() if measure else None}


def _parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    number, unit = value[:-1], value[-1:]
    if unit not in units or not number.isdigit():
        raise _fail(f"--since {value!r}: use a number and a unit, such as 30m, 12h, 7d or 2w")
    return datetime.now(UTC) - timedelta(**{units[unit]: int(number)})


@articles_app.command("list")
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
    rows = _article_rows(
        _settings(config), trade_only=trade_only, limit=limit, since=_parse_since(since), events=events
    )
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    _print_article_lines(rows)


def _print_article_lines(rows: list[dict[str, Any]]) -> None:
    _table(
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


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@feeds_app.command("status")
def feeds_status(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array, for scripts.")] = False,
) -> None:
    """Per feed: last success, last error and reason, failure streak, next poll, items seen, silence."""
    from sqlmodel import Session

    from extractors.redact import redact_text, redact_url
    from storage import repo
    from storage.db import init_db, make_engine

    engine = make_engine(_settings(config).database.url)
    init_db(engine)
    with Session(engine) as session:
        health = repo.feed_health(session, datetime.now(UTC))
    engine.dispose()
    rows = [
        {
            "name": h.feed.name,
            "url": redact_url(h.feed.url),
            "active": h.feed.active,
            "last_success_at": _iso(h.feed.last_success_at),
            "last_polled_at": _iso(h.feed.last_polled_at),
            "last_error_reason": h.feed.last_error_reason if h.feed.consecutive_failures else None,
            "last_error": redact_text(h.feed.last_error or "") or None
            if h.feed.consecutive_failures
            else None,
            "consecutive_failures": h.feed.consecutive_failures,
            "next_poll_at": _iso(h.feed.next_poll_at),
            "items_seen": h.feed.items_seen,
            "articles": h.articles,
            "latest_article_at": _iso(h.latest_article_at),
            "usual_cadence_hours": round(h.cadence.total_seconds() / 3600, 2) if h.cadence else None,
            "silent": h.silent,
            "warning": h.feed.last_warning,
        }
        for h in health
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    _table(
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


def _config_path(config: Path | None) -> Path:
    """The file feed commands edit: --config, else $TRADEWATCH_CONFIG, else ./tradewatch.toml."""
    return config or Path(os.environ.get("TRADEWATCH_CONFIG") or "tradewatch.toml")


@feeds_app.command("add")
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

    path = _config_path(config)
    try:
        FeedSettings(name=name or "feed", url=url)
    except ValueError:
        raise _fail(f"{url!r}: a feed URL must start with http:// or https://") from None
    if not path.is_file():
        raise _fail(f"{path}: configuration file not found; create one with `tradewatch init {path}`")
    note = ""
    if check:
        try:
            found = discover_feed(url, load_settings(path).fetch.policy())
        except ConfigError as exc:
            raise _fail(str(exc), code=1 if "advertises none" in str(exc) else 2) from None
        url, note = found.url, found.note
    line = FeedLine(name=name or urlsplit(url).hostname or url, url=url, tags=tuple(tag or ()))
    try:
        added = add_feeds(path, [line])
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    if note:
        typer.echo(note)
    typer.echo(
        f"added {line.name!r} ({url}) to {path}" if added else f"{url} is already configured in {path}"
    )


@feeds_app.command("remove")
def feeds_remove(
    feed: Annotated[str, typer.Argument(help="The feed's name or URL.")],
    config: ConfigOption = None,
) -> None:
    """Remove a feed from the configuration file; its stored articles are kept."""
    from flows.feedlist import remove_feed

    path = _config_path(config)
    try:
        removed = remove_feed(path, feed)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"removed {removed.name!r} ({removed.url}) from {path}")


@feeds_app.command("import")
def feeds_import(
    opml: Annotated[Path, typer.Argument(help="An OPML file exported from another feed reader.")],
    config: ConfigOption = None,
) -> None:
    """Add every feed of an OPML file to the configuration (folders become tags; duplicates skipped)."""
    from flows.feedlist import add_feeds, read_opml

    if not opml.is_file():
        raise _fail(f"{opml}: no such file; give the path of an .opml file")
    path = _config_path(config)
    try:
        lines = read_opml(opml.read_bytes())
        added = add_feeds(path, lines, rename_duplicates=True)
    except ConfigError as exc:
        raise _fail(f"{opml}: {exc}") from None
    typer.echo(f"imported {len(added)} new feed(s) of {len(lines)} into {path}")


@feeds_app.command("export")
def feeds_export(config: ConfigOption = None) -> None:
    """Print the configured feeds as OPML 2.0 (for another feed reader, or a backup)."""
    from flows.feedlist import write_opml

    typer.echo(write_opml(_settings(config)), nl=False)


def _feed_state(row: dict[str, Any]) -> str:
    if not row["active"]:
        return "inactive"
    if row["consecutive_failures"]:
        return f"failing x{row['consecutive_failures']}"
    return "SILENT" if row["silent"] else "ok"


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, Any]]) -> None:
    """A readable table on a terminal (rich), tab-separated plain lines otherwise: no ANSI in pipes."""
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(*[name for name, _ in columns])
        for row in rows:
            table.add_row(*[str(getter(row)) for _, getter in columns])
        Console().print(table)
        return
    typer.echo("\t".join(name for name, _ in columns))
    for row in rows:
        typer.echo("\t".join(str(getter(row)) for _, getter in columns))


#: When the served digest deployments run (deployments/serve.py and prefect.yaml: "0 * * * *" and
#: "0 7 * * *", UTC); `alerts status` tells each waiting digest alert when it will go.
HOURLY_DIGEST_MINUTE = 0
DAILY_DIGEST_HOUR = 7


def _next_digest(mode: str, now: datetime) -> datetime:
    """The next run of the hourly or daily digest deployment after ``now`` (UTC)."""
    if mode == "hourly":
        at = now.replace(minute=HOURLY_DIGEST_MINUTE, second=0, microsecond=0)
        return at if at > now else at + timedelta(hours=1)
    at = now.replace(hour=DAILY_DIGEST_HOUR, minute=0, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


def _when(row: dict[str, Any], now: datetime) -> str:
    """When a delivery goes, in words: a digest with its next scheduled run, an instant alert's retry."""
    if row["status"] == "sent":
        return f"sent {(row['sent_at'] or '')[:16].replace('T', ' ')}"
    if row["status"] == "failed":
        return "given up (8 attempts); it will not be retried"
    if row["mode"] in ("hourly", "daily"):
        at = _next_digest(row["mode"], now)
        return (
            f"{row['mode']} digest: {at:%Y-%m-%d %H:%M} UTC under `tradewatch serve`, "
            f"or now with `tradewatch alerts send --digest {row['mode']}`"
        )
    due = row["next_attempt_at"]
    if not due or datetime.fromisoformat(due).replace(tzinfo=UTC) <= now:
        return "instant: due now; the next `tradewatch run` or `tradewatch alerts send` sends it"
    return f"instant: retry after {due[:16].replace('T', ' ')} UTC (`tradewatch run` or `alerts send`)"


@alerts_app.command("status")
def alerts_status(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Counts and rows as JSON, for scripts.")] = False,
    all_rows: Annotated[
        bool, typer.Option("--all", help="Also list sent alerts, not only pending/failed.")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 50,
) -> None:
    """Outbox counts by status, then each alert waiting or given up: mode, when it goes, last error."""
    import shutil
    import textwrap

    from sqlmodel import Session

    from storage import repo
    from storage.db import init_db, make_engine

    engine = make_engine(_settings(config).database.url)
    init_db(engine)
    with Session(engine) as session:
        counts = repo.delivery_counts(session)
        statuses = () if all_rows else ("pending", "sending", "failed")
        views = repo.list_deliveries(session, statuses=statuses, limit=limit)
    engine.dispose()
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = [
        {
            "id": v.delivery.id,
            "status": v.delivery.status,
            "rule": v.rule,
            "channel": v.delivery.channel,
            "mode": v.delivery.mode,
            "attempts": v.delivery.attempts,
            "last_error": v.delivery.last_error,
            "next_attempt_at": _iso(v.delivery.next_attempt_at),
            "sent_at": _iso(v.delivery.sent_at),
            "article_title": v.article_title,
            "article_url": v.article_url,
        }
        for v in views
    ]
    for row in rows:
        row["goes"] = _when(row, now)
    if as_json:
        typer.echo(json.dumps({"counts": counts, "deliveries": rows}, ensure_ascii=False, indent=2))
        return
    typer.echo("outbox: " + (", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "empty"))
    # One block per alert, wrapped to the terminal (80 columns in a pipe): a table of seven columns,
    # two of them free text, was unreadable at 80.
    width = max(60, shutil.get_terminal_size((80, 24)).columns) if sys.stdout.isatty() else 80

    def wrapped(label: str, text: object) -> None:
        typer.echo(textwrap.fill(str(text), width, initial_indent=f"  {label}", subsequent_indent="    "))

    for row in rows:
        typer.echo(
            f"\n#{row['id']} {row['status']}: rule {row['rule']!r} -> {row['channel']}, "
            f"{row['mode']}, {row['attempts']} attempt(s)"
        )
        wrapped("article: ", row["article_title"] or row["article_url"] or "")
        wrapped("goes: ", row["goes"])
        if row["last_error"]:
            wrapped("last error: ", row["last_error"])


@alerts_app.command("send")
def alerts_send(
    config: ConfigOption = None,
    digest: Annotated[
        str | None,
        typer.Option(
            help="Also send the hourly or daily digest now (or 'all'): the way to send digests from cron "
            "without `tradewatch serve`."
        ),
    ] = None,
) -> None:
    """Send what waits in the outbox now: instant alerts that are due, and with --digest a digest."""
    from flows.outbox import deliver_pending
    from storage.db import init_db, make_engine
    from storage.models import utcnow

    digests = {None: [], "hourly": ["hourly"], "daily": ["daily"], "all": ["hourly", "daily"]}
    if digest not in digests:
        raise _fail(f"--digest {digest!r}: use hourly, daily or all")
    settings = _settings(config)
    engine = make_engine(settings.database.url)
    init_db(engine)
    try:
        for mode in ["instant", *digests[digest]]:
            label = f"{mode} digest, {utcnow():%Y-%m-%d %H:%M} UTC" if mode != "instant" else ""
            report = deliver_pending(engine, settings.channel_url, modes=[mode], period_label=label)
            typer.echo(
                f"{mode}: {report.messages} message(s) sent covering {report.sent} alert(s), "
                f"{report.retrying} to retry, {report.failed} given up"
            )
            for error in report.errors:
                typer.echo(f"  {error}", err=True)
    finally:
        engine.dispose()


@rules_app.command("test")
def rules_test(
    query: Annotated[
        str, typer.Argument(help="A rule query, e.g. 'tariff* AND (japan OR \"south korea\")'.")
    ],
    config: ConfigOption = None,
    since: Annotated[
        str | None, typer.Option(help="Only articles fetched within this window, e.g. 7d.")
    ] = "7d",
    trade_only: Annotated[
        bool, typer.Option("--trade-only", help="As a rule with trade_only = true.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array, for scripts.")] = False,
) -> None:
    """Backtest a rule: which stored articles it would have matched, with the matched sentences."""
    from alerts.rules import Document, EventFacts, RuleSyntaxError, parse
    from classifiers.events import check_rule_field

    try:
        compiled = parse(query, check_field=check_rule_field)
    except RuleSyntaxError as exc:
        raise _fail(str(exc)) from None
    rows = _article_rows(_settings(config), trade_only=trade_only, limit=None, since=_parse_since(since))
    hits = []
    for row in rows:
        events = tuple(
            EventFacts(
                measure=e["measure"],
                implementer=tuple(e["implementer"]),
                affected=tuple(e["affected"]),
                products=tuple(e["products"]) + tuple(e["hs_chapters"]),
                sentence=e["evidence"].get("measure", ""),
            )
            for e in row["events"]
        )
        document = Document(title=row["title"], text=row["text"], source=row["feed"] or "", events=events)
        match = compiled.match(document)
        if match is not None:
            hits.append(
                {
                    "title": row["title"],
                    "url": row["url"],
                    "feed": row["feed"],
                    "is_trade": row["is_trade"],
                    "field": match.field,
                    "sentence": match.sentence,
                    "hit": match.sentence[match.hit_start : match.hit_end],
                }
            )
    if as_json:
        typer.echo(json.dumps(hits, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{len(hits)} of {len(rows)} stored article(s) match {query!r}")
    for hit in hits:
        sentence, start = hit["sentence"], hit["sentence"].find(hit["hit"])
        quoted = sentence[:start] + "**" + hit["hit"] + "**" + sentence[start + len(hit["hit"]) :]
        typer.echo(f"\n- {hit['title']}\n  {hit['url']}\n  [{hit['field']}] {quoted}")


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Apply schema migrations (every run also does this before it starts)."""
    from storage.db import make_engine
    from storage.migrate import current_revision, head_revision, upgrade

    engine = make_engine(_settings(config).database.url)
    before = current_revision(engine)
    upgrade(engine)
    typer.echo(f"database schema: {before or 'empty'} -> {current_revision(engine)} (head {head_revision()})")
    engine.dispose()


@classifier_app.command("train")
def classifier_train(
    labels: Annotated[Path, typer.Argument(help="JSONL: one {title, text, is_trade} object per line.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to save the model (JSON).")] = Path(
        "models/trade.json"
    ),
) -> None:
    """Fit a linear model on your labels and save it; use it with [classifier] model = PATH."""
    from classifiers.evaluate import LabelsError
    from classifiers.linear import ModelError, train_file

    if not labels.is_file():
        raise _fail(f"{labels}: no such file; give a JSONL file of {{title, text, is_trade}} lines")
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        report = train_file(labels, output)
    except (LabelsError, ModelError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(report.summary())
    typer.echo(f'use it: add to your configuration\n[classifier]\nmodel = "{output}"')


@classifier_app.command("eval")
def classifier_eval(
    labels: Annotated[Path, typer.Argument(help="JSONL: one {title, text, is_trade} object per line.")],
    model: Annotated[
        Path | None, typer.Option(help="A trained model (default: the built-in lexicon).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Scores as JSON.")] = False,
) -> None:
    """Precision, recall, F1 and the confusion counts of a classifier on your labels."""
    from classifiers.evaluate import LabelsError, evaluate_file
    from classifiers.linear import ModelError

    if not labels.is_file():
        raise _fail(f"{labels}: no such file; give a JSONL file of {{title, text, is_trade}} lines")
    try:
        scores = evaluate_file(labels, model)
    except (LabelsError, ModelError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from None
    if as_json:
        payload = {
            "version": scores.version,
            "precision": scores.precision,
            "recall": scores.recall,
            "f1": scores.f1,
            "tp": scores.tp,
            "fp": scores.fp,
            "fn": scores.fn,
            "tn": scores.tn,
        }
        typer.echo(json.dumps(payload))
        return
    typer.echo(scores.summary())


@articles_app.command("search")
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
        raise _fail(str(exc)) from None
    settings = _settings(config)

    def matches(title: str, text: str, source: str) -> bool:
        return compiled.match(Document(title=title, text=text, source=source)) is not None

    rows = _article_rows(settings, trade_only=False, limit=limit, search=matches)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{len(rows)} article(s) match {query!r}")
    _print_article_lines(rows)


def _register_plugins() -> None:
    """Commands that live in their own modules register themselves on the app."""
    from flows import doctor, stories
    from flows.report import register as register_operator_commands

    register_operator_commands(app)
    doctor.register(app)
    stories.register(app)


_register_plugins()


def _explain(exc: BaseException) -> str | None:
    """One line for a failure of something outside tradewatch (Prefect's API, the database), else None.

    These are the user's environment, not bugs: a traceback would bury the one thing to do. Unknown
    exceptions return None and keep their traceback, which is what a bug report needs.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        module, name, text = type(current).__module__, type(current).__name__, str(current)
        if "ephemeral Prefect API server" in text or "ephemeral server" in text.lower():
            return (
                "Prefect's temporary API server did not start in time (a busy machine?); raise "
                "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS (now "
                f"{os.environ.get('PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS', '20')} s), or run "
                "`prefect server start` and export PREFECT_API_URL=http://127.0.0.1:4200/api"
            )
        if module.startswith(("httpx", "httpcore")) and name in ("ConnectError", "ConnectTimeout"):
            url = os.environ.get("PREFECT_API_URL")
            if url:
                return _dead_api(url, current)
        if module.startswith("sqlalchemy") and name in (
            "OperationalError",
            "ArgumentError",
            "InterfaceError",
        ):
            first = (text.strip().splitlines() or [""])[0][:300]
            return (
                f"the database of [database] url (or $TRADEWATCH_DATABASE_URL) cannot be used: {first}; "
                "check the URL, that the server runs and the file's folder is writable (`tradewatch doctor`)"
            )
        current = current.__cause__ or current.__context__
    return None


def main() -> None:
    """Console entry point: configuration errors exit 2, an unreachable service 1, both in one line."""
    try:
        app()
    except ConfigError as exc:  # raised inside a flow run started by the CLI
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:
        message = _explain(exc)
        if message is None:
            raise
        typer.echo(f"error: {message}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
