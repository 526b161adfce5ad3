"""Hostile input through the real command line: the installed ``tradewatch`` script, a real Prefect server,
a real HTTP server on 127.0.0.1 and a real SMTP sink.

Two promises of issue 16 are checked here the way a user would meet them:

- a credential in a feed URL (``http://user:pw@host/feed?token=…``) never reaches anything meant to be
  shown: command output, the rows the CLI and reports display, log lines, Prefect's stored logs and
  artifacts (the whole Prefect database is searched), the HTML and markdown reports, and e-mail;
- a corpus of hostile feeds, pages and headers (``tests/faults/hostile/``) goes through ONE
  ``tradewatch run`` that stores every good article, counts every bad item with its reason, exits 0,
  prints no traceback and leaks no secret.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import tomllib
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from alerts.render import TITLE_CAP
from storage.db import make_engine
from storage.models import Article, Delivery, Feed
from tests.faults.conftest import PROJECT_ROOT, FaultySink, SinkServer
from tests.httpserver import Exchange, HTTPTestServer

SCRIPT = Path(sys.executable).with_name("tradewatch")
pytestmark = pytest.mark.timeout(900)  # each test runs the real command line several times


@dataclass(frozen=True)
class PrefectServer:
    """A Prefect API server of our own, and the SQLite file where it keeps logs, runs and artifacts."""

    api_url: str
    database: Path

    def dump(self) -> str:
        """Every text value in every table of Prefect's database: logs, artifacts, run names, parameters."""
        values: list[str] = []
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as db:
            tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                for row in db.execute(f'SELECT * FROM "{table}"'):
                    values.extend(str(value) for value in row if value is not None)
        return "\n".join(values)


@pytest.fixture(scope="module")
def prefect_server() -> Iterator[PrefectServer]:
    """Prefect's own test server (a subprocess on a free port with a temporary SQLite database)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_DATABASE_CONNECTION_URL
    from prefect.testing.utilities import prefect_test_harness

    saved = os.environ.get("PREFECT_SERVER_ANALYTICS_ENABLED")
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"  # no telemetry writes racing ours
    with prefect_test_harness(server_startup_timeout=120):
        database = str(PREFECT_SERVER_DATABASE_CONNECTION_URL.value()).split(":///", 1)[1]
        yield PrefectServer(str(PREFECT_API_URL.value()), Path(database))
    if saved is None:
        os.environ.pop("PREFECT_SERVER_ANALYTICS_ENABLED", None)
    else:
        os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = saved


@pytest.fixture
def shared_prefect_server(prefect_harness: None) -> PrefectServer:
    """The session's Prefect server (tests/conftest.py), for tests that only need one to point at.

    The minutes-long runs above keep a server of their own: they read every row of its database.
    """
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_DATABASE_CONNECTION_URL

    database = str(PREFECT_SERVER_DATABASE_CONNECTION_URL.value()).split(":///", 1)[1]
    return PrefectServer(str(PREFECT_API_URL.value()), Path(database))


def tradewatch(server: PrefectServer, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a user runs it, against our Prefect server."""
    env = {
        **os.environ,
        "PREFECT_API_URL": server.api_url,
        "PYTHONUNBUFFERED": "1",
        # Every log line there is, Prefect's and every library's included, goes to stderr and is searched;
        # tradewatch's own loggers go to Prefect's API too.
        "PREFECT_LOGGING_LEVEL": "DEBUG",
        "PREFECT_LOGGING_ROOT_LEVEL": "DEBUG",
    }
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


def daily_digest(server: PrefectServer, config: Path) -> subprocess.CompletedProcess[str]:
    """The daily digest flow (``deliver/digest-daily``) in its own process: it publishes ``trade-report``."""
    env = {
        **os.environ,
        "PREFECT_API_URL": server.api_url,
        "PREFECT_LOGGING_EXTRA_LOGGERS": "tradewatch",
        "PREFECT_LOGGING_LEVEL": "DEBUG",
        "PREFECT_LOGGING_ROOT_LEVEL": "DEBUG",
    }
    code = f"from flows.ingest import deliver; deliver(config={str(config)!r}, mode='daily')"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, env=env, timeout=300
    )


