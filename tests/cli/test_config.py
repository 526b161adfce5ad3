"""`tradewatch init` and `config check`: the starter file works as written, and errors point at lines.

The last test is the operator's first hour: init, edit the generated file the way the README says for the
demo, check it, run the real ingest flow against the demo site and an SMTP sink.
"""

from __future__ import annotations

import json
import re
import time
import tomllib
from pathlib import Path

import pytest
import typer
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli.app import app as tradewatch
from flows.demo import DEMO_SITE, SmtpSink
from flows.ingest import ingest
from flows.settings import load_settings
from flows.starter import (
    ALERTS_MARKER,
    FEEDS_MARKER,
    SEED_FEEDS,
    SEED_RULES,
    channel_env_var,
    check_config,
    render_starter_config,
    write_starter_config,
)
from storage.db import make_engine
from storage.models import Article, Delivery

runner = CliRunner()
LABELS = tomllib.loads((DEMO_SITE / "expected" / "labels.toml").read_text(encoding="utf-8"))


def _cli() -> typer.Typer:
    return tradewatch


@pytest.fixture
def no_channel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The starter's env: variables unset, whatever the machine running the tests has exported."""
    for name in ("desk-email", "desk-slack", "tech-slack"):
        monkeypatch.delenv(channel_env_var(name), raising=False)
    monkeypatch.delenv("TRADEWATCH_DATABASE_URL", raising=False)


def test_the_starter_configuration_loads_and_carries_every_seed_feed_and_rule(tmp_path: Path) -> None:
    path = write_starter_config(tmp_path / "tradewatch.toml")
    settings = load_settings(path)
    seed_feeds = tomllib.loads(SEED_FEEDS.read_text(encoding="utf-8"))["feeds"]
    seed_rules = tomllib.loads(SEED_RULES.read_text(encoding="utf-8"))["rules"]
    assert [(f.name, f.url, f.tags) for f in settings.feeds] == [
        (f["name"], f["url"], f["tags"]) for f in seed_feeds
    ]
    assert [(r.name, r.query, r.channels) for r in settings.rules] == [
        (r["name"], r["query"], r["channels"]) for r in seed_rules
    ]
    assert settings.database.url == "sqlite:///data/tradewatch.db"
    assert settings.fetch.allow_private_networks == [], "private networks stay refused until the user opts in"
    used = {c for r in settings.rules for c in r.channels}
    assert set(settings.channels) == used, "every channel a rule uses is defined, and no other"
    assert all(value == f"env:{channel_env_var(name)}" for name, value in settings.channels.items()), (
        "no URL or token is written into the file"
    )
    text = path.read_text(encoding="utf-8")
    assert "hooks.slack.com" in text
    assert "mailto://" in text, "the apprise URL forms are shown next to the placeholders"


def test_init_never_overwrites_a_configuration(tmp_path: Path) -> None:
    path = tmp_path / "tradewatch.toml"
    path.write_text("# my edited configuration\n", encoding="utf-8")
    with pytest.raises(FileExistsError, match="never overwrites"):
        write_starter_config(path)
    assert path.read_text(encoding="utf-8") == "# my edited configuration\n"

    result = runner.invoke(_cli(), ["init", str(path)])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert path.read_text(encoding="utf-8") == "# my edited configuration\n"


