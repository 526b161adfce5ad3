"""Trade-event extraction: per-field precision, recall and F1 on a labelled set, and documents per second.

    .venv/bin/python bench/events.py                 # both splits, printed
    .venv/bin/python bench/events.py --split dev -v  # the dev split, with every miss and false alarm
    .venv/bin/python bench/events.py --write         # also rewrite the BENCHMARKS.md section

The labelled set is bench/data/events_labelled.toml (see its header for the conventions). Scoring is per
document and per field, as slot filling is usually scored: each field contributes the set of values the
document's events carry — (document, measure), (document, implementer code), (document, affected code),
(document, "from"/"to", rate), (document, "announced"/"effective", date), (document, product) — and
predicted sets are compared with the labelled ones. A rate compares by its upper value and unit, so
"17.4–38.1%" and "38.1%" agree, and "up to 38%" in a headline does not stand for "38.1%" in the body.
Documents labelled with no event count every predicted value as a false alarm; the number of events
invented on them is reported on its own ("eventless documents with an event").
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import machine, write_section  # noqa: E402
from classifiers.events import TradeEvent, extract_events  # noqa: E402

LABELS = ROOT / "bench" / "data" / "events_labelled.toml"
DEMO = ROOT / "seeds" / "demo" / "expected"
FIELDS = ("measure", "implementer", "affected", "rates", "dates", "products")
TARGETS = {"measure": 0.85, "implementer": 0.90, "affected": 0.90, "rates": 0.90, "dates": 0.80}
SPEED_ROUNDS = 5


@dataclass(frozen=True)
class Item:
    id: str
    split: str
    title: str
    text: str
    published: datetime | date | None
    events: list[dict[str, object]]


def load_items(path: Path = LABELS) -> list[Item]:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    demo = tomllib.loads((DEMO / "labels.toml").read_text(encoding="utf-8"))
    items = []
    for entry in raw["item"]:
        if "slug" in entry:
            label = demo[entry["slug"]]
            title = label["title"]
            text = (DEMO / f"{entry['slug']}.txt").read_text(encoding="utf-8")
            published: datetime | date | None = datetime.fromisoformat(label["published"])
        else:
            title, text = entry["title"], entry["text"]
            published = date.fromisoformat(entry["published"])
        items.append(Item(entry["id"], entry["split"], title, text, published, entry.get("event", [])))
    return items


def _rate_key(value: str) -> str:
    """The upper value and the unit kind of a rate written "17.4-38.1%", "17.4–38.1%" or "USD 50 per t"."""
    numbers = re.findall(r"\d+(?:\.\d+)?", value.replace(",", ""))
    unit = "%" if "%" in value else "amount"
    return f"{float(numbers[-1]):g}{unit}" if numbers else value


def gold_values(item: Item) -> dict[str, set[tuple[str, ...]]]:
    out: dict[str, set[tuple[str, ...]]] = {f: set() for f in FIELDS}
    for ev in item.events:
        out["measure"].add((str(ev["measure"]),))
        out["implementer"].update((str(c),) for c in ev.get("implementer", []))  # type: ignore[attr-defined]
        out["affected"].update((str(c),) for c in ev.get("affected", []))  # type: ignore[attr-defined]
        out["products"].update((str(p),) for p in ev.get("products", []))  # type: ignore[attr-defined]
        for key in ("rate_from", "rate_to"):
            if key in ev:
                out["rates"].add((key, _rate_key(str(ev[key]))))
        for key in ("announced", "effective"):
            if key in ev:
                out["dates"].add((key, str(ev[key])))
    return out


def predicted_values(events: Iterable[TradeEvent]) -> dict[str, set[tuple[str, ...]]]:
    out: dict[str, set[tuple[str, ...]]] = {f: set() for f in FIELDS}
    for ev in events:
        out["measure"].add((ev.measure,))
        out["implementer"].update((c,) for c in ev.implementer)
        out["affected"].update((c,) for c in ev.affected)
        out["products"].update((p,) for p in ev.products)
        if ev.rate_from is not None:
            out["rates"].add(("rate_from", _rate_key(str(ev.rate_from))))
        if ev.rate_to is not None:
            out["rates"].add(("rate_to", _rate_key(str(ev.rate_to))))
        if ev.announced is not None:
            out["dates"].add(("announced", ev.announced.isoformat()))
        if ev.effective is not None:
            out["dates"].add(("effective", ev.effective.isoformat()))
    return out


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Result:
    split: str
    documents: int
    events: int
    scores: dict[str, Score]
    eventless: int
    eventless_with_event: list[str]
    misses: list[str]


def evaluate(items: list[Item], split: str) -> Result:
    scores = {f: Score() for f in FIELDS}
    misses: list[str] = []
    eventless: list[str] = []
    chosen = [i for i in items if split in ("all", i.split)]
    for item in chosen:
        events = extract_events(item.title, item.text, item.published)
        gold, pred = gold_values(item), predicted_values(events)
        if not item.events and events:
            eventless.append(item.id)
        for f in FIELDS:
            tp = gold[f] & pred[f]
            scores[f].tp += len(tp)
            scores[f].fp += len(pred[f] - gold[f])
            scores[f].fn += len(gold[f] - pred[f])
            for value in sorted(pred[f] - gold[f]):
                misses.append(f"{item.id}: {f} false alarm {value}")
            for value in sorted(gold[f] - pred[f]):
                misses.append(f"{item.id}: {f} missed {value}")
    return Result(
        split=split,
        documents=len(chosen),
        events=sum(len(i.events) for i in chosen),
        scores=scores,
        eventless=sum(1 for i in chosen if not i.events),
        eventless_with_event=eventless,
        misses=misses,
    )


def speed(items: list[Item]) -> tuple[float, float]:
    """(documents per second, median milliseconds per document) over SPEED_ROUNDS passes, data loaded."""
    extract_events(items[0].title, items[0].text, items[0].published)  # load the data files once
    rates = []
    for _ in range(SPEED_ROUNDS):
        start = time.perf_counter()
        for item in items:
            extract_events(item.title, item.text, item.published)
        rates.append(len(items) / (time.perf_counter() - start))
    median = statistics.median(rates)
    return median, 1000 / median


def table(results: list[Result]) -> list[str]:
    lines = [
        "| split | docs | events | field | precision | recall | F1 | target |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        for f in FIELDS:
            s = r.scores[f]
            target = f"{TARGETS[f]:.2f}" if f in TARGETS else "–"
            lines.append(
                f"| {r.split} | {r.documents} | {r.events} | {f} | {s.precision:.3f} | {s.recall:.3f} "
                f"| {s.f1:.3f} | {target} |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", choices=("dev", "test", "all"), default=None)
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss and false alarm")
    parser.add_argument("--write", action="store_true", help="rewrite the BENCHMARKS.md section")
    args = parser.parse_args()
    items = load_items()
    splits = [args.split] if args.split else ["dev", "test", "all"]
    results = [evaluate(items, s) for s in splits]
    docs_per_s, ms = speed(items)
    lines = table(results)
    for r in results:
        lines.append("")
        lines.append(
            f"{r.split}: eventless documents with an event: {len(r.eventless_with_event)} of {r.eventless}"
            + (f" ({', '.join(r.eventless_with_event)})" if r.eventless_with_event else "")
        )
    total_chars = sum(len(i.title) + len(i.text) for i in items)
    long_items = [i for i in items if i.id.startswith("demo-") and i.events]  # full articles, 3-5k characters
    long_rate, long_ms = speed(long_items)
    long_chars = sum(len(i.title) + len(i.text) for i in long_items) / len(long_items)
    lines.append("")
    lines.append(
        f"speed: {docs_per_s:,.0f} documents/s ({ms:.2f} ms per document, median of {SPEED_ROUNDS} passes "
        f"over {len(items)} documents, {total_chars / len(items):,.0f} characters on average), one core"
    )
    lines.append(
        f"speed on full articles: {long_rate:,.0f} documents/s ({long_ms:.2f} ms per article) on the "
        f"{len(long_items)} demo trade articles ({long_chars:,.0f} characters on average); the stage runs "
        "only for trade articles, in the extraction workers"
    )
    print("\n".join(lines))
    if args.verbose:
        for r in results:
            print(f"\n## {r.split}")
            print("\n".join(r.misses))
    if args.write:
        header = [
            "## Trade events (bench/events.py)",
            "",
            f"Machine: {machine()} (shared with other jobs: 1-min load average {os.getloadavg()[0]:.1f} at "
            "the end); command: `nice -n 10 .venv/bin/python bench/events.py --write`.",
            "",
            "Labelled set: `bench/data/events_labelled.toml` — wire-style stories written for this "
            "benchmark, the eight demo articles and the seed article; `dev` was used to tune the patterns, "
            "`test` only to confirm. Per-field scores are per document (see the script's docstring).",
            "",
        ]
        write_section("Trade events", "\n".join(header + lines))


if __name__ == "__main__":
    main()
