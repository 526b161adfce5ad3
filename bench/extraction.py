"""Score article extraction on labelled page sets: ours, trafilatura and readability side by side.

    .venv/bin/python bench/extraction.py [--data DIR ...] [--baseline CHECKOUT] [--worst 10] [--no-write]

Each set is a directory of ``html/<id>.html.gz`` pages with ``ground-truth.json`` (see
../shared/bench/README.md); by default the Zyte article-extraction pages and the L3S-GN1 news pages. A set's
optional ``broken-markup-ids.json`` lists pages whose stored HTML is damaged: the set is reported with and
without them.

The metric is the one of scrapinghub/article-extraction-benchmark: 4-token shingle multisets, precision and
recall averaged over pages, F1 from the two means, exact-match accuracy on the token sequence. Speed is pages
per CPU-second of one process, each extractor given the same gzip-decompressed bytes, interleaved page by
page so that load from other jobs falls on all of them alike. ``--baseline`` adds another checkout's
extractor (e.g. a ``git worktree`` of an older commit) to the same run, in a child process that times its
own calls. The worst pages list where ours falls furthest below trafilatura's default. The tables are written
between the extraction markers of BENCHMARKS.md. Exits 0 with a message when no data directory exists (the
data is not part of the repository).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import re
import subprocess
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

SHARED = ROOT.parent / "shared" / "bench"
DEFAULT_DATA = [SHARED / "extraction", SHARED / "extraction-l3s"]
SHINGLE = 4  # tokens per shingle, as in the published benchmark
_TOKEN = re.compile(r"\w+")
OURS = "tradewatch (extractors.article)"
DEFAULT = "trafilatura 2.3.1 default"
PRECISION = "trafilatura 2.3.1 favor_precision"
READABILITY = "readability-lxml"
BASELINE = "tradewatch baseline"


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def shingles(text: str) -> Counter[tuple[str, ...]]:
    toks = tokens(text)
    grams = [tuple(toks[i : i + SHINGLE]) for i in range(max(1, len(toks) - SHINGLE + 1))]
    return Counter(g for g in grams if g)


@dataclass
class Score:
    """Per-page precision/recall accumulators of one extractor on one set, plus its timing."""

    precisions: list[float] = field(default_factory=list)
    recalls: list[float] = field(default_factory=list)
    exact: int = 0
    pages: int = 0
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    per_page: dict[str, float] = field(default_factory=dict)
    # Each page's (precision, recall, exact) contribution, None where the page does not count: to rescore a
    # subset of the pages without running the extractor again.
    records: dict[str, tuple[float | None, float | None, bool]] = field(default_factory=dict)

    def add(self, page: str, predicted: str, truth: str) -> None:
        pred, true = shingles(predicted), shingles(truth)
        tp = sum((pred & true).values())
        fp = sum(pred.values()) - tp
        fn = sum(true.values()) - tp
        if fp == 0 and fn == 0:
            record: tuple[float | None, float | None, bool] = (1.0, 1.0, False)
        else:
            record = (tp / (tp + fp) if tp + fp else None, tp / (tp + fn) if tp + fn else None, False)
        exact = tokens(predicted) == tokens(truth)
        self._count(page, (record[0], record[1], exact))
        self.per_page[page] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0

    def _count(self, page: str, record: tuple[float | None, float | None, bool]) -> None:
        precision, recall, exact = record
        self.pages += 1
        if precision is not None:
            self.precisions.append(precision)
        if recall is not None:
            self.recalls.append(recall)
        self.exact += exact
        self.records[page] = record

    def without(self, pages: frozenset[str]) -> Score:
        """The same scores with ``pages`` left out (timing is not carried over)."""
        kept = Score()
        for page, record in self.records.items():
            if page not in pages:
                kept._count(page, record)
                kept.per_page[page] = self.per_page[page]
        return kept

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


def trafilatura_default(page: bytes, url: str) -> str:
    import trafilatura

    return trafilatura.extract(page, url=url, include_comments=False) or ""


def trafilatura_precision(page: bytes, url: str) -> str:
    import trafilatura

    return trafilatura.extract(page, url=url, favor_precision=True, include_comments=False) or ""


def readability_lxml(page: bytes, url: str) -> str:
    from lxml import html
    from readability import Document

    try:
        summary = Document(page, url=url).summary(html_partial=True)
    except Exception:  # readability raises on pages it cannot parse (empty documents): count it as nothing
        return ""
    if not summary.strip():
        return ""
    tree = html.fromstring(summary)
    blocks = tree.xpath("//p|//h1|//h2|//h3|//h4|//h5|//h6|//li|//pre|//td|//blockquote[not(p)]")
    return "\n\n".join(t for b in blocks if (t := " ".join(b.text_content().split())))


EXTRACTORS: dict[str, Callable[[bytes, str], str]] = {
    OURS: ours,
    DEFAULT: trafilatura_default,
    PRECISION: trafilatura_precision,
    READABILITY: readability_lxml,
}

# The baseline runs in a child interpreter with the other checkout first on sys.path, so both versions of
# the `extractors` package can be timed in one run. It reads one gzip path and URL per line and answers
# with the text and its own CPU seconds for that call, as one JSON line.
_CHILD = """
import gzip, json, sys, time
sys.path.insert(0, sys.argv[1])
from extractors.article import extract
from extractors.errors import ExtractionError
for line in sys.stdin:
    path, url = json.loads(line)
    page = gzip.decompress(open(path, "rb").read())
    start = time.process_time()
    try:
        text = extract(page, url=url).text
    except ExtractionError:
        text = ""
    print(json.dumps([text, time.process_time() - start]), flush=True)
