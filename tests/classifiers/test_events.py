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
SHARED_SEED = ROOT / "seeds" / "trade-talks-japan.txt"  # the design document, as received
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


@pytest.mark.parametrize(
    "sentence",
    [
        "Ottawa will levy a 25% surtax on Chinese-made steel wire from Nov. 3.",
        "Washington said it would put a 10% import surcharge on Chinese-made steel wire from Nov. 3.",
    ],
)
def test_surtaxes_and_surcharges_are_tariffs(sentence: str) -> None:
    event = _one("Steel wire", sentence, date(2025, 10, 20))
    assert event.measure == "tariff_increase"
    assert event.affected == ("CN",)
    assert event.rate_to == Rate(25) or event.rate_to == Rate(10)
    assert event.effective == date(2025, 11, 3)


def test_an_institution_after_a_country_name_belongs_to_that_country() -> None:
    for text, code in (
        ("Chile's Congress on Tuesday approved tariffs of 30% on steel bars from China.", "CL"),
        ("The Peruvian Senate approved tariffs of 30% on steel bars from China.", "PE"),
    ):
        event = _one("Steel bars", text, date(2025, 6, 4))
        assert (event.implementer, event.affected) == ((code,), ("CN",)), text
    plain = _one("Steel bars", "Congress approved tariffs of 30% on steel bars from China.", date(2025, 6, 4))
    assert plain.implementer == ("US",)  # unqualified, Congress is still the American one


def test_a_bloc_and_its_aliases_are_parties_and_the_bloc_is_the_last_one_named() -> None:
    event = _one(
        "Chile and Gulf states seal trade pact",
        "Chile and the six-member Gulf Cooperation Council signed a free trade agreement on Thursday. "
        "The bloc's secretary-general called it a milestone.",
        date(2025, 5, 9),
    )
    assert (event.measure, event.implementer, event.affected) == ("agreement_signed", ("CL",), ("GCC",))
    talks = _one(
        "Mercosur presses on",
        "Mercosur opened trade talks with Canada on Monday. The bloc has no deal with North America yet.",
        date(2025, 5, 9),
    )
    assert talks.implementer == ("MERCOSUR",)
    assert "EU" not in talks.affected + talks.implementer  # "the bloc" after Mercosur is Mercosur
    for name, code in (("the Eurasian Economic Union", "EAEU"), ("EFTA", "EFTA"), ("the CPTPP", "CPTPP")):
        deal = _one("Deal", f"Ecuador signed a trade agreement with {name} on Monday.", date(2025, 5, 9))
        assert deal.affected == (code,), name


def test_two_sides_measures_in_one_sentence_are_two_events() -> None:
    events = extract_events(
        "Truce",
        "Japan will cut its tariff on Australian beef to 9% from 18%, while Australia will remove its duty "
        "on Japanese cars from April 1, officials said on Monday.",
        date(2025, 3, 4),
    )
    assert [(e.measure, e.implementer, e.affected) for e in events] == [
        ("tariff_decrease", ("JP",), ("AU",)),
        ("tariff_decrease", ("AU",), ("JP",)),
    ]
    assert events[0].rate_to == Rate(9)
    assert events[1].effective == date(2025, 4, 1)
    assert events[0].announced == events[1].announced == date(2025, 3, 3)


def test_anti_dumping_and_countervailing_duties_named_together_are_two_events() -> None:
    events = extract_events(
        "Duties on tyres",
        "Australia imposed anti-dumping and countervailing duties on passenger tyres from Thailand.",
        date(2025, 3, 4),
    )
    assert {e.measure for e in events} == {"anti_dumping", "countervailing_duty"}
    assert all((e.implementer, e.affected) == (("AU",), ("TH",)) for e in events)


def test_a_dateline_gives_neither_the_date_nor_a_party() -> None:
    event = _one(
        "Tariff on tiles",
        "GENEVA, Switzerland, May 7 (Reuters) - Egypt will raise its tariff on ceramic tiles to 40%.",
        date(2025, 5, 7),
    )
    assert event.implementer == ("EG",)
    assert event.announced is None
    assert event.affected == ()


def test_a_date_after_said_is_when_it_was_said_even_after_effective_immediately() -> None:
    event = _one(
        "Tariff on tiles",
        "Egypt raised its tariff on ceramic tiles to 40% with immediate effect, the ministry said in a "
        "decree on Sunday.",
        date(2025, 5, 7),
    )
    assert event.announced == date(2025, 5, 4)
    assert event.effective is None


