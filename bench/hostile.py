"""Issue 16's pathological inputs, before and after, side by side: CPU and memory a stranger's document costs.

    git worktree add ../wt-hostile-base 41fe8f3 && make -C ../wt-hostile-base install   # the "before" tree
    nice -n 10 .venv/bin/python bench/hostile.py --before ../wt-hostile-base [--cases near,feed] [--no-write]

Each case runs in a fresh process of each tree's own virtualenv, before then after, one after the other on
the same inputs (``<tree>/.venv/bin/python bench/hostile.py --case NAME``, this file run from the other
tree's directory so that it imports that tree's code). What each case measures:

- ``near``: ``tariff NEAR/100 china`` matched against one 1.5 MB text (what `rules test` and ingest do per
  stored article): seconds, and the process's peak memory.
- ``tags3000``, ``tags5000``, ``tiny_p``: one page (an article followed by 3,000 tag links; 5,000 long tag
  links; 100,000 tiny ``<p>``) through the extraction worker pool as a run sends it: wall seconds until
  the page has its outcome (extracted, or failed as ``too_complex`` once over the CPU deadline), and that
  outcome. Extraction's own speed on these pages is another branch's work; this branch bounds it.
- ``feed``: a 50,000-entry feed (7.4 MB; its first 100 new entries link pages that answer 404 at once)
  and a small feed whose one page the server holds back 1 s, polled together by
  ``flows.process.process_feeds`` as a run does: the longest stall of the event loop (a 10 ms ticker's
  worst lateness), the small feed's outcome, and the whole poll's seconds.
- ``opml``: ``tradewatch feeds import`` of a 1,600-feed OPML into a configuration file (the linear import
  is another branch's work).

Numbers are medians over ``--runs`` runs (1 for cases over 30 s). The section of BENCHMARKS.md between the
``hostile`` markers is rewritten with the machine and the command.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CASES = ("near", "tags3000", "tags5000", "tiny_p", "feed", "opml")
#: A case slower than this in one tree is run once there, not ``--runs`` times.
SLOW_SECONDS = 30.0
#: A case still running after this is stopped and reported as "> N s".
CASE_TIMEOUT = 600.0


# ------------------------------------------------------------------------------------------- inputs


def near_text() -> str:
    """1.5 MB of text in which both words of the rule occur every few words: each "tariff" has about 60
    "china" within 100 words, the pairs that made the old matcher quadratic."""
    sentence = "Tariff on China, tariff from China, tariff for China. "
    return sentence * (1_500_000 // len(sentence))


ARTICLE = (
    "<p>Officials said new tariffs on steel imports would take effect next month, and trade talks between "
    "the two governments would continue in Geneva later this year, while exporters warned of retaliation.</p>"
)


def tag_page(count: int, long: bool) -> bytes:
    """An article followed by ``count`` tag links in one block: each link's block text was recomputed."""
    anchor = (
        "steel tariffs and trade policy coverage from our correspondents, tag " if long else "tariffs tag "
    )
    links = " ".join(f'<a href="https://news.example.com/tag/{n}">{anchor}{n}</a>' for n in range(count))
    return (
        f"<html><head><title>Tariffs</title></head><body><article><h1>Tariffs</h1>{ARTICLE * 6}"
        f"<div class='tags'>Tags: {links}</div></article></body></html>"
    ).encode()


def tiny_p_page() -> bytes:
    body = ARTICLE + "<p>x</p>" * 100_000
    return f"<html><head><title>Tiny</title></head><body><article>{body}</article></body></html>".encode()


def big_feed(base: str) -> bytes:
    items = "".join(
        f"<item><title>Tariff story {n}</title><link>{base}/story/{n}.html</link>"
        f"<pubDate>Mon, 24 Nov 2026 12:00:00 +0000</pubDate></item>"
        for n in range(50_000)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'.encode()
    )


