"""The report's numbers for a period, read from the store (``storage.stats``): built once, rendered as
HTML or markdown (``reports.render``) or printed as JSON (`tradewatch report --json`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from extractors.redact import redact_text, redact_url
from reports.events import events_json

if TYPE_CHECKING:  # imported where used, so that `tradewatch --help` does not load SQLAlchemy
    from sqlmodel import Session

    from storage.stats import CountryPair, EventRow, RuleCount, TradeArticle

#: How many headlines the report lists, and how many rules and sources the tables show.
HEADLINES = 25
#: The report window the daily digest publishes: a week, so the per-day chart shows a trend.
DAILY_REPORT_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class FeedTrouble:
    """A feed that needs a person: failing (with the reason) or silent for longer than its usual rhythm."""

    name: str
    url: str
    state: str  # "failing" | "silent"
    consecutive_failures: int
    reason: str | None
    last_error: str | None
    last_success_at: datetime | None
    latest_article_at: datetime | None


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows; built once, rendered as HTML, markdown or JSON."""

    since: datetime
    now: datetime
    articles_stored: int
    trade: list[TradeArticle]
    per_day: list[tuple[date, int]]
    per_source: list[tuple[str, int]]
    rules: list[RuleCount]
    troubled: list[FeedTrouble]
    alerts_sent: int
    events: list[EventRow] = field(default_factory=list)
    pairs: list[CountryPair] = field(default_factory=list)

    @property
    def headlines(self) -> list[TradeArticle]:
        """The newest trade news, one line per story: other outlets' copies are counted, not repeated."""
        from storage import stats

        return stats.one_per_story(self.trade)[:HEADLINES]

    def as_json(self) -> dict[str, Any]:
        """The report for scripts: the same numbers, ISO 8601 times, no markup."""
        return {
            "since": _iso(self.since),
            "now": _iso(self.now),
            "articles_stored": self.articles_stored,
            "trade_articles": len(self.trade),
            "alerts_sent": self.alerts_sent,
            "per_day": [{"day": d.isoformat(), "trade_articles": n} for d, n in self.per_day],
            "per_source": [{"feed": name, "trade_articles": n} for name, n in self.per_source],
            "rules": [
                {
                    "rule": r.rule,
                    "query": r.query,
                    "active": r.active,
                    "articles": r.articles,
                    "sent": r.sent,
                    "pending": r.pending,
                    "failed": r.failed,
                }
                for r in self.rules
            ],
            "feeds_in_trouble": [
                {
                    "name": t.name,
                    "url": t.url,
                    "state": t.state,
                    "consecutive_failures": t.consecutive_failures,
                    "reason": t.reason,
                    "last_error": t.last_error,
                    "last_success_at": _iso(t.last_success_at),
                    "latest_article_at": _iso(t.latest_article_at),
                }
                for t in self.troubled
            ],
            "headlines": [
                {
                    "title": a.title,
                    "url": a.url,
                    "feed": a.feed,
                    "published_at": _iso(a.published_at),
                    "found_at": _iso(a.found_at),
                    "trade_score": a.trade_score,
                    "story_id": a.story_id,
                    "outlets": a.outlets,
                }
                for a in self.headlines
            ],
            **events_json(self.events, self.pairs),
        }


def build_report(session: Session, since: datetime, now: datetime) -> ReportData:
    """Query the store for the period [since, now)."""
    from storage import stats

    trade = stats.trade_articles(session, since, now)
    events = stats.trade_events(session, since, now)
    troubled = [
        FeedTrouble(
            name=h.feed.name,
            url=redact_url(h.feed.url),  # reports are shared and archived; feed URLs may carry tokens
            state="failing" if h.feed.consecutive_failures else "silent",
            consecutive_failures=h.feed.consecutive_failures,
            reason=h.feed.last_error_reason if h.feed.consecutive_failures else None,
            last_error=redact_text(h.feed.last_error or "") or None if h.feed.consecutive_failures else None,
            last_success_at=h.feed.last_success_at,
            latest_article_at=h.latest_article_at,
        )
        for h in stats.feeds_in_trouble(session, now)
    ]
    return ReportData(
        since=since,
        now=now,
        articles_stored=stats.articles_stored(session, since, now),
        trade=trade,
        per_day=stats.per_day(trade, since, now),
        per_source=stats.per_source(trade),
        rules=stats.rule_counts(session, since, now),
        troubled=troubled,
        alerts_sent=stats.alerts_sent(session, since, now),
        events=events,
        pairs=stats.country_pairs(events),
    )


def report_for(database_url: str, since: datetime, now: datetime) -> ReportData:
    """Open the store, build the report, close the store (the engine is never shared or global).

    A report only reads: it never migrates (the daily digest flow that calls this has sent its alerts,
    and so brought the schema up to date, first); ``SchemaNotCurrent`` says which command fixes it.
    """
    from sqlmodel import Session

    from storage.db import make_engine
    from storage.migrate import require_current

    engine = make_engine(database_url)
    try:
        require_current(engine)
        with Session(engine) as session:
            return build_report(session, since, now)
    finally:
        engine.dispose()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
