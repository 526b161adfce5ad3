"""extract() never returns an empty article: each failure raises ExtractionError with a classified reason."""

from __future__ import annotations

import pytest

from extractors.article import extract
from extractors.errors import ExtractionError

URL = "https://news.example/a/1"
NAV = "<nav><a href='/'>Home</a> <a href='/world'>World</a> <a href='/business'>Business</a></nav>"
TEASER = "<p>The commerce ministry is preparing new rules on rare-earth exports, three officials said.</p>"


def reason(document: bytes | str) -> str:
    with pytest.raises(ExtractionError) as caught:
        extract(document, url=URL)
    error = caught.value
    assert error.stage == "extract"
    assert error.url == URL
    assert error.transient is False  # re-fetching the same bytes cannot help
    return error.reason


@pytest.mark.parametrize("document", [b"", "   \n\t ", b"\xef\xbb\xbf"])
def test_empty_documents(document: bytes | str) -> None:
    assert reason(document) == "empty"


@pytest.mark.parametrize(
    "document",
    [
        b'{"title": "not a page", "items": [1, 2, 3]}',
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\x00\x00",
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed</title></channel></rss>',
        b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"></feed>',
        "Just a plain sentence with no markup at all, the way a text/plain answer looks.",
    ],
    ids=["json", "pdf", "rss", "atom", "plain-text"],
)
def test_documents_that_are_not_html(document: bytes | str) -> None:
    assert reason(document) == "not_html"


def test_page_with_only_navigation_has_no_content() -> None:
    html = f"<html><head><title>Home</title></head><body>{NAV}<footer>© 2026</footer></body></html>"
    assert reason(html) == "no_content"


def test_paywall_stub_is_refused_as_paywall() -> None:
    html = (
        f"<html><body>{NAV}<article><h1>Rare earths</h1>"
        "<p>Subscribe now to continue reading.</p></article></body></html>"
    )
    assert reason(html) == "paywall"


def test_json_ld_not_free_with_a_stub_is_a_paywall() -> None:
    html = (
        '<html><head><script type="application/ld+json">{"@type":"NewsArticle","headline":"Rare earths",'
        '"isAccessibleForFree":false}</script></head>'
        f"<body>{NAV}<article>{TEASER}</article></body></html>"
    )
    assert reason(html) == "paywall"


def test_consent_wall_is_refused_as_consent() -> None:
    html = (
        "<html><body><div class='consent'><h2>Before you continue</h2>"
        "<p>We and our partners use cookies and data to deliver and maintain our services.</p>"
        "<button>Accept all</button><button>Reject all</button></div></body></html>"
    )
    assert reason(html) == "consent"


def test_long_teaser_before_a_paywall_is_kept() -> None:
    # News sites show the first paragraphs before the wall; they carry the facts an alert needs.
    paragraphs = "".join(
        f"<p>Paragraph {n} of the story about export licences for rare-earth magnets, with details on "
        "volumes and the ministry's timetable for the new rules.</p>"
        for n in range(4)
    )
    stub = "<p>Subscribe now to continue reading.</p>"
    html = f"<html><body>{NAV}<article>{paragraphs}{stub}</article></body></html>"
    article = extract(html, url=URL)
    assert article.text.startswith("Paragraph 0 of the story")
    assert "Subscribe" not in article.text


def test_a_cookie_banner_does_not_make_a_real_article_a_consent_wall() -> None:
    paragraphs = "".join(
        f"<p>Paragraph {n}: the port authority said container volumes rose 4% in May, led by exports.</p>"
        for n in range(3)
    )
    html = (
        f"<html><body>{NAV}<article>{paragraphs}</article>"
        "<div class='cookie'>We use cookies to improve your experience. <button>Accept</button></div>"
        "</body></html>"
    )
    assert "container volumes" in extract(html, url=URL).text


def test_leading_whitespace_before_the_markup_is_not_an_empty_document() -> None:
    body = "".join(f"<p>Paragraph {n}: tariffs on steel rose again, the ministry said.</p>" for n in range(3))
    article = extract(" \n" * 5000 + f"<html><body><article>{body}</article></body></html>", url=URL)
    assert article.text.startswith("Paragraph 0:")
