"""Repository functions: every read and write the pipeline makes, each taking a Session.

Writes that two overlapping runs could both attempt (a new article, a delivery) are single
``INSERT ... ON CONFLICT DO NOTHING`` statements, so the database's unique constraints decide the
winner atomically; no read-then-write races. Callers own the transaction (``session.commit()``).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import (
    Insert,
    bindparam,
    delete,
    exists,
    func,
    or_,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from classifiers import stories
from storage.models import (
    AlertRule,
    Article,
    Delivery,
    Feed,
    Story,
    StoryBand,
    StoryMember,
    TradeEvent,
    utcnow,
)


@dataclass(frozen=True)
class FeedSpec:
    """A feed as configured: the URL identifies it, name and tags are labels."""

    name: str
    url: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleSpec:
    """An alert rule as configured; synced to ``alert_rule`` by name."""

    name: str
    query: str
    channels: tuple[str, ...]
    trade_only: bool = False
    mode: str = "instant"
    grouping: str = "story"
    follow_up_outlets: int = 0


@dataclass(frozen=True, kw_only=True)
class NewArticle:
    """Everything known about an article at the moment it is first stored."""

    canonical_url: str
    url: str
    entry_key: str
    feed_id: int | None
    title: str
    author: str | None = None
    published_at: datetime | None = None
    text: str = ""
    content_hash: str | None = None
    language: str | None = None
    extraction_status: str = "ok"
    extraction_error: str | None = None
    is_trade: bool | None = None
    trade_score: float | None = None
    trade_evidence: list[dict[str, Any]] = field(default_factory=list)
    classifier_version: str | None = None


@dataclass(frozen=True, kw_only=True)
class NewEvent:
    """A trade event to store with its article (see classifiers.events.TradeEvent for the fields)."""

    measure: str
    implementer: tuple[str, ...] = ()
    affected: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    hs_chapters: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    rate_from: str | None = None
    rate_to: str | None = None
    announced: date | None = None
    effective: date | None = None
    summary: str = ""
    evidence: dict[str, str] = field(default_factory=dict)
    extractor_version: str = ""


def _insert(session: Session, model: type[Any]) -> Any:
    """A dialect-specific INSERT that supports ON CONFLICT (SQLite and PostgreSQL share the syntax)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"database dialect {dialect!r} is not supported; use SQLite or PostgreSQL")


# --- feeds -----------------------------------------------------------------------------------------


def sync_feeds(session: Session, specs: Iterable[FeedSpec]) -> list[Feed]:
    """Make the feed table match configuration: insert new URLs, refresh labels, deactivate the rest.

    Deactivated feeds keep their history (and their articles); re-adding the URL revives them.
    """
    wanted = {spec.url: spec for spec in specs}
    existing = {feed.url: feed for feed in session.exec(select(Feed))}
    for url, spec in wanted.items():
        if url not in existing:
            stmt: Insert = _insert(session, Feed).values(
                url=url, name=spec.name, tags=list(spec.tags), active=True, created_at=utcnow()
            )
            session.execute(stmt.on_conflict_do_nothing(index_elements=["url"]))  # type: ignore[attr-defined]
    for url, feed in existing.items():
        if url in wanted:
            feed.active, feed.name, feed.tags = True, wanted[url].name, list(wanted[url].tags)
        else:
            feed.active = False
        session.add(feed)
    session.flush()
    return list(session.exec(select(Feed).where(col(Feed.active)).order_by(col(Feed.id))))


def due_feeds(
    session: Session, now: datetime, *, names: Sequence[str] = (), force: bool = False
) -> list[Feed]:
    """Active feeds whose next poll time has come (all of them with ``force``), optionally by name/tag."""
    query = select(Feed).where(col(Feed.active))
    if not force:
        query = query.where(or_(col(Feed.next_poll_at).is_(None), col(Feed.next_poll_at) <= now))
    feeds = list(session.exec(query.order_by(col(Feed.id))))
    if names:
        wanted = set(names)
        feeds = [f for f in feeds if f.name in wanted or f.url in wanted or wanted.intersection(f.tags)]
    return feeds


def record_feed_success(
    session: Session,
    feed_id: int,
    *,
    now: datetime,
    next_poll_at: datetime,
    etag: str | None,
    last_modified: str | None,
    title: str | None = None,
    items: int = 0,
    warning: str | None = None,
) -> None:
    """A poll worked (200 or 304): reset the failure streak and remember the validators."""
    feed = session.get(Feed, feed_id)
    if feed is None:
        return
    feed.etag, feed.last_modified = etag, last_modified
    feed.last_polled_at = feed.last_success_at = now
    feed.next_poll_at = next_poll_at
    feed.consecutive_failures = 0
    feed.last_warning = warning
    feed.items_seen += items
    if title:
        feed.title = title
    session.add(feed)


def record_feed_failure(
    session: Session, feed_id: int, *, now: datetime, next_poll_at: datetime, reason: str, message: str
) -> int:
    """A poll failed: keep the reason for `feeds status`, push the next poll back. Returns the streak."""
    feed = session.get(Feed, feed_id)
    if feed is None:
        return 0
    feed.last_polled_at = now
    feed.next_poll_at = next_poll_at
    feed.consecutive_failures += 1
    feed.last_error_reason = reason
    feed.last_error = message
    session.add(feed)
    return feed.consecutive_failures


# --- articles --------------------------------------------------------------------------------------


def known_articles(session: Session, *, entry_keys: Iterable[str], canonical_urls: Iterable[str]) -> set[str]:
    """The subset of the given entry keys and canonical URLs already stored (one query each)."""
    keys, urls = list(set(entry_keys)), list(set(canonical_urls))
    found: set[str] = set()
    for chunk in _chunks(keys):
        found.update(session.exec(select(Article.entry_key).where(col(Article.entry_key).in_(chunk))))
    for chunk in _chunks(urls):
        found.update(session.exec(select(Article.canonical_url).where(col(Article.canonical_url).in_(chunk))))
    return found