"""


class Baseline:
    """Another checkout's extractor in a child process that reports the CPU time of each call."""

    def __init__(self, checkout: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(checkout.resolve())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def __call__(self, path: Path, url: str) -> tuple[str, float]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps([str(path), url]) + "\n")
        self.process.stdin.flush()
        text, cpu = json.loads(self.process.stdout.readline())
        return str(text), float(cpu)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait()


@dataclass(frozen=True)
class Page:
    path: Path
    html: bytes
    url: str  # the page's original address: extractors may use it, as in production
    truth: str


@dataclass
class Dataset:
    """One labelled set: its pages and the ids of pages whose stored markup is known to be damaged."""

    name: str
    pages: dict[str, Page]
    broken: frozenset[str] = frozenset()


def load(data: Path) -> dict[str, Page]:
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    pages = {}
    for page_id in sorted(truth):
        path = data / "html" / f"{page_id}.html.gz"
        if path.exists():
            pages[page_id] = Page(
                path=path,
                html=gzip.decompress(path.read_bytes()),
                url=truth[page_id].get("url", ""),
                truth=truth[page_id]["articleBody"],
            )
    return pages


def load_set(data: Path) -> Dataset:
    broken_file = data / "broken-markup-ids.json"
    broken = frozenset(json.loads(broken_file.read_text())) if broken_file.exists() else frozenset()
    return Dataset(name=data.name, pages=load(data), broken=broken)


def run(pages: dict[str, Page], names: list[str], baseline: Baseline | None = None) -> dict[str, Score]:
    """Score every extractor; timing interleaves them page by page so that load from other jobs on a shared
    machine falls on all of them alike."""
    functions = {name: EXTRACTORS[name] for name in names}
    warm = next(iter(pages.values()))
    for function in functions.values():
        function(warm.html, warm.url)  # warm-up: imports and data files, not counted
    if baseline is not None:
        baseline(warm.path, warm.url)
    scores = {name: Score() for name in [*names, *([BASELINE] if baseline else [])]}
    for page_id, page in pages.items():
        for name, function in functions.items():
            cpu, wall = time.process_time(), time.perf_counter()
            predicted = function(page.html, page.url)
            scores[name].cpu_seconds += time.process_time() - cpu
            scores[name].wall_seconds += time.perf_counter() - wall
            scores[name].add(page_id, predicted, page.truth)
        if baseline is not None:
            wall = time.perf_counter()
            predicted, cpu_seconds = baseline(page.path, page.url)
            scores[BASELINE].cpu_seconds += cpu_seconds
            scores[BASELINE].wall_seconds += time.perf_counter() - wall
            scores[BASELINE].add(page_id, predicted, page.truth)
    return scores


