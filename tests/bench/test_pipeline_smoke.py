"""bench/pipeline.py runs end to end on a tiny corpus (a smoke test: no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pipeline_benchmark_runs_on_a_tiny_corpus() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "pipeline.py"),
            "--feeds",
            "2",
            "--articles-per-feed",
            "3",
            "--runs",
            "1",
            "--no-postgres",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
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


def test_latency_sweep_measures_both_sides_at_each_latency() -> None:
    """``--latency-sweep`` runs tradewatch and the naive script against a server that delays each response."""
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "pipeline.py"),
            "--feeds",
            "2",
            "--articles-per-feed",
            "3",
            "--runs",
            "1",
            "--latency-sweep",
            "5",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    [point] = report["latency"]
    assert point["latency_ms"] == 5
    assert point["stored_articles"] == 6
    assert point["naive_articles_per_s"] > 0
    assert point["extract_only_articles_per_s"] is None  # the floor does not depend on the network
    assert point["repoll_article_fetches"] == 0
