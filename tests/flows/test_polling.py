"""Polling behaviour an operator relies on, through flows.process against a real HTTP server and store.

Conditional GET, Retry-After, backoff that grows and resets, dedup across feeds and tracking parameters,
and one broken feed never hiding the others. These run the plain pipeline (no Prefect) for speed; the
same functions run inside the flow.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from classifiers.load import load_classifier
from extractors.http import Fetcher, FetchPolicy
from flows.pool import ProcessPool
from flows.process import BACKOFF_CAP, FeedOutcome, RunContext, compile_rules, process_feeds
from storage import repo
from storage.models import Article, Delivery, Feed
from tests.httpserver import Exchange, HTTPTestServer

POLICY = FetchPolicy(allow_private_networks=("127.0.0.0/8",), respect_robots=False, total_timeout=10)
PAGE = """<html><head><title>{title}</title></head><body><nav>Home | World</nav><article><h1>{title}</h1>
<p>{body}</p><p>Officials said the new tariffs on steel imports would take effect next month, and trade
talks between the two governments would continue in Geneva.</p><p>Exporters warned of retaliation.</p>
</article><footer>Copyright</footer></body></html>"""


def _rss(server: HTTPTestServer, items: list[tuple[str, str, str]], ttl: int | None = None) -> bytes:
    entries = "".join(
        f"<item><title>{title}</title><link>{server.url(path)}</link><guid>{guid}</guid></item>"
        for guid, path, title in items
    )
    ttl_tag = f"<ttl>{ttl}</ttl>" if ttl else ""
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{ttl_tag}{entries}'
        "</channel></rss>"
    ).encode()


def _page(server: HTTPTestServer, path: str, title: str) -> None:
    body = PAGE.format(title=title, body=f"{title}: the government announced tariffs.").encode()
    server.route(path, 200, {"Content-Type": "text/html; charset=utf-8"}, body)


def _run(
    engine: Engine, urls: list[str], *, now: datetime | None = None, force: bool = True
) -> list[FeedOutcome]:
    with Session(engine) as session:
        repo.sync_feeds(session, [repo.FeedSpec(f"feed {i}", url) for i, url in enumerate(urls)])
        rules = repo.sync_rules(session, [repo.RuleSpec("tariffs", "tariffs", ("desk",), trade_only=True)])
        session.commit()
        feeds = repo.due_feeds(session, now or datetime.now(UTC), force=force)
        compiled = compile_rules(list(rules.values()))

    async def go() -> list[FeedOutcome]:
        async with Fetcher(POLICY) as fetcher:
            ctx = RunContext(
                engine=engine,
                fetcher=fetcher,
                classifier=load_classifier(None),
                rules=compiled,
                now=(lambda: now) if now else (lambda: datetime.now(UTC)),
            )
            return await process_feeds(ctx, feeds)

    return asyncio.run(go())


def _one_due_feed(
    engine: Engine, server: HTTPTestServer, path: str, items: list[tuple[str, str, str]]
) -> list[Feed]:
    """Serve an RSS feed of ``items`` at ``path``, configure it, and return it as the run's due feeds."""
    server.route(path, 200, {"Content-Type": "application/rss+xml"}, _rss(server, items))
    with Session(engine) as session:
        repo.sync_feeds(session, [repo.FeedSpec(path.strip("/"), server.url(path))])
        session.commit()
        return repo.due_feeds(session, datetime.now(UTC), force=True)


def _pool_context(
    engine: Engine, fetcher: Fetcher, pool: ProcessPool | Executor, **overrides: Any
) -> RunContext:
    """A run's context with extraction on ``pool``, no rules and the lexicon, unless ``overrides`` say."""
    fields: dict[str, Any] = {"classifier": load_classifier(None), "rules": [], **overrides}
    return RunContext(engine=engine, fetcher=fetcher, extract_pool=pool, **fields)


