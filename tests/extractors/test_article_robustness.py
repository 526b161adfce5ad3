"""Whatever bytes arrive, extract() returns an Article or raises ExtractionError: never another exception,
never an empty text. The flow relies on this to store a reason for every page instead of crashing a batch."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractors.article import Article, extract
from extractors.errors import ExtractionError

TAGS = ["p", "div", "span", "a", "article", "main", "section", "li", "ul", "h1", "br", "script", "table"]

fragments = st.one_of(
    st.text(max_size=80),
    st.sampled_from(TAGS).map(lambda tag: f"<{tag}>"),
    st.sampled_from(TAGS).map(lambda tag: f"</{tag}>"),
    st.sampled_from(
        [
            "<html>",
            "<body>",
            "<?xml version='1.0' encoding='utf-8'?>",
            "<meta charset='shift_jis'>",
            '<script type="application/ld+json">{"@type": "NewsArticle", "author": [null, 3]}</script>',
            "<!-- comment -->",
            "&#0;",
            "&#x110000;",
            "\x00",
            "<p>Exports of steel fell for a third month as tariffs took effect in the United States.</p>",
        ]
    ),
)


REASONS = {"not_html", "empty", "no_content", "paywall", "consent"}


def check(document: bytes | str) -> None:
    reason = None
    try:
        article = extract(document, url="https://example.com/a")
    except ExtractionError as error:
        reason = error.reason
    if reason is not None:
        assert reason in REASONS
    else:
        assert isinstance(article, Article)
        assert article.text.strip()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(fragments, max_size=40).map("".join))
def test_any_html_like_text_gives_an_article_or_a_classified_error(document: str) -> None:
    check(document)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_give_an_article_or_a_classified_error(document: bytes) -> None:
    check(document)


def test_deeply_nested_page() -> None:
    depth = 2000
    text = "Steel exports fell again. " * 20
    check("<html><body>" + "<div>" * depth + f"<p>{text}</p>" + "</div>" * depth + "</body></html>")