def opml(count: int) -> bytes:
    outlines = "".join(
        f'<outline type="rss" text="Feed {n}" xmlUrl="https://feeds{n % 40}.example.com/{n}/rss.xml"/>'
        for n in range(count)
    )
    body = f'<body><outline text="All">{outlines}</outline></body>'
    return f'<?xml version="1.0"?><opml version="2.0">{body}</opml>'.encode()


# ---------------------------------------------------------------------------- cases (in the child process)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def case_near() -> dict[str, Any]:
    from alerts.rules import Document, parse

    text = near_text()
    rule = parse("tariff NEAR/100 china")
    before = peak_mb()
    started = time.perf_counter()
    match = rule.match(Document(title="", text=text))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": peak_mb(), "baseline_mb": before, "matched": match is not None}


def page_case(content: bytes) -> dict[str, Any]:
    """The page through the worker pool exactly as a run sends it; with this tree's CPU deadline if any."""
    import flows.workers as workers
    from flows.pool import ProcessPool

    deadline = getattr(workers, "EXTRACTION_CPU_SECONDS", None)
    pool_args: dict[str, Any] = {"cpu_seconds": deadline} if deadline else {}

    async def go() -> tuple[float, str]:
        async with ProcessPool(1, initializer=workers.start_worker, **pool_args) as pool:
            warm = (
                f"<html><head><title>Warm</title></head><body><article>{ARTICLE * 4}</article></body></html>"
            )
            await pool.run(workers.analyse, warm.encode(), "https://x.example/warm", "utf-8", "warm", None)
            started = time.perf_counter()
            try:
                await pool.run(workers.analyse, content, "https://x.example/page", "utf-8", "Tariffs", None)
                outcome = "extracted"
            except BaseException as exc:  # JobTimeout is a BaseException
                outcome = "too_complex" if type(exc).__name__ == "JobTimeout" else type(exc).__name__
            return time.perf_counter() - started, outcome

    seconds, outcome = asyncio.run(go())
    return {"seconds": seconds, "outcome": outcome, "deadline": deadline}


class _Server:
    """The big feed, a small feed and its page (held back 1 s) on 127.0.0.1."""

    def __init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                body, ctype, delay = outer.routes.get(self.path, (b"", "text/plain", 0.0))
                status = 200 if body else 404
                time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        page = f"<html><head><title>Small</title></head><body><article>{ARTICLE * 4}</article></body></html>"
        self.routes: dict[str, tuple[bytes, str, float]] = {
            "/big.xml": (big_feed(self.base), "application/rss+xml", 0.0),
            "/small.xml": (
                f'<?xml version="1.0"?><rss version="2.0"><channel><title>Small</title><item><title>Tariffs'
                f"</title><link>{self.base}/small.html</link></item></channel></rss>".encode(),
                "application/rss+xml",
                0.0,
            ),
            "/small.html": (page.encode(), "text/html; charset=utf-8", 1.0),
        }
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def case_feed() -> dict[str, Any]:
    """Both feeds polled together by the real pipeline function, with a ticker measuring the loop's stalls."""
    from datetime import UTC, datetime

    from sqlmodel import Session

    from classifiers.load import load_classifier
    from extractors.http import Fetcher, FetchPolicy
    from flows.process import RunContext, process_feeds

    try:
        from flows.run import extraction_pool
    except ImportError:  # a "before" tree older than flows/run.py
        from flows.ingest import extraction_pool  # type: ignore[attr-defined,no-redef]
    from storage import repo
    from storage.db import init_db, make_engine

    server = _Server()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        init_db(engine)
        with Session(engine) as session:
            specs = [
                repo.FeedSpec("big", f"{server.base}/big.xml"),
                repo.FeedSpec("small", f"{server.base}/small.xml"),
            ]
            repo.sync_feeds(session, specs)
            session.commit()
            feeds = repo.due_feeds(session, datetime.now(UTC), force=True)
        policy = FetchPolicy(allow_private_networks=("127.0.0.0/8",), respect_robots=False, read_timeout=5.0)

        async def go() -> tuple[float, float, Any]:
            worst = 0.0
            done = False

            async def ticker() -> None:
                nonlocal worst
                loop = asyncio.get_running_loop()
                while not done:
                    expected = loop.time() + 0.01
                    await asyncio.sleep(0.01)
                    worst = max(worst, loop.time() - expected)

            async with extraction_pool() as pool, Fetcher(policy) as fetcher:
                ctx = RunContext(
                    engine=engine,
                    fetcher=fetcher,
                    classifier=load_classifier(None),
                    rules=[],
                    extract_pool=pool,
                )
                tick = asyncio.create_task(ticker())
                started = time.perf_counter()
                outcomes = await process_feeds(ctx, feeds)
                seconds = time.perf_counter() - started
                done = True
                await tick
            return seconds, worst, outcomes

        seconds, worst, outcomes = asyncio.run(go())
        engine.dispose()
    big, small = sorted(outcomes, key=lambda o: o.name)
    return {
        "seconds": seconds,
        "worst_stall": worst,
        "big": f"{big.status} {big.reason or ''}".strip() + f", {big.entries} entries",
        "small": f"{small.status} {small.reason or ''}".strip() + f", {small.new_articles} new",
    }


