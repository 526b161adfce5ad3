"""`feeds import` of a 1,600-feed OPML: the time of ``flows.feedlist.add_feeds`` on a fresh configuration.

Usage: ``python bench/feeds_import.py [--feeds 1600] [--runs 3]``; prints the median seconds. Run it
with ``PYTHONPATH=<another checkout>`` to time that checkout's code on the same input (BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from flows.feedlist import add_feeds, read_opml


def opml(feeds: int) -> bytes:
    outlines = "".join(
        f'<outline text="Feed {i}" xmlUrl="https://host{i % 400}.example/feed/{i}?utm_source=x"/>'
        for i in range(feeds)
    )
    return f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>'.encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=1600)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    lines = read_opml(opml(args.feeds))
    times = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "tw.toml"
            config.write_text("", encoding="utf-8")
            started = time.perf_counter()
            added = add_feeds(config, lines)
            times.append(time.perf_counter() - started)
            assert len(added) == args.feeds
    print(f"feeds={args.feeds} runs={args.runs} median_s={statistics.median(times):.2f}")


if __name__ == "__main__":
    main()
