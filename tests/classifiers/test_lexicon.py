"""The lexicon file format and matcher: what people who edit the lexicon rely on."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from classifiers.lexicon import LexiconError, load_lexicon, parse_lexicon, tokenize
from classifiers.trade import LexiconClassifier

SCORING = {
    "title_weight": 2.0,
    "lede_weight": 1.0,
    "lede_tokens": 40,
    "threshold": 4.0,
    "title_threshold": 4.0,
    "scale": 1.0,
    "focus_tokens": 100,
    "focus_floor": 0.4,
    "deep_cap": 100.0,
    "combination_window": 12,
}


def lexicon(
    *concepts: dict[str, object], combinations: tuple[dict[str, object], ...] = ()
) -> LexiconClassifier:
    raw = {
        "version": "test.1",
        "scoring": SCORING,
        "concept": list(concepts),
        "combination": list(combinations),
    }
    return LexiconClassifier(parse_lexicon(raw, "test.toml"))


def names(classifier: LexiconClassifier, text: str) -> dict[str, int]:
    counts, _ = classifier.lexicon.count(text)
    return {classifier.lexicon.concepts[i].name: n for i, n in counts.items()}


def test_shipped_lexicon_loads_and_is_versioned() -> None:
    shipped = load_lexicon()
    assert shipped.version
    assert {"tariffs", "trade talks", "export controls", "WTO and GATT"} <= {c.name for c in shipped.concepts}
    assert any(c.weight < 0 for c in shipped.concepts)


def test_tokens_ignore_case_and_keep_hyphenated_compounds() -> None:
    assert tokenize("U.S.-Japan ANTI-DUMPING talks, Japan's") == [
        "u",
        "s",
        "japan",
        "anti-dumping",
        "talks",
        "japan",
        "s",
    ]


def test_longest_term_wins_and_consumes_its_words() -> None:
    c = lexicon(
        {"name": "word", "weight": 1.0, "terms": ["trade"]},
        {"name": "fair", "weight": -3.0, "terms": ["trade fair"]},
    )
    assert names(c, "The trade fair opened; trade rose.") == {"fair": 1, "word": 1}


def test_phrases_match_by_every_word_wherever_they_fall() -> None:
    """A phrase is tried only where its second word follows (the matcher's shortcut): a wildcard second
    word, a phrase cut off by the end of the text and a wildcard phrase start must all still behave."""
    c = lexicon(
        {"name": "word", "weight": 1.0, "terms": ["trade"]},
        {"name": "war", "weight": 3.0, "terms": ["trade war", "trade war escalat*"]},
        {"name": "retaliation", "weight": 3.0, "terms": ["retaliatory tariff*"]},
        {"name": "expo", "weight": -3.0, "terms": ["export* fair"]},
    )
    assert names(c, "A trade war escalating, then a trade war.") == {"war": 2}
    assert names(c, "retaliatory tariffs and a retaliatory stance") == {"retaliation": 1}
    assert names(c, "the exporters fair; exporters") == {"expo": 1}
    assert names(c, "it ended in trade") == {"word": 1}


def test_wildcards_hyphen_variants_and_exact_forms() -> None:
    c = lexicon(
        {"name": "tariffs", "weight": 3.0, "terms": ["tariff*"]},
        {"name": "dumping", "weight": 3.0, "terms": ["anti-dumping"]},
        {"name": "trade-in", "weight": -3.0, "terms": ["=trade-in"]},
    )
    assert names(c, "Tariffs and tariff-free quotas") == {"tariffs": 2}
    assert names(c, "anti dumping and ANTI-DUMPING") == {"dumping": 2}
    assert names(c, "a trade-in offer") == {"trade-in": 1}
    assert names(c, "trade in goods") == {}


def test_needs_and_combinations_apply_only_together() -> None:
    c = lexicon(
        {"name": "dumping", "weight": 2.0, "terms": ["dumping"], "needs": ["imports"]},
        {"name": "imports", "weight": 1.0, "terms": ["imports"]},
        combinations=({"name": "both", "concepts": ["dumping", "imports"], "weight": 1.5},),
    )
    alone = c.classify("", "Illegal dumping of waste in the river.")
    together = c.classify("", "Dumping of cheap imports.")
    assert [e.phrase for e in alone.evidence] == []
    assert {e.phrase for e in together.evidence} == {"dumping", "imports", "both"}


def test_unless_lifts_a_concept_when_a_named_concept_or_combination_occurs() -> None:
    c = lexicon(
        {"name": "grain", "weight": -1.0, "terms": ["wheat"], "unless": ["tariffs", "ban + exports"]},
        {"name": "tariffs", "weight": 3.0, "terms": ["tariffs"]},
        {"name": "ban", "weight": 0.5, "terms": ["bans"]},
        {"name": "exports", "weight": 0.5, "terms": ["exports"]},
        combinations=({"name": "ban + exports", "concepts": ["ban", "exports"], "weight": 2.0, "window": 2},),
    )

    def phrases(text: str) -> set[str]:
        return {e.phrase for e in c.classify("", text).evidence}

    assert "grain" in phrases("Wheat prices rose.")
    assert "grain" not in phrases("Wheat tariffs rose.")
    assert "grain" not in phrases("India bans wheat exports.")
    assert "grain" in phrases("India bans smoking. Wheat exports rose.")


def test_a_combination_falls_with_a_concept_that_unless_lifts() -> None:
    """A penalty's combination ("coffee" beside "exports") is lifted together with the penalty."""
    c = lexicon(
        {"name": "commodity", "weight": -0.5, "terms": ["coffee"], "unless": ["ban + exports"]},
        {"name": "exports", "weight": 0.5, "terms": ["exports"]},
        {"name": "ban", "weight": 0.5, "terms": ["bans"]},
        combinations=(
            {"name": "coffee + exports", "concepts": ["commodity", "exports"], "weight": -2.0, "window": 2},
            {"name": "ban + exports", "concepts": ["ban", "exports"], "weight": 2.0, "window": 3},
        ),
    )

    def phrases(text: str) -> set[str]:
        return {e.phrase for e in c.classify("", text).evidence}

    assert {"commodity", "coffee + exports"} <= phrases("Thai coffee exports rose.")
    lifted = phrases("Uganda bans coffee exports.")
    assert "ban + exports" in lifted
    assert not {"commodity", "coffee + exports"} & lifted


def test_a_combination_counts_where_its_concepts_stand_within_its_window() -> None:
    c = lexicon(
        {"name": "ban", "weight": 0.5, "terms": ["bans"]},
        {"name": "exports", "weight": 0.5, "terms": ["exports"]},
        combinations=({"name": "both", "concepts": ["ban", "exports"], "weight": 2.0, "window": 3},),
    )
    near = c.classify("", "India bans rice exports.")
    far = c.classify("", "India bans smoking in public places; its exports rose.")
    assert ("both", "lede") in {(e.phrase, e.field) for e in near.evidence}
    assert "both" not in {e.phrase for e in far.evidence}


def test_lede_evidence_keeps_its_weight_and_deep_body_evidence_fades_with_length() -> None:
    c = lexicon({"name": "tariffs", "weight": 3.0, "terms": ["tariffs"]})
    lede = "New tariffs announced. "
    deep = "word " * 60 + "Tariffs were also mentioned. "
    short = c.classify("", deep + "word " * 30)
    long = c.classify("", lede + deep + "word " * 400)
    very_long = c.classify("", lede + deep + "word " * 5000)
    assert {(e.field, e.weight) for e in short.evidence} == {("body", 3.0)}
    for verdict in (long, very_long):
        assert ("lede", 3.0) in {(e.field, e.weight) for e in verdict.evidence}
    deep_long = next(e.weight for e in long.evidence if e.field == "body")
    deep_very_long = next(e.weight for e in very_long.evidence if e.field == "body")
    assert 3.0 * 0.4 < deep_long < 3.0
    assert deep_very_long == pytest.approx(3.0 * 0.4, abs=1e-3)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"version": "x", "concept": []}, "scoring"),
        (
            {"version": "x", "scoring": SCORING, "concept": [{"name": "a", "terms": ["b"]}]},
            "needs name, weight",
        ),
        (
            {"version": "x", "scoring": SCORING, "concept": [{"name": "a", "weight": 1, "terms": ["ab*"]}]},
            "wildcard needs 4",
        ),
        (
            {
                "version": "x",
                "scoring": SCORING,
                "concept": [
                    {"name": "a", "weight": 1, "terms": ["x"]},
                    {"name": "b", "weight": 1, "terms": ["x"]},
                ],
            },
            "already belongs",
        ),
        (
            {
                "version": "x",
                "scoring": SCORING,
                "concept": [{"name": "a", "weight": 1, "terms": ["x"], "needs": ["z"]}],
            },
            "needs unknown",
        ),
        (
            {
                "version": "x",
                "scoring": SCORING,
                "concept": [{"name": "a", "weight": 1, "terms": ["x"], "unless": ["z"]}],
            },
            "unless names unknown",
        ),
        (
            {
                "version": "x",
                "scoring": SCORING,
                "concept": [{"name": "a", "weight": 1, "terms": ["x"]}],
                "combination": [{"name": "c", "concepts": ["a", "a", "a"], "weight": 1}],
            },
            "pairs exactly two",
        ),
    ],
)
def test_mistakes_in_a_lexicon_file_are_reported(raw: dict[str, object], message: str) -> None:
    with pytest.raises(LexiconError, match=message) as caught:
        parse_lexicon(raw, "mine.toml")
    assert str(caught.value).startswith("mine.toml: ")


def test_a_custom_lexicon_file_can_be_loaded(tmp_path: Path) -> None:
    path = tmp_path / "lex.toml"
    shipped = (
        Path(__file__).resolve().parents[2] / "classifiers" / "data" / "trade_lexicon.toml"
    ).read_text()
    path.write_text(shipped.replace('version = "', 'version = "custom-'), encoding="utf-8")
    assert load_lexicon(path).version.startswith("custom-")
    assert tomllib.loads(shipped)["version"] == load_lexicon().version
    path.write_text("not = [toml", encoding="utf-8")
    with pytest.raises(LexiconError, match="not valid TOML"):
        load_lexicon(path)
