"""Turn an article page's HTML into an Article: clean body text plus title, author, date, language, URL.

    article = extract(page_bytes, url="https://example.com/news/1")

The page is decoded and parsed once; metadata is read from the intact tree, then the body stages
(``extractors._article_body``) work on the same tree. Failure is an ``ExtractionError`` whose ``reason`` is
one of ``not_html``, ``empty``, ``no_content``, ``paywall``, ``consent``, ``too_complex`` -- never ``None``,
so the flow can store why a page yielded nothing.

Pure and thread-safe: no network, no global mutable state (data files are loaded once, read-only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from lxml import etree
from lxml import html as lxml_html
from trafilatura.utils import load_html

from extractors._article_body import extract_body
from extractors._article_choice import Evidence
from extractors._article_data import wall_stubs
from extractors._article_meta import extract_metadata
from extractors.encoding import decode_html
from extractors.errors import ExtractionError
from extractors.language import detect_language

__all__ = ["Article", "extract"]

# Below this many characters the extracted text is a sentence or two: too little to classify or quote. When
# such a page shows a paywall or consent stub, the stub is what we got, and the page is refused with that
# reason. A longer teaser before a paywall (news sites show the first paragraphs) is kept: it carries the
# headline facts, and the reference data of the Zyte benchmark counts such teasers as the article body.
WALL_MAX_CHARS = 200

# Bytes inspected to decide whether a document is HTML at all (tags appear in the first lines of any page).
SNIFF_CHARS = 4096

_HTML_TAG = re.compile(
    r"<\s*(?:!doctype\s+html|html|head|body|title|meta|div|p|article|main|span|br|h1)\b", re.IGNORECASE
)
_FEED_OR_XML_ROOT = re.compile(
    r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<\s*(?:rss|feed|rdf:RDF)\b", re.IGNORECASE | re.DOTALL
)
_WORDS = re.compile(r"\w+")
_DROP_FOR_VISIBLE = ("script", "style", "noscript", "template")


@dataclass(frozen=True, kw_only=True)
class Article:
    """One extracted article. ``text`` holds paragraphs separated by blank lines and is never empty."""

    title: str | None
    author: str | None
    published: datetime | None  # timezone-aware; UTC assumed when the page gives no offset
    language: str | None  # ISO 639-1, e.g. "en": guessed from the text, else as the page declares it
    canonical_url: str | None
    url: str | None  # the URL the caller fetched the page from
    text: str


def _check_is_html(text: str, url: str | None) -> None:
    head = text[:SNIFF_CHARS]
    if not head:
        raise ExtractionError("empty", url, "the document is empty")
    if "\x00" in head:
        raise ExtractionError("not_html", url, "the document is binary, not HTML")
    if _FEED_OR_XML_ROOT.match(head):
        raise ExtractionError("not_html", url, "the document is an RSS/Atom feed, not an HTML page")
    if not _HTML_TAG.search(text[: SNIFF_CHARS * 4]):
        raise ExtractionError("not_html", url, "the document has no HTML markup")


def _parse(text: str, url: str | None) -> lxml_html.HtmlElement:
    """Parse the way trafilatura does (comments and processing instructions dropped, faulty HTML repaired),
    so every stage sees the tree trafilatura was calibrated on."""
    try:
        tree = load_html(text)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError("not_html", url, f"the document cannot be parsed as HTML: {exc}") from exc
    if not isinstance(tree, lxml_html.HtmlElement):
        raise ExtractionError("not_html", url, "the document does not parse as an HTML page")
    return tree


def _visible_text(tree: lxml_html.HtmlElement) -> str:
    """The page's visible text (scripts and styles excluded), for recognising wall stubs."""
    body = tree.find("body")
    if body is None:
        return ""
    parts = [
        text
        for element in body.iter()
        if element.tag not in _DROP_FOR_VISIBLE and isinstance(element.tag, str)
        for text in (element.text, element.tail)
        if text and text.strip()
    ]
    return " ".join(parts)


def _same_words(a: str, b: str) -> bool:
    return _WORDS.findall(a.lower()) == _WORDS.findall(b.lower())


def _wall_reason(body: str, tree: lxml_html.HtmlElement, paywalled: bool) -> str | None:
    """Why a short extraction is short: a paywall or consent stub on the page, or None when no wall shows."""
    if len(body) >= WALL_MAX_CHARS:
        return None
    stubs = wall_stubs()
    visible = _visible_text(tree)  # only for short pages: it walks the whole tree
    if paywalled or stubs.paywall.search(visible):
        return "paywall"
    if stubs.consent.search(visible):
        return "consent"
    return None


def extract(
    html: bytes | str,
    url: str | None = None,
    *,
    charset: str | None = None,
    entry_title: str | None = None,
    entry_summary: str | None = None,
) -> Article:
    """Extract the article in an HTML page; raise ``ExtractionError`` with a classified reason when none.

    ``url`` is the address the page was fetched from: it resolves a relative canonical link and selects the
    per-site rules in ``extractors/data/site_rules.toml``. ``charset`` is the one the HTTP Content-Type
    header declared, for bytes: it outranks a ``<meta charset>`` (see ``extractors.encoding``).
    ``entry_title`` and ``entry_summary`` are what the feed said about the article before the page was
    fetched: a candidate body that shares nothing with them while another does is not chosen.
    """
    text = (decode_html(html, charset) if isinstance(html, bytes) else html).lstrip()
    _check_is_html(text, url)
    tree = _parse(text, url)
    metadata = extract_metadata(tree, url)
    evidence = Evidence.of([entry_title, entry_summary, metadata.title, metadata.description])
    paragraphs = extract_body(tree, url, evidence)
    if paragraphs and any(_same_words(paragraphs[0], headline) for headline in metadata.headlines):
        paragraphs = paragraphs[1:]  # the headline is stored as the title; repeating it skews quotes
    body = "\n\n".join(paragraphs)

    reason = _wall_reason(body, tree, metadata.paywalled)
    if reason == "paywall":
        raise ExtractionError("paywall", url, f"only a {len(body)}-character teaser before a paywall")
    if reason == "consent":
        raise ExtractionError("consent", url, "the page is a cookie/consent wall, not the article")
    if not body:
        raise ExtractionError("no_content", url, "no main text found in the page")

    return Article(
        title=metadata.title,
        author=metadata.author,
        published=metadata.published,
        # The text's own language first: templates declare lang="en" on German posts and "de" on English
        # ones (3 of the 98 declaring pages of the Zyte benchmark, and the text was right each time).
        language=detect_language(body) or metadata.language,
        canonical_url=metadata.canonical_url,
        url=url,
        text=body,
    )
