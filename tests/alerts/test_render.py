"""Alert messages as readers see them: stranger-supplied fields escaped per format, rules listed, digests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from alerts.render import DIGEST_ITEMS_PER_RULE, TITLE_CAP, AlertItem, render_digest, render_instant
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
    title = "Steel\r\nBcc: victim@example.com\x00\x1b[31m \u202eevil\u202c tariffs"
    msg = render_instant(_item(title=title, source="Feed\x07\nName"))
    assert msg.title == "[tradewatch: Steel] Steel Bcc: victim@example.com[31m evil tariffs"
    for body in (msg.body_text, msg.body_html, msg.body_markdown):
        assert "\x00" not in body
        assert "\x1b" not in body
        assert "\u202e" not in body
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


def test_digest_caps_a_noisy_rule() -> None:
    items = [
        _item(title=f"Steel item {i}", url=f"https://x.example/{i}") for i in range(DIGEST_ITEMS_PER_RULE + 5)
    ]
    msg = render_digest("today", items)
    assert f"Steel ({DIGEST_ITEMS_PER_RULE + 5})" in msg.body_text
    assert "… and 5 more" in msg.body_text
    assert msg.body_text.count("• ") == DIGEST_ITEMS_PER_RULE


def test_empty_digest_says_so() -> None:
    msg = render_digest("today", [])
    assert "No new matching articles." in msg.body_text
    assert msg.title == "[tradewatch digest] today: 0 articles, 0 rules"
