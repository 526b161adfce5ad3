"""Fixtures for the fault suite: a demo-corpus site that can be slowed, an SMTP sink that can misbehave.

Everything is real: an HTTP server on 127.0.0.1 serving the bundled demo corpus, an aiosmtpd server whose
handler sleeps or answers 5xx, SQLite files, a PostgreSQL server, and `tradewatch` pipeline processes.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from flows.demo import BASE_URL_TOKEN, DEMO_SITE, free_port
from storage.db import make_engine
from storage.models import Article, Delivery
from tests.httpserver import Exchange, HTTPTestServer

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LABELS = tomllib.loads((DEMO_SITE / "expected" / "labels.toml").read_text(encoding="utf-8"))

#: Rules that make the demo corpus produce many alerts on two channels, so kills and SMTP faults have
#: deliveries to land on (the demo configuration alone queues one).
MANY_ALERT_RULES = """
[[rules]]
name = "any-trade-word"
query = "trade OR tariff OR tariffs OR duties OR export OR exports OR ports OR fees OR budget OR heat"
channels = ["desk-email", "ops-email"]
"""


@dataclass
class Received:
    """One message as the sink accepted it."""

    at: float  # time.monotonic() when the sink answered 250
    to: str
    subject: str
    message: EmailMessage

    @property
    def identity(self) -> tuple[str, str]:
        return (self.to, self.subject)


@dataclass
class FaultySink:
    """An aiosmtpd handler: ``mode`` is "ok", "slow" (sleeps ``delay`` before answering) or "reject" (554)."""

    mode: str = "ok"
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    rejected: int = 0
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd hook
        if self.mode == "reject":
            with self.lock:
                self.rejected += 1
            return "554 5.7.1 Message rejected by policy"
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.received.append(
                Received(
                    time.monotonic(), str(message["To"]), " ".join(str(message["Subject"]).split()), message
                )
            )
        return "250 OK"

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def settle(
        self, count: int | None = None, *, timeout: float = 10.0, quiet: float = 0.3
    ) -> list[Received]:
        """Wait for ``count`` messages (at most ``timeout`` s), then until none arrives for ``quiet`` s."""
        deadline = time.monotonic() + timeout
        while count is not None and len(self.snapshot()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        last = len(self.snapshot())
        while True:
            time.sleep(quiet)
            now = len(self.snapshot())
            if now == last:
                return self.snapshot()
            last = now


class SinkServer:
    """Start/stop a `FaultySink` on a fixed port, so the SMTP server can go down and come back."""

    def __init__(self, handler: FaultySink, port: int) -> None:
        self.handler = handler
        self.port = port
        handler.port = port
        self._controller: Controller | None = None

    def start(self) -> SinkServer:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def faulty_sink() -> Iterator[SinkServer]:
    server = SinkServer(FaultySink(), free_port()).start()
    yield server
    server.stop()


class CorpusSite:
    """The demo corpus (feeds and article pages) on a real HTTP server, with a per-page delay knob."""

    def __init__(self, server: HTTPTestServer) -> None:
        self.server = server
        self.page_delay = 0.0
        self.big_visible = 0
        self.base_url = server.url("").rstrip("/")
        for path in sorted(DEMO_SITE.rglob("*")):
            if path.is_file() and path.suffix in (".xml", ".html"):
                rel = "/" + path.relative_to(DEMO_SITE).as_posix()
                server.route(rel, self._handler(path))

    def _handler(self, path: Path) -> Any:
        body = path.read_bytes().replace(BASE_URL_TOKEN.encode(), self.base_url.encode())
        if path.suffix == ".xml":
            ctype = "application/atom+xml" if path.name.startswith("atom") else "application/rss+xml"
        else:
            ctype = "text/html; charset=utf-8"

        def handle(exchange: Exchange) -> None:
            delay = self.page_delay if path.suffix == ".html" else 0.0
            exchange.send(200, {"Content-Type": ctype}, body, delay=delay)

        return handle

    def add_big_feed(self, copies: int) -> str:
        """An RSS feed of up to ``copies`` distinct URLs per demo article (the same pages), newest first.

        ``big_visible`` says how many copies the feed lists right now, so a test can publish more news
        between runs.
        """
        self.big_visible = copies
        items: list[list[str]] = [[] for _ in range(copies)]
        for page in sorted((DEMO_SITE / "articles").glob("*.html")):
            title = xml_escape(str(LABELS[page.stem]["title"]))
            handler = self._handler(page)
            for n in range(copies):
                path = f"/big/{page.stem}-{n}.html"
                self.server.route(path, handler)
                items[n].append(
                    f"<item><title>{title} ({n})</title><link>{self.base_url}{path}</link>"
                    f"<guid>{self.base_url}{path}</guid><description>{title}</description></item>"
                )

        def feed(exchange: Exchange) -> None:
            listed = "".join("".join(group) for group in reversed(items[: self.big_visible]))
            body = (
                '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Big desk</title>'
                f"<link>{self.base_url}/</link>{listed}</channel></rss>"
            ).encode()
            exchange.send(200, {"Content-Type": "application/rss+xml"}, body)

        self.server.route("/feeds/big.xml", feed)
        return f"{self.base_url}/feeds/big.xml"

    def feed_urls(self) -> list[str]:
        return [f"{self.base_url}/feeds/rss.xml", f"{self.base_url}/feeds/atom.xml"]


@pytest.fixture
def corpus_site(http_server: HTTPTestServer) -> CorpusSite:
    return CorpusSite(http_server)


def write_config(
    path: Path,
    *,
    database_url: str,
    feeds: list[tuple[str, str]],
    smtp_port: int,
    rules: str = MANY_ALERT_RULES,
    fetch: str = "",
) -> Path:
    """A normal tradewatch TOML configuration with two e-mail channels on the given SMTP port.

    Its rules alert per article (``group = "article"``): fault scenarios serve the same demo pages under
    many URLs and count one alert per article; story grouping has its own tests.
    """
    feed_tables = "".join(f'\n[[feeds]]\nname = "{name}"\nurl = "{url}"\n' for name, url in feeds)
    mail = f"mailto://127.0.0.1:{smtp_port}?from=alerts@tradewatch.example&mode=insecure"
    path.write_text(
        f"""