@pytest.mark.parametrize(
    "text",
    [
        "Peru imposed safeguard duties on Chinese garlic in March, officials recalled.",
        "Peru had imposed safeguard duties on Chinese garlic before the talks began.",
        "Exports of garlic rose, even as Peru imposed safeguard duties on Chinese garlic.",
        "Peru denied it would impose safeguard duties on Chinese garlic.",
        "Peru threatened to impose safeguard duties on Chinese garlic if talks fail.",
        "Peru will hold off on imposing safeguard duties on Chinese garlic.",
        "Peru's Congress approved a bill that would allow safeguard duties on Chinese garlic.",
        "Garlic sales to Mexico have halved since the tariffs, an importer said.",
    ],
)
def test_background_threats_denials_and_enabling_laws_report_no_measure(text: str) -> None:
    assert extract_events("Garlic", text, date(2025, 6, 4)) == ()


def test_a_clause_after_the_measure_that_gives_its_setting_names_no_party() -> None:
    event = _one(
        "Thailand cuts tariffs",
        "Thailand cut tariffs on Indian pulses on Monday, amid talks with Washington over U.S. tariffs.",
        date(2025, 6, 4),
    )
    assert (event.implementer, event.affected) == (("TH",), ("IN",))


def test_an_export_levy_is_an_export_restriction_and_amounts_read_in_any_currency() -> None:
    levy = _one(
        "Export levy",
        "Malaysia will raise its export levy on crude palm oil to $200 a tonne from $150 a tonne.",
        date(2025, 6, 4),
    )
    assert levy.measure == "export_control"
    assert (levy.rate_from, levy.rate_to) == (Rate(150, unit="USD/tonne"), Rate(200, unit="USD/tonne"))
    fee = _one("Port fees", "Beijing will charge port fees of 300 yuan per net ton on US-built ships.", None)
    assert fee.rate_to == Rate(300, unit="CNY/net ton")
    zero = _one("Duty", "India raised the duty on lentils to 10% from zero.", None)
    assert (zero.rate_from, zero.rate_to) == (Rate(0), Rate(10))
    points = _one("Duty", "Ghana raised tariffs on rice by an additional 5 percentage points.", None)
    assert points.rate_to == Rate(5)


def test_retaliation_needs_a_trade_word() -> None:
    text = "Israel's army fired rockets at Lebanon in retaliation for the attack."
    assert extract_events("Strikes", text, date(2025, 6, 4)) == ()


def test_the_bans_of_a_sanctions_package_are_the_package() -> None:
    event = _one(
        "Sanctions",
        "Canada imposed new sanctions on Belarus on Friday. The package bans imports of Belarusian potash "
        "and exports of machine tools.",
        date(2025, 6, 6),
    )
    assert (event.measure, event.implementer, event.affected) == ("sanctions", ("CA",), ("BY",))
    assert "fertiliser" in event.products


def test_later_sentences_give_the_day_it_takes_effect_and_the_goods_it_covers() -> None:
    event = _one(
        "Korea raises tariffs on Chinese steel",
        "South Korea raised tariffs on Chinese steel on Monday. The ministry said the increases, most of "
        "which take effect on July 1, were needed. Products on the list include rebar and tyres.",
        date(2025, 6, 4),
    )
    assert event.effective == date(2025, 7, 1)
    assert "tyres" in event.products


def test_the_lead_completes_the_headline_in_other_words() -> None:
    event = _one(
        "Brazil imposes anti-dumping duties on Chinese tyres",
        "Brazilian importers of Chinese tyres will have to pay deposits of up to 21% from Oct. 2, the "
        "foreign trade committee said on Friday.",
        date(2025, 9, 27),
    )
    assert event.rate_to == Rate(21)
    assert event.effective == date(2025, 10, 2)
    assert event.announced == date(2025, 9, 26)


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


def test_the_version_stored_with_events_is_the_data_version_read_without_compiling_the_patterns() -> None:
    """The run's process stores events found in the workers and asks only for the version: compiling
    every pattern there cost over a second of each run's CPU."""
    from classifiers import events

    events._data.cache_clear()
    events.version.cache_clear()
    stored = events.version()
    assert events._data.cache_info().currsize == 0, "version() compiled the patterns"
    assert stored == events._data().version


