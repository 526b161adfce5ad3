"""Stories in the store, SQLite and PostgreSQL: copies join one story, decided race-free in the database."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from classifiers import stories
from storage import repo
from storage.models import Delivery, Story, StoryBand, StoryMember

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=72)

WIRE = [
    "Washington will raise tariffs on Chinese steel and aluminium to 25 percent from March 3, the Commerce "
    "Department said on Monday, in a move officials said answers years of dumping by state-backed mills.",
    "The new duties cover about $4.5 billion of imports a year, according to department figures, and follow "
    "a review that began last autumn after complaints from domestic producers in Ohio and Pennsylvania.",
    "Beijing's commerce ministry said it would study the measures and reserved the right to respond. "
    "Chinese exporters have already shifted some shipments to Vietnam and Malaysia, trade data show.",
    "Industry groups representing car makers and appliance firms warned that higher metal prices would be "
    "passed on to consumers, while the steelworkers' union welcomed the decision.",
]
OTHER = (
    "The European Union and New Zealand signed a free trade agreement in Brussels that removes duties on "
    "kiwifruit, wine and most manufactured goods, ending four years of negotiations over dairy and beef "
    "quotas. Farmers' groups in Ireland and France said the beef quota was too generous, while exporters in "
    "Auckland welcomed faster customs clearance and the recognition of geographical names for wines."
)


def _copy(n: int) -> str:
    """Another outlet's copy: the wire text, paragraphs moved, its own footer."""
    paras = WIRE[n % 2 :] + WIRE[: n % 2]
    return "\n\n".join([*paras, f"Copyright {2020 + n} Outlet {n}. Sign up for our newsletter."])


def _store(session: Session, url: str, title: str, text: str, *, now: datetime = NOW) -> repo.StoryAssignment:
    article_id = repo.insert_article(
        session,
        repo.NewArticle(canonical_url=url, url=url, entry_key=url, feed_id=None, title=title, text=text),
        now=now,
    )
    assert article_id is not None
    item = repo.StoryItem(article_id, stories.fingerprint(title, text), title)
    return repo.assign_stories(session, [item], now=now, window=WINDOW)[article_id]


def test_copies_from_three_outlets_make_one_story_and_other_news_its_own(engine: Engine) -> None:
    with Session(engine) as session:
        first = _store(session, "https://a.example/steel", "US to raise steel tariffs to 25%", _copy(0))
        session.commit()
    with Session(engine) as session:
        second = _store(session, "https://b.example/1", "UPDATE 1-US raises steel tariffs - B", _copy(1))
        third = _store(session, "https://www.c.example/x", "Steel tariffs to rise to 25 percent", _copy(2))
        other = _store(session, "https://a.example/nz", "EU and New Zealand sign trade deal", OTHER)
        session.commit()
    assert first.new_story
    assert not second.new_story
    assert not third.new_story
    assert other.new_story
    assert second.story_id == third.story_id == first.story_id != other.story_id
    assert second.joined_via == first.article_id
    assert second.similarity is not None
    assert second.similarity >= stories.SAME_JACCARD
    assert second.reason is not None
    assert "alike" in second.reason
    with Session(engine) as session:
        views = repo.story_views(session, [first.story_id])
        assert len(session.exec(select(Story)).all()) == 2
    view = views[first.story_id]
    assert view.title == "US to raise steel tariffs to 25%"
    assert view.outlets == ["a.example", "b.example", "c.example"]
    assert [m.joined_via for m in view.members] == [None, first.article_id, third.joined_via]


def test_a_copy_seen_after_the_window_starts_a_new_story(engine: Engine) -> None:
    with Session(engine) as session:
        first = _store(session, "https://a.example/steel", "US steel tariffs", _copy(0))
        later = _store(
            session, "https://b.example/steel", "US steel tariffs", _copy(1), now=NOW + WINDOW + timedelta(1)
        )
        session.commit()
    assert later.new_story
    assert later.story_id != first.story_id


def test_concurrent_writers_storing_copies_of_one_story_make_one_story(engine: Engine) -> None:
    """Each writer inserts its copy, then all decide at once: the database serialises the decisions."""
    writers = 4
    postgres = engine.dialect.name == "postgresql"
    # On PostgreSQL all writers hold their uncommitted article before any decides (the race); on SQLite a
    # writer's transaction holds the write lock from its start, so they can only start together.
    ready = threading.Barrier(writers, timeout=30)
    results: list[repo.StoryAssignment] = []
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            if not postgres:
                ready.wait()
            with Session(engine) as session:
                url = f"https://outlet{n}.example/steel"
                article_id = repo.insert_article(
                    session,
                    repo.NewArticle(
                        canonical_url=url, url=url, entry_key=url, feed_id=None, title="Steel", text=_copy(n)
                    ),
                    now=NOW,
                )
                assert article_id is not None
                if postgres:
                    ready.wait()
                item = repo.StoryItem(article_id, stories.fingerprint("Steel tariffs", _copy(n)), "Steel")
                results.append(repo.assign_stories(session, [item], now=NOW, window=WINDOW)[article_id])
                session.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert len({r.story_id for r in results}) == 1, "every copy is in one story"
    assert sum(r.new_story for r in results) == 1
    with Session(engine) as session:
        assert len(session.exec(select(Story)).all()) == 1


