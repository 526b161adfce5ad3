"""Rules on trade-event fields: `affected:CN AND measure:export_control`, `implementer:EU`, `product:`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alerts.render import AlertItem, render_instant
from alerts.rules import Document, EventFacts, RuleSyntaxError, compile_rule, parse
from classifiers.events import check_rule_field

BODY = (
    "The Commerce Department broadened its export controls on advanced chips to China. "
    "Separately, the EU imposed anti-dumping duties on Chinese steel."
)
CHIPS = EventFacts(
    measure="export_control",
    implementer=("US",),
    affected=("CN",),
    products=("semiconductors", "85"),
    sentence="The Commerce Department broadened its export controls on advanced chips to China.",
    trigger="export controls",
)
STEEL = EventFacts(
    measure="anti_dumping",
    implementer=("EU",),
    affected=("CN",),
    products=("steel", "72"),
    sentence="Separately, the EU imposed anti-dumping duties on Chinese steel.",
    trigger="anti-dumping",
)


def _doc(*events: EventFacts) -> Document:
    return Document(title="Chips and steel", text=BODY, source="desk", events=events)


def test_event_terms_joined_by_and_must_hold_for_one_event() -> None:
    rule = parse("affected:CN AND measure:export_control")
    assert rule.matches(_doc(CHIPS, STEEL))
    assert not rule.matches(_doc(STEEL))  # China is affected, and there is a measure, but not this one
    only_us_steel = EventFacts("export_control", ("CN",), ("US",), sentence="x", trigger="x")
    assert not rule.matches(_doc(STEEL, only_us_steel))  # each half true of a different event


def test_implementer_product_and_country_fields() -> None:
    assert parse("implementer:EU").matches(_doc(STEEL))
    assert not parse("implementer:EU").matches(_doc(CHIPS))
    assert parse("product:steel").matches(_doc(STEEL))
    assert parse("product:semiconductor").matches(_doc(CHIPS))  # plural-insensitive like words
    assert parse("product:72").matches(_doc(STEEL))  # the HS chapter
    assert parse("country:us").matches(_doc(CHIPS))  # either side, codes case-insensitive
    assert not parse("country:JP").matches(_doc(CHIPS, STEEL))


def test_event_terms_mix_with_words_and_quote_the_sentence_of_the_event() -> None:
    match = parse('affected:CN AND measure:anti_dumping AND "Chinese steel"').match(_doc(CHIPS, STEEL))
    assert match is not None
    assert match.sentence == "Separately, the EU imposed anti-dumping duties on Chinese steel."
    event_only = parse("measure:export_control").match(_doc(CHIPS, STEEL))
    assert event_only is not None
    assert event_only.field == "body"
    assert event_only.sentence[event_only.hit_start : event_only.hit_end] == "export controls"


def test_a_document_without_events_never_matches_an_event_rule() -> None:
    assert not parse("affected:CN").matches(Document(title="China", text="China and tariffs.", source=""))


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ("affected:CN AND measure:export_contrl", 24, "unknown measure 'export_contrl'"),
        ("tariffs AND implementer:XX", 24, "unknown country or bloc 'XX'"),
        ("affected:", 9, "affected: needs a value"),
    ],
)
def test_unknown_values_are_refused_at_load_naming_the_rule_and_position(
    query: str, position: int, message: str
) -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        compile_rule("china-controls", query, check_field=check_rule_field)
    assert caught.value.rule == "china-controls"
    assert caught.value.position == position
    assert message in str(caught.value)
    assert "rule 'china-controls'" in str(caught.value)


def test_unknown_field_names_list_the_event_fields() -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse("importer:CN")
    assert "measure" in caught.value.message
    assert "affected" in caught.value.message


def test_the_alert_shows_one_escaped_line_per_event_within_the_caps() -> None:
    hostile = "US → CA · anti-dumping duty · <!channel> & <b>lumber</b> · 8.99% → 17.9% · effective 2022"
    item = AlertItem(
        title="Duties rise",
        url="https://example.com/a",
        source="desk",
        published=datetime(2022, 8, 2, tzinfo=UTC),
        trade_score=0.9,
        rules=(("lumber", None),),
        events=(hostile, *(f"US → CA · tariff increase · item {i}" for i in range(7))),
    )
    message = render_instant(item)
    assert "Event: US → CA · anti-dumping duty · <!channel> & <b>lumber</b> · 8.99%" in message.body_text
    assert "&lt;!channel&gt; &amp; &lt;b&gt;lumber&lt;/b&gt;" in message.body_markdown
    assert "<!channel>" not in message.body_markdown
    assert "&lt;b&gt;lumber&lt;/b&gt;" in message.body_html
    assert message.body_text.count("Event: ") == 5
    assert "… and 3 more events" in message.body_text
    long_item = AlertItem("t", "https://example.com/b", "", None, None, (("r", None),), events=("x" * 5000,))
    longest = max(render_instant(long_item).body_text.splitlines(), key=len)
    assert len(longest) <= 210