def case_opml() -> dict[str, Any]:
    script = Path(sys.executable).with_name("tradewatch")
    with tempfile.TemporaryDirectory() as tmp:
        source, config = Path(tmp) / "feeds.opml", Path(tmp) / "tw.toml"
        source.write_bytes(opml(1600))
        config.write_text(f'[database]\nurl = "sqlite:///{tmp}/tw.db"\n', encoding="utf-8")
        started = time.perf_counter()
        done = subprocess.run(
            [str(script), "feeds", "import", str(source), "--config", str(config)],
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "outcome": done.stdout.strip() or done.stderr.strip()[-200:]}


CHILD: dict[str, Callable[[], dict[str, Any]]] = {
    "near": case_near,
    "tags3000": lambda: page_case(tag_page(3000, long=False)),
    "tags5000": lambda: page_case(tag_page(5000, long=True)),
    "tiny_p": lambda: page_case(tiny_p_page()),
    "feed": case_feed,
    "opml": case_opml,
}


# ------------------------------------------------------------------------------------------- parent


def run_case(tree: Path, case: str) -> dict[str, Any]:
    """One case in a fresh process of ``tree``'s virtualenv, importing ``tree``'s code."""
    python = tree / ".venv" / "bin" / "python"
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
    try:
        done = subprocess.run(
            [str(python), str(Path(__file__).resolve()), "--case", case],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=CASE_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"seconds": CASE_TIMEOUT, "timeout": True}
    if done.returncode != 0:
        return {
            "error": done.stderr.strip().splitlines()[-1]
            if done.stderr.strip()
            else f"exit {done.returncode}"
        }
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measure(tree: Path, case: str, runs: int) -> dict[str, Any]:
    """Median seconds over ``runs`` runs (one run when the first is slow); the other fields of the last."""
    results = [run_case(tree, case)]
    while len(results) < runs and results[0].get("seconds", SLOW_SECONDS) < SLOW_SECONDS:
        results.append(run_case(tree, case))
    last = dict(results[-1])
    if "seconds" in last:
        last["seconds"] = statistics.median(r["seconds"] for r in results if "seconds" in r)
    if "worst_stall" in last:
        last["worst_stall"] = statistics.median(r["worst_stall"] for r in results)
    last["runs"] = len(results)
    return last


def key(case: str, result: dict[str, Any]) -> float | None:
    """The figure compared: the event loop's worst stall for the feed case, else wall seconds."""
    if "error" in result:
        return None
    return float(result["worst_stall"] if case == "feed" and "worst_stall" in result else result["seconds"])


