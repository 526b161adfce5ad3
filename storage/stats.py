"""Read-only queries behind `tradewatch report`: what was found in a period, by day, source and rule.

An article belongs to the period by the time tradewatch *found* it (``fetched_at``), the same clock as
`articles list --since` and the alerts: the report says what the pipeline brought in this week. (Counting
by published time was tried first; it left the report of a first run empty whenever the feeds' stories
were older than the period, the demo's included.) The first poll of a feed therefore puts its
back-catalogue on one day. Headlines are ordered by published time, newest news first, with published
times in the future (a feed's clock or time zone is wrong) replaced by the fetch time. Grouping by day is
done in Python, in UTC, so SQLite and PostgreSQL agree without dialect-specific date functions.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import AlertRule, Article, Delivery, Feed, Story, TradeEvent
from storage.repo import FeedHealth, feed_health, story_views


@dataclass(frozen=True)
class TradeArticle:
    """A trade article found in the period: its feed, when it was found and when it was published."""

    title: str
    url: str
    feed: str
    found_at: datetime
    published_at: datetime
    trade_score: float | None
    story_id: int | None = None  # the story it belongs to (None: stored before stories existed)
    outlets: int = 1  # distinct outlets carrying that story
    article_id: int | None = None


@dataclass(frozen=True)
class RuleCount:
    """How many articles a rule matched in the period, and what became of their alerts."""

    rule: str
    query: str
    active: bool
    articles: int
    sent: int
    pending: int
    failed: int


#: A published time later than the fetch by more than this is a feed's clock error, not news from the future.
_FUTURE_SLACK = timedelta(hours=1)


def _published(article: Article) -> datetime | None:
    published, fetched = article.published_at, article.fetched_at
    if published is not None and (fetched is None or published <= fetched + _FUTURE_SLACK):
        return published
    return fetched


def trade_articles(session: Session, since: datetime, until: datetime) -> list[TradeArticle]:
    """Trade articles found in [since, until), newest news first."""
    query = (
        select(Article, Feed.name)
        .join(Feed, col(Article.feed_id) == col(Feed.id), isouter=True)
        .where(col(Article.is_trade).is_(True))
        .where(col(Article.fetched_at) >= since)
        .where(col(Article.fetched_at) < until)
    )
    rows = []
    for article, feed_name in session.exec(query):
        found = article.fetched_at
        if found is None:  # excluded by the query; keeps the type checker honest
            continue
        rows.append(
            TradeArticle(
                title=article.title,
                url=article.url,
                feed=feed_name or "(no feed)",
                found_at=found,
                published_at=_published(article) or found,
                trade_score=article.trade_score,
                article_id=article.id,
            )
        )
    rows.sort(key=lambda a: (a.published_at, a.found_at), reverse=True)
    return _with_stories(session, rows)


def _with_stories(session: Session, rows: list[TradeArticle]) -> list[TradeArticle]:
    """Each article with its story and how many outlets carry it, so a report lists a story once."""
    from dataclasses import replace

    from storage.repo import stories_of, story_views

    ids = {a.article_id: a for a in rows if a.article_id is not None}
    story_of = stories_of(session, ids)
    views = story_views(session, story_of.values())
    return [
        replace(a, story_id=s, outlets=len(views[s].outlets))
        if a.article_id is not None and (s := story_of.get(a.article_id)) is not None and s in views
        else a
        for a in rows
    ]


def one_per_story(articles: list[TradeArticle]) -> list[TradeArticle]:
    """The articles with later copies of a story already listed left out (order kept)."""
    seen: set[int] = set()
    kept = []
    for article in articles:
        if article.story_id is not None:
            if article.story_id in seen:
                continue
            seen.add(article.story_id)
        kept.append(article)
    return kept


@dataclass(frozen=True)
class EventRow:
    """A trade event found in the period, with the article that reported it."""

    summary: str
    measure: str
    implementer: tuple[str, ...]
    affected: tuple[str, ...]
    products: tuple[str, ...]
    rate_from: str | None
    rate_to: str | None
    announced: date | None
    effective: date | None
    title: str
    url: str
    feed: str
    found_at: datetime


def trade_events(session: Session, since: datetime, until: datetime) -> list[EventRow]:
    """Trade events of the articles found in [since, until), newest article first, in article order."""
    query = (
        select(TradeEvent, Article, Feed.name)
        .join(Article, col(Article.id) == col(TradeEvent.article_id))
        .join(Feed, col(Article.feed_id) == col(Feed.id), isouter=True)
        .where(col(Article.fetched_at) >= since)
        .where(col(Article.fetched_at) < until)
        .order_by(col(Article.fetched_at).desc(), col(Article.id).desc(), col(TradeEvent.position))
    )
    return [
        EventRow(
            summary=event.summary,
            measure=event.measure,
            implementer=tuple(event.implementer_codes),
            affected=tuple(event.affected_codes),
            products=tuple(event.products),
            rate_from=event.rate_from,
            rate_to=event.rate_to,
            announced=event.announced,
            effective=event.effective,
            title=article.title,
            url=article.url,
            feed=feed_name or "(no feed)",
            found_at=article.fetched_at or until,
        )
        for event, article, feed_name in session.exec(query)
    ]


@dataclass(frozen=True)
class CountryPair:
    """Who did what to whom in the period: one row per (implementer, affected) pair."""

    implementer: str
    affected: str  # "" when the event names no affected jurisdiction
    events: int
    measures: tuple[tuple[str, int], ...]  # measure -> events, most frequent first


def country_pairs(events: list[EventRow]) -> list[CountryPair]:
    """Events counted per (implementer, affected) pair, busiest first; a multi-country event counts once
    for each pair it names."""
    counts: dict[tuple[str, str], Counter[str]] = {}
    for event in events:
        for implementer in event.implementer or ("?",):
            for affected in event.affected or ("",):
                counts.setdefault((implementer, affected), Counter())[event.measure] += 1
    pairs = [
        CountryPair(imp, aff, sum(c.values()), tuple(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))))
        for (imp, aff), c in counts.items()
    ]
    pairs.sort(key=lambda p: (-p.events, p.implementer, p.affected))
    return pairs


def articles_stored(session: Session, since: datetime, until: datetime) -> int:
    """All articles (trade or not) tradewatch stored in the period, by fetch time."""
    count = session.exec(
        select(func.count())
        .select_from(Article)
        .where(col(Article.fetched_at) >= since)
        .where(col(Article.fetched_at) < until)
    ).one()
    return int(count)


def per_day(articles: list[TradeArticle], since: datetime, until: datetime) -> list[tuple[date, int]]:
    """Counts per UTC day found, every day of the period present (zero days included, so gaps are visible)."""
    counts = Counter(a.found_at.date() for a in articles)
    first, last = since.date(), (until - timedelta(microseconds=1)).date()
    days = []
    day = first
    while day <= last:
        days.append((day, counts.get(day, 0)))
        day += timedelta(days=1)
    return days


def per_source(articles: list[TradeArticle]) -> list[tuple[str, int]]:
    """Counts per feed, most productive first (ties by name, so the order is stable)."""
    return sorted(Counter(a.feed for a in articles).items(), key=lambda item: (-item[1], item[0]))


def rule_counts(session: Session, since: datetime, until: datetime) -> list[RuleCount]:
    """Rules by the number of articles they matched in the period (by outbox row creation time)."""
    query = (
        select(Delivery, AlertRule)
        .join(AlertRule, col(AlertRule.id) == col(Delivery.rule_id))
        .where(col(Delivery.created_at) >= since)
        .where(col(Delivery.created_at) < until)
    )
    articles: dict[str, set[int]] = {}
    statuses: dict[str, Counter[str]] = {}
    meta: dict[str, tuple[str, bool]] = {}
    for delivery, rule in session.exec(query):
        articles.setdefault(rule.name, set()).add(delivery.article_id)
        statuses.setdefault(rule.name, Counter())[delivery.status] += 1
        meta[rule.name] = (rule.query, rule.active)
    result = [
        RuleCount(
            rule=name,
            query=meta[name][0],
            active=meta[name][1],
            articles=len(ids),
            sent=statuses[name]["sent"],
            pending=statuses[name]["pending"] + statuses[name]["sending"],
            failed=statuses[name]["failed"],
        )
        for name, ids in articles.items()
    ]
    result.sort(key=lambda r: (-r.articles, r.rule))
    return result


def alerts_sent(session: Session, since: datetime, until: datetime) -> int:
    """Outbox rows marked sent in the period."""
    count = session.exec(
        select(func.count())
        .select_from(Delivery)
        .where(col(Delivery.status) == "sent")
        .where(col(Delivery.sent_at) >= since)
        .where(col(Delivery.sent_at) < until)
    ).one()
    return int(count)


def feeds_in_trouble(session: Session, now: datetime) -> list[FeedHealth]:
    """Active feeds that are failing or have gone silent, the longest failure streak first."""
    troubled = [
        h
        for h in feed_health(session, now)
        if h.feed.active and (h.feed.consecutive_failures > 0 or h.silent)
    ]
    troubled.sort(key=lambda h: (-h.feed.consecutive_failures, h.feed.name))
    return troubled


def stories_since(session: Session, since: datetime, min_articles: int) -> list[int]:
    """Ids of the stories started since ``since`` with at least ``min_articles`` articles, newest first."""
    ids = [
        int(story_id)
        for story_id in session.exec(
            select(Story.id).where(col(Story.created_at) >= since).order_by(col(Story.id).desc())
        )
        if story_id is not None
    ]
    views = story_views(session, ids)
    return [i for i in ids if i in views and len(views[i].members) >= min_articles]