def table_dump(engine: Engine, *, skip: set[tuple[str, str]]) -> str:
    """Every value of every table of tradewatch's database, except the ``skip`` (table, column) pairs."""
    values: list[str] = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            columns = [c["name"] for c in inspect(conn).get_columns(table) if (table, c["name"]) not in skip]
            if not columns:
                continue
            names = ", ".join(f'"{c}"' for c in columns)
            for row in conn.execute(text(f'SELECT {names} FROM "{table}"')):
                values.extend(str(value) for value in row if value is not None)
    return "\n".join(values)


def mail_text(sink: FaultySink) -> str:
    """Every received e-mail as the reader sees it: headers and decoded parts (quoted-printable undone,
    so a token folded across encoded lines is still found)."""
    out = []
    for received in sink.snapshot():
        message = received.message
        out.extend(f"{name}: {value}" for name, value in message.items())
        for part in message.walk():
            if not part.is_multipart():
                out.append(str(part.get_content()))
        out.append(message.as_string())
    return "\n".join(out)


def wait_for_logs(server: PrefectServer, needle: str, timeout: float = 30) -> str:
    """Prefect's database once ``needle`` appears in it (logs are shipped to the API in batches)."""
    deadline = time.monotonic() + timeout
    while True:
        dump = server.dump()
        if needle in dump or time.monotonic() > deadline:
            return dump
        time.sleep(0.5)


# ------------------------------------------------------------------------------------ secret planting

USER, PASSWORD, TOKEN = "wireuser7", "pw-9fQ2xLmZ", "tok-7Hq3ZpR8sVw"
SECRETS = (PASSWORD, TOKEN, f"{USER}:")
STORY = """<html><head><title>{title}</title></head><body><article><h1>{title}</h1>
<p>{title}. The government announced new tariffs on steel imports from Japan, officials said on Monday,
and the trade ministry said retaliatory duties on exports were under review.</p>
<p>Trade talks between the two governments would continue in Geneva later this year, a spokesman
said, while exporters warned that the tariffs would hurt trade.</p></article></body></html>"""


def leaks(where: str, value: str) -> list[str]:
    """Each secret found in ``value``, with the text around it (to tell where it came from)."""
    return [
        f"{secret!r} in {where}: …{value[max(0, value.index(secret) - 300) : value.index(secret) + 100]}…"
        for secret in SECRETS
        if secret in value
    ]


