"""`tradewatch doctor`: can this installation run? One row per check (``flows.doctor`` runs them).

Exit status: 0 when every check passed, 1 when any failed, 2 when the configuration itself is unusable.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer

from cli.common import ConfigOption
from flows.settings import ConfigError, load_settings, require_config

if TYPE_CHECKING:
    from flows.doctor import Check


def doctor(
    config: ConfigOption = None,
    send_test: Annotated[
        bool, typer.Option("--send-test", help="Send a real test message to every channel.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array of the checks, for scripts.")] = False,
) -> None:
    """Check configuration, database (reachable, migrated), each channel and each feed; print a table."""
    import os

    from flows.doctor import Check, run_checks
    from flows.settings import DEFAULT_CONFIG, ENV_CONFIG

    source = str(config or os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG)
    try:
        require_config(config)
        settings = load_settings(config)
    except ConfigError as exc:
        rows = [Check("config", source, "failed", str(exc))]
        _print(rows, as_json)
        raise typer.Exit(2) from None
    rows = run_checks(settings, source=source, send_test=send_test)
    _print(rows, as_json)
    raise typer.Exit(0 if all(r.ok for r in rows) else 1)


def _print(rows: list[Check], as_json: bool) -> None:
    from flows.doctor import render_table

    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], indent=2))
        return
    typer.echo(render_table(rows))
    failed = sum(not r.ok for r in rows)
    typer.echo(f"\n{len(rows)} check(s), {failed} failed" if failed else f"\n{len(rows)} check(s), all ok")


def register(app: typer.Typer) -> None:
    """Add `doctor` to the tradewatch app."""
    app.command()(doctor)
