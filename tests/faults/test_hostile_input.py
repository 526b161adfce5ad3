"""Hostile and odd input, one case at a time, through the real pipeline against a real HTTP server and store.

Each test is a case that once failed (issue 16): one bad entry failing its whole feed on every poll, an
absurd date or delay overflowing, a 304 hiding entries that were never fetched. What must hold instead:
the bad item is skipped and counted with its reason, every good article is stored, dates and delays
from outside are clamped, and the feed is read again until every new entry was handled.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from classifiers.load import load_classifier
from extractors.clamp import MAX_DELAY
from extractors.http import Fetcher, FetchPolicy
from flows.pool import JobTimeout, ProcessPool, run_in_thread
from flows.process import INLINE_PARSE_BYTES, FeedOutcome, RunContext, process_feeds
from storage import repo
from storage.models import Article, Feed
from tests.faults.conftest import PROJECT_ROOT
from tests.faults.cpu import spin, spin_in_c
from tests.httpserver import Exchange, HTTPTestServer

POLICY = FetchPolicy(allow_private_networks=("127.0.0.0/8",), respect_robots=False, total_timeout=10)
PAGE = """<html><head><title>{title}</title>{head}</head><body><article><h1>{title}</h1>
<p>{title}: the government announced new tariffs on steel imports, officials said on Monday.</p>
<p>Officials said the new tariffs would take effect next month, and trade talks between the two
governments would continue in Geneva later this year.</p><p>Exporters warned of retaliation.</p>
</article></body></html>"""
ABSURD_DATE = "9999-12-31T23:59:59-12:00"
YEAR_ONE = "0001-01-01T00:00:00+14:00"


def page(server: HTTPTestServer, path: str, title: str, head: str = "") -> str:
    body = PAGE.format(title=title, head=head).encode()
    server.route(path, 200, {"Content-Type": "text/html; charset=utf-8"}, body)
    return server.url(path)


def rss(items: list[tuple[str, str]], *, channel: str = "") -> bytes:
    """An RSS 2.0 document of (link, title) items, links written as given (hostile ones too)."""
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}#{n}</guid></item>"
        for n, (link, title) in enumerate(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Wire</title>{channel}'
        f"{entries}</channel></rss>"
    ).encode()


def run(
    engine: Engine, urls: list[str], *, now: datetime | None = None, max_articles: int = 100
) -> list[FeedOutcome]:
    """One run over ``urls`` (every feed polled), as flows.ingest does it, without Prefect."""
    with Session(engine) as session:
        repo.sync_feeds(session, [repo.FeedSpec(f"feed {i}", url) for i, url in enumerate(urls)])
        session.commit()
        feeds = repo.due_feeds(session, now or datetime.now(UTC), force=True)

    async def go() -> list[FeedOutcome]:
        async with Fetcher(POLICY) as fetcher:
            ctx = RunContext(
                engine=engine,
                fetcher=fetcher,
                classifier=load_classifier(None),
                rules=[],
                max_articles_per_feed=max_articles,
                now=(lambda: now) if now else (lambda: datetime.now(UTC)),
            )
            return await process_feeds(ctx, feeds)

    return asyncio.run(go())


def stored(engine: Engine) -> dict[str, Article]:
    with Session(engine) as session:
        return {a.url: a for a in session.exec(select(Article))}


def tradewatch(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The real command line, as a user runs it: its own process, exit status, stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )


def feed_row(engine: Engine, url: str) -> Feed:
    with Session(engine) as session:
        return session.exec(select(Feed).where(col(Feed.url) == url)).one()


# ------------------------------------------------------------------------------ one bad entry, one feed


def test_entry_links_that_do_not_parse_cost_only_their_entry(
    engine: Engine, http_server: HTTPTestServer
) -> None:
    good = [page(http_server, f"/good{n}", f"Steel tariffs story {n}") for n in range(2)]
    http_server.route(
        "/feed.xml",
        200,
        {"Content-Type": "application/rss+xml"},
        rss(
            [
                (good[0], "Steel tariffs story 0"),
                ("http://[::1", "Broken IPv6 literal"),
                ("http://a\uff03b.example/story", "Host invalid under NFKC"),
                ("http://127.0.0.1:99999/story", "Port out of range"),
                ("javascript:alert(document.cookie)", "Script link"),
                ("data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;", "Data link"),
                (good[1], "Steel tariffs story 1"),
            ]
        ),
    )
    for attempt in range(2):  # and on the next poll too: nothing is left to fail "forever"
        (outcome,) = run(engine, [http_server.url("/feed.xml")])
        assert outcome.status == "ok", outcome
        assert sorted(reason for _what, reason in outcome.article_failures) == ["bad_link"] * 5
        assert outcome.new_articles == (2 if attempt == 0 else 0)
    assert sorted(stored(engine)) == sorted(good)
    assert feed_row(engine, http_server.url("/feed.xml")).consecutive_failures == 0


def test_an_absurd_json_feed_date_is_clamped_and_the_feed_is_stored(
    engine: Engine, http_server: HTTPTestServer
) -> None:
    links = [page(http_server, f"/j{n}", f"Tariff ruling {n}") for n in range(2)]
    items = [
        {"id": "1", "url": links[0], "title": "Tariff ruling 0", "date_published": ABSURD_DATE},
        {"id": "2", "url": links[1], "title": "Tariff ruling 1", "date_published": YEAR_ONE},
    ]
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": items}
    http_server.route("/feed.json", 200, {"Content-Type": "application/feed+json"}, json.dumps(doc).encode())
    now = datetime.now(UTC)
    (outcome,) = run(engine, [http_server.url("/feed.json")], now=now)
    assert (outcome.status, outcome.new_articles) == ("ok", 2)
    for article in stored(engine).values():
        assert article.published_at is not None
        published = article.published_at.replace(tzinfo=UTC)
        assert now - timedelta(days=100 * 366) <= published <= now + timedelta(days=1)


def test_an_absurd_published_time_in_a_page_does_not_cost_the_feed_its_batch(
    engine: Engine, http_server: HTTPTestServer
) -> None:
    absurd = page(
        http_server,
        "/absurd",
        "Tariffs from the year 9999",
        head=f'<meta property="article:published_time" content="{ABSURD_DATE}">',
    )
    normal = page(http_server, "/normal", "Ordinary tariffs story")
    http_server.route(
        "/feed.xml",
        200,
        {"Content-Type": "application/rss+xml"},
        rss([(absurd, "Tariffs from the year 9999"), (normal, "Ordinary tariffs story")]),
    )
    now = datetime.now(UTC)
    (outcome,) = run(engine, [http_server.url("/feed.xml")], now=now)
    assert (outcome.status, outcome.new_articles, outcome.article_failures) == ("ok", 2, [])
    published = stored(engine)[absurd].published_at
    assert published is not None
    assert published.replace(tzinfo=UTC) <= now + timedelta(days=1)


def test_control_bidi_and_invisible_characters_never_reach_the_store(
    engine: Engine, http_server: HTTPTestServer
) -> None:
    """A title is shown by `articles list`, `rules test`, reports and alerts: an ESC sequence would repaint
    the terminal, a bidi override shows it reversed, zero-width and tag characters hide text. Stored
    titles, authors and the feed's title keep only visible text; article text keeps its line breaks."""
    nasty = "\x1b[2J\x1b]0;pwned\x07\u202egnirts\u202c\u200b\ufeff\U000e0041\u2066x\u2069\x85"
    good = page(http_server, "/good", f"Steel tariffs {nasty} rise")  # (a NUL would make it "binary")
    nasty += "\x00"
    items = [
        {"id": "1", "url": good, "title": "unused", "authors": [{"name": f"Ann {nasty}\nLee"}]},
        {"id": "2", "url": http_server.url("/gone"), "title": f"Tariffs {nasty} fall\nagain"},
    ]
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": f"Wire {nasty}", "items": items}
    http_server.route("/feed.json", 200, {"Content-Type": "application/feed+json"}, json.dumps(doc).encode())
    (outcome,) = run(engine, [http_server.url("/feed.json")])
    assert (outcome.status, outcome.new_articles) == ("ok", 2)
    articles = stored(engine)
    assert articles[good].title == "Steel tariffs [2J]0;pwnedgnirtsx rise"
    assert articles[good].author == "Ann [2J]0;pwnedgnirtsx Lee"
    assert articles[http_server.url("/gone")].title == "Tariffs [2J]0;pwnedgnirtsx fall again"
    assert feed_row(engine, http_server.url("/feed.json")).title == "Wire [2J]0;pwnedgnirtsx"
    assert "\n" in articles[good].text
    for article in articles.values():
        assert not set(article.text) & set("\x00\x1b\x07\x85")