@pytest.mark.slow  # several real `tradewatch run`s, each with Prefect: about 3 minutes
def test_a_token_in_a_feed_url_reaches_no_output_row_log_report_artifact_or_email(
    http_server: HTTPTestServer, faulty_sink: SinkServer, prefect_server: PrefectServer, tmp_path: Path
) -> None:
    """Plant a password and a token in a feed URL; fail the feed (operator told), then let it succeed
    (articles stored and alerted, a daily digest and its report published); then grep everything."""
    state = {"fail": True}
    stories = {"story-1.html": "Japan steel tariffs rise", "story-2.html": "Trade talks on duties resume"}
    for name, title in stories.items():
        http_server.route(
            f"/private/{name}", 200, {"Content-Type": "text/html"}, STORY.format(title=title).encode()
        )
    items = "".join(
        f"<item><title>{title}</title><link>{name}</link><guid>{name}</guid></item>"
        for name, title in stories.items()
    )
    # Relative links resolve against the feed URL; "#latest" names the feed itself.
    items += "<item><title>Tariffs: this feed itself</title><link>#latest</link></item>"
    items += "<item><title>Tariffs: missing page</title><link>gone.html</link></item>"
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{items}</channel></rss>'

    def private_feed(exchange: Exchange) -> None:
        if state["fail"]:  # a server error page that echoes the request line, as some do
            body = f"Service unavailable: GET {exchange.request.path}".encode()
            exchange.send(503, {"Content-Type": "text/plain"}, body)
        else:
            exchange.send(200, {"Content-Type": "application/rss+xml"}, feed.encode())

    http_server.route("/private/feed.xml", private_feed)
    secret_url = f"http://{USER}:{PASSWORD}@127.0.0.1:{http_server.port}/private/feed.xml?token={TOKEN}&x=1"
    db_url = f"sqlite:///{tmp_path / 'tw.db'}"
    mail = f"mailto://127.0.0.1:{faulty_sink.port}?from=alerts@tradewatch.example&mode=insecure"
    config = tmp_path / "tw.toml"
    config.write_text(
        f"""
[database]
url = "{db_url}"

[fetch]
allow_private_networks = ["127.0.0.0/8"]
respect_robots = false

[[feeds]]
name = "Private wire"
url = "{secret_url}"

[channels]
desk-email = "{mail}&to=desk@tradewatch.example"
ops-email = "{mail}&to=ops@tradewatch.example"

[operator]
channel = "ops-email"
feed_failure_threshold = 1

[[rules]]
name = "tariffs"
query = "tariff OR tariffs OR duties"
channels = ["desk-email"]

[[rules]]
name = "daily tariffs"
query = "tariff OR tariffs"
channels = ["desk-email"]
mode = "digest"
digest = "daily"
""",
        encoding="utf-8",
    )
    found: list[str] = []
    outputs: dict[str, str] = {}

    def command(name: str, *args: str) -> subprocess.CompletedProcess[str]:
        result = tradewatch(prefect_server, *args, "--config", str(config))
        outputs[name] = result.stdout + result.stderr
        return result

    failed = command("run (feed failing)", "run")
    assert failed.returncode == 0, failed.stderr
    assert "failures by reason: http_status=1" in failed.stdout
    assert command("feeds status --json (failing)", "feeds", "status", "--json").returncode == 0
    failing = json.loads(outputs["feeds status --json (failing)"])[0]
    assert failing["last_error_reason"] == "http_status"
    assert "503" in failing["last_error"]
    assert command("feeds status (failing)", "feeds", "status").returncode == 0
    report_failing = tmp_path / "failing.html"
    assert command("report (failing)", "report", "--output", str(report_failing)).returncode == 0

    state["fail"] = False
    ok = command("run (feed ok)", "run")
    assert ok.returncode == 0, ok.stderr
    assert "new_articles=4" in ok.stdout  # two stories, the feed itself (not HTML), the 404
    digest = daily_digest(prefect_server, config)
    assert digest.returncode == 0, digest.stderr
    outputs["deliver daily"] = digest.stdout + digest.stderr
    state["fail"] = True  # and once more, choosing the feed by its URL (Prefect stores flow parameters)
    assert command("run --feed URL (failing again)", "run", "--feed", secret_url).returncode == 0
    for name, args in {
        "feeds status --json": ("feeds", "status", "--json"),
        "feeds status": ("feeds", "status"),
        "alerts status --all --json": ("alerts", "status", "--all", "--json"),
        "alerts status --all": ("alerts", "status", "--all"),
        "articles list --json": ("articles", "list", "--json"),
        "report --json": ("report", "--json"),
        "report --markdown": ("report", "--markdown", "--output", "-"),
        "report html": ("report", "--output", "-"),
        "config check": ("config", "check"),
    }.items():
        result = command(name, *args)
        assert result.returncode == 0, (name, result.stderr)
    outputs["report html (failing)"] = report_failing.read_text(encoding="utf-8")
    for name, output in outputs.items():
        assert "Traceback" not in output, name
        found += leaks(name, output)

    engine = make_engine(db_url)
    try:
        # The feed's own URL is where the credential must be kept (it is sent to the server); nothing else.
        found += leaks("tradewatch database", table_dump(engine, skip={("feed", "url")}))
    finally:
        engine.dispose()
    received = faulty_sink.handler.settle()
    subjects = [r.subject for r in received]
    assert any("feed failing: Private wire" in s for s in subjects), subjects  # the operator was told
    assert any("digest" in s for s in subjects), subjects
    found += leaks("e-mail", mail_text(faulty_sink.handler))

    prefect = wait_for_logs(prefect_server, "trade-report")
    # The search is not vacuous: the run's artifact, and tradewatch's own log lines quoting the feed URL.
    assert "# tradewatch ingest" in prefect
    assert "Private wire" in prefect
    assert f"127.0.0.1:{http_server.port}/private/feed.xml?…) failed: [fetch:http_status]" in prefect
    found += leaks("Prefect database (logs, artifacts, runs)", prefect)
    assert not found, "\n".join(found)


