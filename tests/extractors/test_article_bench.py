"""The extraction benchmark scores with the published metric and skips cleanly without its data."""

from __future__ import annotations

import importlib.util
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

import pytest

from extractors.article import extract

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_extraction", ROOT / "bench" / "extraction.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_shingles_are_four_token_multisets(bench: ModuleType) -> None:
    assert bench.shingles("a b c d e") == {("a", "b", "c", "d"): 1, ("b", "c", "d", "e"): 1}
    assert bench.shingles("only two") == {("only", "two"): 1}  # shorter texts are one shorter shingle
    assert bench.shingles("") == {}
    assert bench.tokens("Tariffs, 25% — on steel!") == ["Tariffs", "25", "on", "steel"]


def test_score_follows_the_published_definitions(bench: ModuleType) -> None:
    score = bench.Score()
    truth = "one two three four five six"
    score.add("perfect", truth, truth)
    score.add("half", "one two three four", truth)  # 1 of 3 true shingles, nothing extra
    score.add("empty", "", truth)  # lowers recall only
    assert score.precision == pytest.approx((1.0 + 1.0) / 2)
    assert score.recall == pytest.approx((1.0 + 1 / 3 + 0.0) / 3)
    assert score.f1 == pytest.approx(2 * score.precision * score.recall / (score.precision + score.recall))
    assert score.accuracy == pytest.approx(1 / 3)


def test_missing_data_directory_skips_cleanly(
    bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench.main(["--data", str(tmp_path / "absent"), "--no-write"]) == 0
    assert "skipped" in capsys.readouterr().out


def test_section_is_written_between_markers_and_keeps_other_sections(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "BENCHMARKS.md"
    target.write_text(
        "# Benchmarks\n\n<!-- classification:start -->\nkeep me\n<!-- classification:end -->\n"
        "\n<!-- extraction:start -->\nold\n<!-- extraction:end -->\n",
        encoding="utf-8",
    )
    from bench import report  # the shared writer the extraction benchmark uses

    assert bench.write_section is report.write_section
    monkeypatch.setattr(report, "BENCHMARKS", target)
    report.write_section("extraction", "new table")
    text = target.read_text(encoding="utf-8")
    assert "keep me" in text
    assert "new table" in text
    assert "old" not in text


def test_extract_is_thread_safe() -> None:
    # The flow extracts on a worker pool: concurrent calls must give what a lone call gives.
    pages = sorted((Path(__file__).parent / "pages").glob("*.html"))
    documents = [page.read_bytes() for page in pages] * 4
    expected = [extract(document).text for document in documents]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(lambda document: extract(document).text, documents)) == expected


def test_a_score_can_leave_out_broken_pages(bench: ModuleType) -> None:
    score = bench.Score()
    score.add("good", "one two three four five", "one two three four five")
    score.add("broken", "", "one two three four five")
    kept = score.without(frozenset({"broken"}))
    assert (kept.pages, kept.f1, kept.accuracy) == (1, 1.0, 1.0)
    assert score.f1 < 1.0  # the original is untouched


def test_a_set_is_reported_with_and_without_its_broken_pages_beside_a_baseline(
    bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import gzip
    import json

    lines = [f"Paragraph {n}: exporters said container rates from Shanghai rose again." for n in range(4)]
    story = "".join(f"<p>{line}</p>" for line in lines)
    truth = "\n".join(lines)
    (tmp_path / "html").mkdir()
    for page in ("a", "b"):
        html = f"<html><body><article>{story}</article></body></html>".encode()
        (tmp_path / "html" / f"{page}.html.gz").write_bytes(gzip.compress(html))
    ground = {page: {"articleBody": truth, "url": f"https://x.example/{page}"} for page in ("a", "b")}
    (tmp_path / "ground-truth.json").write_text(json.dumps(ground))
    (tmp_path / "broken-markup-ids.json").write_text(json.dumps(["b"]))
    # The baseline is this checkout itself, run in a child process as another revision would be.
    assert bench.main(["--data", str(tmp_path), "--no-write", "--baseline", str(ROOT), "--worst", "1"]) == 0
    out = capsys.readouterr().out
    assert "F1 without the 1 broken pages" in out
    assert "| tradewatch baseline | 1.000 | 1.000 | 1.000 |" in out
    assert "ours / baseline = " in out
    assert "below 0.5 while trafilatura's default scores above 0.9: 0." in out