def insert_article(session: Session, new: NewArticle, *, now: datetime | None = None) -> int | None:
    """Store an article if its canonical URL is new; return its id, or None when it already existed.

    Only a ``None``-returning caller can be a second writer, so only the first writer enqueues alerts:
    that is what keeps an article from alerting twice when two runs or two feeds race to it. When the
    stored copy's text differs materially (a new content hash), the text is refreshed in place and the
    article still counts as already known.
    """
    return insert_articles(session, [new], now=now).get(new.canonical_url)


def insert_articles(
    session: Session, articles: Sequence[NewArticle], *, now: datetime | None = None
) -> dict[str, int]:
    """``insert_article`` for a batch: the ids of the articles this call inserted, by canonical URL.

    One multi-row ``INSERT ... ON CONFLICT DO NOTHING ... RETURNING`` (SQLAlchemy's "insertmanyvalues")
    on the table itself, not the ORM entity: building an ORM insert per article cost more CPU than
    extracting the page. Rows already stored come back absent, and get the in-place text refresh.
    """
    if not articles:
        return {}
    fetched_at = now or utcnow()
    table: Any = SQLModel.metadata.tables["article"]
    rows = [
        {**{k: getattr(new, k) for k in NewArticle.__dataclass_fields__}, "fetched_at": fetched_at}
        for new in articles
    ]
    stmt = (
        _insert(session, table)
        .on_conflict_do_nothing(index_elements=["canonical_url"])
        .returning(table.c.id, table.c.canonical_url)
    )
    inserted = {str(url): int(id_) for id_, url in session.execute(stmt, rows)}
    for new in articles:
        if new.canonical_url not in inserted and new.content_hash and new.extraction_status == "ok":
            _refresh_text(session, new, fetched_at)
    return inserted


def _refresh_text(session: Session, new: NewArticle, fetched_at: datetime) -> None:
    """A known article whose page now says something else: keep the row (and its alerts), new text."""
    session.execute(
        update(Article)
        .where(col(Article.canonical_url) == new.canonical_url)
        .where(or_(col(Article.content_hash).is_(None), col(Article.content_hash) != new.content_hash))
        .values(
            text=new.text,
            content_hash=new.content_hash,
            title=new.title,
            is_trade=new.is_trade,
            trade_score=new.trade_score,
            trade_evidence=new.trade_evidence,
            classifier_version=new.classifier_version,
            extraction_status="ok",
            extraction_error=None,
            fetched_at=fetched_at,
        )
    )


def _codes(codes: Iterable[str]) -> str:
    """Codes as stored: space-separated and space-padded, so LIKE '% CN %' finds whole codes only."""
    joined = " ".join(c.upper() for c in codes)
    return f" {joined} " if joined else ""


def insert_events(session: Session, article_id: int, events: Sequence[NewEvent]) -> int:
    """Store an article's trade events (in the caller's transaction, with the article); returns the count."""
    if not events:
        return 0
    table: Any = SQLModel.metadata.tables["trade_event"]
    rows = [
        {
            "article_id": article_id,
            "position": position,
            "measure": ev.measure,
            "implementer": _codes(ev.implementer),
            "affected": _codes(ev.affected),
            "products": list(ev.products),
            "hs_chapters": list(ev.hs_chapters),
            "subjects": list(ev.subjects),
            "rate_from": ev.rate_from,
            "rate_to": ev.rate_to,
            "announced": ev.announced,
            "effective": ev.effective,
            "summary": ev.summary,
            "evidence": dict(ev.evidence),
            "extractor_version": ev.extractor_version,
        }
        for position, ev in enumerate(events)
    ]
    session.execute(table.insert(), rows)
    return len(rows)


