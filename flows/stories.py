"""Take an article out of the story it was wrongly joined to, and queue the alerts it was denied.

The decision is stored (``storage.repo.split_article``), so no rerun or later copy merges the article
back; rules that group by story and match it then queue the alert it would have sent as a new story,
sent by the next run. `tradewatch stories split` calls this; it is a plain function, no Prefect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlmodel import Session


@dataclass(frozen=True)
class Split:
    """What a split did: the story the article left (None if it had none) and its own new story."""

    article_id: int
    from_story: int | None
    story_id: int
    alerts_queued: int


def split_article(session: Session, article_id: int, now: datetime) -> Split:
    """Split ``article_id`` out of its story and queue its alerts, in the caller's transaction.

    Raises ``storage.repo.NotInAStory`` when the article is in no story (or does not exist).
    """
    from storage import repo

    before = repo.stories_of(session, [article_id]).get(article_id)
    split = repo.split_article(session, article_id, now=now)
    queued = _queue_split_alerts(session, article_id, split.story_id)
    return Split(article_id=article_id, from_story=before, story_id=split.story_id, alerts_queued=queued)


def _queue_split_alerts(session: Session, article_id: int, story_id: int) -> int:
    """The alerts the article would have queued had it started its own story (story-grouped rules only)."""
    from sqlmodel import col, select

    from alerts.rules import Document, parse, prepare
    from storage import repo
    from storage.models import AlertRule, Article, Feed

    article = session.get(Article, article_id)
    if article is None:
        return 0
    feed = session.get(Feed, article.feed_id) if article.feed_id is not None else None
    rules = session.exec(
        select(AlertRule).where(col(AlertRule.active)).where(col(AlertRule.grouping) == "story")
    ).all()
    document = prepare(Document(title=article.title, text=article.text, source=feed.name if feed else ""))
    queued = 0
    for rule in rules:
        if rule.trade_only and not article.is_trade:
            continue
        match = parse(rule.query).match(document)
        if match is None:
            continue
        for channel in rule.channels:
            queued += repo.enqueue_delivery(
                session,
                article_id=article_id,
                rule_id=rule.id or 0,
                channel=channel,
                mode=rule.mode,
                match_field=match.field,
                match_sentence=match.sentence,
                match_start=match.hit_start,
                match_end=match.hit_end,
                story_id=story_id,
                kind="story",
            )
    return queued
