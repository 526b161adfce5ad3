"""Repository functions: every read and write the pipeline makes, each taking a Session.

Writes that two overlapping runs could both attempt (a new article, a delivery) are single
``INSERT ... ON CONFLICT DO NOTHING`` statements, so the database's unique constraints decide the
winner atomically; no read-then-write races. Callers own the transaction (``session.commit()``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Insert, exists, func, or_, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from storage.models import AlertRule, Article, Delivery, Feed, TradeEvent, utcnow


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
) -> bool:
    """Add one outbox row; False when that (article, rule, channel) was already queued or sent."""
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
        )
        .on_conflict_do_nothing(index_elements=["article_id", "rule_id", "channel"])
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


def search_articles(session: Session, query: str, *, limit: int = 50) -> list[tuple[Article, Feed | None]]:
    """Full-text search, best matches first: SQLite FTS5 or PostgreSQL tsvector (see the migration).

    The user's words are passed as data, never as query syntax: on SQLite each word becomes a quoted
    FTS5 string (so ``AND``/``"``/``*`` typed by a user cannot raise a syntax error), on PostgreSQL
    ``websearch_to_tsquery`` accepts anything.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        words = [w.replace('"', '""') for w in query.split()]
        if not words:
            return []
        fts = " ".join(f'"{w}"' for w in words)
        ids_sql = text("SELECT rowid FROM article_fts WHERE article_fts MATCH :q ORDER BY rank LIMIT :n")
    elif dialect == "postgresql":
        fts = query
        vector = "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(text, ''))"
        ids_sql = text(
            f"SELECT id FROM article WHERE {vector} @@ websearch_to_tsquery('english', :q) "
            f"ORDER BY ts_rank({vector}, websearch_to_tsquery('english', :q)) DESC LIMIT :n"
        )
    else:
        raise NotImplementedError(f"full-text search is not available on {dialect!r}")
    ids = [int(row[0]) for row in session.execute(ids_sql, {"q": fts, "n": limit})]
    if not ids:
        return []
    rows = session.exec(
        select(Article, Feed)
        .join(Feed, col(Article.feed_id) == col(Feed.id), isouter=True)
        .where(col(Article.id).in_(ids))
    ).all()
    order = {article_id: rank for rank, article_id in enumerate(ids)}
    return sorted(((a, f) for a, f in rows), key=lambda pair: order[pair[0].id or 0])


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
