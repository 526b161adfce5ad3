"""Trade events in the store: saved with their article, searchable by country and measure, both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage import repo


def _article(n: int) -> repo.NewArticle:
    return repo.NewArticle(
        canonical_url=f"https://example.com/{n}",
        url=f"https://example.com/{n}",
        entry_key=f"key-{n}",
        feed_id=None,
        title=f"Article {n}",
        published_at=datetime(2026, 3, n, tzinfo=UTC),
        text="text",
        is_trade=True,
    )


def test_events_are_stored_with_their_article_and_found_by_country_and_measure(engine: Engine) -> None:
    with Session(engine) as session:
        ids = repo.insert_articles(session, [_article(1), _article(2), _article(3)])
        repo.insert_events(
            session,
            ids["https://example.com/1"],
            [
                repo.NewEvent(
                    measure="tariff_increase",
                    implementer=("US",),
                    affected=("CN",),
                    products=("steel",),
                    hs_chapters=("72",),
                    rate_from="25%",
                    rate_to="50%",
                    effective=date(2026, 3, 4),
                    summary="US → CN · tariff increase · steel · 25% → 50% · effective 2026-03-04",
                    evidence={"measure": "The US raised tariffs on Chinese steel to 50% from 25%."},
                ),
                repo.NewEvent(measure="agreement_negotiating", implementer=("US",), affected=("JP",)),
            ],
        )
        # China acts here, and a tariff increase is reported, but not a tariff increase by or on China.
        repo.insert_events(
            session,
            ids["https://example.com/2"],
            [
                repo.NewEvent(measure="export_control", implementer=("CN",)),
                repo.NewEvent(measure="tariff_increase", implementer=("CA",), affected=("MX",)),
            ],
        )
        session.commit()

    with Session(engine) as session:

        def titles(**filters: str) -> list[str]:
            return [a.title for a, _f in repo.list_articles(session, **filters)]  # type: ignore[arg-type]

        assert titles(country="CN", measure="tariff_increase") == ["Article 1"]
        assert titles(country="cn") == ["Article 2", "Article 1"]
        assert titles(affected="JP") == ["Article 1"]
        assert titles(implementer="CN") == ["Article 2"]
        assert titles(measure="tariff_increase") == ["Article 2", "Article 1"]
        assert titles(country="C") == []  # whole codes only, never a substring of one
        assert len(titles()) == 3

        stored = repo.events_for_articles(
            session, [ids["https://example.com/1"], ids["https://example.com/3"]]
        )
        assert list(stored) == [ids["https://example.com/1"]]
        first, second = stored[ids["https://example.com/1"]]
        assert first.measure == "tariff_increase"
        assert (first.implementer_codes, first.affected_codes) == (["US"], ["CN"])
        assert (first.rate_from, first.rate_to, first.effective) == ("25%", "50%", date(2026, 3, 4))
        assert first.products == ["steel"]
        assert first.hs_chapters == ["72"]
        assert first.evidence["measure"].startswith("The US raised")
        assert second.measure == "agreement_negotiating"