# Salience: which sentences of an article may produce an event. Each rule has its negative (context told in
# passing, no event) and its positive twin (the same measure told as news, still an event).


def test_a_measure_dated_in_the_past_by_its_participle_is_background_even_in_a_forward_sentence() -> None:
    background = (
        "Britain's steelmakers will get relief from the 25% duties Washington imposed in March, "
        "officials said.",
        "The EU's 31% retaliatory tariffs on American motorcycles, in place since 2018, have cost "
        "Harley-Davidson $100 million, the company said on Tuesday.",
    )
    for text in background:
        assert extract_events("Steel and bikes", text, date(2025, 6, 4)) == (), text
    news = _one(
        "Duties",
        "Washington will impose 25% duties on British steel from July 1, officials said.",
        date(2025, 6, 4),
    )
    assert (news.implementer, news.affected, news.rate_to) == (("US",), ("GB",), Rate(25))
    assert news.effective == date(2025, 7, 1)


def test_a_measure_already_in_force_is_the_setting_of_the_news_not_the_news() -> None:
    background = (
        "Washington has already raised tariffs on Chinese goods to 145%, and exports fell 34%.",
        "Vietnamese shrimp exporters have faced U.S. anti-dumping duties of up to 25.76%.",
        "The EU currently charges a 10% tariff on imported American cars.",
    )
    for text in background:
        assert extract_events("Exports", text, date(2025, 6, 4)) == (), text
    text = "Washington raised tariffs on Chinese goods to 145% on Wednesday."
    news = _one("Exports", text, date(2025, 4, 10))
    assert (news.measure, news.rate_to, news.announced) == ("tariff_increase", Rate(145), date(2025, 4, 9))


def test_a_vow_of_unnamed_countermeasures_is_no_event_until_it_names_a_rate_or_goods() -> None:
    vows = (
        "China's commerce ministry said on Tuesday it would take necessary countermeasures to safeguard "
        "the rights of Chinese firms.",
        "China vowed on Thursday to take resolute measures in response to the new U.S. tariffs.",
        "China will take countermeasures against the United States' latest tariff move, a spokesman said.",
    )
    for text in vows:
        assert extract_events("China responds", text, date(2025, 6, 4)) == (), text
    news = _one(
        "China responds",
        "China vowed on Thursday to retaliate with 15% tariffs on U.S. coal from Feb. 10.",
        date(2025, 2, 6),
    )
    assert (news.measure, news.implementer, news.affected) == ("retaliation", ("CN",), ("US",))
    assert (news.rate_to, news.products) == (Rate(15), ("coal",))


def test_a_threat_on_a_condition_is_no_event() -> None:
    text = "Trump said on Monday he would impose 50% tariffs on European goods if the bloc kept its tax."
    assert extract_events("Threat", text, date(2025, 6, 4)) == ()
    text = "Trump said on Monday he would impose 50% tariffs on European goods."
    news = _one("Tariffs", text, date(2025, 6, 4))
    assert (news.implementer, news.affected, news.rate_to) == (("US",), ("EU",), Rate(50))


def test_an_investigation_told_in_a_relative_clause_is_an_aside() -> None:
    events = extract_events(
        "EU imposes duties on Chinese electric vehicles",
        "The European Union on Tuesday imposed countervailing duties of up to 35.3% on electric vehicles "
        "made in China. Beijing, which has also opened an anti-dumping investigation into EU pork, said it "
        "would respond.",
        date(2024, 10, 30),
    )
    assert [e.measure for e in events] == ["countervailing_duty"]
    news = extract_events(
        "EU imposes duties on Chinese electric vehicles",
        "The European Union on Tuesday imposed countervailing duties of up to 35.3% on electric vehicles "
        "made in China. Beijing has also opened an anti-dumping investigation into EU pork, it said.",
        date(2024, 10, 30),
    )
    assert [(e.measure, e.implementer) for e in news] == [
        ("countervailing_duty", ("EU",)),
        ("anti_dumping", ("CN",)),
    ]