# ------------------------------------------------------------------------------------ the hostile corpus

CORPUS = Path(__file__).parent / "hostile"
CORPUS_SECRETS = ("corpus-pw-5Tq8", "corpus-tok-Xb93Lk")
#: Characters that must reach no e-mail and no CLI line: NUL, ESC, BEL, bidi controls, invisible ones.
UNSHOWABLE = set("\x00\x1b\x07\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\ufeff\U000e0041")
SLOW_SECONDS = 60


@functools.cache
def _gzip_bomb() -> bytes:
    """200 MB of zeros in about 200 KB: far over both byte caps once inflated."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip wrapper
    chunk = bytes(1 << 20)
    return b"".join(packer.compress(chunk) for _ in range(200)) + packer.flush()


def _article(title: str, body: str, after: str = "") -> bytes:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<article><h1>{title}</h1>{body}</article>{after}</body></html>"
    ).encode()


TRADE_PARAGRAPH = (
    "<p>Officials said new tariffs on steel imports would take effect next month, and trade talks between "
    "the two governments would continue in Geneva later this year, while exporters warned of retaliation.</p>"
)


def _long_text(base: str) -> bytes:
    """1.5 MB of article text; "tariff" and "china" both occur thousands of times, but within 100 words of
    each other only once, near the end."""
    filler = "<p>" + " ".join(["tariff"] + ["lorem"] * 150 + ["china"] + ["ipsum"] * 150) + ".</p>"
    body = filler * 620 + "<p>The new tariff on steel from China takes effect on Monday, officials said.</p>"
    return _article("Tariffs: a 1.5 MB article", TRADE_PARAGRAPH + body)


def _one_line(base: str) -> bytes:
    line = " ".join(f"trade word{n % 997} tariffs" for n in range(50_000))
    return _article("Tariffs: one enormous line", f"{TRADE_PARAGRAPH}<p>{line}</p>").replace(b"\n", b" ")


def _tag_links(base: str) -> bytes:
    """3,000 tag links in one block after the article: each link's block text was recomputed."""
    tags = " ".join(f'<a href="{base}/tag/{n}">steel tariff tag number {n}</a>' for n in range(3000))
    return _article("Tariffs: followed by 3,000 tag links", TRADE_PARAGRAPH * 4, f"<div>Tags: {tags}</div>")


def _tiny_paragraphs(base: str) -> bytes:
    return _article("Tariffs: 100,000 tiny paragraphs", TRADE_PARAGRAPH + "<p>x</p>" * 100_000)


def _fifty_thousand_entries(base: str) -> bytes:
    items = "".join(
        f"<item><title>Tariff story {n}</title><link>{base}/pages/good-2.html</link><guid>e{n}</guid></item>"
        for n in range(50_000)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'.encode()
    )


def _slow_loris(exchange: Exchange) -> None:
    exchange.start(200, {"Content-Type": "text/html"})
    for byte in (b"<html><body><p>" + b"x" * SLOW_SECONDS)[:SLOW_SECONDS]:
        if not exchange.write(bytes([byte])):
            return
        time.sleep(1)


