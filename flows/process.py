"""The path of one article: poll → parse → dedup → fetch page → extract → classify → store → match → enqueue.

This module fixes the stage order and the failure policy; each stage itself lives in a leaf package and
knows nothing of the others. It has no Prefect in it, so it runs and tests without an orchestrator;
``flows.ingest`` wraps it in tasks. Invariants kept here:

- one feed's failure is recorded on that feed and never stops the other feeds, and one bad entry (a link
  that does not parse, an absurd date) never fails its feed: it is skipped and counted with its reason;
- the feed's validators (ETag, Last-Modified) are saved only when every new entry was handled: a page
  that fails *transiently* (timeout, 5xx) is not stored, and entries beyond ``max_articles_per_feed`` wait;
  either way the next poll must read the feed again, not get a 304 that hides them;
- every date and delay from outside (publication dates, ``<ttl>``, max-age, Retry-After) is clamped
  (``extractors.clamp``) before it is stored or added to a time;
- a page that fails *permanently* (404, not HTML, no content, paywall) is stored once with its reason and
  the feed's summary, so it is neither refetched forever nor lost;
- alerts are enqueued only by the writer that actually inserted the article, in the same transaction;
- no stranger's document holds the event loop: feeds bigger than ``INLINE_PARSE_BYTES`` are parsed in
  the worker pool (or a thread once it broke), and every extraction or off-loop parse has a CPU deadline
  (``RunContext.cpu_seconds``); a page over it is stored once as failed with reason ``too_complex``, a
  feed over it fails with that reason, and the worker carries on;
- an article's story is decided in that transaction too, and a rule grouping by story queues one alert
  per story: a copy another outlet published later joins the story and alerts no one again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor, Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from alerts.rules import Document, EventFacts, Match, Query, parse, prepare
from classifiers.events import TradeEvent, describe, extract_events
from classifiers.events import version as events_version
from classifiers.stories import Fingerprint, fingerprint
from classifiers.trade import Classifier, Verdict
from extractors.article import Article as ExtractedArticle
from extractors.clamp import clamp_datetime, clamp_delay
from extractors.errors import ExtractionError, FeedError, StageError
from extractors.feeds import FeedEntry, ParsedFeed
from extractors.http import Fetcher, Response
from extractors.redact import RedactingFilter, redact_log_records, redact_text
from flows.pool import JobTimeout, ProcessPool, run_in_thread
from flows.workers import EXTRACTION_CPU_SECONDS, FEED_CPU_FACTOR, analyse, parse_feed_job
from storage import repo
from storage.models import AlertRule, Feed, utcnow

log = logging.getLogger("tradewatch.process")
log.addFilter(RedactingFilter())  # feed and page URLs can carry tokens
redact_log_records()  # and so does any library's log line in a process that runs the pipeline

#: Regular poll interval when a feed gives no hint; the scheduled deployment runs every 15 minutes and the
#: one-minute slack keeps a feed polled at 12:00:03 due again at the 12:15:00 run.
POLL_INTERVAL = timedelta(minutes=15) - timedelta(minutes=1)
#: Failure backoff: 5 min, 10, 20 ... capped at a day, never giving up; jitter spreads a burst of failures.
BACKOFF_BASE = timedelta(minutes=5)
BACKOFF_CAP = timedelta(hours=24)
BACKOFF_JITTER = 0.1
#: Feeds up to this size are parsed on the event loop: ~50 entries, ~10-50 ms. Bigger ones go to the
#: worker pool, whose start-up (~1 s per worker) would cost more than parsing a small feed; a
#: 50,000-entry feed took ~35 s, during which no other feed's socket was read and pages timed out.
INLINE_PARSE_BYTES = 32 * 1024


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
    #: CPU seconds one page's extraction (or one feed's off-loop parse) may take; None: no limit. A
    #: ProcessPool enforces its own ``cpu_seconds``; this one applies when work runs in a thread.
    cpu_seconds: float | None = EXTRACTION_CPU_SECONDS
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
    """The feed's own hints (RSS <ttl>, Cache-Control max-age) are a floor on the regular interval, up to
    ``extractors.clamp.MAX_DELAY``: a feed asking for a year of peace is still polled weekly."""
    hint = clamp_delay(max(ttl_seconds or 0, max_age or 0)) or 0.0
    return now + max(POLL_INTERVAL, timedelta(seconds=hint))


def next_poll_after_failure(now: datetime, failures: int, *, retry_after: float | None = None) -> datetime:
    """Exponential backoff with jitter, capped; a server's Retry-After wins when it asks for longer (up to
    ``MAX_DELAY``). The exponent is capped too, so a streak of thousands of failures cannot overflow."""
    delay: timedelta = min(BACKOFF_BASE * (2 ** min(max(failures - 1, 0), 16)), BACKOFF_CAP)
    delay = delay * (1 + random.uniform(-BACKOFF_JITTER, BACKOFF_JITTER))
    wait = clamp_delay(retry_after)
    if wait:
        delay = max(delay, timedelta(seconds=wait))
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
        parsed = await _parse(ctx, response)
    except StageError as exc:
        return _feed_failed(ctx, feed, outcome, exc, now)

    outcome.entries = len(parsed.entries)
    outcome.warnings.extend(parsed.warnings)
    outcome.article_failures.extend(parsed.skipped)
    entries, waiting = _new_entries(ctx, parsed, ctx.max_articles_per_feed)
    pages, transient = await _extract_entries(ctx, entries, outcome)
    success = _success(
        feed,
        response,
        now,
        ttl=parsed.ttl_seconds,
        items=len(entries),
        keep=not transient and not waiting,
        title=_storable_line(parsed.title) or None if parsed.title else None,
        warning=redact_text("; ".join(parsed.warnings))[:2000] or None,
    )
    _store_feed(ctx, feed, [_prepare(ctx, feed, page) for page in pages], outcome, success)
    return outcome


async def _parse(ctx: RunContext, response: Response) -> ParsedFeed:
    """``parse_feed`` on the response: inline when small, else off the event loop under a CPU deadline of
    ``FEED_CPU_FACTOR`` times a page's."""
    args = (response.content, response.url, response.charset, response.content_type)
    if len(response.content) <= INLINE_PARSE_BYTES:
        return parse_feed_job(*args)
    pool = _usable_pool(ctx)
    page_limit = _limit(ctx, pool)
    limit = FEED_CPU_FACTOR * page_limit if page_limit else None
    try:
        try:
            if isinstance(pool, ProcessPool):
                return await pool.run(parse_feed_job, *args, cpu_seconds=limit)
        except BrokenExecutor:
            ctx.broken_pools.add(id(ctx.extract_pool))
        thread_pool = None if isinstance(pool, ProcessPool) else pool
        return await run_in_thread(thread_pool, limit, parse_feed_job, *args)
    except JobTimeout as exc:
        size = len(response.content)
        message = f"parsing {size} bytes took more than the {limit or 0:g} s of CPU a feed may use"
        raise FeedError("too_complex", response.url, message) from exc