def table(dataset: Dataset, scores: dict[str, Score]) -> str:
    broken = f" | F1 without the {len(dataset.broken)} broken pages" if dataset.broken else ""
    lines = [
        f"| extractor | precision | recall | F1 | exact match | pages/s (CPU) | pages/s (wall){broken} |",
        "|---|---|---|---|---|---|---|" + ("---|" if broken else ""),
    ]
    for name, s in scores.items():
        cpu_rate = s.pages / s.cpu_seconds if s.cpu_seconds else float("inf")
        wall_rate = s.pages / s.wall_seconds if s.wall_seconds else float("inf")
        extra = f" | {s.without(dataset.broken).f1:.3f}" if broken else ""
        lines.append(
            f"| {name} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.accuracy:.3f} "
            f"| {cpu_rate:.1f} | {wall_rate:.1f}{extra} |"
        )
    return "\n".join(lines)


def worst(dataset: Dataset, scores: dict[str, Score], count: int) -> str:
    """Our pages furthest below trafilatura's default, and how many are failures it gets right."""
    mine, theirs = scores[OURS].per_page, scores[DEFAULT].per_page
    lost = [p for p in mine if mine[p] < 0.5 and theirs[p] > 0.9]
    lines = [
        f"Pages where ours scores below 0.5 while trafilatura's default scores above 0.9: {len(lost)}"
        + (f" ({', '.join(p[:8] for p in lost)})" if lost else "")
        + ".",
        "",
        f"Worst {count} pages relative to trafilatura's default (F1 ours / trafilatura):",
        "",
    ]
    for page_id in sorted(mine, key=lambda p: mine[p] - theirs[p])[:count]:
        url = dataset.pages[page_id].url
        lines.append(f"- {mine[page_id]:.3f} / {theirs[page_id]:.3f} `{page_id[:8]}` {url[:90]}")
    return "\n".join(lines)


def ratios(scores: dict[str, Score]) -> str:
    """Our CPU throughput against trafilatura's and the baseline's, measured in the same run."""

    def rate(name: str) -> float:
        s = scores[name]
        return s.pages / s.cpu_seconds if s.cpu_seconds else float("inf")

    parts = [f"ours / trafilatura default = {rate(OURS) / rate(DEFAULT):.2f}"]
    parts.append(f"ours / trafilatura favor_precision = {rate(OURS) / rate(PRECISION):.2f}")
    if BASELINE in scores:
        parts.append(f"ours / baseline = {rate(OURS) / rate(BASELINE):.2f}")
    return "pages per CPU-second, same run: " + "; ".join(parts)


_STORY = "".join(
    f"<p>Paragraph {n}: the ministry said soybean shipments to China rose in the second quarter, helped by "
    "lower freight costs and a weaker dollar.</p>"
    for n in range(8)
)


def _story_page(after: str) -> str:
    return (
        "<html><head><title>Soybean shipments rise</title></head><body>"
        f"<article><h1>Soybean shipments rise</h1>{_STORY}</article>{after}</body></html>"
    )


_LONG_HEADLINE = "Another long headline about markets and trade " * 3
# Hostile page shapes (issue 16): an article followed by a flood of links, and a flood of tiny elements.
PATHOLOGICAL: dict[str, Callable[[], str]] = {
    "article + 3,000 tag links": lambda: _story_page(
        "<div>" + "".join(f"<a href='/tag/{i}'>tag {i} of the site</a> " for i in range(3000)) + "</div>"
    ),
    "article + 5,000 long links in one block": lambda: _story_page(
        "<div>" + "".join(f"<a href='/s/{i}'>{_LONG_HEADLINE}{i}</a> " for i in range(5000)) + "</div>"
    ),
    "100,000 one-word paragraphs": lambda: (
        "<html><body><article>" + "".join(f"<p>x{i}</p>" for i in range(100_000)) + "</article></body></html>"
    ),
}


def _outcome(text: str | None, reason: str | None) -> str:
    if reason is not None:
        return f"fails as `{reason}`"
    if text is not None and text.startswith("Paragraph 0:") and "headline" not in text:
        return "the article"
    return f"{len(text or ''):,} characters, not the article"