def test_the_outbox_holds_one_alert_per_story_rule_and_channel_by_constraint(engine: Engine) -> None:
    with Session(engine) as session:
        rule_id = repo.sync_rules(session, [repo.RuleSpec(name="steel", query="steel", channels=("desk",))])[
            "steel"
        ].id
        assert rule_id is not None
        first = _store(session, "https://a.example/steel", "Steel", _copy(0))
        second = _store(session, "https://b.example/steel", "Steel", _copy(1))
        queued = [
            repo.enqueue_delivery(
                session,
                article_id=a.article_id,
                rule_id=rule_id,
                channel="desk",
                mode="instant",
                story_id=a.story_id,
                kind="story",
                now=NOW,
            )
            for a in (first, second)
        ]
        session.commit()
    assert queued == [True, False]
    with Session(engine) as session:  # not Python's check: the database refuses a second row
        session.add(
            Delivery(
                article_id=second.article_id,
                rule_id=rule_id,
                channel="desk",
                story_id=first.story_id,
                kind="story",
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()


def test_a_split_article_gets_its_own_story_and_stays_there(engine: Engine) -> None:
    with Session(engine) as session:
        first = _store(session, "https://a.example/steel", "Steel tariffs", _copy(0))
        wrong = _store(session, "https://b.example/steel", "Steel tariffs", _copy(1))
        session.commit()
    assert wrong.story_id == first.story_id
    with Session(engine) as session:
        split = repo.split_article(session, wrong.article_id, now=NOW)
        session.commit()
    assert split.story_id != first.story_id
    with Session(engine) as session:
        later = _store(session, "https://c.example/steel", "Steel tariffs", _copy(2))
        session.commit()
        member = session.get(StoryMember, wrong.article_id)
        assert member is not None
        assert (member.story_id, member.decided_by) == (split.story_id, "person")
        assert member.reason == f"split out of story {first.story_id} by a person"
    assert later.story_id in (first.story_id, split.story_id), "a later copy joins one of them"
    with Session(engine) as session:
        assert repo.stories_of(session, [wrong.article_id]) == {wrong.article_id: split.story_id}
        with pytest.raises(repo.NotInAStory, match="does not exist"):
            repo.split_article(session, 999_999, now=NOW)


def test_splitting_a_storys_first_article_hands_the_story_to_the_next(engine: Engine) -> None:
    with Session(engine) as session:
        first = _store(session, "https://a.example/steel", "First title", _copy(0))
        second = _store(session, "https://b.example/steel", "Second title", _copy(1))
        repo.split_article(session, first.article_id, now=NOW)
        session.commit()
        story = session.get(Story, first.story_id)
        assert story is not None
        assert (story.first_article_id, story.title) == (second.article_id, "Second title")


def test_the_index_is_pruned_to_the_window(engine: Engine) -> None:
    with Session(engine) as session:
        _store(session, "https://a.example/old", "Steel", _copy(0), now=NOW - WINDOW - timedelta(hours=1))
        _store(session, "https://a.example/new", "EU deal", OTHER)
        session.commit()
        before = len(session.exec(select(StoryBand)).all())
        removed = repo.prune_story_index(session, before=NOW - WINDOW)
        session.commit()
        assert removed == stories.BANDS + stories.TITLE_BANDS
        assert len(session.exec(select(StoryBand)).all()) == before - removed


def test_one_follow_up_when_a_sent_story_reaches_the_outlet_threshold(engine: Engine) -> None:
    with Session(engine) as session:
        spec = repo.RuleSpec(name="steel", query="steel", channels=("desk",), follow_up_outlets=3)
        rule_id = repo.sync_rules(session, [spec])["steel"].id
        assert rule_id is not None
        first = _store(session, "https://a.example/steel", "Steel", _copy(0))
        repo.enqueue_delivery(
            session,
            article_id=first.article_id,
            rule_id=rule_id,
            channel="desk",
            mode="instant",
            story_id=first.story_id,
            kind="story",
            now=NOW,
        )
        session.commit()
        sent = session.exec(select(Delivery)).one()
        repo.mark_sent(session, [sent.id or 0], now=NOW)
        session.commit()
        later = NOW + timedelta(minutes=5)
        added = [
            repo.enqueue_story_updates(
                session, _store(session, f"https://{host}.example/s", "Steel", _copy(n), now=later), now=later
            )
            for n, host in enumerate(["b", "c", "d"], start=1)
        ]
        session.commit()
        rows = session.exec(select(Delivery).order_by(Delivery.id)).all()  # type: ignore[arg-type]
    assert added == [0, 1, 0], "the third outlet triggers it; the fourth finds it queued"
    assert [(r.kind, r.story_id) for r in rows] == [("story", first.story_id), ("update", first.story_id)]


# --- a feed's batch --------------------------------------------------------------------------------

#: Distinct stories for batch tests: each a body of its own (numbers differ, so no two are alike).
STORIES = [
    (
        f"Port {n} customs reform",
        " ".join(
            f"Customs officers at port number {n}{k} processed {n * 37 + k} containers of {topic} "
            f"under rule {k}."
            for k, topic in enumerate(["rice", "steel", "copper", "wheat", "timber", "cotton", "tin", "zinc"])
        ),
    )
    for n in range(1, 60)
]


def _insert(session: Session, url: str, title: str, text: str) -> repo.StoryItem:
    article_id = repo.insert_article(
        session,
        repo.NewArticle(canonical_url=url, url=url, entry_key=url, feed_id=None, title=title, text=text),
        now=NOW,
    )
    assert article_id is not None
    return repo.StoryItem(article_id, stories.fingerprint(title, text), title)


def _statements_to_assign(
    engine: Engine, session: Session, items: list[repo.StoryItem]
) -> tuple[list[str], dict[int, repo.StoryAssignment]]:
    """Run assign_stories on ``items``, counting the statements it sends to the database."""
    sent: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        result = repo.assign_stories(session, items, now=NOW, window=WINDOW)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return sent, result


@pytest.mark.parametrize("size", [3, 40])
def test_a_feeds_batch_costs_a_few_statements_however_many_articles_it_has(engine: Engine, size: int) -> None:
    """Story assignment costs statements per feed batch, not per article (it was five or more each)."""
    with Session(engine) as session:
        stored = [
            _insert(session, f"https://a.example/{n}", title, text)
            for n, (title, text) in enumerate(STORIES[:size])
        ]
        repo.assign_stories(session, stored, now=NOW, window=WINDOW)
        session.commit()
        # The new batch: another outlet's copy of every stored story, then as many new stories.
        batch = [
            _insert(
                session, f"https://b.example/{n}", f"UPDATE 1-{title}", text + " Sign up for our newsletter."
            )
            for n, (title, text) in enumerate(STORIES[:size])
        ] + [
            _insert(session, f"https://c.example/{n}", title, text)
            for n, (title, text) in enumerate(STORIES[size : 2 * size])
        ]
        sent, result = _statements_to_assign(engine, session, batch)
        session.commit()
    joined = [result[item.article_id] for item in batch[:size]]
    assert [a.joined_via for a in joined] == [item.article_id for item in stored]
    assert all(result[item.article_id].new_story for item in batch[size:])
    # lock (PostgreSQL), band rows, candidates, stories, members, band rows: never one per article.
    kinds = sorted({statement.split("(")[0][:40] for statement in sent})
    assert len(sent) <= 6, f"{len(sent)} statements for a batch of {len(batch)} articles: {kinds}"


def test_a_batch_decides_in_order_and_new_stories_get_their_own_ids(engine: Engine) -> None:
    """Copies later in a batch join stories started earlier in the same batch; each new story's row
    names the article that started it (the ids of one multi-row INSERT are matched to the right rows)."""
    (t1, x1), (t2, x2), (t3, x3) = STORIES[:3]
    with Session(engine) as session:
        batch = [
            _insert(session, "https://a.example/1", t1, x1),
            _insert(session, "https://a.example/2", t2, x2),
            _insert(session, "https://b.example/1", t1, "By our desk. " + x1),
            _insert(session, "https://a.example/3", t3, x3),
            _insert(session, "https://b.example/3", t3, x3 + " Copyright Outlet B."),
            _insert(session, "https://c.example/1", t1, x1 + " Copyright Outlet C."),
        ]
        result = repo.assign_stories(session, batch, now=NOW, window=WINDOW)
        session.commit()
        rows = {s.id: s.first_article_id for s in session.exec(select(Story)).all()}
    a1, a2, b1, a3, b3, c1 = (result[item.article_id] for item in batch)
    assert [a.new_story for a in (a1, a2, b1, a3, b3, c1)] == [True, True, False, True, False, False]
    assert rows == {a1.story_id: a1.article_id, a2.story_id: a2.article_id, a3.story_id: a3.article_id}
    assert (b1.story_id, b1.joined_via) == (a1.story_id, a1.article_id)
    assert (b3.story_id, b3.joined_via) == (a3.story_id, a3.article_id)
    assert c1.story_id == a1.story_id
    assert c1.joined_via in (a1.article_id, b1.article_id)
