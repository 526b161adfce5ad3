"""All tables in one module: feeds, articles, their trade events, stories, alert rules and the outbox.

Keeping every table here avoids circular imports between repository modules and lets Alembic see the
whole schema from one import. Uniqueness constraints, not application code, are what make overlapping
runs safe: ``article.canonical_url``, ``delivery(article_id, rule_id, channel, kind)`` and
``delivery(story_id, rule_id, channel, kind)`` are unique, so a second writer's insert becomes a no-op
instead of a duplicate.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    LargeBinary,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Timezone-aware now; every stored timestamp is UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, returns timezone-aware UTC on every backend.

    SQLite has no timezone type and SQLAlchemy hands back naive datetimes from it; comparing those with
    aware ones raises at run time, so the conversion lives in the column type rather than in callers.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(*, index: bool = False) -> Any:
    """A nullable timezone-aware timestamp column."""
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=True, index=index))


class Feed(SQLModel, table=True):
    """A polled feed and its scheduling state; the URL identifies it."""

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(unique=True, index=True)
    name: str
    title: str | None = None
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    etag: str | None = None
    last_modified: str | None = None
    next_poll_at: datetime | None = _ts(index=True)
    last_polled_at: datetime | None = _ts()
    last_success_at: datetime | None = _ts()
    consecutive_failures: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    last_error_reason: str | None = None
    last_warning: str | None = Field(default=None, sa_column=Column(Text))
    items_seen: int = 0
    created_at: datetime | None = _ts()


class Article(SQLModel, table=True):
    """One article, stored once however many feeds or GUIDs lead to it."""

    id: int | None = Field(default=None, primary_key=True)
    canonical_url: str = Field(unique=True, index=True)
    url: str
    entry_key: str = Field(index=True)
    feed_id: int | None = Field(default=None, foreign_key="feed.id", index=True)
    title: str
    author: str | None = None
    published_at: datetime | None = _ts(index=True)
    fetched_at: datetime | None = _ts()
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    content_hash: str | None = None
    language: str | None = None
    extraction_status: str = "ok"  # ok | failed
    extraction_error: str | None = Field(default=None, sa_column=Column(Text))
    is_trade: bool | None = Field(default=None, index=True)
    trade_score: float | None = None
    trade_evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    classifier_version: str | None = None


class TradeEvent(SQLModel, table=True):
    """A trade measure an article reports (classifiers.events), stored with the article in one transaction.

    ``implementer`` and ``affected`` hold ISO 3166 / bloc codes as one space-separated, space-padded string
    (" US CA "), so "which events affect CN" is ``LIKE '% CN %'`` on SQLite and PostgreSQL alike, with no
    JSON operators and no join table for what is nearly always one or two codes. ``summary`` is the
    one-line description alerts and reports show, made once by the extractor.
    """

    __tablename__ = "trade_event"
    __table_args__ = (UniqueConstraint("article_id", "position", name="uq_trade_event_article_position"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", index=True)
    position: int = 0  # order in the article
    measure: str = Field(index=True)
    implementer: str = ""
    affected: str = ""
    products: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    hs_chapters: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    subjects: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rate_from: str | None = None
    rate_to: str | None = None
    announced: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    effective: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    evidence: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    extractor_version: str = ""

    @property
    def implementer_codes(self) -> list[str]:
        return self.implementer.split()

    @property
    def affected_codes(self) -> list[str]:
        return self.affected.split()


class AlertRule(SQLModel, table=True):
    """A user's rule, synced from configuration by name on every run."""

    __tablename__ = "alert_rule"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    query: str
    channels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    trade_only: bool = False
    mode: str = "instant"  # instant | hourly | daily
    active: bool = True
    updated_at: datetime | None = _ts()
    #: "story": one alert per story (the first article that matches); "article": one per article.
    grouping: str = Field(default="story", sa_column_kwargs={"server_default": "story"})
    #: Send one "also reported by N outlets" follow-up when a story reaches this many outlets (0: never).
    follow_up_outlets: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Delivery(SQLModel, table=True):
    """The outbox: one row per (article, rule, channel) and kind, whatever happens to the process.

    status: pending → sending (claimed, with ``claimed_at``) → sent | failed. A row stuck in
    ``sending`` after a crash returns to pending once its claim is older than the lease; that is the
    one window where a message may be sent twice (sent, then killed before marking).
    """

    __table_args__ = (
        # kind is part of it so that the copy whose arrival triggers a story's follow-up ("update") can
        # still, once split out by a person, hold its own story's alert ("story").
        UniqueConstraint(
            "article_id", "rule_id", "channel", "kind", name="uq_delivery_article_rule_channel_kind"
        ),
        # One alert per story, rule and channel (and at most one follow-up): the database, not Python,
        # keeps a second copy of a story from alerting, whichever worker stores it. Rows of rules that
        # alert per article leave story_id NULL, which a unique constraint never compares equal.
        UniqueConstraint("story_id", "rule_id", "channel", "kind", name="uq_delivery_story_rule_channel"),
    )

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", index=True)
    rule_id: int = Field(foreign_key="alert_rule.id", index=True)
    channel: str
    mode: str = "instant"
    #: "article" (a rule grouping by article), "story" (a story's one alert), "update" (its follow-up).
    kind: str = Field(default="article", sa_column_kwargs={"server_default": "article"})
    story_id: int | None = Field(default=None, foreign_key="story.id", index=True)
    status: str = Field(default="pending", index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    match_field: str | None = None
    match_sentence: str | None = Field(default=None, sa_column=Column(Text))
    match_start: int | None = None
    match_end: int | None = None
    created_at: datetime | None = _ts()
    next_attempt_at: datetime | None = _ts(index=True)
    claimed_at: datetime | None = _ts()
    sent_at: datetime | None = _ts()


class Story(SQLModel, table=True):
    """Near-duplicate articles from several outlets: one news story, alerted once.

    Created by the first article of the story; later copies join it (``story_member``). A story is never
    merged into another automatically, so an article's story only changes when a person splits it out.
    Deleting an article deletes its membership and index rows with it (ON DELETE CASCADE).
    """

    id: int | None = Field(default=None, primary_key=True)
    first_article_id: int | None = Field(default=None, foreign_key="article.id", ondelete="SET NULL")
    title: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime | None = _ts(index=True)


class StoryMember(SQLModel, table=True):
    """An article's place in its story, why it is there, and the fingerprint later copies are compared with.

    ``joined_via`` is the earlier article it was found to repeat, with the similarity and the reason the
    decision gave; NULL for the article that started the story. ``decided_by`` is "person" once someone
    split it out (`tradewatch stories split`): nothing automatic moves it again.
    """

    __tablename__ = "story_member"

    article_id: int = Field(foreign_key="article.id", primary_key=True, ondelete="CASCADE")
    story_id: int = Field(foreign_key="story.id", index=True)
    joined_via: int | None = Field(default=None, foreign_key="article.id", ondelete="SET NULL")
    similarity: float | None = None
    reason: str | None = Field(default=None, sa_column=Column(Text))
    decided_by: str = "auto"  # auto | person
    version: str
    basis: str  # body | title
    signature: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False))
    shingles: int = 0
    lead: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False))
    title: str = Field(default="", sa_column=Column(Text, nullable=False))
    terms: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    published_at: datetime | None = _ts()
    seen_at: datetime | None = _ts()


class StoryBand(SQLModel, table=True):
    """The LSH index: one row per (band key, article), for articles seen within the story window.

    Looking up a new article's band keys finds the few stored articles that share a band with it, by
    index, however many articles are stored; rows older than the window are deleted, so the table stays
    the size of the window (about 50 rows per article).
    """

    __tablename__ = "story_band"
    __table_args__ = (Index("ix_story_band_seen_at", "seen_at"), {"sqlite_with_rowid": False})

    band_key: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    article_id: int = Field(foreign_key="article.id", primary_key=True, ondelete="CASCADE")
    seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
