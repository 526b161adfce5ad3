"""Score article extraction against the Zyte benchmark pages: ours, trafilatura and readability side by side.

    .venv/bin/python bench/extraction.py [--data ../shared/bench/extraction] [--no-write] [--worst 10]

The metric is the one of scrapinghub/article-extraction-benchmark (see the data README): 4-token shingle
multisets, precision and recall averaged over pages, F1 from the two means, exact-match accuracy on the
token sequence. Speed is pages per second of one process on one core, CPU time and wall time, each extractor
given the same gzip-decompressed bytes. The table is written between the extraction markers of
BENCHMARKS.md. Exits 0 with a message when the data directory is absent (it is not part of the repository).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import BENCHMARKS, machine, write_section  # noqa: E402
from extractors.article import extract  # noqa: E402
from extractors.errors import ExtractionError  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "bench" / "extraction"
SHINGLE = 4  # tokens per shingle, as in the published benchmark
_TOKEN = re.compile(r"\w+")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def shingles(text: str) -> Counter[tuple[str, ...]]:
    toks = tokens(text)
    grams = [tuple(toks[i : i + SHINGLE]) for i in range(max(1, len(toks) - SHINGLE + 1))]
    return Counter(g for g in grams if g)


@dataclass
class Score:
    """Per-page precision/recall accumulators of one extractor, plus its timing."""

    precisions: list[float] = field(default_factory=list)
    recalls: list[float] = field(default_factory=list)
    exact: int = 0
    pages: int = 0
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    per_page: dict[str, float] = field(default_factory=dict)

    def add(self, page: str, predicted: str, truth: str) -> None:
        pred, true = shingles(predicted), shingles(truth)
        tp = sum((pred & true).values())
        fp = sum(pred.values()) - tp
        fn = sum(true.values()) - tp
        self.pages += 1
        if fp == 0 and fn == 0:
            self.precisions.append(1.0)
            self.recalls.append(1.0)
        else:
            if tp + fp > 0:
                self.precisions.append(tp / (tp + fp))
            if tp + fn > 0:
                self.recalls.append(tp / (tp + fn))
        self.exact += tokens(predicted) == tokens(truth)
        self.per_page[page] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0

    @property
    def precision(self) -> float:
        return sum(self.precisions) / len(self.precisions) if self.precisions else 0.0

    @property
    def recall(self) -> float:
        return sum(self.recalls) / len(self.recalls) if self.recalls else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy(self) -> float:
        return self.exact / self.pages if self.pages else 0.0


def ours(page: bytes, url: str) -> str:
    try:
        return extract(page, url=url).text
    except ExtractionError:
        return ""


def trafilatura_precision(page: bytes, url: str) -> str:
    import trafilatura

    return trafilatura.extract(page, url=url, favor_precision=True, include_comments=False) or ""


def readability_lxml(page: bytes, url: str) -> str:
    from lxml import html
    from readability import Document

    summary = Document(page, url=url).summary(html_partial=True)
    if not summary.strip():
        return ""
    tree = html.fromstring(summary)
    blocks = tree.xpath("//p|//h1|//h2|//h3|//h4|//h5|//h6|//li|//pre|//td|//blockquote[not(p)]")
    return "\n\n".join(t for b in blocks if (t := " ".join(b.text_content().split())))


EXTRACTORS: dict[str, Callable[[bytes, str], str]] = {
    "tradewatch (extractors.article)": ours,
    "trafilatura 2.3.1 favor_precision": trafilatura_precision,
    "readability-lxml": readability_lxml,
}


@dataclass(frozen=True)
class Page:
    html: bytes
    url: str  # the page's original address: extractors may use it, as in production
    truth: str


def load(data: Path) -> dict[str, Page]:
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    return {
        page_id: Page(
            html=gzip.decompress((data / "html" / f"{page_id}.html.gz").read_bytes()),
            url=truth[page_id].get("url", ""),
            truth=truth[page_id]["articleBody"],
        )
        for page_id in sorted(truth)
        if (data / "html" / f"{page_id}.html.gz").exists()
    }


def run(pages: dict[str, Page], names: list[str]) -> dict[str, Score]:
    """Score every extractor; timing interleaves them page by page so that load from other jobs on a shared
    machine falls on all of them alike."""
    functions = {name: EXTRACTORS[name] for name in names}
    warm = next(iter(pages.values()))
    for function in functions.values():
        function(warm.html, warm.url)  # warm-up: imports and data files, not counted
    scores = {name: Score() for name in names}
    for page_id, page in pages.items():
        for name, function in functions.items():
            cpu, wall = time.process_time(), time.perf_counter()
            predicted = function(page.html, page.url)
            scores[name].cpu_seconds += time.process_time() - cpu
            scores[name].wall_seconds += time.perf_counter() - wall
            scores[name].add(page_id, predicted, page.truth)
    return scores


def table(scores: dict[str, Score]) -> str:
    lines = [
        "| extractor | precision | recall | F1 | exact match | pages/s (CPU) | pages/s (wall) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in scores.items():
        cpu_rate = s.pages / s.cpu_seconds if s.cpu_seconds else float("inf")
        wall_rate = s.pages / s.wall_seconds if s.wall_seconds else float("inf")
        lines.append(
            f"| {name} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.accuracy:.3f} "
            f"| {cpu_rate:.0f} | {wall_rate:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="benchmark directory")
    parser.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md alone")
    parser.add_argument("--only-ours", action="store_true", help="skip the reference extractors")
    parser.add_argument("--worst", type=int, default=0, help="list our N worst pages by F1")
    args = parser.parse_args(argv)

    if not (args.data / "ground-truth.json").exists():
        print(f"extraction benchmark skipped: no data at {args.data}")
        return 0
    pages = load(args.data)
    names = list(EXTRACTORS)[:1] if args.only_ours else list(EXTRACTORS)
    header = f"{machine()}; shared with other jobs, 1-min load average {os.getloadavg()[0]:.1f} at start"
    scores = run(pages, names)
    result = table(scores)
    print(result)

    if args.worst:
        mine = scores[names[0]].per_page
        for page_id in sorted(mine, key=mine.__getitem__)[: args.worst]:
            print(f"{mine[page_id]:.3f} {page_id}")

    if not args.no_write and not args.only_ours:
        command = "make bench  # or: .venv/bin/python bench/extraction.py"
        write_section(
            "extraction",
            "## Article extraction\n\n"
            f"{len(pages)} pages of the Zyte article-extraction benchmark (`../shared/bench/extraction`), "
            "scored with its published metric (4-token shingles; precision and recall averaged over pages; "
            "F1 of the two means; exact match of the token sequence). The extractors run in one process "
            "on one core, on the same bytes and URL, interleaved page by page; pages/s (CPU) is the page "
            "count over the process CPU time spent inside each extractor, the figure least disturbed by "
            "other jobs. The "
            "machine is shared and loaded: compare the rows with each other, not across runs.\n\n"
            f"{result}\n\n"
            f"- command: `{command}`\n"
            f"- machine: {header}\n"
            f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}\n",
        )
        print(f"written to {BENCHMARKS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