def test_huge_max_age_and_ttl_are_clamped_to_a_week(engine: Engine, http_server: HTTPTestServer) -> None:
    link = page(http_server, "/p", "Tariff story")
    http_server.route(
        "/max-age.xml",
        200,
        {"Content-Type": "application/rss+xml", "Cache-Control": "max-age=99999999999999999999"},
        rss([(link, "Tariff story")]),
    )
    http_server.route(
        "/ttl.xml",
        200,
        {"Content-Type": "application/rss+xml"},
        rss([(link, "Tariff story")], channel="<ttl>999999999999</ttl>"),
    )
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    urls = [http_server.url("/max-age.xml"), http_server.url("/ttl.xml")]
    outcomes = run(engine, urls, now=now)
    assert [o.status for o in outcomes] == ["ok", "ok"]
    for url in urls:
        next_poll = feed_row(engine, url).next_poll_at
        assert next_poll is not None
        assert next_poll.replace(tzinfo=UTC) == now + MAX_DELAY


def test_a_429_asking_for_ten_thousand_years_is_rate_limited_for_a_week(
    engine: Engine, http_server: HTTPTestServer
) -> None:
    http_server.route("/busy.xml", 429, {"Retry-After": "999999999999"}, b"go away")
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    (outcome,) = run(engine, [http_server.url("/busy.xml")], now=now)
    assert (outcome.status, outcome.reason) == ("failed", "rate_limited")
    row = feed_row(engine, http_server.url("/busy.xml"))
    assert row.last_error_reason == "rate_limited"
    assert row.next_poll_at is not None
    assert row.next_poll_at.replace(tzinfo=UTC) == now + MAX_DELAY