def test_the_rate_and_party_of_a_comparison_are_not_the_measures() -> None:
    event = _one(
        "US sets 39% tariff on Swiss goods",
        "The United States will impose a 39% tariff on Swiss goods from Aug. 7, far higher than the 15% "
        "rate agreed with the European Union.",
        date(2025, 8, 1),
    )
    assert (event.implementer, event.affected, event.rate_to) == (("US",), ("CH",), Rate(39))
    twin = _one(
        "Tariff",
        "The United States will impose a 15% tariff on goods from the European Union from Aug. 7.",
        date(2025, 8, 1),
    )
    assert (twin.affected, twin.rate_to) == (("EU",), Rate(15))


def test_a_rate_after_a_duty_and_of_is_read_and_a_hyphenated_adjective_still_continues_the_measure() -> None:
    event = _one(
        "India sets duties on solar glass",
        "Separately, India on Monday imposed anti-dumping duties of 30% on Chinese solar glass. The "
        "five-year duties, which follow a provisional levy set in March, will apply from Tuesday.",
        date(2025, 6, 3),
    )
    assert (event.implementer, event.affected, event.rate_to) == (("IN",), ("CN",), Rate(30))
    assert event.effective == date(2025, 6, 3)


def test_hypotheses_forecasts_and_requests_are_no_decision() -> None:
    context = (
        "A 25% U.S. tariff on European cars would cost German carmakers $5 billion a year, the Ifo "
        "institute estimated on Monday.",
        "Economists expect the United States to impose tariffs of 25% on Mexican goods next month.",
        "China's duties on EVs would rise to 48% under the plan.",
        "A 25% U.S. tariff on European cars would cost German carmakers $5 billion, the institute said.",
        "EU ministers are expected to approve duties of up to 35% on Chinese electric vehicles on Friday.",
        "British steelmakers on Monday asked the government to impose safeguard duties on Chinese steel.",
    )
    for text in context:
        assert extract_events("Tariffs", text, date(2025, 6, 4)) == (), text
    decided = (
        "The U.S. said a 25% tariff on European cars would take effect on July 1.",
        "The EU imposed duties of up to 35% on Chinese electric vehicles; they are expected to take effect "
        "on Friday.",
        "Britain on Monday imposed safeguard duties on Chinese steel.",
        "China's duties on EVs would rise to 48% under the plan, the ministry said on Wednesday.",
    )
    for text in decided:
        assert len(extract_events("Tariffs", text, date(2025, 6, 4))) == 1, text


def test_a_duty_stacked_under_the_new_one_gives_neither_its_rate_nor_its_goods() -> None:
    event = _one(
        "EU imposes duties on Chinese EVs",
        "The EU imposed duties of up to 35.3% on Chinese electric vehicles on Tuesday. The duties come on "
        "top of the standard 10% import duty on cars.",
        date(2024, 10, 30),
    )
    assert (event.rate_to, event.products) == (Rate(35.3), ("electric vehicles",))


def test_a_rate_after_from_is_not_a_future_that_revives_a_dated_background() -> None:
    text = (
        "Washington cut its tariffs on Chinese goods to 30% from 145% in May, while Beijing cut its levies "
        "to 10%."
    )
    assert extract_events("Truce holds", text, date(2025, 8, 12)) == ()
    text = "Washington will cut its tariffs on Chinese goods to 30% from 145%."
    news = _one("Truce", text, date(2025, 5, 12))
    assert (news.rate_from, news.rate_to) == (Rate(145), Rate(30))


def test_a_measure_first_told_deep_in_the_body_needs_its_own_actor_and_a_rate_date_or_goods() -> None:
    lead = (
        "BRUSSELS (Reuters) - The EU imposed final anti-dumping duties of up to 35.6% on Chinese biodiesel "
        "on Friday. Biodiesel makers welcomed the decision. "
    )
    title = "EU sets final duties on Chinese biodiesel"
    passing = lead + "Officials said the Commission has opened an anti-subsidy case on Chinese titanium."
    assert [e.measure for e in extract_events(title, passing, date(2025, 6, 6))] == ["anti_dumping"]
    separately = lead + "Separately, India on Thursday imposed countervailing duties on Chinese solar glass."
    events = extract_events(title, separately, date(2025, 6, 6))
    assert [(e.measure, e.implementer, e.announced) for e in events] == [
        ("anti_dumping", ("EU",), date(2025, 6, 6)),
        ("countervailing_duty", ("IN",), date(2025, 6, 5)),
    ]


