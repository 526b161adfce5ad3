"""Read an article's title, author, publication date, language and canonical URL from its parsed page.

Sources in order of trust: schema.org JSON-LD (written for search engines, so usually right), then Open
Graph / Dublin Core / vendor meta tags, then what a reader sees (the ``<h1>``, a "By ..." byline, a
``<time>`` element). Only cheap lookups over the tree: no date guessing from URLs or free text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html import unescape
from typing import Any
from urllib.parse import urljoin

from lxml import etree, html

# Any JSON-LD @type naming a piece of writing (NewsArticle, BlogPosting, ReportageNewsArticle, ...).
_ARTICLE_TYPE = re.compile(r"(Article|BlogPosting|Posting|Report|Story)$")

_TITLE_KEYS = ("og:title", "twitter:title", "dc.title", "sailthru.title", "parsely-title", "title")
_AUTHOR_KEYS = (
    "author",
    "article:author",
    "dc.creator",
    "parsely-author",
    "sailthru.author",
    "byl",
    "twitter:data1",
)
_DATE_KEYS = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.created",
    "dc.date",
    "publish-date",
    "publishdate",
    "pubdate",
    "date",
    "article.published",
    "og:updated_time",
)
_LANGUAGE_KEYS = ("content-language", "og:locale", "dc.language", "language")
_DESCRIPTION_KEYS = ("og:description", "description", "twitter:description", "dc.description")
_CANONICAL_KEYS = ("og:url",)

# A name is a few words: anything longer is a bio or a sentence that happened to sit in a byline box.
MAX_AUTHOR_CHARS = 100
# Dates before the web are placeholders ("0001-01-01") or parse accidents, never a publication date.
MIN_YEAR = 1990
# A byline element with more text than this is a wrapper or an author bio, not "By Jane Doe · June 3".
MAX_BYLINE_CHARS = 200
# Pages with more <h1> than this use it for section titles, not for the headline.
MAX_H1 = 3
_BYLINE_PREFIX = re.compile(r"^\s*(by|written by|posted by|from)\s*[:\-]?\s+", re.IGNORECASE)
_NAME_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_NAME_PARTICLES = frozenset(
    [
        "and",
        "y",
        "e",
        "et",
        "und",
        "de",
        "da",
        "das",
        "do",
        "dos",
        "di",
        "du",
        "del",
        "della",
        "der",
        "den",
        "van",
        "von",
        "la",
        "le",
        "bin",
        "bint",
        "al",
        "el",
        "ten",
        "ter",
        "zu",
        "of",
    ]
)
# What follows a name in a visible byline: a date, a job title, a reading time.
_BYLINE_SEPARATOR = re.compile(r"\s+[·|•—–]\s+|\s*\|\s*|,?\s+(?:updated|published|on)\s+", re.IGNORECASE)
_TITLE_SEPARATORS = re.compile(r"\s+(?:[|\-–—:»·]|&#8211;)\s+")
_LANG_CODE = re.compile(r"^([a-zA-Z]{2})(?:[-_][a-zA-Z0-9]+)*$")
_SPACES = re.compile(r"\s+")

_FIND_JSON_LD = etree.XPath("//script[@type='application/ld+json']")
_FIND_META = etree.XPath("//meta[@content]")
_FIND_CANONICAL = etree.XPath("//link[@rel='canonical']/@href")
_FIND_H1 = etree.XPath("//h1")
_FIND_TITLE = etree.XPath("//title")
_FIND_BYLINE = etree.XPath(
    "//*[@rel='author' or @itemprop='author' or contains(@class, 'byline') or contains(@class, 'author')]"
)
_FIND_VISIBLE_DATE = etree.XPath(
    "//*[contains(@class, 'date') or contains(@class, 'byline') or contains(@class, 'time')"
    " or contains(@class, 'published')][not(self::body)][not(self::html)]"
)
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
# "June 3, 2026" and "3 June 2026": how English-language pages print a date next to the byline.
_VISIBLE_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})|(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+(\d{{4}}))\b",
    re.IGNORECASE,
)
# Text of a date element longer than this is a paragraph that merely mentions a date.
MAX_DATE_TEXT_CHARS = 120
_FIND_TIME = etree.XPath(
    "//*[@itemprop='datePublished']/@content | //*[@itemprop='datePublished']/@datetime"
    " | //time[@pubdate or contains(@class, 'publish')]/@datetime | //time/@datetime"
)


@dataclass(frozen=True)
class Metadata:
    """What the page says about the article, each field None when the page does not say."""

    title: str | None
    author: str | None
    published: datetime | None
    language: str | None
    canonical_url: str | None
    paywalled: bool  # JSON-LD isAccessibleForFree == false
    headlines: tuple[str, ...]  # every wording of the headline the page shows (title, h1, og:title...)
    description: str | None = None  # the page's own summary (JSON-LD, og:description, meta description)


def _clean(value: object) -> str | None:
    """Whitespace collapsed; entities a CMS escaped twice ("review &#8211; PS4") decoded."""
    if not isinstance(value, str):
        return None
    if "&" in value:
        value = unescape(value)
    text = _SPACES.sub(" ", value).strip()
    return text or None


def _json_ld_objects(tree: html.HtmlElement) -> Iterator[dict[str, Any]]:
    """Every JSON object of every JSON-LD block, flattened out of lists and @graph."""
    for script in _FIND_JSON_LD(tree):
        try:
            data = json.loads(script.text or "", strict=False)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                yield item
                graph = item.get("@graph")
                if isinstance(graph, list):
                    stack.extend(reversed(graph))


def _is_article(obj: dict[str, Any]) -> bool:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return any(isinstance(k, str) and _ARTICLE_TYPE.search(k) for k in kinds)


def _names(value: object) -> list[str]:
    """Author names from a JSON-LD author field: a string, a Person, or a list of either."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        name = value.get("name")
        return [name] if isinstance(name, str) else []
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    return []