# ------------------------------------------------------------------------- conditional GET, capped runs


def test_entries_beyond_the_per_run_cap_are_fetched_by_later_runs_not_hidden_by_a_304(
    engine: Engine, http_server: HTTPTestServer
) -> None:
    links = [page(http_server, f"/s{n}", f"Tariff story {n}") for n in range(25)]
    body = rss([(link, f"Tariff story {n}") for n, link in enumerate(links)])

    def feed(exchange: Exchange) -> None:
        if exchange.headers.get("if-none-match") == '"v1"':
            exchange.send(304, {"ETag": '"v1"'}, b"")
        else:
            exchange.send(200, {"Content-Type": "application/rss+xml", "ETag": '"v1"'}, body)

    http_server.route("/feed.xml", feed)
    url = http_server.url("/feed.xml")
    new = []
    for _ in range(4):
        (outcome,) = run(engine, [url], max_articles=10)
        new.append((outcome.status, outcome.new_articles))
    assert new == [("ok", 10), ("ok", 10), ("ok", 5), ("not_modified", 0)]
    assert len(stored(engine)) == 25
    assert [r.headers.get("if-none-match") for r in http_server.requests_to("/feed.xml")] == [
        None,
        None,
        None,
        '"v1"',
    ], "validators are sent only once every new entry was handled"


# ------------------------------------------------------------------------------------------ hostile rules


