"""Storage guarantees the pipeline relies on, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage import repo
from storage.models import Article, Delivery, Feed

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _article(url: str = "https://news.example/a", text: str = "Body.", key: str = "k1") -> repo.NewArticle:
    return repo.NewArticle(
        canonical_url=url,
        url=url,
        entry_key=key,
        feed_id=None,
        title="Title",
        text=text,
        content_hash=str(hash(text)),
        is_trade=True,
        trade_score=0.9,
    )


def _rule(session: Session) -> int:
    rules = repo.sync_rules(session, [repo.RuleSpec(name="tariffs", query="tariff", channels=("desk",))])
    session.commit()
    rule_id = rules["tariffs"].id
    assert rule_id is not None
    return rule_id


def test_article_is_stored_once_and_the_second_writer_learns_it_is_not_new(engine: Engine) -> None:
    with Session(engine) as s1, Session(engine) as s2:
        first = repo.insert_article(s1, _article())
        s1.commit()
        second = repo.insert_article(s2, _article())
        s2.commit()
    assert first is not None
    assert second is None
    with Session(engine) as session:
        assert len(session.exec(select(Article)).all()) == 1


def test_changed_text_refreshes_the_stored_article_without_making_it_new(engine: Engine) -> None:
    with Session(engine) as session:
        article_id = repo.insert_article(session, _article(text="First version."))
        assert repo.insert_article(session, _article(text="Corrected version.")) is None
        session.commit()
        stored = session.get(Article, article_id)
        assert stored is not None
        assert stored.text == "Corrected version."


def test_a_batch_insert_returns_only_the_articles_it_stored_and_refreshes_changed_ones(
    engine: Engine,
) -> None:
    with Session(engine) as session:
        repo.insert_article(session, _article("https://news.example/old", "Old text.", key="old"))
        session.commit()
    batch = [
        _article("https://news.example/1", "One.", key="1"),
        _article("https://news.example/old", "Rewritten text.", key="old-again"),
        _article("https://news.example/2", "Two.", key="2"),
    ]
    with Session(engine) as session:
        inserted = repo.insert_articles(session, batch, now=NOW)
        session.commit()
    assert sorted(inserted) == ["https://news.example/1", "https://news.example/2"]
    with Session(engine) as session:
        stored = {a.canonical_url: a for a in session.exec(select(Article))}
    assert {url: stored[url].id for url in inserted} == inserted, "each id is the id of that URL's row"
    assert stored["https://news.example/old"].text == "Rewritten text.", "the known article got its new text"
    assert len(stored) == 3


def test_known_articles_matches_by_entry_key_or_canonical_url(engine: Engine) -> None:
    with Session(engine) as session:
        repo.insert_article(session, _article(url="https://news.example/a", key="guid-a"))
        session.commit()
        found = repo.known_articles(
            session, entry_keys=["guid-a", "guid-b"], canonical_urls=["https://news.example/a", "https://x/c"]
        )
    assert found == {"guid-a", "https://news.example/a"}


def test_delivery_is_queued_once_per_article_rule_and_channel(engine: Engine) -> None:
    with Session(engine) as session:
        article_id = repo.insert_article(session, _article())
        assert article_id is not None
        rule_id = _rule(session)
        assert repo.enqueue_delivery(
            session, article_id=article_id, rule_id=rule_id, channel="desk", mode="instant"
        )
        assert not repo.enqueue_delivery(
            session, article_id=article_id, rule_id=rule_id, channel="desk", mode="instant"
        )
        assert repo.enqueue_delivery(
            session, article_id=article_id, rule_id=rule_id, channel="slack", mode="instant"
        )
        session.commit()
        assert len(session.exec(select(Delivery)).all()) == 2


def test_a_claimed_delivery_is_never_claimed_by_another_sender(engine: Engine) -> None:
    with Session(engine) as session:
        article_id = repo.insert_article(session, _article())
        assert article_id is not None
        rule_id = _rule(session)
        repo.enqueue_delivery(
            session, article_id=article_id, rule_id=rule_id, channel="desk", mode="instant", now=NOW
        )
        session.commit()
    with Session(engine) as a:
        first = repo.claim_deliveries(a, now=NOW)
    with Session(engine) as b:
        second = repo.claim_deliveries(b, now=NOW)
    assert [d.channel for d in first] == ["desk"]
    assert second == []


def test_a_crashed_senders_claim_returns_to_pending_after_the_lease(engine: Engine) -> None:
    with Session(engine) as session:
        article_id = repo.insert_article(session, _article())
        assert article_id is not None
        rule_id = _rule(session)
        repo.enqueue_delivery(
            session, article_id=article_id, rule_id=rule_id, channel="desk", mode="instant", now=NOW
        )
        session.commit()
        assert len(repo.claim_deliveries(session, now=NOW)) == 1
        lease = timedelta(minutes=10)
        assert repo.release_stale_claims(session, now=NOW + timedelta(minutes=5), lease=lease) == 0
        assert repo.release_stale_claims(session, now=NOW + timedelta(minutes=11), lease=lease) == 1
        session.commit()
        assert len(repo.claim_deliveries(session, now=NOW + timedelta(minutes=11))) == 1


def test_failed_attempts_wait_for_their_retry_time_then_give_up(engine: Engine) -> None:
    with Session(engine) as session:
        article_id = repo.insert_article(session, _article())
        assert article_id is not None
        rule_id = _rule(session)
        repo.enqueue_delivery(
            session, article_id=article_id, rule_id=rule_id, channel="desk", mode="instant", now=NOW
        )
        session.commit()
        (row,) = repo.claim_deliveries(session, now=NOW)
        assert row.id is not None
        repo.mark_attempt_failed(
            session, [row.id], now=NOW, error="smtp down", retry_at=NOW + timedelta(minutes=2)
        )
        session.commit()
        assert repo.claim_deliveries(session, now=NOW + timedelta(minutes=1)) == []
        (again,) = repo.claim_deliveries(session, now=NOW + timedelta(minutes=3))
        assert again.id is not None
        repo.mark_attempt_failed(session, [again.id], now=NOW, error="rejected", retry_at=None)
        session.commit()
        assert repo.delivery_counts(session) == {"failed": 1}


def test_sync_feeds_deactivates_removed_feeds_and_keeps_their_history(engine: Engine) -> None:
    with Session(engine) as session:
        repo.sync_feeds(
            session,
            [repo.FeedSpec("A", "https://a.example/feed"), repo.FeedSpec("B", "https://b.example/feed")],
        )
        session.commit()
        active = repo.sync_feeds(session, [repo.FeedSpec("A renamed", "https://a.example/feed", ("x",))])
        session.commit()
        assert [(f.name, f.tags) for f in active] == [("A renamed", ["x"])]
        assert len(session.exec(select(Feed)).all()) == 2


def test_timestamps_come_back_timezone_aware_in_utc(engine: Engine) -> None:
    local = datetime(2026, 11, 24, 9, 0, tzinfo=UTC) + timedelta(hours=0)
    with Session(engine) as session:
        new = _article()
        article_id = repo.insert_article(session, repo.NewArticle(**{**new.__dict__, "published_at": local}))
        session.commit()
    with Session(engine) as session:
        stored = session.get(Article, article_id)
        assert stored is not None
        assert stored.published_at is not None
        assert stored.published_at == local
        assert stored.published_at.utcoffset() == timedelta(0)


def test_due_feeds_respects_next_poll_time_unless_forced(engine: Engine) -> None:
    with Session(engine) as session:
        (feed,) = repo.sync_feeds(session, [repo.FeedSpec("A", "https://a.example/feed", ("trade",))])
        assert feed.id is not None
        repo.record_feed_success(
            session,
            feed.id,
            now=NOW,
            next_poll_at=NOW + timedelta(minutes=14),
            etag='"v1"',
            last_modified=None,
        )
        session.commit()
        assert repo.due_feeds(session, NOW + timedelta(minutes=5)) == []
        assert len(repo.due_feeds(session, NOW + timedelta(minutes=15))) == 1
        assert len(repo.due_feeds(session, NOW, force=True, names=["trade"])) == 1
        assert repo.due_feeds(session, NOW, force=True, names=["other"]) == []


def test_migrating_an_empty_database_gives_exactly_the_models_schema(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    from storage.db import init_db, make_engine
    from storage.migrate import current_revision, head_revision, include_object

    engine = make_engine(database_url)
    init_db(engine)
    init_db(engine)  # idempotent
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []
    assert current_revision(engine) == head_revision()
    engine.dispose()


def _search(session: Session, query: str) -> list[str]:
    """`articles search` as the CLI runs it: a compiled rule is the predicate."""
    from alerts.rules import Document, parse

    rule = parse(query)
    hits = repo.search_articles(
        session,
        lambda title, text, source: rule.match(Document(title=title, text=text, source=source)) is not None,
    )
    return [a.title for a, _ in hits]


def test_search_finds_words_in_title_and_text_most_recent_first(engine: Engine) -> None:
    with Session(engine) as session:
        for url, title, body in [
            (
                "https://n.example/1",
                "EU steel duties",
                "Brussels imposed anti-dumping duties on steel from China.",
            ),
            ("https://n.example/2", "Council budget", "The council passed its budget for roads."),
            ("https://n.example/3", "Port fees", "Steel shippers face new port fees; steel prices rose."),
        ]:
            repo.insert_article(
                session,
                repo.NewArticle(
                    canonical_url=url, url=url, entry_key=url, feed_id=None, title=title, text=body
                ),
            )
        session.commit()
        assert _search(session, "steel") == ["Port fees", "EU steel duties"]  # most recently stored first
        assert _search(session, "steel duties") == ["EU steel duties"]
        assert _search(session, "budget* (roads)") == ["Council budget"]
        assert _search(session, "budget") == ["Council budget"]
        assert _search(session, "whisky") == []
        # an edited article is found by its new words only
        repo.insert_article(
            session,
            repo.NewArticle(
                canonical_url="https://n.example/2",
                url="https://n.example/2",
                entry_key="x",
                feed_id=None,
                title="Council budget",
                text="The council passed its budget for libraries.",
                content_hash="h2",
            ),
        )
        session.commit()
        assert _search(session, "libraries") == ["Council budget"]
        assert _search(session, "roads") == []