def events_for_articles(session: Session, article_ids: Iterable[int]) -> dict[int, list[TradeEvent]]:
    """Each article's trade events in the order the article reports them (articles without any are absent)."""
    ids = sorted(set(article_ids))
    found: dict[int, list[TradeEvent]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = (
            select(TradeEvent)
            .where(col(TradeEvent.article_id).in_(chunk))
            .order_by(col(TradeEvent.article_id), col(TradeEvent.position))
        )
        for event in session.exec(query):
            found.setdefault(event.article_id, []).append(event)
    return found


def _event_filter(
    *, country: str | None, measure: str | None, implementer: str | None, affected: str | None
) -> Any:
    """An EXISTS clause: the article has one event satisfying every given condition."""
    conditions: list[Any] = [col(TradeEvent.article_id) == col(Article.id)]
    if measure:
        conditions.append(col(TradeEvent.measure) == measure)
    if implementer:
        conditions.append(col(TradeEvent.implementer).like(f"% {implementer.upper()} %"))
    if affected:
        conditions.append(col(TradeEvent.affected).like(f"% {affected.upper()} %"))
    if country:
        pattern = f"% {country.upper()} %"
        conditions.append(
            or_(col(TradeEvent.implementer).like(pattern), col(TradeEvent.affected).like(pattern))
        )
    return exists().where(*conditions)


def list_articles(
    session: Session,
    *,
    trade_only: bool = False,
    since: datetime | None = None,
    limit: int | None = None,
    country: str | None = None,
    measure: str | None = None,
    implementer: str | None = None,
    affected: str | None = None,
) -> list[tuple[Article, Feed | None]]:
    """Stored articles, newest first, with their feed (for the feed name).

    ``country`` (either side), ``implementer``, ``affected`` and ``measure`` keep the articles with one
    trade event meeting all of them ("--country CN --measure tariff_increase": a tariff increase by or
    against China, not a Chinese event of one kind and a tariff increase elsewhere in the article).
    """
    query = select(Article, Feed).join(Feed, col(Article.feed_id) == col(Feed.id), isouter=True)
    if trade_only:
        query = query.where(col(Article.is_trade).is_(True))
    if country or measure or implementer or affected:
        query = query.where(
            _event_filter(country=country, measure=measure, implementer=implementer, affected=affected)
        )
    if since is not None:
        query = query.where(col(Article.fetched_at) >= since)
    query = query.order_by(col(Article.published_at).desc(), col(Article.id).desc())
    if limit:
        query = query.limit(limit)
    return [(a, f) for a, f in session.exec(query)]


# --- rules and deliveries ---------------------------------------------------------------------------


def sync_rules(session: Session, specs: Iterable[RuleSpec]) -> dict[str, AlertRule]:
    """Make ``alert_rule`` match configuration by name; rules removed from configuration are deactivated."""
    wanted = {spec.name: spec for spec in specs}
    existing = {rule.name: rule for rule in session.exec(select(AlertRule))}
    for name, spec in wanted.items():
        rule = existing.get(name) or AlertRule(name=name, query=spec.query)
        rule.query, rule.channels = spec.query, list(spec.channels)
        rule.trade_only, rule.mode, rule.active = spec.trade_only, spec.mode, True
        rule.grouping, rule.follow_up_outlets = spec.grouping, spec.follow_up_outlets
        rule.updated_at = utcnow()
        session.add(rule)
        existing[name] = rule
    for name, rule in existing.items():
        if name not in wanted and rule.active:
            rule.active = False
            session.add(rule)
    session.flush()
    return {name: rule for name, rule in existing.items() if name in wanted}


def enqueue_delivery(
    session: Session,
    *,
    article_id: int,
    rule_id: int,
    channel: str,
    mode: str,
    match_field: str | None = None,
    match_sentence: str | None = None,
    match_start: int | None = None,
    match_end: int | None = None,
    now: datetime | None = None,
    story_id: int | None = None,
    kind: str = "article",
) -> bool:
    """Add one outbox row; False when that (article, rule, channel) was already queued or sent.

    With ``story_id`` (a rule grouping by story) the row is also unique per (story, rule, channel, kind):
    False then means another copy of the story already holds the story's alert.
    """
    now = now or utcnow()
    stmt = (
        _insert(session, Delivery)
        .values(
            article_id=article_id,
            rule_id=rule_id,
            channel=channel,
            mode=mode,
            status="pending",
            attempts=0,
            match_field=match_field,
            match_sentence=match_sentence,
            match_start=match_start,
            match_end=match_end,
            created_at=now,
            next_attempt_at=now,
            story_id=story_id,
            kind=kind,
        )
        # No conflict target: either unique constraint (article's or story's) turns the insert into a no-op.
        .on_conflict_do_nothing()
    )
    return session.execute(stmt.returning(Delivery.id)).first() is not None


def release_stale_claims(session: Session, *, now: datetime, lease: timedelta) -> int:
    """Return rows a crashed sender left in ``sending`` to ``pending`` once their lease has expired."""
    result = session.execute(
        update(Delivery)
        .where(col(Delivery.status) == "sending")
        .where(col(Delivery.claimed_at) < now - lease)
        .values(status="pending", claimed_at=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def claim_deliveries(
    session: Session, *, now: datetime, modes: Sequence[str] = ("instant",), limit: int = 500
) -> list[Delivery]:
    """Atomically move due pending rows to ``sending`` and return the ones this caller won.

    Each row is claimed by a conditional UPDATE, so two senders running at once never both get it.
    ``limit`` counts articles, not rows: all due rows of an article are claimed together, because one
    article matching several rules must become one message per channel, not one per claim batch.
    """
    due = (
        select(Delivery.id, Delivery.article_id)
        .where(col(Delivery.status) == "pending")
        .where(col(Delivery.mode).in_(list(modes)))
        .where(or_(col(Delivery.next_attempt_at).is_(None), col(Delivery.next_attempt_at) <= now))
    )
    pending = due.subquery()
    articles = session.exec(
        select(pending.c.article_id)
        .group_by(pending.c.article_id)
        .order_by(func.min(pending.c.id))
        .limit(limit)
    ).all()
    if not articles:
        return []
    candidates = [
        row_id
        for row_id, _article in session.exec(
            due.where(col(Delivery.article_id).in_(list(articles))).order_by(col(Delivery.id))
        )
    ]
    claimed: list[int] = []
    for delivery_id in candidates:
        result = session.execute(
            update(Delivery)
            .where(col(Delivery.id) == delivery_id)
            .where(col(Delivery.status) == "pending")
            .values(status="sending", claimed_at=now)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(int(delivery_id))  # type: ignore[arg-type]
    session.commit()
    if not claimed:
        return []
    return list(
        session.exec(select(Delivery).where(col(Delivery.id).in_(claimed)).order_by(col(Delivery.id)))
    )


def mark_sent(session: Session, delivery_ids: Iterable[int], *, now: datetime) -> None:
    """Record a successful send; committed by the caller immediately after the send returns."""
    ids = list(delivery_ids)
    if ids:
        session.execute(
            update(Delivery)
            .where(col(Delivery.id).in_(ids))
            .values(
                status="sent", sent_at=now, claimed_at=None, last_error=None, attempts=Delivery.attempts + 1
            )
        )


def mark_attempt_failed(
    session: Session,
    delivery_ids: Iterable[int],
    *,
    now: datetime,
    error: str,
    retry_at: datetime | None,
) -> None:
    """Record a failed send: back to pending with a later ``next_attempt_at``, or ``failed`` for good."""
    ids = list(delivery_ids)
    if not ids:
        return
    session.execute(
        update(Delivery)
        .where(col(Delivery.id).in_(ids))
        .values(
            status="pending" if retry_at is not None else "failed",
            next_attempt_at=retry_at,
            claimed_at=None,
            last_error=error,
            attempts=Delivery.attempts + 1,
        )
    )


def delivery_counts(session: Session) -> dict[str, int]:
    """Outbox rows by status, for summaries and `alerts status`."""
    rows = session.exec(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
    return {status: int(count) for status, count in rows}


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    """Keep IN lists below SQLite's bound-parameter limit."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- feed health -----------------------------------------------------------------------------------

#: A feed is "silent" when its newest article is older than this many times its usual gap between
#: articles: long enough not to flag a quiet weekend, short enough to notice a feed that died.
SILENCE_FACTOR = 3
#: How many recent articles estimate a feed's usual cadence.
CADENCE_SAMPLE = 20


@dataclass(frozen=True)
class FeedHealth:
    """One line of `tradewatch feeds status`."""

    feed: Feed
    articles: int
    latest_article_at: datetime | None
    cadence: timedelta | None
    silent: bool


def feed_health(session: Session, now: datetime) -> list[FeedHealth]:
    """Per feed: stored articles, newest article, usual cadence, and whether it has gone silent."""
    counts = dict(
        session.exec(select(Article.feed_id, func.count()).group_by(Article.feed_id)).all()  # type: ignore[arg-type]
    )
    result = []
    for feed in session.exec(select(Feed).order_by(col(Feed.id))):
        stamps = [
            ts
            for ts in session.exec(
                select(func.coalesce(Article.published_at, Article.fetched_at))
                .where(col(Article.feed_id) == feed.id)
                .order_by(func.coalesce(Article.published_at, Article.fetched_at).desc())
                .limit(CADENCE_SAMPLE)
            )
            if ts is not None
        ]
        stamps = [ts if ts.tzinfo else ts.replace(tzinfo=now.tzinfo) for ts in stamps]
        latest = stamps[0] if stamps else None
        gaps = sorted(a - b for a, b in itertools.pairwise(stamps) if a > b)
        cadence = gaps[len(gaps) // 2] if gaps else None
        silent = bool(feed.active and latest and cadence and now - latest > cadence * SILENCE_FACTOR)
        result.append(FeedHealth(feed, int(counts.get(feed.id, 0)), latest, cadence, silent))
    return result


@dataclass(frozen=True)
class DeliveryView:
    """One outbox row with what a person needs to read it (for `tradewatch alerts status`)."""

    delivery: Delivery
    rule: str
    article_title: str
    article_url: str


def list_deliveries(
    session: Session, *, statuses: Sequence[str] = (), limit: int = 200
) -> list[DeliveryView]:
    """Outbox rows, newest first, optionally only some statuses."""
    query = (
        select(Delivery, AlertRule.name, Article.title, Article.url)
        .join(AlertRule, col(AlertRule.id) == col(Delivery.rule_id))
        .join(Article, col(Article.id) == col(Delivery.article_id))
    )
    if statuses:
        query = query.where(col(Delivery.status).in_(list(statuses)))
    query = query.order_by(col(Delivery.id).desc()).limit(limit)
    return [DeliveryView(d, rule, title, url) for d, rule, title, url in session.exec(query)]


#: Articles read per query while searching: bounded memory on a large store, few round trips on a small one.
SEARCH_BATCH = 500


def search_articles(
    session: Session, matches: Callable[[str, str, str], bool], *, limit: int = 50
) -> list[tuple[Article, Feed | None]]:
    """Stored articles for which ``matches(title, text, feed name)`` holds, most recently stored first.

    The caller passes a compiled rule (``alerts.rules``), so `articles search` speaks the documented rule
    language and finds exactly what a rule would: SQLite's FTS5 and PostgreSQL's text search tokenise
    and stem differently (``tariff`` did not find ``tariffs`` on one, ``-china`` required china on the
    other), and neither knows ``NEAR`` or field scopes. Articles are read newest first in batches and the
    scan stops at ``limit`` hits, so a search for something recent touches little of a large store.
    """
    found: list[tuple[Article, Feed | None]] = []
    last_id: int | None = None
    while len(found) < limit:
        query = select(Article, Feed).join(Feed, col(Article.feed_id) == col(Feed.id), isouter=True)
        if last_id is not None:
            query = query.where(col(Article.id) < last_id)
        batch = list(session.exec(query.order_by(col(Article.id).desc()).limit(SEARCH_BATCH)))
        for article, feed in batch:
            if matches(article.title or "", article.text or "", feed.name if feed else ""):
                found.append((article, feed))
                if len(found) == limit:
                    break
        if len(batch) < SEARCH_BATCH:
            break
        last_id = batch[-1][0].id
    return found


@dataclass(frozen=True)
class RunTotals:
    """What happened in the store since a moment: how a sharded run sums up work done on other hosts."""

    new_articles: int
    trade: int
    failures_by_reason: dict[str, int]


def run_totals(session: Session, since: datetime) -> RunTotals:
    """Articles stored and feeds/pages failed since ``since`` (used by the sharded ingest's parent run)."""
    new = session.exec(
        select(func.count()).select_from(Article).where(col(Article.fetched_at) >= since)
    ).one()
    trade = session.exec(
        select(func.count())
        .select_from(Article)
        .where(col(Article.fetched_at) >= since)
        .where(col(Article.is_trade).is_(True))
    ).one()
    reasons: dict[str, int] = {}
    failed_feeds = session.exec(
        select(Feed.last_error_reason)
        .where(col(Feed.last_polled_at) >= since)
        .where(col(Feed.consecutive_failures) > 0)
    )
    for reason in failed_feeds:
        reasons[reason or "unknown"] = reasons.get(reason or "unknown", 0) + 1
    failed_pages = session.exec(
        select(Article.extraction_error)
        .where(col(Article.fetched_at) >= since)
        .where(col(Article.extraction_status) == "failed")
    )
    for error in failed_pages:
        reason = (error or "").partition("]")[0].rpartition(":")[2] or "unknown"
        reasons[reason] = reasons.get(reason, 0) + 1
    return RunTotals(new_articles=int(new), trade=int(trade), failures_by_reason=reasons)


def release_claims(session: Session, delivery_ids: Iterable[int]) -> None:
    """Hand claimed rows back to ``pending`` untouched (no attempt counted): a sender out of time."""
    ids = list(delivery_ids)
    if ids:
        session.execute(
            update(Delivery)
            .where(col(Delivery.id).in_(ids))
            .where(col(Delivery.status) == "sending")
            .values(status="pending", claimed_at=None)
        )


@dataclass(frozen=True)
class DeliveryContext:
    """What claimed outbox rows need to be rendered: their articles, feeds and rules, each article's
    trade-event lines, and the stories they belong to as known now (the copies found since enqueueing)."""

    articles: dict[int, Article]
    feeds: dict[int, Feed]
    rules: dict[int, AlertRule]
    events: dict[int, list[str]]  # article id -> its trade-event lines
    story_of: dict[int, int]  # article id -> story id
    stories: dict[int, StoryView]


def delivery_context(session: Session, rows: Sequence[Delivery]) -> DeliveryContext:
    """Load everything ``rows`` (claimed deliveries) are rendered from, in a few queries for the batch."""
    article_ids = {d.article_id for d in rows}
    rule_ids = {d.rule_id for d in rows}
    articles = {
        a.id: a for a in session.exec(select(Article).where(col(Article.id).in_(article_ids))) if a.id
    }
    feed_ids = {a.feed_id for a in articles.values() if a.feed_id is not None}
    feeds = {f.id: f for f in session.exec(select(Feed).where(col(Feed.id).in_(feed_ids))) if f.id}
    rules = {r.id: r for r in session.exec(select(AlertRule).where(col(AlertRule.id).in_(rule_ids))) if r.id}
    story_of = stories_of(session, article_ids)
    story_of.update((d.article_id, d.story_id) for d in rows if d.story_id is not None)
    events = {
        article_id: [e.summary for e in found]
        for article_id, found in events_for_articles(session, article_ids).items()
    }
    return DeliveryContext(articles, feeds, rules, events, story_of, story_views(session, story_of.values()))


# --- stories ---------------------------------------------------------------------------------------

#: Transaction-scoped PostgreSQL advisory lock serialising story assignment across runs and shard
#: workers (SQLite's BEGIN IMMEDIATE already serialises its writers). One lock, not one per band key: a
#: feed's batch has up to ~5,000 band keys, and that many advisory locks per transaction would exhaust
#: PostgreSQL's shared lock table (max_locks_per_transaction x connections) with a few workers. The lock
#: is taken after the articles are inserted and held to commit: milliseconds per feed.
_PG_STORY_LOCK = 0x7374_6F72
#: At most this many stored articles are compared with a new one: those sharing the most band keys with
#: it. A copy shares most of its bands; a busy topic can share a title band with hundreds of articles,
#: and comparing them all would make an article's cost grow with the store.
STORY_CANDIDATES = 64


@dataclass(frozen=True)
class StoryAssignment:
    """Which story an article went to, and why: a new story, or the earlier article it repeats."""

    article_id: int
    story_id: int
    new_story: bool
    joined_via: int | None = None
    similarity: float | None = None
    reason: str | None = None


@dataclass(frozen=True)
class StoryItem:
    """An article just inserted, with what the story stage needs of it."""

    article_id: int
    fingerprint: stories.Fingerprint
    title: str
    published_at: datetime | None = None


def lock_stories(session: Session) -> None:
    """Serialise story decisions with every other writer until this transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_STORY_LOCK})


def assign_stories(
    session: Session, items: Sequence[StoryItem], *, now: datetime, window: timedelta
) -> dict[int, StoryAssignment]:
    """Put each new article in a story: the story of the stored article it most resembles, or a new one.

    Decided in the database, in the caller's transaction, under ``lock_stories``: two workers storing
    copies of one story at once are serialised, so the second sees the first's story and joins it.
    Articles of one batch see each other in order (a feed carrying two copies makes one story).
    Candidates are the articles seen within ``window`` that share an LSH band key with the new one,
    found through the ``story_band`` index; ``classifiers.stories`` decides.

    The cost is per batch (a feed's new articles), not per article: one query reads the band rows of
    every probe key of the batch, at most two read the candidates' fingerprints, and one executemany
    each writes the stories, members and band rows. Statements per article (five to ten of them) were
    a fifth of a run's CPU. The decisions are those an article-by-article search makes: candidates
    ranked by shared band keys (ties by article id), each article of the batch joining the index once
    decided, candidates read and compared eight at a time.
    """
    if not items:
        return {}
    lock_stories(session)
    batch = _BatchIndex(items)
    stored = _stored_shared(session, batch.probes, since=now - window, exclude=batch.ids)
    ranked = [batch.ranked(n, stored[n]) for n in range(len(items))]
    known: dict[int, _Candidate | None] = {}
    # First the leading chunk of every article's candidates; the rest only for the articles whose
    # leading chunk held no near-identical copy (most copies stop there).
    _load_candidates(session, {i for ids in ranked for i in ids[:CANDIDATE_CHUNK]} - batch.ids, known)
    searches = [_search(item, ids, known, batch) for item, ids in zip(items, ranked, strict=True)]
    rest = {i for ids, found in zip(ranked, searches, strict=True) if found is None for i in ids}
    _load_candidates(session, rest - batch.ids - known.keys(), known)
    # A story is its id, or -(n + 1) for the n-th story this batch starts (ids come from the insert).
    story_of: dict[int, int] = {}
    decided: list[tuple[StoryItem, int, tuple[Any, stories.Decision] | None]] = []
    new_stories: list[dict[str, Any]] = []
    for item, ids, found in zip(items, ranked, searches, strict=True):
        searched = found if found is not None else _search(item, ids, known, batch)
        assert searched is not None, "every candidate was read"
        best = searched[0]
        if best is None:
            story = -(len(new_stories) + 1)
            new_stories.append({"first_article_id": item.article_id, "title": item.title, "created_at": now})
        else:
            via = best[0]
            candidate = known.get(via)
            story = candidate.story_id if candidate is not None else story_of[via]
        story_of[item.article_id] = story
        decided.append((item, story, best))
    new_ids = _insert_stories(session, new_stories)
    result: dict[int, StoryAssignment] = {}
    members: list[dict[str, Any]] = []
    for item, story, best in decided:
        story_id = new_ids[-story - 1] if story < 0 else story
        if best is None:
            assignment = StoryAssignment(item.article_id, story_id, True)
        else:
            via, decision = best
            assignment = StoryAssignment(
                item.article_id,
                story_id,
                False,
                joined_via=via,
                similarity=round(decision.similarity, 4),
                reason=decision.reason,
            )
        result[item.article_id] = assignment
        fp = item.fingerprint
        members.append(
            {
                "article_id": item.article_id,
                "story_id": story_id,
                "joined_via": assignment.joined_via,
                "similarity": assignment.similarity,
                "reason": assignment.reason,
                "decided_by": "auto",
                "version": fp.version,
                "basis": fp.basis,
                "signature": fp.signature,
                "shingles": fp.shingles,
                "lead": fp.lead,
                "title": fp.title,
                "terms": fp.as_json(),
                "published_at": item.published_at,
                "seen_at": now,
            }
        )
    # Statements built once, values passed as parameters: per-call ``.values(...)`` cost a millisecond
    # of SQLAlchemy work per article.
    session.execute(_MEMBERS.insert(), members)
    # In index order: band keys are hashes, so rows inserted as they come land on a random leaf of the
    # index each; sorted, consecutive rows of a batch share leaves and the pages they pass through.
    filed = sorted((k, item.article_id) for item, keys in zip(items, batch.bands, strict=True) for k in keys)
    if filed:
        session.execute(_BANDS.insert(), [{"band_key": k, "article_id": a, "seen_at": now} for k, a in filed])
    return result


_BANDS: Any = SQLModel.metadata.tables["story_band"]
_MEMBERS: Any = SQLModel.metadata.tables["story_member"]
_STORIES: Any = SQLModel.metadata.tables["story"]
#: One INSERT for the batch's new stories (SQLite 3.35+ and PostgreSQL both return rows). Each id comes
#: back with its story's first article, unique in the batch, because neither database promises the
#: order of RETURNING rows (asking SQLAlchemy to sort them made it one INSERT per row on SQLite).
_NEW_STORIES = _STORIES.insert().returning(_STORIES.c.id, _STORIES.c.first_article_id)
#: Compiled once: the ids travel as an expanding parameter (building a long IN clause
#: element by element cost more than running the query).
_CANDIDATE_ROWS = select(
    *(
        _MEMBERS.c[name]
        for name in (
            "article_id",
            "story_id",
            "version",
            "basis",
            "signature",
            "shingles",
            "lead",
            "title",
            "terms",
            "published_at",
        )
    )
).where(_MEMBERS.c.article_id.in_(bindparam("ids", expanding=True)))
#: Bound values per statement: SQLite allows 32,766 and PostgreSQL 65,535; a feed's batch of 100
#: articles has about 5,000 probe keys, so a batch is one statement unless it is huge.
_VALUES_PER_QUERY = 10_000


#: Candidates are read and compared this many at a time, most shared band keys first; a near-identical
#: copy (similarity >= GOOD_ENOUGH) among them ends the search. A story carried by dozens of outlets
#: would otherwise cost STORY_CANDIDATES comparisons for each new copy.
CANDIDATE_CHUNK = 8
GOOD_ENOUGH = 0.9


@dataclass(frozen=True)
class _Candidate:
    """What the search needs of a stored article: its fingerprint, when it was published, its story."""

    fingerprint: stories.Fingerprint
    published_at: datetime | None
    story_id: int


class _BatchIndex:
    """The articles of one batch as the band index holds them while they are decided in order."""

    def __init__(self, items: Sequence[StoryItem]) -> None:
        self.items = {item.article_id: item for item in items}
        self.ids = set(self.items)
        self.order = [item.article_id for item in items]
        self.probes = [sorted(set(item.fingerprint.probe_keys)) for item in items]
        self.bands = [set(item.fingerprint.band_keys) for item in items]
        self._filed: dict[int, list[int]] = {}  # band key -> articles of the batch ranked so far
        self._next = 0

    def ranked(self, n: int, stored: dict[int, int]) -> list[int]:
        """Article n's candidates among the stored articles (``stored``: id -> shared band keys) and
        articles 0..n-1 of the batch: most shared band keys first, ties by article id, at most
        STORY_CANDIDATES. Called for n = 0, 1, ... in turn."""
        assert n == self._next, "the batch is ranked in order"
        shared = dict(stored)
        for key in self.probes[n]:
            for article_id in self._filed.get(key, ()):
                shared[article_id] = shared.get(article_id, 0) + 1
        for key in self.bands[n]:
            self._filed.setdefault(key, []).append(self.order[n])
        self._next += 1
        return sorted(shared, key=lambda a: (-shared[a], a))[:STORY_CANDIDATES]


def _stored_shared(
    session: Session, probes: list[list[int]], *, since: datetime, exclude: set[int]
) -> list[dict[int, int]]:
    """For each article of the batch (its probe keys in ``probes``): stored article id -> how many of
    those keys it is filed under, among articles seen since ``since``.

    Counted by the database in one statement: the batch's (position, probe key) pairs joined to the
    index and grouped. Reading the band rows and counting them in Python cost ten times more on a feed
    of copies, where every key of a copy returns a row for each earlier copy. The pairs travel as one
    parameter (a JSON array on SQLite, two arrays on PostgreSQL) so the statement is compiled once: a
    VALUES list built per call cost SQLAlchemy 37 µs per pair to compile.
    """
    shared: list[dict[int, int]] = [{} for _ in probes]
    pairs = [(n, key) for n, keys in enumerate(probes) for key in keys]
    postgres = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(pairs), _PAIRS_PER_QUERY):
        chunk = pairs[start : start + _PAIRS_PER_QUERY]
        if postgres:
            params: dict[str, Any] = {"ns": [n for n, _ in chunk], "keys": [k for _, k in chunk]}
            counted = _SHARED_PG
        else:
            params, counted = {"pairs": json.dumps(chunk)}, _SHARED_SQLITE
        for n, article_id, count in session.execute(counted, {**params, "since": since}):
            if article_id not in exclude:
                shared[n][article_id] = shared[n].get(article_id, 0) + count
    return shared


_SINCE = bindparam("since", type_=_BANDS.c.seen_at.type)
_SHARED_SQLITE = text(
    "SELECT json_extract(p.value, '$[0]') AS n, b.article_id, count(*) AS shared"
    " FROM json_each(:pairs) AS p JOIN story_band AS b ON b.band_key = json_extract(p.value, '$[1]')"
    " WHERE b.seen_at >= :since GROUP BY 1, 2"
).bindparams(_SINCE)
_SHARED_PG = text(
    "SELECT p.n, b.article_id, count(*) AS shared"
    " FROM unnest(CAST(:ns AS integer[]), CAST(:keys AS bigint[])) AS p(n, band_key)"
    " JOIN story_band AS b ON b.band_key = p.band_key"
    " WHERE b.seen_at >= :since GROUP BY p.n, b.article_id"
).bindparams(_SINCE)
#: (position, key) pairs per statement: bounded parameter size; a feed of 100 articles has about 5,000.
_PAIRS_PER_QUERY = 20_000


def _load_candidates(session: Session, ids: set[int], known: dict[int, _Candidate | None]) -> None:
    """Read the fingerprints of stored articles into ``known`` (None for an id with no member row)."""
    wanted = sorted(ids)
    for start in range(0, len(wanted), _VALUES_PER_QUERY):
        chunk = wanted[start : start + _VALUES_PER_QUERY]
        known.update(dict.fromkeys(chunk))
        # Core rows, not ORM objects: building an ORM instance per candidate cost more than comparing it.
        for row in session.execute(_CANDIDATE_ROWS, {"ids": chunk}):
            terms = row.terms or {}
            fp = stories.Fingerprint(
                version=row.version,
                basis="body" if row.basis == "body" else "title",
                signature=bytes(row.signature or b""),
                shingles=row.shingles,
                lead=bytes(row.lead or b""),
                title=row.title,
                key_terms=tuple(terms.get("key_terms", ())),
                terms=tuple(terms.get("terms", ())),
                band_keys=(),
            )
            known[row.article_id] = _Candidate(fp, row.published_at, row.story_id)


def _search(
    item: StoryItem, ids: list[int], known: dict[int, _Candidate | None], batch: _BatchIndex
) -> tuple[tuple[Any, stories.Decision] | None] | None:
    """The candidate this article most resembles (as ``stories.best_match``) in a 1-tuple, or None when
    a chunk the search reaches has not been read yet.

    Candidates are compared CANDIDATE_CHUNK at a time in rank order, each chunk in article-id order
    (ties in similarity go to the earliest article); a near-identical copy ends the search.
    """
    best: tuple[Any, stories.Decision] | None = None
    for start in range(0, len(ids), CANDIDATE_CHUNK):
        chunk: list[tuple[Any, stories.Fingerprint, datetime | None]] = []
        for article_id in sorted(ids[start : start + CANDIDATE_CHUNK]):
            if article_id in batch.ids:
                other = batch.items[article_id]
                chunk.append((article_id, other.fingerprint, other.published_at))
            elif article_id not in known:
                return None
            elif (stored := known[article_id]) is not None:
                chunk.append((article_id, stored.fingerprint, stored.published_at))
        found = stories.best_match(item.fingerprint, chunk, new_published=item.published_at)
        if found is not None and (best is None or found[1].similarity > best[1].similarity):
            best = found
        if best is not None and best[1].similarity >= GOOD_ENOUGH:
            break
    return (best,)


def _insert_stories(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the batch's new stories; their ids, in the order of ``rows``."""
    if not rows:
        return []
    ids = {first: story_id for story_id, first in session.execute(_NEW_STORIES, rows)}
    return [int(ids[row["first_article_id"]]) for row in rows]


def prune_story_index(session: Session, *, before: datetime) -> int:
    """Drop band rows of articles seen before ``before`` (out of every window): the index stays small."""
    result = session.execute(delete(StoryBand).where(col(StoryBand.seen_at) < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def outlet_of(url: str) -> str:
    """The outlet an article came from: its host without "www." (two feeds of one site are one outlet),
    with the port when the URL names one (two sites on one address are two outlets)."""
    parts = urlsplit(url)
    host = (parts.hostname or url).removeprefix("www.")
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


@dataclass(frozen=True)
class StoryMemberView:
    """One article of a story as people see it: where it came from and why it was put there."""

    article_id: int
    title: str
    url: str
    feed: str | None
    outlet: str
    joined_via: int | None
    similarity: float | None
    reason: str | None
    decided_by: str
    seen_at: datetime | None


@dataclass(frozen=True)
class StoryView:
    """A story with its articles in the order they were found (the first one started it)."""

    story_id: int
    title: str
    members: tuple[StoryMemberView, ...]

    @property
    def outlets(self) -> list[str]:
        """Distinct outlets, in the order they reported the story."""
        return list(dict.fromkeys(m.outlet for m in self.members))


def story_views(session: Session, story_ids: Iterable[int]) -> dict[int, StoryView]:
    """Stories by id, each with every member article, its feed and the reason it joined."""
    wanted = sorted(set(story_ids))
    if not wanted:
        return {}
    titles = {s.id: s.title for s in session.exec(select(Story).where(col(Story.id).in_(wanted)))}
    rows = session.exec(
        select(StoryMember, Article.title, Article.url, Feed.name)
        .join(Article, col(Article.id) == col(StoryMember.article_id))
        .join(Feed, col(Feed.id) == col(Article.feed_id), isouter=True)
        .where(col(StoryMember.story_id).in_(wanted))
        .order_by(col(StoryMember.seen_at), col(StoryMember.article_id))
    ).all()
    members: dict[int, list[StoryMemberView]] = {story_id: [] for story_id in wanted}
    for member, title, url, feed in rows:
        members[member.story_id].append(
            StoryMemberView(
                article_id=member.article_id,
                title=title,
                url=url,
                feed=feed,
                outlet=outlet_of(url),
                joined_via=member.joined_via,
                similarity=member.similarity,
                reason=member.reason,
                decided_by=member.decided_by,
                seen_at=member.seen_at,
            )
        )
    return {
        story_id: StoryView(story_id, titles.get(story_id, ""), tuple(members[story_id]))
        for story_id in wanted
        if story_id in titles
    }


def stories_of(session: Session, article_ids: Iterable[int]) -> dict[int, int]:
    """article id → story id, for the given articles that belong to a story."""
    ids = sorted(set(article_ids))
    found: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update(
            (int(a), int(s))
            for a, s in session.exec(
                select(StoryMember.article_id, StoryMember.story_id).where(
                    col(StoryMember.article_id).in_(chunk)
                )
            )
        )
    return found


class NotInAStory(LookupError):
    """The article does not exist, or was stored before stories existed; the message says which."""


def split_article(session: Session, article_id: int, *, now: datetime) -> StoryAssignment:
    """Take an article out of its story into a story of its own, and remember that a person decided it.

    The member row is marked ``decided_by = "person"``; assignment never moves a stored article again,
    and stories are never merged automatically, so neither a rerun nor a later copy puts it back.
    If the article had started its story, the next article found becomes the story's first.
    """
    lock_stories(session)
    member = session.get(StoryMember, article_id)
    if member is None:
        if session.get(Article, article_id) is None:
            raise NotInAStory(f"article {article_id} does not exist; see `tradewatch articles list`")
        raise NotInAStory(f"article {article_id} is in no story (it was stored before stories existed)")
    article = session.get(Article, article_id)
    assert article is not None
    old_story_id = member.story_id
    new_story = Story(first_article_id=article_id, title=article.title, created_at=now)
    session.add(new_story)
    session.flush()
    assert new_story.id is not None
    member.story_id, member.joined_via, member.similarity = new_story.id, None, None
    member.reason, member.decided_by = f"split out of story {old_story_id} by a person", "person"
    session.add(member)
    old = session.get(Story, old_story_id)
    if old is not None and old.first_article_id == article_id:
        successor = session.exec(
            select(StoryMember)
            .where(col(StoryMember.story_id) == old_story_id)
            .where(col(StoryMember.article_id) != article_id)
            .order_by(col(StoryMember.seen_at), col(StoryMember.article_id))
        ).first()
        if successor is not None:
            first = session.get(Article, successor.article_id)
            old.first_article_id = successor.article_id
            old.title = first.title if first is not None else old.title
            session.add(old)
    session.flush()
    return StoryAssignment(article_id, new_story.id, True, reason=member.reason)


def enqueue_story_updates(session: Session, assignment: StoryAssignment, *, now: datetime) -> int:
    """Queue the "also reported by N outlets" follow-up a copy's arrival may call for; returns rows added.

    For each instant rule with ``follow_up_outlets = N`` whose alert for this story was already sent:
    when the story now has N or more outlets but had fewer when that alert went out (so the alert did
    not already list them), one follow-up row is queued. It is unique per (story, rule, channel), so a
    story sends at most one alert and one follow-up per rule and channel, however many outlets follow.
    """
    if assignment.new_story:
        return 0
    sent = session.exec(
        select(Delivery, AlertRule.follow_up_outlets)
        .join(AlertRule, col(AlertRule.id) == col(Delivery.rule_id))
        .where(col(Delivery.story_id) == assignment.story_id)
        .where(col(Delivery.kind) == "story")
        .where(col(Delivery.status) == "sent")
        .where(col(Delivery.mode) == "instant")
        .where(col(AlertRule.follow_up_outlets) > 0)
    ).all()
    if not sent:
        return 0
    members = session.exec(
        select(Article.url, StoryMember.seen_at)
        .join(Article, col(Article.id) == col(StoryMember.article_id))
        .where(col(StoryMember.story_id) == assignment.story_id)
    ).all()
    outlets_now = {outlet_of(url) for url, _seen in members}
    added = 0
    for delivery, threshold in sent:
        if len(outlets_now) < threshold or delivery.sent_at is None:
            continue
        outlets_then = {
            outlet_of(url) for url, seen in members if seen is not None and seen <= delivery.sent_at
        }
        if len(outlets_then) >= threshold:
            continue
        added += enqueue_delivery(
            session,
            article_id=assignment.article_id,
            rule_id=delivery.rule_id,
            channel=delivery.channel,
            mode="instant",
            now=now,
            story_id=assignment.story_id,
            kind="update",
        )
    return added
