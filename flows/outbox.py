"""The outbox loop: claim pending deliveries, render one message per article and channel, send, mark.

Orchestration beside the flows: the queries are ``storage.repo``'s, the messages ``alerts.render``'s, the
sending ``alerts.send``'s; this module decides their order and what a failure does to a row. It has no
Prefect in it: ``flows.ingest`` calls it from a task, ``tradewatch alerts send`` and the fault suite call it
directly.

Exactly-once rests on three steps, each committed before the next:
1. claim  — a conditional UPDATE moves a row from ``pending`` to ``sending``; only one sender wins it;
2. send   — apprise delivers the message;
3. mark   — the row becomes ``sent`` in its own short transaction right after the send returns.
A process killed between 2 and 3 leaves the row in ``sending``; after ``CLAIM_LEASE`` it returns to
``pending`` and is sent again. That window (milliseconds per message) is the one documented case of a
possible duplicate; everything else is at most once per row, and the row is unique per
(article, rule, channel), so no rerun or overlapping run can add a second alert.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from alerts.render import (
    AlertItem,
    Message,
    StoryNote,
    digest_parts,
    evidence_lines,
    render_digest,
    render_instant,
)
from alerts.rules import Match
from alerts.send import DeliveryError, digest_limit, send
from extractors.redact import RedactingFilter
from storage import repo
from storage.models import Delivery, utcnow

log = logging.getLogger("tradewatch.deliver")
log.addFilter(RedactingFilter())

#: A claim older than this is presumed dead (its process crashed) and its rows are retried.
CLAIM_LEASE = timedelta(minutes=10)
#: Failed sends are retried on later runs with this backoff, then given up as ``failed``.
RETRY_BASE = timedelta(minutes=2)
RETRY_CAP = timedelta(hours=6)
MAX_ATTEMPTS = 8
#: Instant alerts are claimed this many at a time; a digest claims up to DIGEST_CLAIM rows at once.
INSTANT_CLAIM = 20
DIGEST_CLAIM = 1000
#: A run stops sending after this long and leaves the rest pending for the next run, so a server that
#: takes its full timeout per message cannot keep one run going for hours.
DELIVERY_BUDGET_SECONDS = 300.0
#: When the digest deployments run (UTC): `tradewatch serve` registers these crons, `alerts status` tells
#: each waiting digest alert when it will go from them. deployments/prefect.yaml repeats the two strings
#: (YAML cannot import); a test holds it to these.
HOURLY_DIGEST_MINUTE = 0
DAILY_DIGEST_HOUR = 7
HOURLY_DIGEST_CRON = f"{HOURLY_DIGEST_MINUTE} * * * *"
DAILY_DIGEST_CRON = f"0 {DAILY_DIGEST_HOUR} * * *"


@dataclass
class DeliveryReport:
    """Counts for the run summary; errors carry the channel name and reason, never the URL."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0
    deferred: int = 0
    messages: int = 0
    errors: list[str] = field(default_factory=list)


Sender = Callable[[str, Message, str], None]


def _default_sender(url: str, message: Message, channel: str) -> None:
    send(url, message, channel=channel)


def deliver_pending(
    engine: Engine,
    resolve_url: Callable[[str], str],
    *,
    modes: Sequence[str] = ("instant",),
    period_label: str = "",
    now: datetime | None = None,
    sender: Sender = _default_sender,
    max_attempts: int = MAX_ATTEMPTS,
    budget_seconds: float = DELIVERY_BUDGET_SECONDS,
) -> DeliveryReport:
    """Send what is due for ``modes``: instant rows one message per (article, channel); digests batched.

    ``resolve_url`` turns a channel name into its apprise URL (it may raise when, say, an ``env:``
    variable is missing; the rows are then retried later, not lost).
    """
    now = now or utcnow()
    report = DeliveryReport()
    started = time.monotonic()
    digest = any(mode != "instant" for mode in modes)
    # expire_on_commit=False: rows stay readable after each commit, so no transaction (and on SQLite no
    # write lock) is held while a message is on the wire.
    with Session(engine, expire_on_commit=False) as session:
        repo.release_stale_claims(session, now=now, lease=CLAIM_LEASE)
        session.commit()
        while True:
            # A digest is one message of everything pending; instant alerts go in small claims, so a
            # crash strands few rows for the lease and a slow server cannot hold a run for hours.
            claimed = repo.claim_deliveries(
                session, now=now, modes=modes, limit=DIGEST_CLAIM if digest else INSTANT_CLAIM
            )
            if not claimed:
                return report
            context = repo.delivery_context(session, claimed)
            session.commit()
            batches: dict[tuple[str, int | None, bool], list[Delivery]] = defaultdict(list)
            for delivery in claimed:
                key = None if delivery.mode != "instant" else delivery.article_id
                # A story's follow-up is its own message, never folded into an alert for the same copy.
                batches[(delivery.channel, key, delivery.kind == "update")].append(delivery)
            handled: set[int | None] = set()
            messages = (
                (channel, message)
                for (channel, _article, _follow_up), rows in batches.items()
                for message in _messages(channel, rows, context, period_label, resolve_url)
            )
            for channel, (part_rows, message) in messages:
                if time.monotonic() - started > budget_seconds:
                    unsent = [row.id for row in claimed if row.id not in handled]
                    repo.release_claims(session, [i for i in unsent if i is not None])
                    session.commit()
                    report.deferred += len(unsent)
                    log.warning(
                        "delivery budget of %.0f s spent; %d alert(s) wait for the next run",
                        budget_seconds,
                        len(unsent),
                    )
                    return report
                _send_batch(
                    session, channel, part_rows, message, resolve_url, sender, now, max_attempts, report
                )
                handled.update(row.id for row in part_rows)
            if digest:
                return report


