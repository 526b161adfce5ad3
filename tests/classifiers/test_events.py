"""classifiers.events: what a trade desk reads off a story — measure, who, whom, goods, rates, dates."""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from pathlib import Path

import pytest

from classifiers.events import (
    MEASURES,
    Rate,
    TradeEvent,
    check_rule_field,
    describe,
    extract_events,
    jurisdiction_code,
)

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "demo" / "expected"
SHARED_SEED = ROOT.parent / "shared" / "seeds" / "trade-talks-japan.txt"
LABELS = tomllib.loads((SEED / "labels.toml").read_text(encoding="utf-8"))


def _one(title: str, text: str, published: date | datetime | None = None) -> TradeEvent:
    events = extract_events(title, text, published)
    assert len(events) == 1, [describe(e) for e in events]
    return events[0]


def test_the_seed_article_yields_us_japan_trade_talks_with_tariffs_among_the_subjects() -> None:
    label = LABELS["trade-talks-japan"]
    text = (SEED / "trade-talks-japan.txt").read_text(encoding="utf-8")
    (talks,) = [e for e in extract_events(label["title"], text, datetime.fromisoformat(label["published"]))]
    assert talks.measure == "agreement_negotiating"
    assert talks.implementer == ("US",)
    assert talks.affected == ("JP",)
    assert "tariffs" in talks.subjects
    assert talks.announced == date(2026, 4, 15)  # "met with Japanese officials on Wednesday"
    assert "Trade Talks with Japan" in talks.evidence["measure"]


@pytest.mark.skipif(not SHARED_SEED.exists(), reason="the shared seed copy is outside this checkout")
def test_the_seed_document_as_received_gives_the_same_event() -> None:
    title, _, body = SHARED_SEED.read_text(encoding="utf-8").partition("\n")
    events = extract_events(title, body, None)
    assert [(e.measure, e.implementer, e.affected) for e in events] == [
        ("agreement_negotiating", ("US",), ("JP",))
    ]


def test_a_duty_increase_reads_who_whom_goods_both_rates_and_the_day_it_was_announced() -> None:
    event = _one(
        "U.S. doubles anti-dumping duties on Canadian softwood lumber",
        "The U.S. Commerce Department on Monday raised anti-dumping duties on most Canadian softwood lumber "
        "imports to 17.9% from 8.99%, effective immediately.",
        date(2022, 8, 2),  # a Tuesday: "on Monday" is the day before
    )
    assert event.measure == "anti_dumping"
    assert (event.implementer, event.affected) == (("US",), ("CA",))
    assert event.products == ("softwood lumber",)
    assert event.hs_chapters == ("44",)
    assert (event.rate_from, event.rate_to) == (Rate(8.99), Rate(17.9))
    assert event.announced == date(2022, 8, 1)
    assert describe(event) == (
        "US → CA · anti-dumping duty · softwood lumber · 8.99% → 17.9% · announced 2022-08-01"
    )
    assert "17.9% from 8.99%" in event.evidence["rate"]


def test_effective_dates_are_resolved_forward_from_publication_and_only_when_stated() -> None:
    event = _one(
        "China to restrict exports of chipmaking metals",
        "China's commerce ministry said on Monday it would impose export controls on gallium and germanium "
        "from August 1 to protect national security.",
        date(2023, 7, 4),
    )
    assert event.measure == "export_control"
    assert event.implementer == ("CN",)
    assert event.effective == date(2023, 8, 1)
    assert event.announced == date(2023, 7, 3)
    undated = _one("EU imposes anti-dumping duties on Chinese steel", "They are the bloc's highest yet.")
    assert undated.announced is None
    assert undated.effective is None


def test_a_follow_up_sentence_about_the_duties_gives_the_effective_day() -> None:
    event = _one(
        "Vietnam imposes anti-dumping duties on Chinese steel",
        "Vietnam has imposed anti-dumping duties of up to 27.83% on hot-rolled steel from China, the trade "
        "ministry said on Friday. The duties will take effect from March 7.",
        date(2025, 3, 8),
    )
    assert event.effective == date(2025, 3, 7)
    assert event.rate_to == Rate(27.83)