def _feed(engine: Engine, url: str) -> Feed:
    with Session(engine) as session:
        return session.exec(select(Feed).where(Feed.url == url)).one()


def test_not_modified_feed_costs_no_parsing_and_no_article_request(
    engine: Engine, http_server: HTTPTestServer
) -> None:
    _page(http_server, "/a1", "Steel tariffs rise")
    feed_body = _rss(http_server, [("g1", "/a1", "Steel tariffs rise")])

    def feed(exchange: Exchange) -> None:
        if exchange.headers.get("if-none-match") == '"v1"':
            exchange.send(304, {"ETag": '"v1"'}, b"")
        else:
            exchange.send(200, {"Content-Type": "application/rss+xml", "ETag": '"v1"'}, feed_body)

    http_server.route("/feed.xml", feed)
    first = _run(engine, [http_server.url("/feed.xml")])
    assert (first[0].status, first[0].new_articles) == ("ok", 1)
    requests_before = len(http_server.requests)

    second = _run(engine, [http_server.url("/feed.xml")])
    assert second[0].status == "not_modified"
    assert http_server.paths()[requests_before:] == ["/feed.xml"]
    assert http_server.requests_to("/feed.xml")[-1].headers["if-none-match"] == '"v1"'


def test_retry_after_pushes_the_next_poll_and_backoff_grows_then_resets(
    engine: Engine, http_server: HTTPTestServer
) -> None:
    url = http_server.url("/busy.xml")
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    http_server.route("/busy.xml", 429, {"Retry-After": "7200"}, b"slow down")
    (outcome,) = _run(engine, [url], now=now)
    assert (outcome.status, outcome.reason) == ("failed", "rate_limited")
    feed = _feed(engine, url)
    assert feed.next_poll_at is not None
    assert feed.next_poll_at >= now + timedelta(seconds=7200)
    with Session(engine) as session:
        assert repo.due_feeds(session, now + timedelta(hours=1)) == []

    http_server.route("/busy.xml", 503, {}, b"down")
    delays = []
    for attempt in range(2, 6):
        _run(engine, [url], now=now)
        feed = _feed(engine, url)
        assert feed.consecutive_failures == attempt
        assert feed.next_poll_at is not None
        delays.append(feed.next_poll_at - now)
    assert delays == sorted(delays), "backoff grows with each consecutive failure"
    assert all(d <= BACKOFF_CAP * 1.1 for d in delays)

    _page(http_server, "/ok", "Tariff talks resume")
    http_server.route(
        "/busy.xml",
        200,
        {"Content-Type": "application/rss+xml"},
        _rss(http_server, [("g", "/ok", "Tariff talks resume")], ttl=120),
    )
    (outcome,) = _run(engine, [url], now=now)
    feed = _feed(engine, url)
    assert outcome.status == "ok"
    assert feed.consecutive_failures == 0, "one success resets the streak"
    assert feed.next_poll_at == now + timedelta(minutes=120), "RSS <ttl> is a floor on the interval"


def test_same_article_via_two_feeds_new_guid_and_tracking_parameters_is_stored_and_alerted_once(
    engine: Engine, http_server: HTTPTestServer
) -> None:
    _page(http_server, "/story", "Tariffs on steel widen")
    http_server.route(
        "/a.xml",
        200,
        {"Content-Type": "application/rss+xml"},
        _rss(http_server, [("a-1", "/story?utm_source=rss&utm_medium=feed", "Tariffs on steel widen")]),
    )
    http_server.route(
        "/b.xml",
        200,
        {"Content-Type": "application/rss+xml"},
        _rss(http_server, [("b-99", "/story?fbclid=xyz#comments", "Tariffs on steel widen (updated)")]),
    )
    outcomes = _run(engine, [http_server.url("/a.xml"), http_server.url("/b.xml")])
    assert sum(o.new_articles for o in outcomes) == 1
    # republished under a new GUID with an edited title: still the same article
    http_server.route(
        "/a.xml",
        200,
        {"Content-Type": "application/rss+xml"},
        _rss(http_server, [("a-2-new-guid", "/story?utm_campaign=x", "Steel tariffs widen")]),
    )
    again = _run(engine, [http_server.url("/a.xml"), http_server.url("/b.xml")])
    assert sum(o.new_articles for o in again) == 0
    with Session(engine) as session:
        (article,) = session.exec(select(Article)).all()
        assert article.canonical_url == http_server.url("/story")
        assert len(session.exec(select(Delivery)).all()) == 1
    assert len(http_server.requests_to("/story")) == 1


