"""Whatever bytes arrive, extract() returns an Article or raises ExtractionError: never another exception,
never an empty text. The flow relies on this to store a reason for every page instead of crashing a batch."""

from __future__ import annotations

import pytest
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


REASONS = {"not_html", "empty", "no_content", "paywall", "consent", "too_complex"}


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


STORY = "".join(
    f"<p>Paragraph {n}: the ministry said soybean shipments to China rose in the second quarter, helped by "
    "lower freight costs and a weaker dollar.</p>"
    for n in range(6)
)
EXPECTED = "\n\n".join(
    f"Paragraph {n}: the ministry said soybean shipments to China rose in the second quarter, helped by "
    "lower freight costs and a weaker dollar."
    for n in range(6)
)


def story_page(after: str) -> str:
    return (
        "<html><head><title>Soybean shipments rise</title></head><body>"
        f"<article><h1>Soybean shipments rise</h1>{STORY}</article>{after}</body></html>"
    )


def test_an_article_followed_by_thousands_of_tag_links_keeps_its_body() -> None:
    # Each link's block text was rebuilt once per link: 3,000 tags took 14 s before the article came out.
    tags = "".join(f"<a href='/tag/{n}'>tag number {n} of the site</a> " for n in range(3000))
    assert extract(story_page(f"<div class='tags'>{tags}</div>")).text == EXPECTED


def test_a_block_of_thousands_of_long_links_is_not_the_body() -> None:
    # 5,000 headline links in one block: the largest block of the page, and what came out as its "body"
    # (after 149 s of CPU). Link text is not running text, and a list of links is never a credible body.
    headline = "Another long headline about markets and trade, with its dek and section name"
    links = "".join(f"<a href='/s/{n}'>{headline} {n}</a> " for n in range(5000))
    assert extract(story_page(f"<div>{links}</div>")).text == EXPECTED


@pytest.mark.parametrize(
    "flood",
    [
        "<article>" + "".join(f"<p>x{n}</p>" for n in range(25_000)) + "</article>",
        "<div>" + "<span>w</span>" * 25_000 + "</div>",
    ],
    ids=["tiny-paragraphs", "tiny-spans"],
)
def test_an_absurd_number_of_elements_fails_as_too_complex(flood: str) -> None:
    # 100,000 one-word paragraphs held trafilatura for 58 s; no article has more than a few thousand elements.
    with pytest.raises(ExtractionError) as caught:
        extract(f"<html><body>{flood}</body></html>", url="https://example.com/flood")
    assert caught.value.reason == "too_complex"
    assert caught.value.url == "https://example.com/flood"
    assert "elements" in caught.value.message