def _limit(ctx: RunContext, pool: ProcessPool | Executor | None) -> float:
    """The CPU deadline a page's extraction runs under (0: none)."""
    return (pool.cpu_seconds if isinstance(pool, ProcessPool) else ctx.cpu_seconds) or 0.0


def _usable_pool(ctx: RunContext) -> ProcessPool | Executor | None:
    if ctx.extract_pool is None or id(ctx.extract_pool) in ctx.broken_pools:
        return None
    return ctx.extract_pool


def _new_entries(ctx: RunContext, parsed: ParsedFeed, limit: int) -> tuple[list[FeedEntry], bool]:
    """Up to ``limit`` entries whose key and canonical URL are both unseen, deduplicated within the feed
    too, and whether more new entries wait beyond the limit. Only the entries taken are claimed for this
    run: one left waiting here may still be fetched by another feed of the run that lists it."""
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
        if len(fresh) >= limit:
            return fresh, True
        known.update((entry.entry_key, entry.url))
        ctx.claimed.update((entry.entry_key, entry.url))
        fresh.append(entry)
    return fresh, False


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
    pool = _usable_pool(ctx)
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
            article, verdict, events, print_ = await run_in_thread(pool, ctx.cpu_seconds, analyse, *args)
    except JobTimeout:
        # Permanent: the same bytes would take as long again. Stored once with the feed's summary.
        limit = _limit(ctx, pool)
        error = ExtractionError(
            "too_complex", response.url, f"extraction took more than the {limit:g} s of CPU a page may use"
        )
        log.warning("page %s: too complex to extract (over %g s of CPU)", entry.link, limit)
        outcome.article_failures.append((entry.link, "too_complex"))
        return _Page(entry, None, error)
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
    # A page's own date is a stranger's too (article:published_time = 9999-12-31T23:59:59-12:00
    # overflowed on the way into the database and cost the feed its whole batch).
    published = clamp_datetime((article.published if article else None) or entry.published, ctx.now())
    if events is None:
        language = article.language if article else None
        events = extract_events(title, text, published, language=language) if verdict.is_trade else ()
    title, text = _storable_line(title) or entry.link, _storable(text)
    author = (article.author if article else None) or entry.author
    row = repo.NewArticle(
        canonical_url=entry.url,
        url=entry.link,
        entry_key=entry.entry_key,
        feed_id=feed.id,
        title=title,
        author=_storable_line(author) or None if author else None,
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


#: Characters no stored text keeps: NUL (PostgreSQL refuses it), lone surrogates (no driver can encode
#: them), and every other C0/C1 control but tab and line breaks: ESC in a title would let a stranger
#: repaint the terminal that `articles list` or `rules test` prints it on.
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
#: What a one-line field (title, author) loses as well: bidirectional controls, which can show a title
#: reversed ("Trojan Source"), and invisible characters (zero-width space, word joiner, BOM, Unicode tag
#: characters) that hide text from the reader but not from a machine. Joiners (U+200C, U+200D) stay:
#: Persian, Indic scripts and emoji need them.
_INVISIBLE = re.compile(r"[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff\U000e0000-\U000e007f]")
_SPACES = re.compile(r"\s+")


def _storable(value: str) -> str:
    """Text any database accepts and any terminal shows as text. One bad character in one article must
    not fail the INSERT that carries the feed's whole batch."""
    return _UNSTORABLE.sub("", value) if _UNSTORABLE.search(value) else value


def _storable_line(value: str) -> str:
    """A title or author as one line of visible text (line breaks collapsed, see ``_INVISIBLE``)."""
    return _SPACES.sub(" ", _INVISIBLE.sub("", _storable(value))).strip()


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