def test_init_writes_the_file_and_says_what_to_do_next(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "tradewatch.toml"
    result = runner.invoke(_cli(), ["init", str(path)])
    assert result.exit_code == 0, result.output
    assert path.read_text(encoding="utf-8") == render_starter_config()
    assert f"tradewatch config check --config {path}" in result.stdout
    assert f"tradewatch run --config {path}" in result.stdout
    assert "\x1b" not in result.output


@pytest.mark.usefixtures("no_channel_env")
def test_config_check_accepts_the_starter_and_warns_about_unset_channel_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_starter_config(tmp_path / "tradewatch.toml")
    result = check_config(path)
    assert result.ok
    unset = [w for w in result.warnings if "is not set" in w.message]
    assert [w.field for w in unset] == ["channels.desk-email", "channels.desk-slack", "channels.tech-slack"]
    lines = path.read_text(encoding="utf-8").splitlines()
    for warning in unset:
        assert warning.line is not None
        assert lines[warning.line - 1].startswith(warning.field.removeprefix("channels.") + " = ")

    monkeypatch.setenv(channel_env_var("desk-email"), "mailto://127.0.0.1:25?to=a@b.example&mode=insecure")
    cli = runner.invoke(_cli(), ["config", "check", "--config", str(path)])
    assert cli.exit_code == 0, cli.output
    assert "TRADEWATCH_DESK_EMAIL_URL" not in cli.stdout
    assert "TRADEWATCH_DESK_SLACK_URL, which is not set" in cli.stdout
    assert cli.stdout.splitlines()[-1] == f"{path}: ok (10 feeds, 6 rules, 3 channels, 2 warning(s))"
    assert "\x1b" not in cli.output


def _broken(tmp_path: Path, old: str, new: str) -> tuple[Path, list[str]]:
    text = render_starter_config()
    assert old in text
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path, path.read_text(encoding="utf-8").splitlines()


def test_a_toml_syntax_error_is_reported_at_its_line_and_column(tmp_path: Path) -> None:
    path, lines = _broken(tmp_path, "[fetch]", "[fetch")
    result = runner.invoke(_cli(), ["config", "check", "--config", str(path)])
    assert result.exit_code == 2
    line = lines.index("[fetch") + 1
    assert result.stdout.startswith(f"{path}:{line}:7: error: not valid TOML: ")


def test_validation_errors_name_the_field_and_its_line(tmp_path: Path) -> None:
    path, lines = _broken(tmp_path, 'url = "https://www.gov.uk/', 'url = "ftp://www.gov.uk/')
    path.write_text(path.read_text().replace("# respect_robots", "respect_robot"), encoding="utf-8")
    lines = path.read_text().splitlines()
    result = check_config(path)
    assert not result.ok
    by_field = {p.field: p for p in result.errors}
    assert set(by_field) == {"fetch.respect_robot", "feeds[5].url"}
    assert "unknown field" in by_field["fetch.respect_robot"].message
    assert lines[(by_field["fetch.respect_robot"].line or 0) - 1].startswith("respect_robot ")
    assert "must be an http:// or https:// URL" in by_field["feeds[5].url"].message
    assert lines[(by_field["feeds[5].url"].line or 0) - 1].startswith('url = "ftp://www.gov.uk/')
    assert [p.line for p in result.errors] == sorted(p.line or 0 for p in result.errors), "in file order"


def test_a_rule_query_error_points_at_the_character_in_the_file(tmp_path: Path) -> None:
    old = 'query = "\\"export controls\\" OR'
    path, lines = _broken(tmp_path, old, 'query = "\\"export controls\\" OR (')
    result = check_config(path)
    (error,) = result.errors
    assert error.field == "rules[1] ('export-controls').query"
    assert "'(' is never closed" in error.message
    assert error.line is not None
    assert error.column is not None
    assert lines[error.line - 1][error.column - 1] == "(", "the column is the unclosed parenthesis itself"
    assert "^" in error.message, "the caret line under the query is kept"


def test_an_unknown_channel_is_reported_at_its_rule(tmp_path: Path) -> None:
    path, lines = _broken(tmp_path, 'channels = ["desk-slack"]', 'channels = ["desk-slak"]')
    result = runner.invoke(_cli(), ["config", "check", "--config", str(path), "--json"])
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["valid"] is False
    (error,) = report["errors"]
    assert "unknown channel 'desk-slak'" in error["message"]
    assert "rules[2] ('japan-trade-talks').channels" in error["message"]
    assert lines[error["line"] - 1] == 'channels = ["desk-slak"]'


def test_a_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    result = runner.invoke(_cli(), ["config", "check", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert f"tradewatch init {tmp_path / 'nope.toml'}" in result.stdout


def _edit_for_demo(text: str, base_url: str, smtp_port: int, database_url: str) -> str:
    """The edits the README tells a user to make to try the generated file on the demo site."""
    demo_feeds = (
        f'{FEEDS_MARKER}\n[[feeds]]\nname = "Demo Business Desk"\nurl = "{base_url}/feeds/rss.xml"\n\n'
        f'[[feeds]]\nname = "Demo World Trade"\nurl = "{base_url}/feeds/atom.xml"\n\n{ALERTS_MARKER}'
    )
    text = re.sub(re.escape(FEEDS_MARKER) + ".*?" + re.escape(ALERTS_MARKER), demo_feeds, text, flags=re.S)
    text = text.replace("allow_private_networks = []", 'allow_private_networks = ["127.0.0.0/8"]')
    text = text.replace(
        'desk-email = "env:TRADEWATCH_DESK_EMAIL_URL"',
        f'desk-email = "mailto://127.0.0.1:{smtp_port}?from=alerts@example.com&to=desk@example.org&mode=insecure"',
    )
    return text.replace('url = "sqlite:///data/tradewatch.db"', f'url = "{database_url}"')


@pytest.mark.usefixtures("prefect_harness", "no_channel_env")
def test_init_then_check_then_run_works_with_only_the_generated_file_edited(
    tmp_path: Path, demo_site: str, sink: SmtpSink
) -> None:
    path = tmp_path / "tradewatch.toml"
    assert runner.invoke(_cli(), ["init", str(path)]).exit_code == 0
    database_url = f"sqlite:///{tmp_path / 'tradewatch.db'}"
    path.write_text(_edit_for_demo(path.read_text(), demo_site, sink.port, database_url), encoding="utf-8")

    check = runner.invoke(_cli(), ["config", "check", "--config", str(path)])
    assert check.exit_code == 0, check.output
    assert "TRADEWATCH_DESK_SLACK_URL, which is not set" in check.stdout, "the Slack channels were not set up"

    summary = ingest(config=str(path))
    deadline = time.monotonic() + 5
    while len(sink.messages) < summary.alerts_sent and time.monotonic() < deadline:
        time.sleep(0.05)

    assert summary.feeds == 2
    assert summary.failures == 0
    assert summary.new_articles == len(LABELS)
    assert summary.trade == sum(1 for label in LABELS.values() if label["is_trade"])
    assert summary.alerts_sent >= 1, "the seed rules alert on the demo's trade stories by e-mail"
    assert len(sink.messages) == summary.alerts_sent
    engine = make_engine(database_url)
    with Session(engine) as session:
        assert len(session.exec(select(Article)).all()) == len(LABELS)
        deliveries = session.exec(select(Delivery)).all()
    slack = [d for d in deliveries if d.channel == "desk-slack"]
    engine.dispose()
    assert slack, "the Japan story matches a rule that goes to Slack"
    assert {d.status for d in slack} == {"pending"}, "alerts to the unset channel wait; none is lost"
    assert all("TRADEWATCH_DESK_SLACK_URL" in (d.last_error or "") for d in slack)

    report = runner.invoke(_cli(), ["report", "--config", str(path), "--json"])
    assert report.exit_code == 0, report.output
    found = json.loads(report.stdout)
    assert found["trade_articles"] == summary.trade, "the report of a first run shows what it found"
    assert found["alerts_sent"] == sum(1 for d in deliveries if d.status == "sent"), "alerts, not messages"
