"""`tradewatch init` and `config check`: write a starter configuration, and validate one as `run` would.

The work is in ``flows.starter`` (the starter file, and checking with file:line:column positions);
this module only prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.common import ConfigOption, fail, group


def init_command(
    path: Annotated[Path, typer.Argument(help="Where to write the configuration.")] = Path("tradewatch.toml"),
) -> None:
    """Write a commented starter configuration: the default trade feeds, example rules, env: channels."""
    from flows.settings import ConfigError
    from flows.starter import channel_env_var, write_starter_config

    try:
        write_starter_config(path)
    except FileExistsError as exc:
        raise fail(str(exc), code=1) from None
    except ConfigError as exc:
        raise fail(str(exc), code=1) from None
    except OSError as exc:
        raise fail(f"{path}: cannot write the configuration: {exc}", code=1) from None
    typer.echo(f"wrote {path}")
    typer.echo("next:")
    typer.echo(f"  1. edit {path}: keep the feeds you want, point the rules at your channels")
    typer.echo(f"  2. export {channel_env_var('desk-email')}=<apprise URL> (one per channel; see [channels])")
    typer.echo(f"  3. tradewatch config check --config {path}")
    typer.echo(f"  4. tradewatch run --config {path}")


def config_check_command(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="The findings as JSON, for scripts.")] = False,
) -> None:
    """Validate a configuration as `run` would; errors and warnings as file:line:column: messages.

    Exit status 0 when the configuration is usable (warnings allowed), 2 when it is not.
    """
    from flows.starter import check_config

    result = check_config(config)
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
    else:
        for line in result.lines():
            typer.echo(line)
    if not result.ok:
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Add `init` and the `config` group to the tradewatch app."""
    app.command("init")(init_command)
    config = group(app, "config", "Check a configuration file.")
    config.command("check")(config_check_command)