def test_a_country_hit_with_or_facing_a_measure_is_affected_in_a_headline() -> None:
    event = _one(
        "Switzerland hit with 39% US tariff",
        "The United States will impose a 39% tariff on Swiss goods from Aug. 7.",
        date(2025, 8, 1),
    )
    assert (event.implementer, event.affected) == (("US",), ("CH",))
    twin = _one("Canada hits US with 25% tariffs", "Canada will impose 25% tariffs on U.S. goods.", None)
    assert (twin.implementer, twin.affected) == (("CA",), ("US",))


def test_more_than_an_amount_is_no_comparison_and_a_stacked_duty_does_not_date_the_new_one() -> None:
    event = _one(
        "US raises tariffs",
        "The United States on Tuesday raised tariffs on more than $300 billion of Chinese goods to 25%.",
        date(2025, 6, 4),
    )
    assert (event.affected, event.rate_to) == (("CN",), Rate(25))
    stacked = _one(
        "US adds 10% tariff",
        "The United States will impose an additional 10% tariff on Chinese goods from March 4, on top of "
        "the 10% levy imposed in February.",
        date(2025, 3, 3),
    )
    assert (stacked.affected, stacked.rate_to, stacked.effective) == (("CN",), Rate(10), date(2025, 3, 4))


def test_a_measure_told_as_the_cause_of_an_outcome_or_as_a_war_is_the_setting() -> None:
    setting = (
        "Toyota said its quarterly profit fell 37%, hurt by U.S. tariffs of 15% on Japanese cars.",
        "Shares of Volvo fell 4% on Monday on fears of new U.S. tariffs on European cars.",
        "The U.S.-China tariff war has cost American soybean farmers billions of dollars.",
        "U.S. tariffs will cut global growth to 2.3% this year, a Reuters poll of economists found.",
    )
    for text in setting:
        assert extract_events("Markets", text, date(2025, 6, 4)) == (), text
    news = _one(
        "Tariffs",
        "The United States on Thursday imposed tariffs of 15% on Japanese cars, hurting Toyota's profit.",
        date(2025, 6, 6),
    )
    assert (news.implementer, news.affected, news.rate_to) == (("US",), ("JP",), Rate(15))
    cut = _one("Tariff cuts", "Japan announced tariff cuts on U.S. rice on Monday.", date(2025, 6, 4))
    assert cut.measure == "tariff_decrease"
    for text in (  # after the measure the same words give its reason: still news
        "The EU imposed duties on Chinese steel on Tuesday due to concerns over a surge in imports.",
        "The EU cut tariffs on U.S. lobster on Monday in hopes of easing tensions.",
    ):
        assert len(extract_events("Tariffs", text, date(2025, 6, 4))) == 1, text


def test_a_measure_dated_months_before_publication_is_the_stories_setting() -> None:
    text = (
        "Trump's sweeping reciprocal tariffs, announced on April 2, wiped $5 trillion off U.S. stocks "
        "in two days."
    )
    assert extract_events("Stocks", text, date(2025, 6, 4)) == ()
    news = _one("Stocks", text, date(2025, 4, 4))
    assert (news.implementer, news.announced) == (("US",), date(2025, 4, 2))


def test_a_later_sentence_gives_no_rate_or_party_from_its_comparison() -> None:
    event = _one(
        "EU imposes anti-dumping duties on Chinese steel",
        "The EU on Monday imposed anti-dumping duties on Chinese steel. The duties take effect on Friday, "
        "far above the 10% Japan pays.",
        date(2025, 6, 4),
    )
    assert (event.affected, event.rate_to, event.effective) == (("CN",), None, date(2025, 6, 6))
    twin = _one(
        "EU imposes anti-dumping duties on Chinese steel",
        "The EU on Monday imposed anti-dumping duties on Chinese steel. The duties of 10% take effect on "
        "Friday.",
        date(2025, 6, 4),
    )
    assert (twin.affected, twin.rate_to) == (("CN",), Rate(10))


def test_a_participle_dates_an_older_rate_or_an_aside_not_the_news_that_looks_ahead() -> None:
    doubled = _one(
        "Trump doubles steel tariffs",
        "President Donald Trump on Tuesday doubled tariffs on imported steel to 50%, from the 25% he imposed "
        "in March, effective Wednesday.",
        date(2025, 6, 3),
    )
    assert (doubled.rate_from, doubled.rate_to) == (Rate(25), Rate(50))
    assert (doubled.announced, doubled.effective) == (date(2025, 6, 3), date(2025, 6, 4))
    extended = _one(
        "Vietnam extends safeguard",
        "Vietnam will extend a safeguard duty of 10% on Chinese steel billets, in place since 2016, for "
        "three more years from March 22, the trade ministry said on Monday.",
        date(2025, 3, 10),
    )
    assert (extended.measure, extended.rate_to, extended.effective) == (
        "safeguard",
        Rate(10),
        date(2025, 3, 22),
    )


