"""Alert messages as readers see them: stranger-supplied fields escaped per format, rules listed, digests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from alerts.render import (
    SLACK_SECTION_CHARS,
    TITLE_CAP,
    AlertItem,
    digest_parts,
    render_digest,
    render_instant,
)
from alerts.rules import Document, Match, parse

HOSTILE_TITLE = "Tariffs <script>alert('x')</script> & <!channel> | <@U1> > end"


def _match(title: str, body: str, query: str) -> Match:
    m = parse(query).match(Document(title, body))
    assert m is not None
    return m


def _item(
    *,
    title: str = "EU raises steel tariffs",
    url: str = "https://news.example.com/steel?id=7",
    source: str = "Wire",
    rules: tuple[tuple[str, Match | None], ...] | None = None,
    published: datetime | None = datetime(2026, 5, 6, 7, 8, tzinfo=UTC),
    trade_score: float | None = 0.8,
) -> AlertItem:
    if rules is None:
        rules = (("Steel", _match(title, "Brussels raised duties on steel.", "steel")),)
    return AlertItem(title, url, source, published, trade_score, rules)


def test_instant_message_has_link_source_time_rule_sentence_and_score() -> None:
    msg = render_instant(_item())

    assert msg.title == "[tradewatch: Steel] EU raises steel tariffs"
    assert msg.body_text == (
        "EU raises steel tariffs\n"
        "https://news.example.com/steel?id=7\n"
        "Wire · 2026-05-06 07:08 UTC · trade score 0.80\n"
        "Rule: Steel\n"
        "Steel: Brussels raised duties on *steel*.\n"
    )
    assert '<a href="https://news.example.com/steel?id=7">EU raises steel tariffs</a>' in msg.body_html
    assert "Brussels raised duties on <mark><strong>steel</strong></mark>." in msg.body_html
    assert msg.body_markdown == (
        "<https://news.example.com/steel?id=7|EU raises steel tariffs>\n"
        "Wire · 2026-05-06 07:08 UTC · trade score 0.80\n"
        "Rule: Steel\n"
        "*Steel*: Brussels raised duties on *steel*."
    )


def test_hostile_title_is_escaped_in_html_and_slack() -> None:
    m = _match(HOSTILE_TITLE, "", "tariffs")
    msg = render_instant(_item(title=HOSTILE_TITLE, source="<img src=x onerror=alert(1)>", rules=(("T", m),)))

    assert "<script>" not in msg.body_html
    assert "<img" not in msg.body_html
    assert (
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;!channel&gt; | &lt;@U1&gt; &gt; end"
        in (msg.body_html)
    )
    assert "&lt;img src=x onerror=alert(1)&gt;" in msg.body_html
    # Slack: no raw < or > except our own link brackets, so no <!channel> ping and no injected link
    link = "<https://news.example.com/steel?id=7|"
    assert msg.body_markdown.startswith(link)
    rest = msg.body_markdown[len(link) :]
    first_line, others = rest.split("\n", 1)
    assert (
        first_line
        == "Tariffs &lt;script&gt;alert('x')&lt;/script&gt; &amp; &lt;!channel&gt; | &lt;@U1&gt; &gt; end>"
    )
    assert "<" not in others
    assert ">" not in others
    # the subject is plain text: not escaped, but one line
    assert msg.title == "[tradewatch: T] " + HOSTILE_TITLE


def test_url_with_pipe_and_angle_bracket_cannot_break_the_slack_link() -> None:
    msg = render_instant(_item(url="https://x.example/a?b=1&c=|evil>|<x>"))
    first = msg.body_markdown.splitlines()[0]
    assert first == "<https://x.example/a?b=1&amp;c=%7Cevil%3E%7C%3Cx%3E|EU raises steel tariffs>"
    assert 'href="https://x.example/a?b=1&amp;c=|evil&gt;|&lt;x&gt;"' in msg.body_html


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<b>x</b>", "/relative/path", "http:///x"],
)
def test_non_http_urls_are_shown_as_text_never_linked(url: str) -> None:
    msg = render_instant(_item(url=url))
    assert "href" not in msg.body_html
    assert "<a " not in msg.body_html
    assert not msg.body_markdown.startswith("<")
    assert "|" not in msg.body_markdown.splitlines()[0]


def test_control_and_bidi_characters_are_removed_and_newlines_flattened() -> None:
    title = "Steel\r\nBcc: victim@example.com\x00\x1b[31m \u202eevil\u202c\u200b\ufeff\U000e0041 tariffs"
    msg = render_instant(_item(title=title, source="Feed\x07\nName"))
    assert msg.title == "[tradewatch: Steel] Steel Bcc: victim@example.com[31m evil tariffs"
    for body in (msg.body_text, msg.body_html, msg.body_markdown):
        assert "\x00" not in body
        assert "\x1b" not in body
        assert not set(body) & set("\u202e\u200b\ufeff\U000e0041")
        assert "Feed Name" in body
        assert "\r" not in body


def test_subject_is_length_capped() -> None:
    msg = render_instant(_item(title="tariff " * 100))
    assert len(msg.title) <= TITLE_CAP
    assert msg.title.endswith("…")


def test_several_rules_for_one_article_make_one_message_listing_each() -> None:
    title = "Steel and aluminium tariffs"
    body = "Quotas on aluminium imports were tightened. New steel duties followed."
    rules = (
        ("Aluminium", _match(title, body, "aluminium")),
        ("Steel duties", _match(title, body, "steel NEAR/2 duties")),
        ("Watchlist", None),
    )
    msg = render_instant(_item(title=title, rules=rules))

    assert msg.title == "[tradewatch: Aluminium, Steel duties, Watchlist] Steel and aluminium tariffs"
    lines = msg.body_text.splitlines()
    assert lines[3:] == [
        "Rules: Aluminium, Steel duties, Watchlist",
        "Aluminium: Quotas on *aluminium* imports were tightened.",
        "Steel duties: New *steel duties* followed.",
        "Watchlist",
    ]
    assert msg.body_html.count("<mark>") == 2


def test_title_only_match_says_where_it_matched() -> None:
    m = _match("Steel tariffs", "Nothing relevant.", "title:steel")
    msg = render_instant(_item(title="Steel tariffs", rules=(("S", m),)))
    assert "S (in title): *Steel* tariffs" in msg.body_text


def test_published_time_is_shown_in_utc_and_missing_parts_are_omitted() -> None:
    tz = timezone(timedelta(hours=2))
    msg = render_instant(_item(published=datetime(2026, 5, 6, 9, 8, tzinfo=tz), trade_score=None, source=""))
    assert msg.body_text.splitlines()[2] == "2026-05-06 07:08 UTC"
    none = render_instant(_item(published=None, trade_score=None, source=""))
    assert none.body_text.splitlines()[2] == "Rule: Steel"


def test_digest_groups_articles_by_rule() -> None:
    a_title, a_body = "Steel tariffs rise", "Duties on steel rose."
    b_title, b_body = "Rice quota cut", "The rice quota was cut."
    a = _item(
        title=a_title,
        url="https://x.example/a",
        rules=(("Steel", _match(a_title, a_body, "steel")), ("Tariffs", _match(a_title, a_body, "tariff"))),
    )
    b = _item(title=b_title, url="https://x.example/b", rules=(("Quotas", _match(b_title, b_body, "quota")),))
    c = _item(title="Steel <b>again</b>", url="https://x.example/c", rules=(("Steel", None),))

    msg = render_digest("2026-05-06 morning", [a, b, c])

    assert msg.title == "[tradewatch digest] 2026-05-06 morning: 3 articles, 3 rules"
    text = msg.body_text
    assert text.index("Steel (2)") < text.index("Tariffs (1)") < text.index("Quotas (1)")
    steel_section = text[text.index("Steel (2)") : text.index("Tariffs (1)")]
    assert "Steel tariffs rise https://x.example/a" in steel_section
    assert "Steel <b>again</b> https://x.example/c" in steel_section
    assert "Duties on *steel* rose." in steel_section
    quota_section = text[text.index("Quotas (1)") :]
    assert "The rice *quota* was cut." in quota_section
    assert "Steel &lt;b&gt;again&lt;/b&gt;" in msg.body_html
    assert "<b>again" not in msg.body_html
    assert "<https://x.example/c|Steel &lt;b&gt;again&lt;/b&gt;>" in msg.body_markdown


def test_a_noisy_rule_s_digest_lists_every_article() -> None:
    """No "… and 5 more": an article left out of its digest is an alert lost."""
    items = [_item(title=f"Steel item {i}", url=f"https://x.example/{i}") for i in range(55)]
    msg = render_digest("today", items)
    assert "Steel (55)" in msg.body_text
    assert msg.body_text.count("• ") == 55
    assert "more" not in msg.body_text


def test_empty_digest_says_so() -> None:
    msg = render_digest("today", [])
    assert "No new matching articles." in msg.body_text
    assert msg.title == "[tradewatch digest] today: 0 articles, 0 rules"


# ------------------------------------------------------------------------------------ channel limits


def _rules(count: int) -> tuple[tuple[str, Match | None], ...]:
    """``count`` rules, each matching its own ~300-character sentence of one article."""
    body = " ".join(
        f"Officials said tariff{n} " + "rose again and again " * 14 + "today." for n in range(count)
    )
    return tuple((f"rule number {n} with a long name", _match("t", body, f"tariff{n}")) for n in range(count))


def test_a_5500_character_title_fits_slack_with_its_link_whole() -> None:
    msg = render_instant(_item(title="Tariffs " * 690, url="https://news.example.com/a?id=1"))
    assert len(msg.body_markdown) <= SLACK_SECTION_CHARS
    headline = msg.body_markdown.splitlines()[0]
    assert headline.startswith("<https://news.example.com/a?id=1|Tariffs Tariffs")
    assert headline.endswith("…>")
    assert len(msg.title) <= TITLE_CAP


def test_an_article_matching_13_rules_fits_slack_and_names_every_rule() -> None:
    item = _item(title="Tariffs everywhere", rules=_rules(13))
    msg = render_instant(item)
    assert len(msg.body_text) > SLACK_SECTION_CHARS  # every sentence does not fit in 3,000...
    assert len(msg.body_markdown) <= SLACK_SECTION_CHARS  # ...the Slack text does
    rules_line = msg.body_markdown.splitlines()[2]
    assert all(f"rule number {n} with a long name" in rules_line for n in range(13))
    assert "more matched sentences, not shown here" in msg.body_markdown
    assert msg.body_markdown.startswith("<https://news.example.com/steel?id=7|Tariffs everywhere>")


def test_a_digest_is_split_into_parts_that_each_fit_slack_and_keep_every_article() -> None:
    items = [
        _item(
            title=f"Ordinary tariffs story {i} " + "with a longish headline " * 4,
            url=f"https://x.example/{i}",
            rules=_rules(2),
        )
        for i in range(10)
    ]
    assert len(render_digest("today", items).body_text) > SLACK_SECTION_CHARS
    parts = digest_parts(items)
    assert len(parts) > 1
    assert [item for part in parts for item in part] == items  # each article once, in order
    for part in parts:
        markdown = render_digest("today (part 1 of 9)", part).body_markdown
        assert len(markdown) <= SLACK_SECTION_CHARS
        for item in part:  # fitted by splitting, not by cutting: every article of the part is there
            assert markdown.count(f"<{item.url}|") == 2  # once under each of its two rules


def test_an_article_too_big_for_any_part_is_alone_and_cut_to_fit() -> None:
    big = _item(title="Huge", url="https://x.example/huge", rules=_rules(40))
    small = _item(title="Small", url="https://x.example/small")
    parts = digest_parts([small, big, small])
    assert parts == [[small], [big], [small]]
    markdown = render_digest("today", [big]).body_markdown
    assert len(markdown) <= SLACK_SECTION_CHARS
    assert "<https://x.example/huge|Huge>" in markdown


def test_cutting_never_splits_a_link_or_an_entity() -> None:
    from alerts.render import fit_slack

    text = "a" * 2990 + " <https://x.example/long-link|label> &amp; more"
    for limit in range(2985, 3010):
        cut = fit_slack(text, limit)
        assert len(cut) <= limit
        assert cut.count("<") == cut.count(">")
        assert not cut.rstrip("…").endswith(("&", "&a", "&am", "&amp"))


def test_trade_score_quotes_the_classifier_evidence_escaped_and_capped() -> None:
    item = AlertItem(
        "EU raises steel tariffs",
        "https://news.example.com/steel?id=7",
        "Wire",
        None,
        0.91,
        (("Steel", None),),
        evidence=("tariffs in headline", "<b>duties</b> in lede", "steel in body", "quota in body"),
    )
    msg = render_instant(item)

    assert "trade score 0.91 (tariffs in headline, <b>duties</b> in lede, steel in body)\n" in msg.body_text
    assert "quota" not in msg.body_text, "three reasons at most: the line stays one line"
    assert "&lt;b&gt;duties&lt;/b&gt; in lede" in msg.body_html
    assert "<b>duties" not in msg.body_markdown


def test_evidence_lines_rank_positive_reasons_and_skip_malformed_rows() -> None:
    from alerts.render import evidence_lines

    stored = [
        {"phrase": "tariffs", "field": "title", "weight": 2.0, "count": 1},
        {"phrase": "football", "field": "body", "weight": -1.5, "count": 3},  # against trade: not a reason
        {"phrase": "duties", "field": "body", "weight": 0.5, "count": 6},
        {"phrase": "tariffs", "field": "body", "weight": 0.4, "count": 1},  # weaker repeat of a phrase
        {"phrase": "quota", "field": "lede", "weight": 1.0},
        "not an item",
        {"phrase": 7, "weight": 1.0},
    ]
    assert evidence_lines(stored) == ("duties in body", "tariffs in headline", "quota in lede")
    assert evidence_lines([]) == ()