def _huge_headers(exchange: Exchange) -> None:
    headers = {f"X-Padding-{n}": "v" * 100 for n in range(2000)}
    exchange.send(200, {"Content-Type": "text/html", **headers}, _article("Huge headers", TRADE_PARAGRAPH))


#: Bodies too big, binary or slow to commit: name -> bytes for the base URL, or a whole request handler.
GENERATORS: dict[str, Any] = {
    "gzip_bomb": lambda base: _gzip_bomb(),
    "long_text": _long_text,
    "one_line": _one_line,
    "tag_links": _tag_links,
    "tiny_paragraphs": _tiny_paragraphs,
    "fifty_thousand_entries": _fifty_thousand_entries,
    "slow_loris": lambda base: _slow_loris,
    "huge_headers": lambda base: _huge_headers,
}


@dataclass
class Corpus:
    """tests/faults/hostile/corpus.toml, served by a real HTTP server."""

    feeds: list[dict[str, Any]]
    pages: list[dict[str, Any]]

    @classmethod
    def load(cls) -> Corpus:
        data = tomllib.loads((CORPUS / "corpus.toml").read_text(encoding="utf-8"))
        return cls(data["feed"], data["page"])

    def serve(self, server: HTTPTestServer) -> str:
        base = server.url("").rstrip("/")

        def fill(text: str) -> str:
            return text.replace("{{BASE}}", base).replace("{{PORT}}", str(server.port))

        for route in self.feeds + self.pages:
            headers = {name: fill(value) for name, value in route.get("headers", {}).items()}
            if "file" in route:
                body: Any = (CORPUS / route["file"]).read_bytes().replace(b"{{BASE}}", base.encode())
            elif "generate" in route:
                body = GENERATORS[route["generate"]](base)
            else:
                body = route.get("body", "").encode()
            if callable(body):
                server.route(route["path"], body)
            else:
                headers.setdefault("Content-Type", "text/html; charset=utf-8")
                server.route(route["path"], route.get("status", 200), headers, body)
        return base

    def feed_url(self, base: str, feed: dict[str, Any]) -> str:
        if not feed.get("secret"):
            return base + feed["path"]
        password, token = CORPUS_SECRETS
        return f"http://reader:{password}@{base.removeprefix('http://')}{feed['path']}?token={token}"