def test_duties_confirmed_or_finalised_are_imposed() -> None:
    for title in ("EU confirms duties on Chinese EVs", "EU finalises tariffs on Chinese EVs"):
        event = _one(title, "", date(2024, 10, 30))
        assert (event.measure, event.implementer, event.affected) == ("tariff_increase", ("EU",), ("CN",))


def test_a_deep_definite_reference_to_tariffs_adds_to_a_tariff_event_and_invents_none() -> None:
    lead = (
        "Brazil has requested consultations with the United States at the WTO over the tariffs Washington "
        "imposed on Brazilian goods, the foreign ministry said on Monday. Brazil's exporters welcomed it. "
    )
    events = extract_events(
        "Brazil files WTO challenge to US tariffs",
        lead + "Brazil's government said the levies, which took effect on Aug. 6, violate WTO rules.",
        date(2025, 8, 11),
    )
    assert [e.measure for e in events] == ["dispute_filed"]
    told = extract_events(
        "US imposes 50% tariffs on Brazilian goods",
        "The United States imposed 50% tariffs on Brazilian goods on Monday. Brazil's exporters protested. "
        "Officials said the levies would take effect on Aug. 6.",
        date(2025, 7, 31),
    )
    assert [(e.measure, e.effective) for e in told] == [("tariff_increase", date(2025, 8, 6))]


def test_tariff_statistics_and_a_retrospective_are_no_measure() -> None:
    context = (
        "The average effective U.S. tariff rate rose to 18.6% this year, the Yale Budget Lab said on Monday.",
        "U.S. customs duties collected in July rose to a record $29.6 billion, the Treasury said on Tuesday.",
        "A year ago, Trump imposed 25% tariffs on imports from Canada and Mexico, starting a trade war.",
    )
    for text in context:
        assert extract_events("Tariffs", text, date(2025, 8, 12)) == (), text
    news = _one(
        "Tariffs",
        "Trump imposed 25% tariffs on imports from Canada and Mexico, starting on Tuesday.",
        date(2025, 3, 4),
    )
    assert (news.affected, news.rate_to, news.effective) == (("CA", "MX"), Rate(25), date(2025, 3, 4))


def test_separately_opens_news_of_its_own_and_a_tariff_with_its_own_rate_stays_apart() -> None:
    events = extract_events(
        "Britain and India sign trade pact",
        "Britain and India signed a free trade agreement on Thursday. Under the pact, India will cut its "
        "tariff on whisky to 75% from 150%. Separately, India on Wednesday cut the customs duty on "
        "pistachios to 10% from 30% for imports from all countries.",
        date(2025, 7, 24),
    )
    assert [(e.measure, e.implementer, e.rate_to) for e in events] == [
        ("agreement_signed", ("GB",), Rate(75)),
        ("tariff_decrease", ("IN",), Rate(10)),
    ]
    two = extract_events(
        "Canada shields steelmakers",
        "Canada will impose tariff-rate quotas on steel imports, with a 50% surtax on volumes above the "
        "quota from Monday, Carney said on Friday. Ottawa will also apply a 25% surtax from July 31 on "
        "steel imports containing Chinese steel.",
        date(2025, 6, 28),
    )
    assert [(e.measure, e.rate_to) for e in two] == [("quota", Rate(50)), ("tariff_increase", Rate(25))]


def test_the_detail_of_a_retaliation_and_a_headlines_rounded_rate_join_the_event() -> None:
    event = _one(
        "India imposes retaliatory tariffs on 28 U.S. goods",
        "India raised tariffs on 28 U.S. products from Sunday, retaliating against Washington. India's "
        "exporters cheered. The finance ministry said in a notification on Saturday that the duty on walnuts "
        "would rise to 120% from 30%.",
        date(2019, 6, 16),
    )
    assert (event.measure, event.rate_from, event.rate_to) == ("retaliation", Rate(30), Rate(120))
    assert event.announced == date(2019, 6, 15)
    rounded = _one(
        "US imposes 17% duty on Mexican tomatoes",
        "The United States on Monday began collecting a 17.09% anti-dumping duty on tomatoes from Mexico.",
        date(2025, 7, 15),
    )
    assert (rounded.measure, rounded.rate_to) == ("anti_dumping", Rate(17.09))