[database]
url = "{database_url}"

[fetch]
allow_private_networks = ["127.0.0.0/8"]
respect_robots = false
{fetch}
{feed_tables}
[channels]
desk-email = "{mail}&to=desk@tradewatch.example"
ops-email = "{mail}&to=ops@tradewatch.example"

[[rules]]
name = "japan-trade"
query = '(tariff OR tariffs OR "trade talks") AND (japan OR japanese)'
channels = ["desk-email"]
trade_only = true
group = "article"
{rules}
""",
        encoding="utf-8",
    )
    return path


def driver(config: Path, *args: str) -> subprocess.Popen[str]:
    """Start the Prefect-free pipeline driver (`tests/faults/driver.py`) as its own process."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.faults.driver", "--config", str(config), *args],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def run_driver(config: Path, *args: str, timeout: float = 120) -> tuple[str, str]:
    """Run the driver to completion; returns (stdout, stderr) and insists on exit status 0."""
    proc = driver(config, *args)
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out, err


def summary_of(out: str) -> dict[str, str]:
    line = [ln for ln in out.splitlines() if ln.startswith("summary: ")][-1]
    fields = line.removeprefix("summary: ").split(" reasons=")[0]
    return dict(part.split("=", 1) for part in fields.split())


@dataclass(frozen=True)
class StoreState:
    articles: int
    distinct_urls: int
    unclassified: int
    deliveries: dict[str, int]


def store_state(engine: Engine) -> StoreState:
    """Row counts that every fault scenario checks."""
    with Session(engine) as session:
        articles = session.exec(select(func.count()).select_from(Article)).one()
        urls = session.exec(select(func.count(func.distinct(Article.canonical_url)))).one()
        unclassified = session.exec(
            select(func.count()).select_from(Article).where(col(Article.is_trade).is_(None))
        ).one()
        deliveries: dict[str, int] = {}
        for status, count in session.exec(select(Delivery.status, func.count()).group_by(Delivery.status)):
            deliveries[status] = int(count)
    return StoreState(int(articles), int(urls), int(unclassified), deliveries)


def open_engine(url: str) -> Engine:
    return make_engine(url)
