"""`tradewatch doctor` against the real demo site, a real SMTP sink and real databases."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import typer
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from cli.app import app as tradewatch
from flows.demo import SmtpSink, free_port, render_demo_config
from storage.db import init_db, make_engine
from storage.models import Article, Delivery


def _app() -> typer.Typer:
    return tradewatch


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(_app(), ["doctor", *args])
    return result.exit_code, result.output


def _counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with Session(engine) as session:
        counts = (
            session.exec(select(func.count()).select_from(Article)).one(),
            session.exec(select(func.count()).select_from(Delivery)).one(),
        )
    engine.dispose()
    return counts


def _wait(sink: SmtpSink, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(sink.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)


def test_healthy_demo_installation_passes_every_check_and_sends_nothing(
    demo_site: str, sink: SmtpSink, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'tw.db'}"
    config = render_demo_config(demo_site, sink.port, url, tmp_path / "tw.toml")
    engine = make_engine(url)
    init_db(engine)
    engine.dispose()

    code, output = _invoke("--config", str(config))
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0].split() == ["check", "target", "status", "detail"]
    assert "\x1b[" not in output  # no colour codes
    body = {line.split()[0]: line for line in lines[1:] if line.strip()}
    assert "ok" in body["config"]
    assert "at head revision" in body["database"]
    assert "desk-email" in body["channel"]
    assert f"mailto://127.0.0.1:{sink.port}; resolved" in body["channel"]
    feed_rows = [line for line in lines if line.startswith("feed ")]
    assert len(feed_rows) == 2
    for row in feed_rows:
        assert row.split()[-6:-4] == ["ok", f"{demo_site}/feeds/{'rss' if 'RSS' in row else 'atom'}.xml:"]
        entries = re.search(r"HTTP 200, (\d+) entries$", row)
        assert entries is not None
        assert int(entries.group(1)) >= 3
    assert lines[-1] == "5 check(s), all ok"
    _wait(sink, 0)
    assert sink.messages == []
    assert _counts(url) == (0, 0)  # doctor reads; it never stores articles or queues alerts


def test_send_test_delivers_one_message_per_channel(demo_site: str, sink: SmtpSink, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tw.db'}"
    config = render_demo_config(demo_site, sink.port, url, tmp_path / "tw.toml")
    code, output = _invoke("--config", str(config), "--send-test", "--json")
    rows = json.loads(output)
    assert code == 0, output
    assert [r["check"] for r in rows] == ["config", "database", "channel", "feed", "feed"]
    assert rows[1]["status"] == "warning"  # a new database: reachable, no schema yet
    assert rows[2] == {
        "check": "channel",
        "target": "desk-email",
        "status": "ok",
        "detail": f"mailto://127.0.0.1:{sink.port}; test message sent",  # the port says which server
    }
    _wait(sink, 1)
    assert len(sink.messages) == 1
    assert str(sink.messages[0]["Subject"]) == "tradewatch doctor: test message"
    engine = make_engine(url)
    init_db(engine)
    engine.dispose()
    assert _counts(url) == (0, 0)


def test_failures_are_rows_with_reasons_and_exit_one(demo_site: str, tmp_path: Path) -> None:
    dead_smtp = free_port()
    dead_db = free_port()
    config = tmp_path / "tw.toml"
    config.write_text(
        f"""
[database]
url = "postgresql://tw:hunter2secret@127.0.0.1:{dead_db}/tw?sslmode=disable&password=libpq2secret"
[fetch]
allow_private_networks = ["127.0.0.0/8"]
connect_timeout = 2
[[feeds]]
name = "good"
url = "{demo_site}/feeds/rss.xml"
[[feeds]]
name = "missing"
url = "{demo_site}/feeds/nope.xml"
[[feeds]]
name = "not a feed"
url = "{demo_site}/articles/trade-talks-japan.html"
[channels]
mail = "mailto://127.0.0.1:{dead_smtp}?from=a@tradewatch.example&to=b@tradewatch.example&mode=insecure"
slack = "env:TRADEWATCH_DOCTOR_TEST_UNSET"
""",
        encoding="utf-8",
    )
    code, output = _invoke("--config", str(config), "--send-test", "--json")
    assert code == 1, output
    assert "hunter2secret" not in output
    # libpq also reads a password from the query; SQLAlchemy's hide_password showed it (issue 20: one
    # redaction rule, extractors.redact, for database URLs too).
    assert "libpq2secret" not in output
    rows = {(r["check"], r["target"]): r for r in json.loads(output)}
    assert rows[("database", f"postgresql://127.0.0.1:{dead_db}/tw?…")]["status"] == "failed"
    assert "unreachable" in rows[("database", f"postgresql://127.0.0.1:{dead_db}/tw?…")]["detail"]
    assert rows[("channel", "mail")]["status"] == "failed"
    assert rows[("channel", "mail")]["detail"] == f"mailto://127.0.0.1:{dead_smtp}; smtp connect failed"
    assert rows[("channel", "slack")]["status"] == "failed"
    assert "TRADEWATCH_DOCTOR_TEST_UNSET" in rows[("channel", "slack")]["detail"]
    assert rows[("feed", "good")]["status"] == "ok"
    assert "http_status" in rows[("feed", "missing")]["detail"]
    assert rows[("feed", "missing")]["status"] == "failed"
    assert rows[("feed", "not a feed")]["status"] == "failed"
    assert "not_a_feed" in rows[("feed", "not a feed")]["detail"]

    code, table = _invoke("--config", str(config))  # without --send-test the mail channel only resolves
    assert code == 1
    assert table.splitlines()[-1] == "7 check(s), 4 failed"


def test_unusable_configuration_exits_two_with_the_field_named(tmp_path: Path) -> None:
    config = tmp_path / "tw.toml"
    config.write_text('[[feeds]]\nname = "x"\nurl = "ftp://example.com/feed"\n', encoding="utf-8")
    code, output = _invoke("--config", str(config))
    assert code == 2
    assert output.splitlines()[1].startswith("config ")
    assert "failed" in output
    assert "feeds[0].url" in output
    code, output = _invoke("--config", str(tmp_path / "missing.toml"), "--json")
    assert code == 2
    assert json.loads(output)[0]["status"] == "failed"