@pytest.mark.slow  # several real `tradewatch run`s, each with Prefect: about 3 minutes
def test_the_hostile_corpus_in_one_tradewatch_run(
    http_server: HTTPTestServer, faulty_sink: SinkServer, prefect_server: PrefectServer, tmp_path: Path
) -> None:
    corpus = Corpus.load()
    base = corpus.serve(http_server)
    db_url = f"sqlite:///{tmp_path / 'tw.db'}"
    mail = f"mailto://127.0.0.1:{faulty_sink.port}?from=alerts@tradewatch.example&mode=insecure"
    feed_urls = {feed["name"]: corpus.feed_url(base, feed) for feed in corpus.feeds}
    feeds = "".join(
        f"\n[[feeds]]\nname = {json.dumps(n)}\nurl = {json.dumps(u)}\n" for n, u in feed_urls.items()
    )
    config = tmp_path / "tw.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n\n'
        '[fetch]\nallow_private_networks = ["127.0.0.1/32"]\nrespect_robots = false\n'
        "read_timeout = 4\ntotal_timeout = 8\n"
        f'{feeds}\n[channels]\ndesk-email = "{mail}&to=desk@tradewatch.example"\n\n'
        + (CORPUS / "rules.toml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    started = datetime.now(UTC)

    run = tradewatch(prefect_server, "run", "--config", str(config), timeout=600)

    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    assert "Traceback" not in output
    summary = dict(
        item.split("=", 1)
        for item in next(line for line in run.stdout.splitlines() if line.startswith("summary:")).split()[1:]
    )
    reasons_line = next(line for line in run.stdout.splitlines() if line.startswith("failures by reason:"))
    reasons = reasons_line.removeprefix("failures by reason:").split("(")[0]
    counted = Counter({r.strip(): int(n) for r, n in (part.split("=") for part in reasons.split(","))})

    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            articles = {a.url: a for a in session.exec(select(Article))}
            feed_rows = {f.name: f for f in session.exec(select(Feed))}
            deliveries = list(session.exec(select(Delivery)))
        display = table_dump(engine, skip={("feed", "url")})
    finally:
        engine.dispose()

    # Every page: stored, stored once as failed with its reason, or left for the next poll; counted.
    expected: Counter[str] = Counter()
    outcomes, wrong = {}, []
    for page in corpus.pages:
        if page.get("linked") is False:
            continue
        article = articles.get(base + page["path"])
        if article is None:
            outcome = "retry"
        elif article.extraction_status == "ok":
            outcome = "stored"
        else:
            reason = (article.extraction_error or "").split("]")[0].split(":")[-1]
            outcome = f"failed:{reason}"
        outcomes[page["path"]] = outcome
        allowed = page["expect"] if isinstance(page["expect"], list) else [page["expect"]]
        if not any(outcome == a or outcome == a.split(":")[0] for a in allowed):
            wrong.append(f"{page['path']}: {outcome}, expected {allowed}")
        if outcome != "stored":
            expected[outcome.split(":")[-1] if ":" in outcome else allowed[0].split(":")[1]] += 1
    assert not wrong, "\n".join(wrong)
    stored_ok = [p["path"] for p in corpus.pages if outcomes.get(p["path"]) == "stored"]
    assert len(stored_ok) >= 10, outcomes  # every good article
    # Every feed: polled, or failed with its reason; its bad entries skipped and counted.
    for feed in corpus.feeds:
        row = feed_rows[feed["name"]]
        if feed["expect"] == "ok":
            assert row.consecutive_failures == 0, (feed["name"], row.last_error)
        else:
            assert (row.consecutive_failures, row.last_error_reason) == (1, feed["expect"]), feed["name"]
            expected[feed["expect"]] += 1
        expected.update(feed.get("skipped", {}))
    assert counted == expected
    assert int(summary["failures"]) == sum(expected.values())
    assert int(summary["feeds"]) == len(corpus.feeds)

    # Delays from outside are clamped: a week at most, not 31,000 years.
    week = timedelta(days=7, minutes=5)
    for name in ("Cache forever", "Busy private wire"):
        next_poll = feed_rows[name].next_poll_at
        assert next_poll is not None
        assert started + timedelta(days=6) < next_poll.replace(tzinfo=UTC) < datetime.now(UTC) + week
    # Dates too: the page dated 9999 is stored dated at most a day ahead.
    absurd = articles[base + "/pages/absurd-date.html"].published_at
    assert absurd is not None
    assert absurd.replace(tzinfo=UTC) <= datetime.now(UTC) + timedelta(days=1)
    # NEAR found the one close pair in the 1.5 MB text, and the matched sentence is the right one.
    long_text = articles[base + "/pages/long-text.html"]
    near = [
        d for d in deliveries if d.article_id == long_text.id and "china" in (d.match_sentence or "").lower()
    ]
    assert near, "tariff NEAR/100 china matched the long article"
    # No header was injected into our requests, and no request left 127.0.0.1.
    assert all("x-injected" not in r.headers for r in http_server.requests)
    assert "/pages/crlf%0d%0aX-Injected:%20yes" in http_server.paths()

    # What people see: stored titles, CLI lines and e-mails hold no control, bidi or invisible character.
    listed = tradewatch(prefect_server, "articles", "list", "--config", str(config))
    assert listed.returncode == 0
    assert not set(listed.stdout) & UNSHOWABLE
    for article in articles.values():
        assert not set(article.title) & UNSHOWABLE, article.title
    received = faulty_sink.handler.settle()
    assert received, "alerts were sent"
    for message in received:
        assert message.message["Bcc"] is None
        assert "\n" not in message.subject
        assert len(message.subject) <= TITLE_CAP
        html_part = message.message.get_body(preferencelist=("html",))
        assert html_part is not None
        html = str(html_part.get_content())
        assert "<script" not in html.lower()
        assert 'href="javascript:' not in html.lower()
        assert "<img" not in html.lower()
        assert not set(html + message.subject) & UNSHOWABLE

    # No secret anywhere: output, display rows, reports, e-mail, Prefect's logs and artifacts.
    outputs = {"run": output, "articles list": listed.stdout + listed.stderr, "tradewatch database": display}
    for name, args in {
        "feeds status --json": ("feeds", "status", "--json"),
        "alerts status --all --json": ("alerts", "status", "--all", "--json"),
        "report --markdown": ("report", "--markdown", "--output", "-"),
        "report html": ("report", "--output", "-"),
    }.items():
        result = tradewatch(prefect_server, *args, "--config", str(config))
        assert result.returncode == 0, (name, result.stderr)
        assert "Traceback" not in result.stdout + result.stderr
        outputs[name] = result.stdout + result.stderr
    report_html = outputs["report html"].lower()
    assert "<script" not in report_html  # the injection page's title is there, escaped
    assert 'href="javascript:' not in report_html
    outputs["e-mail"] = mail_text(faulty_sink.handler)
    prefect = wait_for_logs(prefect_server, f"http://127.0.0.1:{http_server.port}/feeds/busy.xml?…")
    assert "Busy private wire" in prefect
    outputs["Prefect database"] = prefect
    found = [
        f"{s!r} in {w}: …{text[max(0, text.index(s) - 300) : text.index(s) + 100]}…"
        for w, text in outputs.items()
        for s in CORPUS_SECRETS
        if s in text
    ]
    assert not found, "\n".join(found)
    artifacts = "\n".join(a for a in prefect_artifacts(prefect_server) if "tradewatch ingest" in a)
    assert "Wire" in artifacts
    assert "<script" not in artifacts.lower()
    assert not re.search(r"(?<!\\)\]\(javascript:", artifacts, re.IGNORECASE)  # no markdown link to run


def prefect_artifacts(server: PrefectServer) -> list[str]:
    """The markdown of every artifact Prefect stored (what its UI renders)."""
    with sqlite3.connect(f"file:{server.database}?mode=ro", uri=True) as db:
        return [str(row[0]) for row in db.execute("SELECT data FROM artifact") if row[0] is not None]


@pytest.mark.parametrize(
    "refused", tomllib.loads((CORPUS / "refused-rules.toml").read_text(encoding="utf-8"))["refused"]
)
def test_a_refused_rule_gets_exit_2_and_a_positioned_error_never_a_traceback(
    refused: dict[str, str], shared_prefect_server: PrefectServer, tmp_path: Path
) -> None:
    prefect_server = shared_prefect_server
    config = tmp_path / "tw.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "tw.db"}"\n[channels]\nc = "mailto://127.0.0.1?to=a@b.example"\n'
        f'[[rules]]\nname = "hostile"\nquery = {json.dumps(refused["query"])}\nchannels = ["c"]\n',
        encoding="utf-8",
    )
    checked = tradewatch(prefect_server, "config", "check", "--config", str(config))
    assert checked.returncode == 2
    assert "Traceback" not in checked.stdout + checked.stderr
    assert refused["error"] in checked.stdout
    assert "tw.toml:" in checked.stdout  # file:line:column
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "tw.db"}"\n', encoding="utf-8")
    tested = tradewatch(prefect_server, "rules", "test", refused["query"], "--config", str(config))
    assert tested.returncode == 2
    assert "Traceback" not in tested.stdout + tested.stderr
    assert refused["error"] in tested.stderr
    assert "position" in tested.stderr