def test_a_rule_nested_200_deep_gets_a_positioned_error_and_exit_2_not_a_traceback(tmp_path: Path) -> None:
    deep = "(" * 200 + "tariff" + ")" * 200
    config = tmp_path / "tw.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "tw.db"}"\n[channels]\nc = "mailto://127.0.0.1?to=a@b.example"\n'
        f'[[rules]]\nname = "deep"\nquery = "{deep}"\nchannels = ["c"]\n',
        encoding="utf-8",
    )
    checked = tradewatch("config", "check", "--config", str(config))
    assert checked.returncode == 2
    assert "Traceback" not in checked.stdout + checked.stderr
    assert "tw.toml:7:42:" in checked.stdout  # file:line:column of the 33rd parenthesis
    assert "levels deep" in checked.stdout
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "tw.db"}"\n', encoding="utf-8")
    tested = tradewatch("rules", "test", deep, "--config", str(config))
    assert tested.returncode == 2
    assert "Traceback" not in tested.stdout + tested.stderr
    assert "levels deep" in tested.stderr
    assert "(at position 32)" in tested.stderr


# ------------------------------------------------------------------------------------------ CPU deadline


def test_a_job_over_its_cpu_deadline_fails_and_the_worker_carries_on() -> None:
    async def go() -> tuple[int, BaseException | None, int]:
        async with ProcessPool(1, cpu_seconds=0.3) as pool:
            before = await pool.run(spin, 0.0)
            try:
                await pool.run(spin, 30.0)
            except JobTimeout as exc:
                error: BaseException | None = exc
            else:
                error = None
            return before, error, await pool.run(spin, 0.05)

    before, error, after = asyncio.run(go())
    assert isinstance(error, JobTimeout)
    assert after == before, "the same worker process ran the next job"


def test_a_job_can_carry_its_own_cpu_deadline_longer_or_where_the_pool_has_none() -> None:
    """A feed's parse is given longer than a page's extraction; a pool without a deadline still stops a
    job that brings one (the worker's handler is always installed, so the signal never kills it)."""

    async def go() -> tuple[int, int, BaseException | None, int]:
        async with ProcessPool(1, cpu_seconds=0.2) as strict, ProcessPool(1) as lenient:
            longer = await strict.run(spin, 0.6, cpu_seconds=2.0)
            before = await lenient.run(spin, 0.0)
            try:
                await lenient.run(spin, 30.0, cpu_seconds=0.2)
            except JobTimeout as exc:
                error: BaseException | None = exc
            else:
                error = None
            return longer, before, error, await lenient.run(spin, 0.0)

    longer, before, error, after = asyncio.run(go())
    assert longer > 0
    assert isinstance(error, JobTimeout)
    assert after == before, "the same worker process ran the next job"


def test_a_job_stuck_in_c_is_ended_by_the_kernel_backstop_as_over_its_deadline() -> None:
    async def go() -> BaseException | None:
        async with ProcessPool(1, cpu_seconds=0.2) as pool:
            await pool.run(spin, 0.0)
            try:
                await pool.run(spin_in_c)
            except BaseException as exc:  # the type is what is checked
                return exc
            return None

    assert isinstance(asyncio.run(go()), JobTimeout)


def test_a_job_in_a_thread_over_its_deadline_is_stopped_and_the_thread_is_reused() -> None:
    from concurrent.futures import ThreadPoolExecutor

    async def go() -> tuple[BaseException | None, int]:
        with ThreadPoolExecutor(max_workers=1) as executor:
            try:
                await run_in_thread(executor, 0.1, spin, 30.0)
            except JobTimeout as exc:
                error: BaseException | None = exc
            else:
                error = None
            return error, await run_in_thread(executor, 0.1, spin, 0.01)

    error, pid = asyncio.run(go())
    assert isinstance(error, JobTimeout)
    assert pid == os.getpid()