def test_a_clause_giving_findings_or_whom_it_hits_names_no_party() -> None:
    event = _one(
        "U.S. sets duties on solar imports",
        "The U.S. on Tuesday set countervailing duties of up to 292.61% on solar panels from Cambodia and "
        "Vietnam, finding that manufacturers there, many of them Chinese-owned, had benefited from "
        "subsidies.",
        date(2024, 10, 2),
    )
    assert event.affected == ("KH", "VN")
    cars = _one(
        "U.S. car tariffs take effect",
        "A 25% U.S. tariff on imported cars took effect on Thursday, hitting European, Japanese and South "
        "Korean automakers.",
        date(2025, 4, 3),
    )
    assert (cars.implementer, cars.affected, cars.rate_to) == (("US",), (), Rate(25))


def test_a_measure_in_force_since_a_day_a_rate_equivalent_to_a_tariff_and_a_condition_once_are_context() -> (
    None
):
    context = (
        "Washington has applied a 50% tariff on Canadian steel since June 4.",
        "Japan levies 341 yen per kilogram on rice, a charge equivalent to a tariff of roughly 778%.",
    )
    for text in context:
        assert extract_events("Steel", text, date(2025, 6, 28)) == (), text
    deal = _one(
        "U.S., Japan sign trade deal",
        "The United States and Japan signed a trade agreement on Monday. The deal is expected to take effect "
        "on Jan. 1 once Japan's parliament approves it.",
        date(2019, 10, 8),
    )
    assert (deal.announced, deal.effective) == (date(2019, 10, 7), None)
    news = _one(
        "Steel", "Washington will apply a 50% tariff on Canadian steel from June 4.", date(2025, 6, 2)
    )
    assert (news.rate_to, news.effective) == (Rate(50), date(2025, 6, 4))


def test_an_expired_measure_an_explainers_undated_survey_and_answered_goods_are_context() -> None:
    expired = (
        "The safeguard tariffs on washing machines that President Donald Trump imposed in 2018 expired this "
        "month without an extension request."
    )
    assert extract_events("Washer prices ease", expired, date(2023, 2, 28)) == ()
    survey = "Chinese carmakers face barriers abroad. Turkey added a 40% levy of its own on Chinese cars."
    assert extract_events("Explainer: how tariffs on Chinese cars compare", survey, date(2025, 6, 25)) == ()
    news = _one("Turkey adds levy", "Turkey added a 40% levy on Chinese cars on Saturday.", date(2024, 6, 8))
    assert (news.implementer, news.rate_to) == (("TR",), Rate(40))
    retaliation = _one(
        "EU hits back",
        "EU states on Wednesday approved countermeasures against U.S. steel and aluminium tariffs: 25% "
        "duties on American soybeans and motorcycles.",
        date(2025, 4, 10),
    )
    assert retaliation.products == ("soybeans", "motorcycles")


def test_a_measure_and_the_retaliation_against_it_in_one_sentence_are_two_events() -> None:
    events = extract_events(
        "U.S.-China trade war erupts",
        "The United States imposed 25% tariffs on $34 billion of Chinese goods on Friday, and China quickly "
        "retaliated with tariffs of the same size on American soybeans.",
        date(2018, 7, 6),
    )
    assert [(e.measure, e.implementer, e.affected) for e in events] == [
        ("tariff_increase", ("US",), ("CN",)),
        ("retaliation", ("CN",), ("US",)),
    ]


def test_a_ban_said_to_be_sanctions_is_the_sanctions_event_and_a_war_is_a_topic() -> None:
    event = _one(
        "Biden bans Russian oil imports in new sanctions over Ukraine war",
        "President Joe Biden on Tuesday banned imports of Russian oil into the United States, the latest in "
        "a series of sanctions.",
        date(2022, 3, 9),
    )
    assert (event.measure, event.implementer, event.affected) == ("sanctions", ("US",), ("RU",))
    ban = _one("Ban", "China on Tuesday banned imports of Japanese seafood.", date(2023, 8, 25))
    assert (ban.measure, ban.affected) == ("import_ban", ("JP",))