def pathological(checkout: Path | None) -> str:
    """CPU seconds and outcome of each hostile page shape, ours and (with ``checkout``) the baseline's."""
    import tempfile

    rows = [
        "| input | ours: CPU s | ours: result | baseline: CPU s | baseline: result |",
        "|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for name, build in PATHOLOGICAL.items():
            page = build().encode()
            start = time.process_time()
            text, reason = None, None
            try:
                text = extract(page).text
            except ExtractionError as exc:
                reason = exc.reason
            mine = f"{time.process_time() - start:.2f} | {_outcome(text, reason)}"
            theirs = "- | -"
            if checkout is not None:
                path = Path(tmp) / "page.html.gz"
                path.write_bytes(gzip.compress(page))
                baseline = Baseline(checkout)
                try:
                    base_text, cpu = baseline(path, "")
                finally:
                    baseline.close()
                theirs = f"{cpu:.2f} | {_outcome(base_text, None if base_text else 'an empty text')}"
            rows.append(f"| {name} | {mine} | {theirs} |")
            print(rows[-1], flush=True)
    return "\n".join(rows)


def _revision(checkout: Path) -> str:
    """The baseline checkout's commit, for the record of what ours was compared with."""
    try:
        found = subprocess.run(
            ["git", "-C", str(checkout), "log", "-1", "--format=%h %s"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return f"{checkout} (not a git checkout)"
    return f"commit {found.stdout.strip()[:100]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--data", type=Path, action="append", help="a labelled set (repeatable; default: both shared sets)"
    )
    parser.add_argument("--baseline", type=Path, help="another checkout whose extractor runs beside ours")
    parser.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md alone")
    parser.add_argument("--only-ours", action="store_true", help="skip the reference extractors")
    parser.add_argument("--worst", type=int, default=10, help="list our N worst pages against trafilatura")
    parser.add_argument(
        "--pathological", action="store_true", help="also time hostile page shapes (minutes with --baseline)"
    )
    args = parser.parse_args(argv)

    directories = [d for d in (args.data or DEFAULT_DATA) if (d / "ground-truth.json").exists()]
    if not directories:
        print(f"extraction benchmark skipped: no data at {', '.join(map(str, args.data or DEFAULT_DATA))}")
        return 0
    names = [OURS] if args.only_ours else list(EXTRACTORS)
    header = f"{machine()}; shared with other jobs, 1-min load average {os.getloadavg()[0]:.1f} at start"
    sections = []
    for directory in directories:
        dataset = load_set(directory)
        baseline = Baseline(args.baseline) if args.baseline else None
        try:
            scores = run(dataset.pages, names, baseline)
        finally:
            if baseline is not None:
                baseline.close()
        report = [f"### {dataset.name} ({len(dataset.pages)} pages)", "", table(dataset, scores)]
        if not args.only_ours:
            report += ["", ratios(scores), "", worst(dataset, scores, args.worst)]
        text = "\n".join(report)
        print(text + "\n")
        sections.append(text)
    if args.pathological:
        sections.append(
            "### Hostile page shapes\n\nOne run each, CPU seconds of the extract call; the baseline runs "
            "in its own process.\n\n" + pathological(args.baseline)
        )

    if not args.no_write and not args.only_ours:
        command = (
            ".venv/bin/python bench/extraction.py"
            + (f" --baseline {args.baseline}" if args.baseline else "")
            + (" --pathological" if args.pathological else "")
        )
        write_section(
            "extraction",
            "## Article extraction\n\n"
            "Labelled page sets from `../shared/bench` (see its README): the Zyte article-extraction "
            "benchmark pages and L3S-GN1 news pages (human-annotated article text; its 9 pages with damaged "
            "markup are reported apart), scored with the Zyte benchmark's metric (4-token shingles; "
            "precision and recall averaged over pages; F1 of the two means; exact match of the token "
            "sequence). The extractors "
            "run in one process on one core, on the same bytes and URL, interleaved page by page; "
            "pages/s (CPU) is the page count over the CPU time spent inside each extractor, the figure "
            "least disturbed by other jobs. The machine is shared and loaded: compare the rows of one run "
            "with each other, not across runs.\n\n"
            + "\n\n".join(sections)
            + f"\n\n- command: `{command}`\n"
            + (f"- baseline: {_revision(args.baseline)}\n" if args.baseline else "")
            + f"- machine: {header}\n"
            f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}\n",
        )
        print(f"written to {BENCHMARKS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
