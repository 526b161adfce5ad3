"""What every command shares (cli/common.py): one duration parser, and read-only commands never migrate.

Issue 20 fixed two differences between commands: `--since 0d` was accepted by `articles list` and
`rules test` (listing nothing, exit 0) while `report`, `stories list` and ``[stories] window`` refused it;
and every read-only command ran the schema migrations before reading.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from flows.durations import parse_duration
from storage.db import init_db, make_engine
from storage.migrate import current_revision, head_revision, upgrade

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "tradewatch.toml"
    path.write_text(f"[database]\nurl = 'sqlite:///{tmp_path / 'tw.db'}'\n", encoding="utf-8")
    engine = make_engine(f"sqlite:///{tmp_path / 'tw.db'}")
    init_db(engine)
    engine.dispose()
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["articles", "list", "--since"],
        ["rules", "test", "tariff", "--since"],
        ["report", "--json", "--since"],
        ["stories", "list", "--since"],
    ],
)
@pytest.mark.parametrize("value", ["0d", "0h", "7x", "d", "-1d"])
def test_every_since_option_refuses_the_same_durations(config: Path, command: list[str], value: str) -> None:
    result = runner.invoke(app, [*command, value, "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert f"--since {value!r} is not a duration; use a positive number and a unit" in result.output


@pytest.mark.parametrize("value", ["30m", " 12h ", "7 d", "2w"])
def test_every_since_option_accepts_the_same_durations(config: Path, value: str) -> None:
    for command in (
        ["articles", "list"],
        ["rules", "test", "tariff"],
        ["report", "--json"],
        ["stories", "list"],
    ):
        result = runner.invoke(app, [*command, "--since", value, "--config", str(config)])
        assert result.exit_code == 0, (command, result.output)
    assert parse_duration(value).total_seconds() > 0


def _older_schema(tmp_path: Path) -> tuple[Path, str, str]:
    """A configuration whose database is one migration behind this code."""
    from alembic.script import ScriptDirectory

    from storage.migrate import _config_no_engine

    head = head_revision()
    assert head is not None
    previous = ScriptDirectory.from_config(_config_no_engine()).get_revision(head).down_revision
    assert isinstance(previous, str)
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    upgrade(engine, previous)
    engine.dispose()
    path = tmp_path / "old.toml"
    path.write_text(f"[database]\nurl = '{url}'\n", encoding="utf-8")
    return path, url, previous


@pytest.mark.parametrize(
    "command",
    [
        ["articles", "list"],
        ["articles", "search", "tariff"],
        ["feeds", "status"],
        ["alerts", "status"],
        ["rules", "test", "tariff"],
        ["report", "--json"],
        ["stories", "list"],
        ["stories", "show", "1"],
    ],
)
def test_a_read_only_command_leaves_an_older_schema_alone_and_names_the_upgrade(
    tmp_path: Path, command: list[str]
) -> None:
    config, url, previous = _older_schema(tmp_path)
    result = runner.invoke(app, [*command, "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert f"older than this tradewatch's {head_revision()}" in result.output
    assert "tradewatch db upgrade" in result.output
    engine = make_engine(url)
    assert current_revision(engine) == previous
    engine.dispose()


def test_a_command_that_writes_brings_the_schema_up_to_date(tmp_path: Path) -> None:
    config, url, _previous = _older_schema(tmp_path)
    result = runner.invoke(app, ["alerts", "send", "--config", str(config)])
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    assert current_revision(engine) == head_revision()
    engine.dispose()