def _story_note(article_id: int, rows: Sequence[Delivery], ctx: repo.DeliveryContext) -> StoryNote | None:
    """The story's other copies as known now, at send time: an alert sent after three outlets carried the
    story lists the other two, whichever copy was stored first."""
    story = ctx.stories.get(ctx.story_of.get(article_id, -1))
    if story is None:
        return None
    copies = tuple(
        (m.feed or m.outlet, m.title, m.url, m.reason or "")
        for m in story.members
        if m.article_id != article_id
    )
    follow_up = any(row.kind == "update" for row in rows)
    if not copies and not follow_up:
        return None
    return StoryNote(copies=copies, outlets=len(story.outlets), follow_up=follow_up)


def _messages(
    channel: str,
    rows: Sequence[Delivery],
    ctx: repo.DeliveryContext,
    period_label: str,
    resolve_url: Callable[[str], str],
) -> list[tuple[list[Delivery], Message]]:
    """The messages for one batch, each with the rows it carries: one for an instant alert; for a digest,
    as many as the channel's size limit needs (a Slack section holds 3,000 characters, an e-mail digest
    ``EMAIL_DIGEST_CHARS`` of HTML), each marked sent
    on its own, so a part that fails is retried without sending the others again."""
    by_article: dict[int, list[Delivery]] = defaultdict(list)
    for row in rows:
        by_article[row.article_id].append(row)
    items = _items(by_article, ctx)
    if rows[0].mode == "instant":
        return [(list(rows), render_instant(items[0][1]))]
    period_label = period_label or f"{rows[0].mode} digest"
    try:
        limit = digest_limit(resolve_url(channel))
    except Exception:  # an unresolvable channel fails in the send, and its rows stay pending
        limit = None
    articles = [item for _, item in items]
    parts = digest_parts(articles, limit[1], fmt=limit[0]) if limit else [articles]
    article_of = {id(item): article_id for article_id, item in items}
    out = []
    for n, part in enumerate(parts, 1):
        label = period_label if len(parts) == 1 else f"{period_label} (part {n} of {len(parts)})"
        part_rows = [row for item in part for row in by_article[article_of[id(item)]]]
        out.append((part_rows, render_digest(label, part)))
    return out


def _items(by_article: dict[int, list[Delivery]], ctx: repo.DeliveryContext) -> list[tuple[int, AlertItem]]:
    """One item per article listing every rule that matched it, with the article's id."""
    items = []
    for article_id, article_rows in by_article.items():
        article = ctx.articles[article_id]
        feed = ctx.feeds.get(article.feed_id) if article.feed_id is not None else None
        rules = tuple(
            (ctx.rules[row.rule_id].name if row.rule_id in ctx.rules else f"rule {row.rule_id}", _match(row))
            for row in sorted(article_rows, key=lambda r: r.rule_id)
        )
        items.append(
            (
                article_id,
                AlertItem(
                    title=article.title,
                    url=article.url,
                    source=feed.name if feed else "",
                    published=article.published_at,
                    trade_score=article.trade_score,
                    rules=rules,
                    events=tuple(ctx.events.get(article_id, ())),
                    story=_story_note(article_id, article_rows, ctx),
                    evidence=evidence_lines(article.trade_evidence),
                ),
            )
        )
    return items


def _match(row: Delivery) -> Match | None:
    if row.match_sentence is None or row.match_field is None:
        return None
    return Match(
        field=row.match_field,  # type: ignore[arg-type]
        sentence=row.match_sentence,
        hit_start=row.match_start or 0,
        hit_end=row.match_end or 0,
        terms=(),
    )


def _send_batch(
    session: Session,
    channel: str,
    rows: Sequence[Delivery],
    message: Message,
    resolve_url: Callable[[str], str],
    sender: Sender,
    now: datetime,
    max_attempts: int,
    report: DeliveryReport,
) -> None:
    ids = [row.id for row in rows if row.id is not None]
    try:
        sender(resolve_url(channel), message, channel)
    except Exception as exc:
        transient = exc.transient if isinstance(exc, DeliveryError) else True
        reason = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
        attempts = max(row.attempts for row in rows) + 1
        give_up = not transient or attempts >= max_attempts
        retry_at = None if give_up else now + min(RETRY_BASE * 2 ** (attempts - 1), RETRY_CAP)
        repo.mark_attempt_failed(session, ids, now=now, error=reason[:2000], retry_at=retry_at)
        session.commit()
        report.errors.append(f"{channel}: {reason}")
        if give_up:
            report.failed += len(ids)
        else:
            report.retrying += len(ids)
        log.warning(
            "delivery to channel %r failed (%s); %s",
            channel,
            reason,
            "giving up" if give_up else "will retry",
        )
        return
    repo.mark_sent(session, ids, now=now)
    session.commit()
    report.sent += len(ids)
    report.messages += 1
