"""bench/pipeline.py runs end to end on a tiny corpus (a smoke test: no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: 2 feeds x 3 articles, one run: enough to pass through every stage of every measurement.
TINY = ["--feeds", "2", "--articles-per-feed", "3", "--runs", "1"]


def _bench(*args: str) -> dict[str, Any]:
    """Run bench/pipeline.py with ``args`` and return the JSON object it prints last."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "pipeline.py"), *TINY, *args, "--json"],
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


@pytest.mark.slow  # the Prefect harness, the naive script and the floor, each in its own process: ~2 minutes
def test_pipeline_benchmark_runs_on_a_tiny_corpus() -> None:
    report = _bench("--no-postgres")
    for key in (
        "articles",
        "pipeline_articles_per_s",
        "naive_articles_per_s",
        "extract_only_articles_per_s",
        "repoll_seconds",
        "peak_rss_mb",
    ):
        assert key in report, key
    assert report["articles"] == 6
    assert report["stored_articles"] == 6
    assert report["repoll_article_fetches"] == 0
    assert report["repoll_not_modified"] == 2


@pytest.mark.slow  # a second full benchmark (Prefect harness, naive script): 2 minutes on a busy machine
def test_latency_sweep_measures_both_sides_at_each_latency() -> None:
    """``--latency-sweep`` runs tradewatch and the naive script against a server that delays each response."""
    [point] = _bench("--latency-sweep", "5")["latency"]
    assert point["latency_ms"] == 5
    assert point["stored_articles"] == 6
    assert point["naive_articles_per_s"] > 0
    assert point["extract_only_articles_per_s"] is None  # the floor does not depend on the network
    assert point["repoll_article_fetches"] == 0
