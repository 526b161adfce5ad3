"""`tradewatch run` as a user runs it: the installed console script, a real flow run, the summary line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL

from flows.demo import SmtpSink, render_demo_config

SUMMARY = re.compile(
    r"^summary: feeds=(\d+) new_articles=(\d+) trade=(\d+) alerts_sent=(\d+) alerts_waiting=(\d+) "
    r"failures=(\d+)$"
)


@pytest.mark.usefixtures("prefect_harness")
def test_run_counts_a_broken_feed_and_still_completes(demo_site: str, sink: SmtpSink, tmp_path: Path) -> None:
    config = render_demo_config(demo_site, sink.port, f"sqlite:///{tmp_path / 'tw.db'}", tmp_path / "tw.toml")
    broken = f'\n[[feeds]]\nname = "Gone"\nurl = "{demo_site}/feeds/missing.xml"\n'
    config.write_text(config.read_text(encoding="utf-8") + broken, encoding="utf-8")
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    script = Path(sys.executable).with_name("tradewatch")

    result = subprocess.run(
        [str(script), "run", "--config", str(config)], capture_output=True, text=True, env=env, timeout=240
    )

    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    match = SUMMARY.match(last)
    assert match, last
    feeds, new_articles, trade, alerts, waiting, failures = map(int, match.groups())
    assert (feeds, new_articles, trade, alerts, waiting, failures) == (3, 8, 4, 1, 0, 1)
    assert "failures by reason: http_status=1" in result.stdout
    progress = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert sorted(progress)[-1].startswith("[3/3] ")
    assert any("Gone: failed, http_status" in line for line in progress)
    assert "\x1b[" not in result.stdout + "".join(progress), "no ANSI escapes when not on a terminal"

    quiet = subprocess.run(
        [str(script), "run", "--quiet", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout.strip().splitlines() == [quiet.stdout.strip()]
    assert SUMMARY.match(quiet.stdout.strip())

    status = subprocess.run(
        [str(script), "feeds", "status", "--json", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert status.returncode == 0, status.stderr
    gone = next(feed for feed in json.loads(status.stdout) if feed["name"] == "Gone")
    assert gone["consecutive_failures"] == 2  # the normal run and the quiet one
    assert gone["last_error_reason"] == "http_status"
    assert "404" in gone["last_error"]