def seconds(case: str, result: dict[str, Any]) -> str:
    if "error" in result:
        return f"error: {result['error']}"
    if case == "feed" and "worst_stall" in result:
        return f"event loop stalled up to {result['worst_stall']:.2f} s (poll {result['seconds']:.1f} s)"
    shown = f"{result['seconds']:.2f} s"
    return f"> {shown}" if result.get("timeout") else shown


def detail(case: str, result: dict[str, Any]) -> str:
    if "error" in result or result.get("timeout"):
        return ""
    if case == "near":
        return f"peak {result['peak_mb']:.0f} MB, matched={result['matched']}"
    if case == "feed":
        return f"big feed {result['big']}; small feed {result['small']}"
    if case == "opml":
        return str(result["outcome"]).split(" into ")[0]
    deadline = f" (deadline {result['deadline']:g} s CPU)" if result.get("deadline") else ""
    return f"{result['outcome']}{deadline}"


LABELS = {
    "near": "`tariff NEAR/100 china` over one 1.5 MB text",
    "tags3000": "page followed by 3,000 tag links, through the worker pool",
    "tags5000": "page followed by 5,000 long tag links, through the worker pool",
    "tiny_p": "page of 100,000 tiny `<p>`, through the worker pool",
    "feed": "50,000-entry feed (7.4 MB) and a small feed, polled together",
    "opml": "`feeds import` of a 1,600-feed OPML",
}


def table(results: dict[str, tuple[dict[str, Any], dict[str, Any]]], before: str, after: str) -> str:
    lines = [
        f"| input | before ({before}) | after ({after}) | before / after (first figure) |",
        "|---|---|---|---:|",
    ]
    for case, (old, new) in results.items():
        ratio = ""
        was, now = key(case, old), key(case, new)
        if was is not None and now:
            ratio = f"{'≥ ' if old.get('timeout') else ''}{was / now:.1f}×"
        lines.append(
            f"| {LABELS[case]} | {seconds(case, old)}; {detail(case, old)} "
            f"| {seconds(case, new)}; {detail(case, new)} | {ratio} |"
        )
    return "\n".join(lines)


def git_head(tree: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() or tree.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, help="the tree to compare against (git main at 41fe8f3)")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--runs", type=int, default=3, help="runs per quick case (median)")
    parser.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md alone")
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)  # the child process's job
    args = parser.parse_args()
    if args.case:
        print(json.dumps(CHILD[args.case]()))
        return
    if args.before is None:
        parser.error("--before TREE is required (see the module docstring)")
    before, after = args.before.resolve(), ROOT
    results: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for case in args.cases.split(","):
        old, new = measure(before, case, args.runs), measure(after, case, args.runs)
        results[case] = (old, new)
        print(
            f"{case}: before {seconds(case, old)}; {detail(case, old)} | after {seconds(case, new)}; "
            f"{detail(case, new)}",
            flush=True,
        )
    sys.path.insert(0, str(ROOT))
    from bench.report import machine, write_section

    body = (
        "## Hostile input (bench/hostile.py)\n\n"
        "Issue 16's pathological inputs: what one stranger's document costs, before and after.\n\n"
        + table(results, f"main {git_head(before)}", f"this branch {git_head(after)}")
        + "\n\n"
        f"machine: {machine()}, shared with other jobs (load average {os.getloadavg()[0]:.1f} at the end)  \n"
        "command: `nice -n 10 .venv/bin/python bench/hostile.py --before ../wt-hostile-base "
        f"--runs {args.runs}`"
        f" (cases: {args.cases}; medians of up to {args.runs} runs, one run when a case takes over "
        f"{SLOW_SECONDS:g} s, stopped at {CASE_TIMEOUT:g} s)\n\n"
        "Extraction's own speed on the tag-link and tiny-paragraph pages, and the import's, are other "
        "branches' work: this branch bounds a page at its CPU deadline (the page fails as `too_complex`, "
        "the worker carries on) and takes a feed's parse off the event loop. The lead re-runs this after "
        "merging them."
    )
    if not args.no_write:
        write_section("hostile", body)
    print(body)


if __name__ == "__main__":
    main()