def test_a_broken_feed_never_hides_the_other_feeds(engine: Engine, http_server: HTTPTestServer) -> None:
    _page(http_server, "/good", "Tariff deal signed")
    http_server.route(
        "/good.xml",
        200,
        {"Content-Type": "application/rss+xml"},
        _rss(http_server, [("g", "/good", "Tariff deal signed")]),
    )
    http_server.route(
        "/garbage.xml", 200, {"Content-Type": "application/rss+xml"}, b"\x00\x01<rss><channel><item>"
    )
    http_server.route(
        "/html.xml", 200, {"Content-Type": "text/html"}, b"<html><body>Not a feed</body></html>"
    )
    outcomes = _run(
        engine, [http_server.url(p) for p in ("/garbage.xml", "/good.xml", "/html.xml", "/gone.xml")]
    )
    by_url = {o.url.rsplit("/", 1)[-1]: o for o in outcomes}
    assert by_url["good.xml"].new_articles == 1
    assert by_url["garbage.xml"].status == by_url["html.xml"].status == by_url["gone.xml"].status == "failed"
    assert by_url["html.xml"].reason == "not_a_feed"
    assert by_url["gone.xml"].reason == "http_status"
    with Session(engine) as session:
        health = {h.feed.url.rsplit("/", 1)[-1]: h.feed for h in repo.feed_health(session, datetime.now(UTC))}
    assert health["gone.xml"].last_error_reason == "http_status"
    assert health["good.xml"].consecutive_failures == 0


def test_transient_page_failure_keeps_the_feed_rereadable_until_the_page_works(
    engine: Engine, http_server: HTTPTestServer
) -> None:
    http_server.route("/flaky", 503, {}, b"try later")

    def feed(exchange: Exchange) -> None:
        if exchange.headers.get("if-none-match") == '"v1"':
            exchange.send(304, {"ETag": '"v1"'}, b"")
        else:
            body = _rss(http_server, [("f", "/flaky", "Tariff ruling due")])
            exchange.send(200, {"Content-Type": "application/rss+xml", "ETag": '"v1"'}, body)

    http_server.route("/feed.xml", feed)
    (first,) = _run(engine, [http_server.url("/feed.xml")])
    assert (first.new_articles, first.article_failures) == (0, [(http_server.url("/flaky"), "http_status")])
    assert _feed(engine, http_server.url("/feed.xml")).etag is None, "validators not kept: next poll re-reads"

    _page(http_server, "/flaky", "Tariff ruling due")
    (second,) = _run(engine, [http_server.url("/feed.xml")])
    assert second.new_articles == 1
    assert _feed(engine, http_server.url("/feed.xml")).etag == '"v1"'


def test_permanently_failed_page_is_stored_once_with_its_reason(
    engine: Engine, http_server: HTTPTestServer
) -> None:
    http_server.route(
        "/feed.xml",
        200,
        {"Content-Type": "application/rss+xml"},
        _rss(http_server, [("x", "/missing", "Tariff notice")]),
    )
    (first,) = _run(engine, [http_server.url("/feed.xml")])
    (second,) = _run(engine, [http_server.url("/feed.xml")])
    assert first.new_articles == 1
    assert second.new_articles == 0
    with Session(engine) as session:
        (article,) = session.exec(select(Article)).all()
    assert article.extraction_status == "failed"
    assert article.extraction_error is not None
    assert "http_status" in article.extraction_error
    assert len(http_server.requests_to("/missing")) == 1


