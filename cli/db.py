"""`tradewatch db upgrade`: apply the schema migrations (runs, `alerts send`, `stories split` also do)."""

from __future__ import annotations

import typer

from cli.common import ConfigOption, group, settings_for


def db_upgrade(config: ConfigOption = None) -> None:
    """Apply schema migrations (every run also does this before it starts)."""
    from storage.db import make_engine
    from storage.migrate import current_revision, head_revision, upgrade

    engine = make_engine(settings_for(config).database.url)
    try:
        before = current_revision(engine)
        upgrade(engine)
        typer.echo(
            f"database schema: {before or 'empty'} -> {current_revision(engine)} (head {head_revision()})"
        )
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    """Add the `db` group to the tradewatch app."""
    db = group(app, "db", "Database schema.")
    db.command("upgrade")(db_upgrade)