def test_retaliation_is_told_from_the_side_that_retaliates() -> None:
    event = _one(
        "China hits back with tariffs on U.S. farm goods",
        "China said on Tuesday it would impose additional tariffs of 10% to 15% on U.S. farm products "
        "from March 10, retaliating against Washington's latest increase in levies on Chinese goods.",
        date(2025, 3, 4),
    )
    assert event.measure == "retaliation"
    assert (event.implementer, event.affected) == (("CN",), ("US",))
    assert event.rate_to == Rate(15, low=10)
    assert event.effective == date(2025, 3, 10)


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("Mavericks trade Luka Doncic to Lakers", "The Dallas Mavericks traded Luka Doncic to the Lakers."),
        ("Stocks soar as trading hits record", "Trading in tariff-sensitive stocks such as Apple was heavy."),
        ("CES trade show opens", "The CES trade show opened with Chinese and Korean electronics makers."),
        ("Boeing and union resume contract talks", "Boeing and the machinists union resumed wage talks."),
        ("Court rules in trademark dispute", "A court ruled in a trademark dispute between two chains."),
        ("Stamp duty rises in England", "Buyers in England will pay more stamp duty from April 1."),
        ("Germany cuts feed-in tariffs", "Germany will cut feed-in tariffs for rooftop solar panels."),
        ("NCAA sanctions Michigan", "The NCAA imposed sanctions on the Michigan football program."),
        ("EU agrees fishing quotas", "European Union ministers agreed to cut fishing quotas for cod."),
        ("Ofgem raises the cap", "Britain's regulator will raise electricity tariffs for households."),
    ],
)
def test_false_friends_yield_no_event(title: str, text: str) -> None:
    assert extract_events(title, text, date(2025, 1, 6)) == ()


def test_speculation_and_background_are_not_reported_as_measures() -> None:
    text = (
        "Analysts said retaliatory tariffs on European pork were likely. In previous rounds, China has "
        "restricted exports of gallium. Washington said it would not remove the tariffs on Chinese steel."
    )
    assert extract_events("Steel row deepens", text, date(2025, 1, 6)) == ()


def test_non_english_text_yields_nothing() -> None:
    text = "Die EU verhängt Antidumpingzölle auf chinesischen Stahl."
    assert extract_events("EU Zölle", text, None, language="de") == ()


def test_the_demo_trade_articles_name_their_measures() -> None:
    found = {}
    for slug in ("eu-steel-anti-dumping", "us-chip-export-controls", "us-port-fees-china-ships"):
        label = LABELS[slug]
        text = (SEED / f"{slug}.txt").read_text(encoding="utf-8")
        found[slug] = extract_events(label["title"], text, datetime.fromisoformat(label["published"]))[0]
    steel = found["eu-steel-anti-dumping"]
    assert (steel.measure, steel.implementer, steel.affected) == ("anti_dumping", ("EU",), ("CN",))
    assert steel.rate_to == Rate(38.1, low=17.4)  # the body's exact range, not the headline's "up to 38%"
    assert steel.effective == date(2026, 2, 12)  # "take effect on Thursday", published on a Wednesday
    chips = found["us-chip-export-controls"]
    assert (chips.measure, chips.implementer, chips.affected) == ("export_control", ("US",), ("CN",))
    assert "semiconductors" in chips.products
    fees = found["us-port-fees-china-ships"]
    assert (fees.measure, fees.implementer, fees.affected) == ("fee_increase", ("US",), ("CN",))


def test_rule_fields_are_checked_against_the_taxonomy_and_iso_codes() -> None:
    assert check_rule_field("measure", "export_control") is None
    assert "unknown measure 'export_contrl'" in (check_rule_field("measure", "export_contrl") or "")
    assert check_rule_field("affected", "CN") is None
    assert check_rule_field("implementer", "EU") is None
    assert "unknown country or bloc 'XX'" in (check_rule_field("affected", "XX") or "")
    assert check_rule_field("product", "steel") is None
    assert jurisdiction_code("China") == "CN"
    assert jurisdiction_code("cn") == "CN"
    assert set(MEASURES) >= {"tariff_increase", "anti_dumping", "export_control", "agreement_negotiating"}
