"""What every command shares: the --config option, the one way to fail, the store, plain tables.

Exit status, for every command: 0 when the command did its job, 1 when the thing asked for could not be
done (a page that cannot be extracted, a database that cannot be read), 2 for unusable configuration or
arguments. A command fails by ``raise fail(message, code)``; the message names the field and the fix.

Nothing here imports SQLAlchemy, httpx or Prefect at module level: `tradewatch --help` imports every
command module, and must answer at once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flows.durations import parse_duration
from flows.settings import ConfigError, Settings, load_settings, require_config

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="TOML configuration (default: $TRADEWATCH_CONFIG or ./tradewatch.toml)."
    ),
]


def group(app: typer.Typer, name: str, help: str, *, plain: bool = True) -> typer.Typer:
    """A command group (``tradewatch feeds ...``) added to ``app``; its commands are added by the caller.

    Help is plain click text (rich_markup_mode=None): it fits 80 columns, keeps `[classifier]` and
    `[[feeds]]` literal (rich markup would swallow them) and does not import rich.
    """
    sub = (
        typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)
        if plain
        else typer.Typer(help=help, no_args_is_help=True)
    )
    app.add_typer(sub, name=name)
    return sub


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on stderr and return the exit to raise (2: usage or configuration)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def settings_for(config: Path | None, *, required: bool = True) -> Settings:
    """The configuration; ``required`` refuses to answer from defaults when no file was found."""
    try:
        if required:
            require_config(config)
        return load_settings(config)
    except ConfigError as exc:
        raise fail(str(exc)) from None


def config_path(config: Path | None) -> Path:
    """The file feed commands edit: --config, else $TRADEWATCH_CONFIG, else ./tradewatch.toml."""
    return config or Path(os.environ.get("TRADEWATCH_CONFIG") or "tradewatch.toml")


@contextmanager
def store(settings: Settings, *, write: bool) -> Iterator[Engine]:
    """An engine on the configured database, disposed on exit.

    Commands that write (``write=True``: `alerts send`, `stories split`) bring the schema up to date first,
    as a run does. Commands that only read never migrate: a database that is not at this version's schema
    is refused (exit 1) with the command that fixes it.
    """
    from storage.db import init_db, make_engine
    from storage.migrate import SchemaNotCurrent, require_current

    engine = make_engine(settings.database.url)
    try:
        if write:
            init_db(engine)
        else:
            try:
                require_current(engine)
            except SchemaNotCurrent as exc:
                raise fail(str(exc), code=1) from None
        yield engine
    finally:
        engine.dispose()


def since(value: str | None) -> datetime | None:
    """``--since 7d`` → the moment 7 days ago (None: no limit); exit 2 naming the accepted forms."""
    if value is None:
        return None
    return datetime.now(UTC) - window(value)


def window(value: str) -> timedelta:
    """``--since 7d`` → a timedelta; exit 2 naming the accepted forms."""
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise fail(f"--since {exc}") from None


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def table(rows: list[dict[str, Any]], columns: list[tuple[str, Any]]) -> None:
    """A readable table on a terminal (rich), tab-separated plain lines otherwise: no ANSI in pipes."""
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        rich_table = Table(*[name for name, _ in columns])
        for row in rows:
            rich_table.add_row(*[str(getter(row)) for _, getter in columns])
        Console().print(rich_table)
        return
    typer.echo("\t".join(name for name, _ in columns))
    for row in rows:
        typer.echo("\t".join(str(getter(row)) for _, getter in columns))
