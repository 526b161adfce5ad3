"""The ``tradewatch`` command: one Typer app, every command group added the same way, one error handler.

Each command group is a module of this package named after it (``cli/feeds.py`` is `tradewatch feeds`,
``cli/run.py`` is `run`, `demo` and `serve`); each has a ``register(app)`` that adds its commands, and
``COMMANDS`` below lists them in the order `--help` shows them.

Exit status: 0 when the command did its job (a run with failed feeds still completed: failures are
counted in the summary line), 1 when the thing asked for could not be done (a page that cannot be
extracted, a database that cannot be read), 2 for unusable configuration or arguments, with a message
naming the field and the fix. Commands fail through ``cli.common.fail``; errors from outside tradewatch
(Prefect's API, the database) that escape a command are turned into one line by ``main``.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from cli import (
    alerts,
    articles,
    classifier,
    config,
    db,
    doctor,
    extract,
    feeds,
    report,
    rules,
    run,
    stories,
)
from cli.run import dead_api
from flows.settings import ConfigError

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


#: Registration order is `--help`'s order: Typer lists single commands first (run, demo, serve, extract,
#: init, report, doctor), then groups (articles, classifier, feeds, alerts, rules, db, config, stories).
COMMANDS = (run, extract, articles, classifier, feeds, alerts, rules, db, config, report, doctor, stories)
for _module in COMMANDS:
    _module.register(app)


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
                return dead_api(url, current)
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
