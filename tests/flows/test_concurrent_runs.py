"""Two ingest runs started together over the same feeds: each article stored once, each alert sent once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL
from sqlmodel import Session, select

from flows.demo import DEMO_SITE, SmtpSink, render_demo_config
from storage.db import make_engine
from storage.models import Article, Delivery

LABELS = tomllib.loads((DEMO_SITE / "expected" / "labels.toml").read_text(encoding="utf-8"))


@pytest.mark.usefixtures("prefect_harness")
def test_two_runs_at_once_store_each_article_once_and_alert_once(
    demo_site: str, sink: SmtpSink, database_url: str, tmp_path: Path
) -> None:
    config = render_demo_config(demo_site, sink.port, database_url, tmp_path / "tw.toml")
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    script = str(Path(sys.executable).with_name("tradewatch"))
    runs = [
        subprocess.Popen(
            [script, "run", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=240) for run in runs]
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err
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
    new_total = sum(int(out.split("new_articles=")[1].split()[0]) for out, _ in outputs)
    assert new_total == len(LABELS), "the two runs split the new articles between them, never both"