def test_a_page_too_complex_to_extract_is_stored_as_such_and_the_others_are_extracted(
    engine: Engine, http_server: HTTPTestServer
) -> None:
    """The page is 4 MB of paragraphs: fine on its own (~3 s of CPU) but over a 0.5 s deadline."""
    paragraph = "<p>Officials said the new tariffs on steel imports would take effect next month.</p>\n"
    huge = (
        f"<html><head><title>Huge</title></head><body><article>{paragraph * 50_000}</article></body></html>"
    )
    http_server.route("/huge", 200, {"Content-Type": "text/html"}, huge.encode())
    normal = [page(http_server, f"/n{n}", f"Normal tariffs story {n}") for n in range(3)]
    items = [(normal[0], "Normal 0"), (http_server.url("/huge"), "Huge tariffs"), (normal[1], "Normal 1")]
    http_server.route(
        "/feed.xml", 200, {"Content-Type": "application/rss+xml"}, rss([*items, (normal[2], "N2")])
    )
    with Session(engine) as session:
        repo.sync_feeds(session, [repo.FeedSpec("f", http_server.url("/feed.xml"))])
        session.commit()
        feeds = repo.due_feeds(session, datetime.now(UTC), force=True)

    async def go() -> tuple[list[FeedOutcome], list[int], list[int]]:
        async with ProcessPool(1, cpu_seconds=0.5) as pool, Fetcher(POLICY) as fetcher:
            await pool.run(spin, 0.0)
            before = pool.pids()
            ctx = RunContext(
                engine=engine, fetcher=fetcher, classifier=load_classifier(None), rules=[], extract_pool=pool
            )
            outcomes = await process_feeds(ctx, feeds)
            return outcomes, before, pool.pids()

    (outcome,), before, after = asyncio.run(go())
    assert outcome.status == "ok"
    assert outcome.article_failures == [(http_server.url("/huge"), "too_complex")]
    assert after == before, "the worker lived on"
    articles = stored(engine)
    assert len(articles) == 4
    assert all(articles[url].extraction_status == "ok" for url in normal)
    huge_row = articles[http_server.url("/huge")]
    assert (huge_row.extraction_status, huge_row.title) == ("failed", "Huge tariffs")
    assert "too_complex" in (huge_row.extraction_error or "")


def test_a_big_feed_is_parsed_off_the_event_loop_under_the_cpu_deadline(
    engine: Engine, http_server: HTTPTestServer
) -> None:
    """A 50,000-entry feed was parsed on the event loop for ~35 s while other feeds' pages timed out.
    Now a feed over INLINE_PARSE_BYTES goes to the worker pool, with FEED_CPU_FACTOR times a page's
    deadline: here that is too short for it, so the feed fails as ``too_complex`` while the small feed
    beside it is polled and stored."""
    huge = rss([(f"https://news.example.com/{n}.html", f"Tariff story {n}") for n in range(20_000)])
    assert len(huge) > INLINE_PARSE_BYTES
    http_server.route("/huge.xml", 200, {"Content-Type": "application/rss+xml"}, huge)
    small = page(http_server, "/small", "Small feed tariffs story")
    http_server.route("/small.xml", 200, {"Content-Type": "application/rss+xml"}, rss([(small, "Small")]))
    with Session(engine) as session:
        repo.sync_feeds(
            session,
            [
                repo.FeedSpec("huge", http_server.url("/huge.xml")),
                repo.FeedSpec("small", http_server.url("/small.xml")),
            ],
        )
        session.commit()
        feeds = repo.due_feeds(session, datetime.now(UTC), force=True)

    async def go() -> list[FeedOutcome]:
        async with ProcessPool(1, cpu_seconds=0.2) as pool, Fetcher(POLICY) as fetcher:
            ctx = RunContext(
                engine=engine, fetcher=fetcher, classifier=load_classifier(None), rules=[], extract_pool=pool
            )
            return await process_feeds(ctx, feeds)

    huge_outcome, small_outcome = asyncio.run(go())
    assert (huge_outcome.status, huge_outcome.reason) == ("failed", "too_complex")
    assert (small_outcome.status, small_outcome.new_articles) == ("ok", 1)
    assert feed_row(engine, http_server.url("/huge.xml")).last_error_reason == "too_complex"