def _meta_tags(tree: html.HtmlElement) -> dict[str, str]:
    """First content of each meta name/property/itemprop/http-equiv, keys lower-cased."""
    tags: dict[str, str] = {}
    for meta in _FIND_META(tree):
        content = meta.get("content", "").strip()
        if not content:
            continue
        for attribute in ("property", "name", "itemprop", "http-equiv"):
            key = meta.get(attribute)
            if key:
                tags.setdefault(key.strip().lower(), content)
    return tags


def parse_date(value: str | None) -> datetime | None:
    """An aware datetime from ISO 8601 or RFC 2822 text; a date without an offset is taken as UTC."""
    if not value:
        return None
    text = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            match = re.match(r"(\d{4})-?(\d{2})-?(\d{2})", text)
            if match is None:
                return None
            try:
                parsed = datetime(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                return None
    if parsed.year < MIN_YEAR:  # "0001-01-01T00:00:00": a CMS placeholder for "not set"
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _language(value: str | None) -> str | None:
    match = _LANG_CODE.match(value.strip()) if value else None
    return match.group(1).lower() if match else None


def _author(value: str | None) -> str | None:
    """A name from a byline: "By Jane Doe · June 3, 2026" gives "Jane Doe"; URLs and sentences give None."""
    text = _clean(value)
    if text is None or text.startswith(("http://", "https://", "/")):
        return None
    text = _BYLINE_PREFIX.sub("", text)
    text = _BYLINE_SEPARATOR.split(text, maxsplit=1)[0]
    text = _VISIBLE_DATE.split(text, maxsplit=1)[0].strip(" ,;|")  # "Associated Press November 19, 2019"
    if not text or len(text) > MAX_AUTHOR_CHARS:
        return None
    # "Megan Hollis covers trade policy from Washington" (an author box) is a sentence, not a byline:
    # names are capitalised, apart from particles such as "and", "van", "de".
    lowercase = [w for w in _NAME_WORD.findall(text) if w[0].islower() and w not in _NAME_PARTICLES]
    if len(lowercase) > 1:
        return None
    return text


def _in_comments(element: html.HtmlElement) -> bool:
    for node in (element, *element.iterancestors()):
        marker = f"{node.get('class', '')} {node.get('id', '')}".lower()
        if "comment" in marker or "respond" in marker:
            return True
    return False


def _title_from_title_tag(tree: html.HtmlElement, site_names: set[str]) -> str | None:
    """The <title> without its " | Site Name" part; the longest segment wins, names sit at either end."""
    elements = _FIND_TITLE(tree)
    title = _clean(elements[0].text_content()) if elements else None
    if title is None:
        return None
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) == 1:
        return title
    parts = [part for part in parts if part.lower() not in site_names] or parts
    return max(parts, key=len)


