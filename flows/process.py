"""The path of one article: poll → parse → dedup → fetch page → extract → classify → store → match → enqueue.

This module fixes the stage order and the failure policy; each stage itself lives in a leaf package and
knows nothing of the others. It has no Prefect in it, so it runs and tests without an orchestrator;
``flows.ingest`` wraps it in tasks. Invariants kept here:

- one feed's failure is recorded on that feed and never stops the other feeds;
- a page that fails *transiently* (timeout, 5xx) is not stored, and the feed's validators (ETag,
  Last-Modified) are not saved either, so the next poll sees the entry again instead of a 304;
- a page that fails *permanently* (404, not HTML, no content, paywall) is stored once with its reason and
  the feed's summary, so it is neither refetched forever nor lost;
- alerts are enqueued only by the writer that actually inserted the article, in the same transaction;
- an article's story is decided in that transaction too, and a rule grouping by story queues one alert
  per story: a copy another outlet published later joins the story and alerts no one again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor, Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.engine import Engine
from sqlmodel import Session

from alerts.rules import Document, EventFacts, Match, Query, parse, prepare
from classifiers.events import TradeEvent, describe, extract_events
from classifiers.events import version as events_version
from classifiers.stories import Fingerprint, fingerprint
from classifiers.trade import Classifier, Verdict
from extractors.article import Article as ExtractedArticle
from extractors.errors import StageError
from extractors.feeds import FeedEntry, ParsedFeed, parse_feed
from extractors.http import Fetcher, Response
from flows.pool import ProcessPool
from flows.workers import analyse
from storage import repo
from storage.models import AlertRule, Feed, utcnow

log = logging.getLogger("tradewatch.process")

#: Regular poll interval when a feed gives no hint; the scheduled deployment runs every 15 minutes and the
#: one-minute slack keeps a feed polled at 12:00:03 due again at the 12:15:00 run.
POLL_INTERVAL = timedelta(minutes=15) - timedelta(minutes=1)
#: Failure backoff: 5 min, 10, 20 ... capped at a day, never giving up; jitter spreads a burst of failures.
BACKOFF_BASE = timedelta(minutes=5)
BACKOFF_CAP = timedelta(hours=24)
BACKOFF_JITTER = 0.1


@dataclass(frozen=True)
class CompiledRule:
    """A rule parsed once per run, with the ids the outbox needs."""

    id: int
    name: str
    query: Query
    channels: tuple[str, ...]
    trade_only: bool
    mode: str
    grouping: str = "story"
    follow_up_outlets: int = 0


@dataclass
class FeedOutcome:
    """What happened to one feed in one run; the flow's summary and artifact are built from these."""

    feed_id: int
    name: str
    url: str
    status: str = "ok"  # ok | not_modified | failed
    reason: str | None = None
    message: str | None = None
    failures_in_a_row: int = 0
    entries: int = 0
    new_articles: int = 0
    trade_articles: list[tuple[str, str]] = field(default_factory=list)  # (title, url)
    trade_events: list[tuple[str, str]] = field(default_factory=list)  # (event line, article url)
    alerts_queued: int = 0
    article_failures: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    warnings: list[str] = field(default_factory=list)
    #: New articles that joined an earlier story: (title, url, story id, why).
    story_copies: list[tuple[str, str, int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class RunContext:
    """What one run shares across feeds: the store, the classifier, the compiled rules, a CPU pool."""

    engine: Engine
    fetcher: Fetcher
    classifier: Classifier
    rules: Sequence[CompiledRule]
    extract_pool: ProcessPool | Executor | None = None
    max_articles_per_feed: int = 100
    dry_run: bool = False
    now: Callable[[], datetime] = utcnow
    #: Canonical URLs and entry keys taken by some feed in this run: the same story in two feeds of one
    #: run is fetched once (the database would store it once anyway, but the page would be fetched twice).
    claimed: set[str] = field(default_factory=set)
    #: Process pools found broken in this run (by id): extraction falls back to threads in this process.
    broken_pools: set[int] = field(default_factory=set)
    #: Pages between the start of their fetch and the end of their extraction, across the run. Fetching
    #: outruns extraction, so without a bound the pages of every feed in progress would queue in memory
    #: (16 feeds x 100 pages x 1 MB in the worst case); 32 keeps two workers busy at 200 ms of latency.
    page_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(32))
    #: Where ``classifier`` came from (a model file, or None for the lexicon), so extraction workers can
    #: load the same one; a verdict whose version differs from ``classifier``'s is redone here.
    classifier_model: str | None = None
    #: How long a story takes copies (``[stories] window``), counted from when its articles were found.
    story_window: timedelta = timedelta(hours=72)


def compile_rules(rules: Sequence[AlertRule]) -> list[CompiledRule]:
    """Parse stored rules once per run (they were validated when configuration loaded)."""
    return [
        CompiledRule(
            id=rule.id or 0,
            name=rule.name,
            query=parse(rule.query),
            channels=tuple(rule.channels),
            trade_only=rule.trade_only,
            mode=rule.mode,
            grouping=rule.grouping,
            follow_up_outlets=rule.follow_up_outlets,
        )
        for rule in rules
        if rule.active
    ]


def next_poll_after_success(now: datetime, *, ttl_seconds: float | None, max_age: float | None) -> datetime:
    """The feed's own hints (RSS <ttl>, Cache-Control max-age) are a floor on the regular interval."""
    hint = max(ttl_seconds or 0, max_age or 0)
    return now + max(POLL_INTERVAL, timedelta(seconds=hint))


def next_poll_after_failure(now: datetime, failures: int, *, retry_after: float | None = None) -> datetime:
    """Exponential backoff with jitter, capped; a server's Retry-After wins when it asks for longer."""
    delay: timedelta = min(BACKOFF_BASE * (2 ** max(failures - 1, 0)), BACKOFF_CAP)
    delay = delay * (1 + random.uniform(-BACKOFF_JITTER, BACKOFF_JITTER))
    if retry_after:
        delay = max(delay, timedelta(seconds=retry_after))
    return now + delay


def content_hash(text: str) -> str:
    """Hash of the whitespace-normalised text: cosmetic re-renders of a page do not count as edits."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


async def process_feed(ctx: RunContext, feed: Feed) -> FeedOutcome:
    """Run one feed through every stage; never raises for a feed or page problem."""
    assert feed.id is not None
    outcome = FeedOutcome(feed_id=feed.id, name=feed.name, url=feed.url)
    now = ctx.now()
    try:
        response = await ctx.fetcher.fetch_feed(feed.url, etag=feed.etag, last_modified=feed.last_modified)
    except StageError as exc:
        return _feed_failed(ctx, feed, outcome, exc, now)
    if response.not_modified:
        outcome.status = "not_modified"
        _store_feed(ctx, feed, [], outcome, _success(feed, response, now, ttl=None, items=0, keep=True))
        return outcome
    try:
        parsed = parse_feed(
            response.content, response.url, charset=response.charset, content_type=response.content_type
        )
    except StageError as exc:
        return _feed_failed(ctx, feed, outcome, exc, now)

    outcome.entries = len(parsed.entries)
    outcome.warnings.extend(parsed.warnings)
    entries = _new_entries(ctx, parsed)[: ctx.max_articles_per_feed]
    pages, transient = await _extract_entries(ctx, entries, outcome)
    success = _success(
        feed,
        response,
        now,
        ttl=parsed.ttl_seconds,
        items=len(entries),
        keep=not transient,
        title=parsed.title,
        warning="; ".join(parsed.warnings)[:2000] or None,
    )
    _store_feed(ctx, feed, [_prepare(ctx, feed, page) for page in pages], outcome, success)
    return outcome


def _new_entries(ctx: RunContext, parsed: ParsedFeed) -> list[FeedEntry]:
    """Entries whose key and canonical URL are both unseen, deduplicated within the feed too."""
    with Session(ctx.engine) as session:
        known = repo.known_articles(
            session,
            entry_keys=[e.entry_key for e in parsed.entries],
            canonical_urls=[e.url for e in parsed.entries],
        )
    fresh: list[FeedEntry] = []
    for entry in parsed.entries:
        if entry.entry_key in known or entry.url in known:
            continue
        if entry.entry_key in ctx.claimed or entry.url in ctx.claimed:
            continue
        known.update((entry.entry_key, entry.url))
        ctx.claimed.update((entry.entry_key, entry.url))
        fresh.append(entry)
    return fresh


@dataclass(frozen=True)
class _Page:
    """One entry after fetch and extraction: the article, or the permanent error to store instead."""

    entry: FeedEntry
    article: ExtractedArticle | None
    error: StageError | None
    verdict: Verdict | None = None  # classified in the extraction worker
    events: tuple[TradeEvent, ...] | None = None  # found in the extraction worker (trade articles only)
    fingerprint: Fingerprint | None = None  # for stories, made in the extraction worker too


class _Retry(Exception):
    """A page to leave for the next poll (transient fetch failure, dead worker); already counted."""


async def _extract_entries(
    ctx: RunContext, entries: list[FeedEntry], outcome: FeedOutcome
) -> tuple[list[_Page], bool]:
    """Fetch and extract a feed's new pages concurrently: each page goes to the extraction pool as soon
    as it has arrived (the fetcher enforces per-host limits, the pool the CPU limit), and its bytes are
    dropped once extracted, so a feed's pages are never all held at once.

    Returns the pages to store, in feed order, and whether some page failed transiently, so the caller
    keeps the feed re-readable.
    """
    results = await asyncio.gather(*(_fetch_and_extract(ctx, e, outcome) for e in entries))
    pages = [page for page in results if page is not None]
    return pages, len(pages) < len(entries)


async def _fetch_and_extract(ctx: RunContext, entry: FeedEntry, outcome: FeedOutcome) -> _Page | None:
    """One page, fetch then extract; None when it must be retried next poll."""
    async with ctx.page_slots:
        return await _fetch_and_extract_one(ctx, entry, outcome)


async def _fetch_and_extract_one(ctx: RunContext, entry: FeedEntry, outcome: FeedOutcome) -> _Page | None:
    try:
        response: Response = await ctx.fetcher.fetch_page(entry.link)
    except StageError as exc:
        outcome.article_failures.append((entry.link, exc.reason))
        if exc.transient:
            log.warning("page %s: %s (will retry next poll)", entry.link, exc.reason)
            return None
        return _Page(entry, None, exc)
    except Exception:
        log.exception("unexpected error fetching %s (will retry next poll)", entry.link)
        outcome.article_failures.append((entry.link, "unexpected"))
        return None
    pool = None if ctx.extract_pool is None or id(ctx.extract_pool) in ctx.broken_pools else ctx.extract_pool
    args = (
        response.content,
        response.url,
        response.charset,
        entry.title or entry.link,
        ctx.classifier_model,
        entry.published,
        entry.title or None,
        entry.summary or None,
    )
    try:
        if isinstance(pool, ProcessPool):
            article, verdict, events, print_ = await pool.run(analyse, *args)
        else:  # a thread pool (tests), or None: this process's default executor, once the pool broke
            article, verdict, events, print_ = await asyncio.get_running_loop().run_in_executor(
                pool, partial(analyse, *args)
            )
    except BrokenExecutor:
        # A worker died (killed for memory, or a C library crashed on a hostile page) and the pool is
        # unusable. The pages in flight are retried next poll; the rest of this run extracts in this
        # process, slower but complete, instead of failing every later feed.
        log.error(
            "extraction worker died on or near %s; extracting in-process for the rest of the run", entry.link
        )
        ctx.broken_pools.add(id(ctx.extract_pool))
        outcome.article_failures.append((entry.link, "worker_crashed"))
        return None
    except StageError as exc:
        outcome.article_failures.append((entry.link, exc.reason))
        return _Page(entry, None, exc)
    except Exception:  # a bug in extraction: keep the page for the next poll rather than lose or fail it
        log.exception("unexpected error extracting %s (will retry next poll)", entry.link)
        outcome.article_failures.append((entry.link, "unexpected"))
        return None
    return _Page(entry, article, None, verdict, events, print_)


@dataclass(frozen=True)
class _Prepared:
    """An article row ready to insert, with its trade events and the outbox rows it would queue if this
    writer inserts it."""

    row: repo.NewArticle
    matches: list[tuple[CompiledRule, Match]]
    fingerprint: Fingerprint
    events: list[repo.NewEvent] = field(default_factory=list)


def _prepare(ctx: RunContext, feed: Feed, page: _Page) -> _Prepared:
    """Classify and match outside the transaction: CPU work must not hold the database's write lock."""
    entry, article = page.entry, page.article
    title = (article.title if article and article.title else None) or entry.title or entry.link
    text = article.text if article else entry.summary
    verdict, events = page.verdict, page.events
    if verdict is None or verdict.version != ctx.classifier.version:
        verdict = ctx.classifier.classify(title, text)  # a failed page (title and summary), or a mismatch
        events = None
    published = (article.published if article else None) or entry.published
    if events is None:
        language = article.language if article else None
        events = extract_events(title, text, published, language=language) if verdict.is_trade else ()
    row = repo.NewArticle(
        canonical_url=entry.url,
        url=entry.link,
        entry_key=entry.entry_key,
        feed_id=feed.id,
        title=title,
        author=(article.author if article else None) or entry.author,
        published_at=published,
        text=text,
        content_hash=content_hash(text) if article else None,
        language=article.language if article else None,
        extraction_status="ok" if article else "failed",
        extraction_error=str(page.error) if page.error else None,
        is_trade=verdict.is_trade,
        trade_score=round(verdict.score, 4),
        trade_evidence=[
            {"phrase": ev.phrase, "field": ev.field, "weight": ev.weight, "count": ev.count}
            for ev in verdict.evidence
        ],
        classifier_version=verdict.version,
    )
    # A failed page has the feed's title and summary only: usually too short for a body, so by title.
    print_ = page.fingerprint if page.fingerprint is not None else fingerprint(title, text)
    return _Prepared(
        row,
        _matches(ctx, title, text, feed.name, verdict, events),
        print_,
        [_new_event(e) for e in events],
    )


def _new_event(event: TradeEvent) -> repo.NewEvent:
    return repo.NewEvent(
        measure=event.measure,
        implementer=event.implementer,
        affected=event.affected,
        products=event.products,
        hs_chapters=event.hs_chapters,
        subjects=event.subjects,
        rate_from=str(event.rate_from) if event.rate_from else None,
        rate_to=str(event.rate_to) if event.rate_to else None,
        announced=event.announced,
        effective=event.effective,
        summary=describe(event),
        evidence=event.evidence,
        extractor_version=events_version(),
    )


def _matches(
    ctx: RunContext,
    title: str,
    text: str,
    source: str,
    verdict: Verdict,
    events: tuple[TradeEvent, ...] = (),
) -> list[tuple[CompiledRule, Match]]:
    rules = [rule for rule in ctx.rules if verdict.is_trade or not rule.trade_only]
    if not rules:
        return []  # indexing the text for the rule language costs more than classifying it
    facts = tuple(
        EventFacts(
            measure=e.measure,
            implementer=e.implementer,
            affected=e.affected,
            products=e.products + e.hs_chapters,
            sentence=e.evidence.get("measure", ""),
            trigger=e.trigger,
        )
        for e in events
    )
    prepared = prepare(Document(title=title, text=text, source=source, events=facts))
    found = [(rule, rule.query.match(prepared)) for rule in rules]
    return [(rule, match) for rule, match in found if match is not None]


@dataclass(frozen=True)
class _Success:
    """What a successful poll records on the feed row."""

    feed_id: int
    now: datetime
    next_poll_at: datetime
    etag: str | None
    last_modified: str | None
    items: int
    title: str | None = None
    warning: str | None = None


def _success(
    feed: Feed,
    response: Response,
    now: datetime,
    *,
    ttl: int | None,
    items: int,
    keep: bool,
    title: str | None = None,
    warning: str | None = None,
) -> _Success:
    """``keep=False`` forgets the validators, so a feed with pages to retry is read again, not a 304."""
    assert feed.id is not None
    etag, last_modified = (response.etag or feed.etag, response.last_modified or feed.last_modified)
    if not keep:
        etag = last_modified = None
    return _Success(
        feed.id,
        now,
        next_poll_after_success(now, ttl_seconds=ttl, max_age=response.max_age),
        etag,
        last_modified,
        items,
        title,
        warning,
    )


def _store_feed(
    ctx: RunContext, feed: Feed, prepared: list[_Prepared], outcome: FeedOutcome, success: _Success
) -> None:
    """Insert a feed's articles, queue their alerts and record the poll in one transaction.

    One transaction per feed, not per article: a commit (and SQLite's write lock) per article cost more
    than extracting it. A crash leaves all of it or none: the feed's validators are saved with its
    articles, so a feed whose articles were lost is read again in full on the next poll.
    """
    if ctx.dry_run:
        for item in prepared:
            outcome.new_articles += 1
            if item.row.is_trade:
                outcome.trade_articles.append((item.row.title, item.row.url))
            outcome.trade_events.extend((e.summary, item.row.url) for e in item.events)
        return
    with Session(ctx.engine) as session:
        now = ctx.now()
        inserted = repo.insert_articles(session, [item.row for item in prepared], now=now)
        stories = repo.assign_stories(
            session,
            [
                repo.StoryItem(inserted[i.row.canonical_url], i.fingerprint, i.row.title, i.row.published_at)
                for i in prepared
                if i.row.canonical_url in inserted
            ],
            now=now,
            window=ctx.story_window,
        )
        for item in prepared:
            article_id = inserted.get(item.row.canonical_url)
            if article_id is None:
                continue  # another writer has it; only the inserting writer queues its alerts
            outcome.new_articles += 1
            if item.row.is_trade:
                outcome.trade_articles.append((item.row.title, item.row.url))
            repo.insert_events(session, article_id, item.events)  # same transaction as the article
            outcome.trade_events.extend((e.summary, item.row.url) for e in item.events)
            story = stories.get(article_id)
            outcome.alerts_queued += _enqueue(session, ctx, article_id, item.matches, story)
            if story is not None and not story.new_story:
                outcome.story_copies.append(
                    (item.row.title, item.row.url, story.story_id, story.reason or "")
                )
                if any(rule.follow_up_outlets for rule in ctx.rules):  # else one query per copy for nothing
                    outcome.alerts_queued += repo.enqueue_story_updates(session, story, now=now)
        repo.record_feed_success(
            session,
            success.feed_id,
            now=success.now,
            next_poll_at=success.next_poll_at,
            etag=success.etag,
            last_modified=success.last_modified,
            title=success.title,
            items=success.items,
            warning=success.warning,
        )
        session.commit()


def _enqueue(
    session: Session,
    ctx: RunContext,
    article_id: int,
    matches: list[tuple[CompiledRule, Match]],
    story: repo.StoryAssignment | None = None,
) -> int:
    """One outbox row per (rule, channel) that this new article matched; for a rule grouping by story,
    the row is the story's, and the outbox's unique constraint drops it when a copy already holds it."""
    queued = 0
    for rule, match in matches:
        grouped = story is not None and rule.grouping == "story"
        for channel in rule.channels:
            queued += repo.enqueue_delivery(
                session,
                article_id=article_id,
                rule_id=rule.id,
                channel=channel,
                mode=rule.mode,
                match_field=match.field,
                match_sentence=match.sentence,
                match_start=match.hit_start,
                match_end=match.hit_end,
                now=ctx.now(),
                story_id=story.story_id if grouped and story is not None else None,
                kind="story" if grouped else "article",
            )
    return queued


def _feed_failed(
    ctx: RunContext, feed: Feed, outcome: FeedOutcome, exc: StageError, now: datetime
) -> FeedOutcome:
    outcome.status, outcome.reason, outcome.message = "failed", exc.reason, exc.message
    log.info("feed %r (%s) failed: %s", feed.name, feed.url, exc)  # the task logs it for the run page
    if ctx.dry_run:
        return outcome
    assert feed.id is not None
    retry_after = getattr(exc, "retry_after", None)
    with Session(ctx.engine) as session:
        outcome.failures_in_a_row = repo.record_feed_failure(
            session,
            feed.id,
            now=now,
            next_poll_at=next_poll_after_failure(now, feed.consecutive_failures + 1, retry_after=retry_after),
            reason=exc.reason,
            message=str(exc)[:2000],
        )
        session.commit()
    return outcome


ProgressCallback = Callable[[FeedOutcome, int, int], None]


async def process_feeds(
    ctx: RunContext,
    feeds: Sequence[Feed],
    *,
    concurrency: int = 16,
    on_feed_done: ProgressCallback | None = None,
) -> list[FeedOutcome]:
    """All feeds of a run, a bounded number at a time; results in the feeds' order.

    ``on_feed_done(outcome, done, total)`` is called as each feed finishes (progress bars, artifacts);
    an error in it is logged and never affects the run.
    """
    gate = asyncio.Semaphore(concurrency)
    done = 0

    async def one(feed: Feed) -> FeedOutcome:
        nonlocal done
        outcome = await guarded(feed)
        done += 1
        if on_feed_done is not None:
            try:
                on_feed_done(outcome, done, len(feeds))
            except Exception:
                log.exception("progress callback failed")
        return outcome

    async def guarded(feed: Feed) -> FeedOutcome:
        async with gate:
            try:
                return await process_feed(ctx, feed)
            except Exception as exc:  # a bug must not cost the other feeds their run
                log.exception("feed %r (%s): unexpected error", feed.name, feed.url)
                outcome = FeedOutcome(feed_id=feed.id or 0, name=feed.name, url=feed.url)
                error = StageError("internal", feed.url, f"{type(exc).__name__}: {exc}", transient=True)
                try:  # on the feed row too, so `feeds status` shows it and the feed backs off
                    return _feed_failed(ctx, feed, outcome, error, ctx.now())
                except Exception:  # the database itself may be what failed (full, restarting)
                    log.exception("feed %r: could not record the failure", feed.name)
                    outcome.status, outcome.reason, outcome.message = "failed", "internal", error.message
                    return outcome

    return list(await asyncio.gather(*(one(f) for f in feeds)))


def failures_by_reason(outcomes: Sequence[FeedOutcome]) -> Counter[str]:
    """Feed failures and article failures, counted by classified reason."""
    counts: Counter[str] = Counter()
    for outcome in outcomes:
        if outcome.status == "failed":
            counts[outcome.reason or "unknown"] += 1
        counts.update(reason for _url, reason in outcome.article_failures)
    return counts