def test_operator_is_told_once_when_a_feed_keeps_failing(engine: Engine, http_server: HTTPTestServer) -> None:
    from flows.demo import body_text, smtp_sink
    from flows.ingest import tell_operator
    from flows.settings import settings_from_mapping

    http_server.route("/dead.xml", 500, {}, b"<h1>oops</h1>")
    with smtp_sink() as sink:
        settings = settings_from_mapping(
            {
                "channels": {
                    "ops": f"mailto://127.0.0.1:{sink.port}?from=tw@example.com&to=ops@example.com&mode=insecure"
                },
                "operator": {"channel": "ops", "feed_failure_threshold": 2},
            }
        )
        notes = [tell_operator(settings, _run(engine, [http_server.url("/dead.xml")])) for _ in range(3)]
        time.sleep(0.3)
    assert notes == [0, 1, 0]
    (message,) = sink.messages
    assert "feed failing: feed 0" in str(message["Subject"])
    assert "http_status" in body_text(message)
    assert "/dead.xml" in body_text(message)


def test_a_dead_extraction_worker_costs_only_the_pages_in_flight(
    engine: Engine, http_server: HTTPTestServer
) -> None:
    """A worker killed mid-run (OOM killer, a crash in C) breaks the process pool; the run carries on."""
    import os
    import signal

    for i in range(3):
        _page(http_server, f"/p{i}", f"Tariff story {i}")
    http_server.route(
        "/a.xml",
        200,
        {"Content-Type": "application/rss+xml"},
        _rss(http_server, [("a", "/p0", "Tariff story 0")]),
    )
    http_server.route(
        "/b.xml",
        200,
        {"Content-Type": "application/rss+xml"},
        _rss(http_server, [("b1", "/p1", "Tariff story 1"), ("b2", "/p2", "Tariff story 2")]),
    )
    with Session(engine) as session:
        repo.sync_feeds(
            session,
            [repo.FeedSpec("a", http_server.url("/a.xml")), repo.FeedSpec("b", http_server.url("/b.xml"))],
        )
        session.commit()
        feeds = repo.due_feeds(session, datetime.now(UTC), force=True)

    async def go() -> list[FeedOutcome]:
        async with ProcessPool(1) as pool, Fetcher(POLICY) as fetcher:
            await pool.run(int)  # the worker is up
            for pid in pool.pids():  # ... and now it is gone
                os.kill(pid, signal.SIGKILL)
            await asyncio.sleep(0.5)
            ctx = _pool_context(engine, fetcher, pool)
            return await process_feeds(ctx, feeds, concurrency=1)

    outcomes = asyncio.run(go())
    failures = [reason for o in outcomes for _u, reason in o.article_failures]
    assert failures == ["worker_crashed"], "only the page handed to the dead pool is lost, and only for now"
    assert sum(o.new_articles for o in outcomes) == 2
    assert all(o.status == "ok" for o in outcomes)
    again = _run(engine, [http_server.url("/a.xml"), http_server.url("/b.xml")])
    assert sum(o.new_articles for o in again) == 1, "the lost page is stored on the next poll"


def test_an_extraction_failure_in_a_worker_process_keeps_its_reason(
    engine: Engine, http_server: HTTPTestServer
) -> None:
    empty = b"<html><body><nav><a href='/'>Home</a></nav></body></html>"
    http_server.route("/empty", 200, {"Content-Type": "text/html"}, empty)
    feeds = _one_due_feed(engine, http_server, "/f.xml", [("e", "/empty", "Tariff note")])

    async def go() -> list[FeedOutcome]:
        async with ProcessPool(1) as pool, Fetcher(POLICY) as fetcher:
            ctx = _pool_context(engine, fetcher, pool)
            return await process_feeds(ctx, feeds)

    (outcome,) = asyncio.run(go())
    assert outcome.article_failures == [(http_server.url("/empty"), "no_content")]
    with Session(engine) as session:
        (article,) = session.exec(select(Article)).all()
    assert article.extraction_status == "failed"
    assert article.extraction_error is not None
    assert "[extract:no_content]" in article.extraction_error


