"""The rule language as users write it: what matches, what must not, and errors that point at the mistake."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.rules import Document, RuleSyntaxError, compile_rule, match_all, parse

BODY = (
    "The football final drew a record crowd. A trader in Rotterdam said port volumes fell.\n\n"
    "The Product launch was delayed. Washington imposed new tariffs on Chinese steel imports, "
    "and the EU answered with anti-dumping duties on U.S. bourbon.\n\n"
    "Officials from Brazil met Japanese negotiators; talks on a trade agreement resumed in Geneva."
)
DOC = Document(title="Steel tariff dispute escalates", text=BODY, source="Reuters Trade Wire")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # whole words on Unicode word boundaries: the false positives users reported
        ("ball", False),  # football
        ("pro", False),  # Product
        ("trade", True),  # "trade agreement" (and "Trade" in the source is not searched unscoped)
        ("=trade", True),
        ("trader", True),
        ("traders", True),  # plural of a word present
        ("football", True),
        # plurals both ways, and the exact form
        ("tariff", True),  # title has "tariff", body "tariffs"
        ("=tariffs", True),
        ("duty", True),  # duties
        ("=duty", False),
        ("import", True),
        ("=import", False),
        ("volume", True),
        ("crowds", True),
        ("news", False),  # not the plural of "new"
        # case-insensitive
        ("STEEL", True),
        ("washington", True),
        # phrases (each word with plural variants)
        ('"trade agreement"', True),
        ('"trade agreements"', True),
        ('"agreement trade"', False),
        ('"chinese steel imports"', True),
        ('"=chinese =steel =import"', False),
        # punctuation inside a word makes a phrase, as in the text
        ("anti-dumping", True),
        ("u.s.", True),
        ("U.S. bourbon", True),
        # boolean logic, implicit AND
        ("steel tariffs", True),
        ("steel AND whisky", False),
        ("steel OR whisky", True),
        ("whisky OR gin", False),
        ("steel -football", False),
        ("steel NOT football", False),
        ("steel -cricket", True),
        ("steel NOT (football AND cricket)", True),  # nested NOT
        ("steel NOT (football -cricket)", False),  # football and not cricket is true -> excluded
        ("steel -(-football)", True),  # double negation
        ("(steel OR iron) (tariff OR quota) -cricket", True),
        ("cricket OR (steel -football)", False),
        # prefix wildcards
        ("negotiat*", True),
        ("rotter*", True),
        ("geneva*", True),
        ("zurich*", False),
        # NEAR: distance in words, either order
        ("tariffs NEAR/4 steel", True),  # tariffs on Chinese steel: 2 words between
        ("body:(tariffs NEAR/1 steel)", False),
        ("tariffs NEAR/1 steel", True),  # "Steel tariff" in the title
        ("steel NEAR/3 tariffs", True),
        ("football NEAR/3 tariffs", False),
        ('"trade agreement" NEAR/2 talks', True),
        ("(brazil OR chile) NEAR/3 japanese", True),
        ("(brazil OR chile) NEAR/2 geneva", False),
        ("tariff NEAR/3 steel NEAR/5 chinese", True),
        # field scopes
        ("title:dispute", True),
        ("title:football", False),
        ("source:reuters", True),
        ("reuters", False),  # unscoped terms search title and body only
        ("title:(steel tariff)", True),
        ('title:"tariff dispute"', True),
        ("body:dispute", False),
        ("source:reuters steel -title:football", True),
    ],
)
def test_rule_matches(query: str, expected: bool) -> None:
    assert parse(query).matches(DOC) is expected
    assert (parse(query).match(DOC) is not None) is expected


@pytest.mark.parametrize(
    ("query", "position", "fragment"),
    [
        ("", 0, "empty rule"),
        ("   ", 0, "empty rule"),
        ("steel OR", 8, "expected a term after OR"),
        ("OR steel", 0, "needs a term before it"),
        ("steel AND AND iron", 10, "expected a term after AND"),
        ("(steel OR iron", 0, "never closed"),
        ("steel)", 5, "without a matching"),
        ("()", 0, "empty parentheses"),
        ('"trade war', 0, "unclosed quote"),
        ('""', 0, "empty phrase"),
        ("steel or iron", 6, "looks like an operator"),
        ("steel and iron", 6, "looks like an operator"),
        ("not steel", 0, "looks like an operator"),
        ("steel NEAR iron", 6, "NEAR needs a distance"),
        ("steel NEAR/0 iron", 6, "between 1 and"),
        ("steel NEAR/500 iron", 6, "between 1 and"),
        ("steel NEAR/3", 12, "after NEAR/3"),
        ("steel NEAR/3 (iron copper)", 13, "NEAR joins"),
        ("steel NEAR/3 -iron", 13, "after NEAR/3"),
        ("tr*de", 2, "only allowed at the end"),
        ("t*", 0, "at least 2 letters"),
        ("=trade*", 0, "cannot be combined"),
        ("foo:bar", 0, "unknown field"),
        ("title:", 6, "after title:"),
        ("steel - iron", 6, "directly before"),
        ("-steel", 0, "only excludes"),
        ("NOT steel", 0, "only excludes"),
        ("steel OR -iron", 9, "only excludes"),
        ("&&", 0, "no letters or digits"),
    ],
)
def test_invalid_rule_names_the_position(query: str, position: int, fragment: str) -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse(query)
    error = caught.value
    assert (error.position, error.query) == (position, query)
    assert fragment in error.message
    # str() shows message, query and a caret under the position
    lines = str(error).splitlines()
    assert fragment in lines[0]
    assert lines[2].index("^") - 2 == position


def test_not_alone_is_refused_because_it_would_alert_on_everything() -> None:
    with pytest.raises(RuleSyntaxError, match="only excludes"):
        parse("NOT (steel OR iron) OR -copper")


def test_configured_rule_error_names_the_rule() -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        compile_rule("EU steel", "steel OR")
    assert caught.value.rule == "EU steel"
    assert str(caught.value).startswith("rule 'EU steel': expected a term after OR (at position 8)")


def test_quoted_operator_words_are_searchable() -> None:
    doc = Document("Steel or nothing", "")
    assert parse('"steel or nothing"').matches(doc)
    assert parse('steel "or"').matches(doc)


# ------------------------------------------------------------------------------------- match details


def test_match_quotes_the_first_body_sentence_with_the_hit() -> None:
    m = parse("tariff").match(DOC)
    assert m is not None
    assert m.field == "body"
    assert m.sentence == (
        "Washington imposed new tariffs on Chinese steel imports, "
        "and the EU answered with anti-dumping duties on U.S. bourbon."
    )
    assert m.sentence[m.hit_start : m.hit_end] == "tariffs"
    assert m.terms == ("tariff",)


def test_match_uses_the_title_when_only_the_title_hits() -> None:
    m = parse("dispute").match(DOC)
    assert m is not None
    assert (m.field, m.sentence, m.sentence[m.hit_start : m.hit_end]) == (
        "title",
        "Steel tariff dispute escalates",
        "dispute",
    )


def test_match_never_quotes_an_excluded_or_failed_branch() -> None:
    m = parse("(football cricket) OR bourbon -whisky").match(DOC)
    assert m is not None
    assert m.sentence[m.hit_start : m.hit_end] == "bourbon"
    assert m.terms == ("bourbon",)


def test_near_hit_spans_both_words() -> None:
    m = parse("steel NEAR/4 tariffs").match(DOC)
    assert m is not None
    assert m.sentence[m.hit_start : m.hit_end] == "tariffs on Chinese steel"
    assert m.terms == ("steel", "tariffs")


def test_sentence_is_whitespace_normalised_and_capped_around_the_hit() -> None:
    filler = " ".join(f"word{i}" for i in range(200))
    doc = Document("t", f"Start {filler}\n   embargo\t\tannounced {filler} end.")
    m = parse("embargo").match(doc)
    assert m is not None
    assert len(m.sentence) <= 310
    assert "  " not in m.sentence
    assert "\n" not in m.sentence
    assert m.sentence.startswith("…")
    assert m.sentence.endswith("…")
    assert m.sentence[m.hit_start : m.hit_end] == "embargo"
    assert "embargo announced" in m.sentence


def test_unicode_words_and_case_folding() -> None:
    doc = Document("Zölle auf Stahl", "Die Straße nach Genève: ZÖLLE steigen.")
    assert parse("zölle").matches(doc)
    assert parse("STRASSE").matches(doc)  # case folding: ß ~ ss
    assert parse("genève").matches(doc)
    assert not parse("gen").matches(doc)
    # a decomposed è (e + combining grave) in the text still matches the composed one in the rule
    assert parse("genève").matches(Document("", "Gene\u0300ve"))
    assert parse("gene\u0300ve").matches(Document("", "Genève"))


def test_trade_only_rules_skip_non_trade_articles() -> None:
    rule = compile_rule("Steel", "steel", trade_only=True)
    assert rule.match(DOC, is_trade=False) is None
    assert rule.match(DOC, is_trade=None) is None
    assert rule.match(DOC, is_trade=True) is not None


def test_match_all_returns_every_matching_rule() -> None:
    rules = [compile_rule("a", "steel"), compile_rule("b", "whisky"), compile_rule("c", "title:dispute")]
    assert [r.name for r, _ in match_all(rules, DOC)] == ["a", "c"]


# ----------------------------------------------------------------------------------------- property

_ATOMS = st.sampled_from(
    [
        "steel",
        "tariff*",
        '"trade war"',
        "=duty",
        "AND",
        "OR",
        "NOT",
        "-",
        "(",
        ")",
        "NEAR/3",
        "title:",
        "source:",
        '"',
        "*",
        "=",
        "or",
        "x",
        "ü",
        ":",
        "NEAR",
        "-steel",
        "\t",
        "\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.lists(_ATOMS, max_size=12).map(" ".join)))
def test_random_queries_parse_or_fail_with_a_position(query: str) -> None:
    error: RuleSyntaxError | None = None
    try:
        q = parse(query)
    except RuleSyntaxError as exc:  # any other exception type fails the test
        error = exc
    if error is not None:
        assert 0 <= error.position <= len(query)
        assert error.message
        assert error.query == query
        return
    # A query that parses can be evaluated, and a match always points inside its sentence.
    m = q.match(DOC)
    if m is not None:
        assert 0 <= m.hit_start < m.hit_end <= len(m.sentence)


def test_syntax_error_survives_pickling() -> None:
    """Prefect pickles the exception of a failed run; the rule and position must come through."""
    import pickle

    with pytest.raises(RuleSyntaxError) as caught:
        compile_rule("EU steel", "steel OR")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (copy.rule, copy.position, copy.message, str(copy)) == (
        "EU steel",
        8,
        caught.value.message,
        str(caught.value),
    )


# --------------------------------------------------------------------------------- hostile rules, texts


def _pair_spans(query: str, words: list[str]) -> list[tuple[int, int]]:
    """The reference meaning of NEAR, written the obvious (quadratic) way: every (left, right) pair of
    spans at most n words apart, nested left to right. Only for tiny texts; the rule engine must agree."""
    import re as _re

    parts = _re.split(r" NEAR/(\d+) ", query)
    spans = [(i, i + 1) for i, w in enumerate(words) if w == parts[0]]
    for distance, word in zip(parts[1::2], parts[2::2], strict=True):
        right = [(i, i + 1) for i, w in enumerate(words) if w == word]
        spans = sorted(
            {
                (min(s1, s2), max(e1, e2))
                for s1, e1 in spans
                for s2, e2 in right
                if (s2 - e1 if s2 >= e1 else s1 - e2) <= int(distance) and (s2, e2) != (s1, e1)
            }
        )
    return spans


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(["aa", "bb", "cc", "dd"]), max_size=40),
    st.lists(st.tuples(st.integers(1, 4), st.sampled_from(["aa", "bb", "cc"])), min_size=1, max_size=3),
    st.sampled_from(["aa", "bb", "cc"]),
)
def test_near_matches_exactly_when_some_pair_is_near_enough(
    words: list[str], chain: list[tuple[int, str]], first: str
) -> None:
    """NEAR no longer builds every pair (issue 16: 15.9 s and ~1 GB on a 1.5 MB text); it must still
    match exactly the texts the all-pairs definition matches, nested NEARs included."""
    query = first + "".join(f" NEAR/{n} {w}" for n, w in chain)
    doc = Document(title="", text=" ".join(words))
    assert parse(query).matches(doc) == bool(_pair_spans(query, words)), (query, words)
    m = parse(query).match(doc)
    if m is not None:  # the quoted hit is a real pair: both ends are words of the rule
        hit = m.sentence[m.hit_start : m.hit_end].split()
        assert hit[0] in {first, *(w for _n, w in chain)}
        assert hit[-1] in {first, *(w for _n, w in chain)}
        assert len(hit) <= 2 + sum(n for n, _w in chain) * 2


def test_a_nested_near_quotes_a_real_match_not_the_union_of_its_left_side() -> None:
    """Found by the property test above: the quote was the tightest pair with the inner NEAR's *union*,
    9 words where the longest real match of this chain is 7; now the tightest real match is quoted."""
    words = ["bb", "bb", "bb", "bb", "aa", "aa", "bb", "aa", "bb"]
    query = "aa NEAR/1 bb NEAR/1 bb NEAR/1 aa"
    m = parse(query).match(Document(title="", text=" ".join(words)))
    assert m is not None
    hit = m.sentence[m.hit_start : m.hit_end].split()
    assert len(hit) <= 2 + 3 * 2
    tight = parse("tariff NEAR/2 china NEAR/2 steel").match(
        Document("", "tariff x x china " + "y " * 30 + "steel tariff china steel")
    )
    assert tight is not None
    assert tight.sentence[tight.hit_start : tight.hit_end] == "steel tariff china"


def test_near_yields_at_most_one_span_per_occurrence_however_dense_the_text() -> None:
    """The work NEAR does is bounded by the occurrences, not their pairs: a text that is nothing but the
    two words gives one span per left occurrence (the old engine built ~200 per occurrence here)."""
    from alerts.rules import prepare

    text = "tariff china " * 5000
    near = parse("tariff NEAR/100 china")._root
    spans = near.spans(prepare(Document("", text)).fields["body"])  # type: ignore[attr-defined]
    assert len(spans) == 5000
    m = parse("tariff NEAR/100 china").match(Document("", text))
    assert m is not None
    assert m.sentence[m.hit_start : m.hit_end] == "tariff china"


@pytest.mark.parametrize(
    "query",
    [
        "(" * 200 + "tariff" + ")" * 200,
        "NOT " * 200 + "x tariff",
        "-" * 200 + "x tariff",
        " NEAR/2 ".join(["tariff"] * 200),
        "title:(" * 100 + "tariff" + ")" * 100,
    ],
    ids=["parentheses", "not", "dashes", "near-chain", "scopes"],
)
def test_a_rule_nested_too_deep_is_a_positioned_syntax_error(query: str) -> None:
    """200 nested parentheses crashed `config check` and `rules test` with a RecursionError."""
    from alerts.rules import MAX_DEPTH

    with pytest.raises(RuleSyntaxError) as caught:
        parse(query)
    assert f"more than {MAX_DEPTH} levels deep" in caught.value.message
    assert 0 < caught.value.position < len(query)


def test_a_rule_at_the_depth_limit_still_works() -> None:
    from alerts.rules import MAX_DEPTH

    query = "(" * MAX_DEPTH + "steel" + ")" * MAX_DEPTH
    assert parse(query).matches(DOC)
