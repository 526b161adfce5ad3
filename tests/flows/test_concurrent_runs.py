"""Two ingest runs started together over the same feeds: each article stored once, each alert sent once."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

import pytest
from sqlmodel import Session, select

from flows.demo import DEMO_SITE, SmtpSink, render_demo_config
from storage.db import make_engine
from storage.models import Article, Delivery
from tests.concurrent import run_at_once
from tests.dbservers import on_both_databases_in_ci

LABELS = tomllib.loads((DEMO_SITE / "expected" / "labels.toml").read_text(encoding="utf-8"))


@pytest.mark.usefixtures("prefect_harness")
@on_both_databases_in_ci(default="postgresql")  # stories' concurrent test runs SQLite by default
def test_two_runs_at_once_store_each_article_once_and_alert_once(
    demo_site: str, sink: SmtpSink, database_url: str, tmp_path: Path
) -> None:
    config = render_demo_config(demo_site, sink.port, database_url, tmp_path / "tw.toml")
    results = run_at_once(config)
    for code, out, err in results:
        assert code == 0, err
        assert out.strip().splitlines()[-1].startswith("summary: ")

    deadline = time.monotonic() + 5
    while not sink.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    engine = make_engine(database_url)
    with Session(engine) as session:
        assert len(session.exec(select(Article)).all()) == len(LABELS)
        assert [d.status for d in session.exec(select(Delivery))] == ["sent"]
    engine.dispose()
    assert len(sink.messages) == 1
    new_total = sum(int(out.split("new_articles=")[1].split()[0]) for _code, out, _err in results)
    assert new_total == len(LABELS), "the two runs split the new articles between them, never both"
