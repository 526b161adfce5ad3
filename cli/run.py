"""`tradewatch run`, `demo` and `serve`: the commands that start the pipeline through Prefect.

Prefect is imported only when one of them runs (never for `--help`); each sets Prefect's settings only
where the user has not.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import ConfigOption, fail, settings_for
from flows.settings import Settings

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
        raise fail(dead_api(url, exc), code=1) from None


def dead_api(url: str, exc: BaseException) -> str:
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
        raise fail(
            f"--feed {', '.join(map(repr, unknown))}: no configured feed has this name, URL or tag{hint}; "
            f"names: {', '.join(names)}; tags: {', '.join(tags) or 'none'}"
        )


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
    settings = settings_for(config)
    if not settings.feeds:
        raise fail(f"{config or 'configuration'}: no [[feeds]] configured; add at least one feed (name, url)")
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

    if not site_only:
        demo_site.require_smtp_sink()  # before the site starts: one line, nothing printed first
    database = database or _demo_database(port)
    with ExitStack() as stack:
        try:
            base_url = stack.enter_context(demo_site.serve_site(port=port))
        except OSError as exc:
            raise fail(
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
        settings = settings_for(config)
        _prefect_api(announce=True)
        with _progress(enabled=True):
            summary = _run_flow(str(config), [], False, False)
        deadline = time.monotonic() + 5
        while len(sink.messages) < summary.alerts_sent and time.monotonic() < deadline:
            time.sleep(0.05)
        _print_articles_table(settings)
    _print_failures(summary)
    typer.echo(summary.line())


def serve(config: ConfigOption = None) -> None:
    """Serve the scheduled and manual deployments from this process (one machine; see deployments/)."""
    import importlib.util

    settings_for(config)
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
        raise fail(f"{path} is missing; reinstall tradewatch (pip install .) from a full checkout", code=1)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    typer.echo("serving the tradewatch deployments (Ctrl-C stops them) ...", err=True)
    module.main(str(config.resolve()) if config else None)


def _print_articles_table(settings: Settings) -> None:
    from cli.articles import article_rows

    rows = article_rows(settings, trade_only=False, limit=None)
    typer.echo(f"\nstored articles ({len(rows)}):")
    for row in rows:
        flag = "TRADE" if row["is_trade"] else "     "
        typer.echo(f"  {flag} {row['trade_score']:.2f}  {row['title'][:80]}")


def register(app: typer.Typer) -> None:
    """Add `run`, `demo` and `serve` to the tradewatch app."""
    app.command()(run)
    app.command()(demo)
    app.command()(serve)