def test_pages_are_not_fetched_further_ahead_of_extraction_than_the_page_slots(
    engine: Engine, http_server: HTTPTestServer
) -> None:
    """Fetching outruns extraction; the pages waiting for it must stay bounded, not a whole feed's worth."""
    import threading
    from concurrent.futures import Future, ThreadPoolExecutor

    items = [(f"g{n}", f"/slot{n}", f"Tariff story {n}") for n in range(12)]
    for _guid, path, title in items:
        _page(http_server, path, title)
    release = threading.Event()

    class HeldExtraction(ThreadPoolExecutor):
        """Extraction that waits for the test, so fetched pages would pile up if nothing bounded them."""

        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
            def held() -> Any:
                release.wait(10)
                return fn(*args, **kwargs)

            return super().submit(held)

    feeds = _one_due_feed(engine, http_server, "/feed-of-slots.xml", items)
    pages_fetched_while_held: list[int] = []

    async def go() -> list[FeedOutcome]:
        with HeldExtraction(max_workers=2) as pool:
            async with Fetcher(POLICY) as fetcher:
                ctx = _pool_context(engine, fetcher, pool, page_slots=asyncio.Semaphore(3))
                run = asyncio.ensure_future(process_feeds(ctx, feeds))
                await asyncio.sleep(1.0)  # ample time to fetch all 12 pages if nothing held them back
                pages_fetched_while_held.append(sum(p.startswith("/slot") for p in http_server.paths()))
                release.set()
                return await run

    (outcome,) = asyncio.run(go())
    assert pages_fetched_while_held == [3]
    assert outcome.new_articles == 12, "once extraction moves, every page is fetched and stored"


def test_the_stored_verdict_is_the_runs_classifier_even_when_workers_hold_another(
    engine: Engine, http_server: HTTPTestServer
) -> None:
    """Workers classify with the classifier configuration names; a verdict from any other is redone."""
    from concurrent.futures import ThreadPoolExecutor

    from classifiers.verdict import Verdict

    class Desk:
        version = "desk-1"

        def classify(self, title: str, text: str) -> Verdict:
            return Verdict(is_trade=True, score=1.0, evidence=(), version=self.version, reason="desk says so")

    _page(http_server, "/v1", "Tariff story one")
    feeds = _one_due_feed(engine, http_server, "/v.xml", [("v1", "/v1", "Tariff story one")])

    async def go(classifier: Any) -> list[FeedOutcome]:
        with ThreadPoolExecutor(max_workers=1) as pool:
            async with Fetcher(POLICY) as fetcher:
                ctx = _pool_context(engine, fetcher, pool, classifier=classifier)
                return await process_feeds(ctx, feeds)

    asyncio.run(go(Desk()))  # the worker classifies with the lexicon (classifier_model None): redone
    with Session(engine) as session:
        (article,) = session.exec(select(Article)).all()
    assert (article.classifier_version, article.is_trade) == ("desk-1", True)

    lexicon = load_classifier(None)
    expected = lexicon.classify(article.title, article.text)
    with Session(engine) as session:
        session.delete(article)
        session.commit()
    asyncio.run(go(lexicon))  # the worker's verdict is the one stored, and it is the lexicon's own
    with Session(engine) as session:
        (article,) = session.exec(select(Article)).all()
    assert (article.classifier_version, article.trade_score) == (expected.version, round(expected.score, 4))
    assert [e["phrase"] for e in article.trade_evidence] == [e.phrase for e in expected.evidence]