def _visible_date(tree: html.HtmlElement) -> datetime | None:
    """A date printed for readers ("June 3, 2026") in a date or byline element, taken as midnight UTC."""
    for element in _FIND_VISIBLE_DATE(tree):
        text = element.text_content()
        if len(text) > MAX_DATE_TEXT_CHARS:
            continue
        match = _VISIBLE_DATE.search(text)
        if match is None:
            continue
        month, day, year = (match[1], match[2], match[3]) if match[1] else (match[5], match[4], match[6])
        try:
            return datetime(int(year), _MONTHS[month.lower()], int(day), tzinfo=UTC)
        except ValueError:
            continue
    return None


def _published(article: dict[str, Any], meta: dict[str, str], tree: html.HtmlElement) -> datetime | None:
    """The first stated publication date; in the publisher's own UTC offset when another source gives one.

    Sites often serialise JSON-LD in UTC ("...Z") and the meta tag in local time: the same instant, but the
    local offset says where and when the story was written, so it is the one kept.
    """
    candidates = [parse_date(_clean(article.get("datePublished")))]
    candidates += [parse_date(meta[key]) for key in _DATE_KEYS if key in meta]
    dates = [date for date in candidates if date is not None]
    if not dates:
        machine = next(filter(None, (parse_date(str(value)) for value in _FIND_TIME(tree))), None)
        return machine or _visible_date(tree)
    first = dates[0]
    if first.utcoffset():
        return first
    return next((date for date in dates if date == first and date.utcoffset()), first)


def extract_metadata(tree: html.HtmlElement, url: str | None) -> Metadata:
    """Everything the page states about the article, trusting JSON-LD, then meta tags, then visible text."""
    article: dict[str, Any] = {}
    site_names: set[str] = set()
    paywalled = False
    language_ld: str | None = None
    for obj in _json_ld_objects(tree):
        if _is_article(obj):
            if not article:
                article = obj
            if obj.get("isAccessibleForFree") in (False, "false", "False"):
                paywalled = True
        publisher = obj.get("publisher")
        if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
            site_names.add(publisher["name"].lower())
    meta = _meta_tags(tree)
    if "og:site_name" in meta:
        site_names.add(meta["og:site_name"].lower())

    title = _clean(article.get("headline")) or next(
        (_clean(meta[key]) for key in _TITLE_KEYS if key in meta and _clean(meta[key])), None
    )
    if title is None:
        h1s = _FIND_H1(tree)
        title = _clean(h1s[0].text_content()) if len(h1s) == 1 else None
    if title is None:
        title = _title_from_title_tag(tree, site_names)

    author = _author(", ".join(dict.fromkeys(_names(article.get("author")))))
    for key in _AUTHOR_KEYS:
        if author is None and key in meta:
            author = _author(meta[key])
    if author is None:
        for element in _FIND_BYLINE(tree):
            text = element.text_content()
            if len(text) > MAX_BYLINE_CHARS:  # a wrapper ("post-author-area"), not a byline
                continue
            if _in_comments(element):  # "Name (required)" of a comment form's author field
                continue
            author = _author(text)
            if author is not None:
                break

    published = _published(article, meta, tree)

    in_language = article.get("inLanguage")
    language_ld = in_language if isinstance(in_language, str) else None
    language = _language(tree.get("lang")) or _language(tree.get("xml:lang")) or _language(language_ld)
    for key in _LANGUAGE_KEYS:
        if language is None and key in meta:
            language = _language(meta[key])

    canonical = next((str(href).strip() for href in _FIND_CANONICAL(tree) if str(href).strip()), None)
    if canonical is None:
        canonical = next((meta[key] for key in _CANONICAL_KEYS if key in meta), None)
    if canonical is not None and url is not None:
        canonical = urljoin(url, canonical)

    headlines = [title, _clean(article.get("headline")), *(_clean(meta.get(key)) for key in _TITLE_KEYS)]
    headlines += [_clean(h1.text_content()) for h1 in _FIND_H1(tree)[:MAX_H1]]
    titles = _FIND_TITLE(tree)
    if titles:
        full = _clean(titles[0].text_content())
        headlines += [full, *(_TITLE_SEPARATORS.split(full) if full else [])]
    description = _clean(article.get("description")) or next(
        (_clean(meta[key]) for key in _DESCRIPTION_KEYS if key in meta and _clean(meta[key])), None
    )
    return Metadata(
        headlines=tuple(dict.fromkeys(h for h in headlines if h)),
        description=description,
        title=title,
        author=author,
        published=published,
        language=language,
        canonical_url=canonical,
        paywalled=paywalled,
    )
