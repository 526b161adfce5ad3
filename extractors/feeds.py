"""Turn fetched feed bytes (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, JSON Feed 1.1) into entries with stable keys.

The sequence in :func:`parse_feed`:

1. JSON Feed is recognised by its ``version`` URL and parsed here (feedparser does not read JSON).
2. XML is decoded to Unicode *by us*, in this order: byte-order mark; the HTTP charset and the XML
   prolog's ``encoding`` (a declaration that does not decode the bytes cleanly is passed over, and a
   Western single-byte declaration loses to bytes that are valid UTF-8, the commonest server mistake);
   UTF-8; charset-normalizer's detection. The text is handed to feedparser re-encoded as UTF-8 with a
   matching prolog, so feedparser never guesses (it would guess windows-1252 for Shift_JIS).
3. A DOCTYPE that declares entities is refused (``parse``) before any XML parser sees it: that is the
   billion-laughs and external-entity attack surface, and real feeds do not need it. feedparser itself
   also never fetches external DTDs or entities.
4. feedparser parses the bytes we fetched (never a URL). It is *not* given the feed URL as
   ``Content-Location``: feedparser would then also "resolve" GUIDs (``<guid>42</guid>`` became
   ``https://host/feeds/42``), making entry keys depend on where the feed lives and turning non-URL GUIDs
   into bogus article links. feedparser still applies ``xml:base``; what stays relative is resolved
   here against the feed URL. A broken-but-readable document (feedparser's ``bozo`` with entries) is
   used, with a warning recorded.
5. Each entry becomes a :class:`FeedEntry`: plain-text title and summary, an absolute http(s) link and its
   canonical form, a UTC datetime, and an entry key (see :func:`entry_key`). Entries without a usable
   link are skipped with a warning: an article needs a URL.

One bad entry never costs the feed its other entries. Each entry is converted on its own; an entry that
cannot be (a link such as ``http://[::1`` or a host invalid under NFKC, which make ``urljoin`` raise)
is skipped and listed in ``ParsedFeed.skipped`` with its reason, and the rest are kept. Dates are
clamped into a window around now and ``<ttl>`` to a week (``extractors.clamp``) before anyone does
arithmetic with them. Relative links are resolved against the feed URL *without* its userinfo and
query, so a feed's credentials never end up in its articles' URLs.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html
import json
import re
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

import feedparser

from extractors.clamp import clamp_datetime, clamp_delay, parse_count
from extractors.encoding import decode_feed
from extractors.errors import FeedError

_DATA = Path(__file__).parent / "data"

JSON_FEED_VERSION_PREFIX = "https://jsonfeed.org/version/"


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed, ready for dedup and article fetching."""

    entry_key: str
    url: str
    link: str
    guid: str | None
    title: str
    summary: str
    author: str | None
    published: datetime | None


@dataclass(frozen=True)
class ParsedFeed:
    """A feed's entries plus what the scheduler needs (RSS ``<ttl>``) and what went wrong but was survived.

    ``skipped`` lists the entries that could not be converted, as (their link or title, reason):
    ``bad_link`` (a link that does not parse, or one no browser would fetch as a page: ``javascript:``,
    ``data:``, ``file:``...) or ``bad_entry`` (anything else); the run counts them with those reasons. An
    entry with no link at all is valid RSS (a note, a status line) and only a warning.
    """

    title: str | None
    entries: tuple[FeedEntry, ...]
    ttl_seconds: int | None
    warnings: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...] = ()


# ----------------------------------------------------------------------------------- canonical URLs


@functools.cache
def _tracking_params() -> tuple[frozenset[str], tuple[str, ...]]:
    exact: set[str] = set()
    prefixes: list[str] = []
    for line in (_DATA / "tracking_params.txt").read_text(encoding="utf-8").splitlines():
        name = line.strip().lower()
        if not name or name.startswith("#"):
            continue
        if name.endswith("*"):
            prefixes.append(name[:-1])
        else:
            exact.add(name)
    return frozenset(exact), tuple(prefixes)


def is_tracking_param(name: str) -> bool:
    """Whether a query parameter only tracks the click (listed in ``data/tracking_params.txt``)."""
    exact, prefixes = _tracking_params()
    lowered = name.lower()
    return lowered in exact or lowered.startswith(prefixes)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonicalize_url(url: str) -> str:
    """The form of a URL used to recognise the same article reached by different links.

    Lower-cases scheme and host, drops the default port, the fragment and tracking parameters, and turns
    an empty path into ``/``. The remaining query keeps its order and its original encoding, because
    servers may care about both. Unparseable input is returned stripped, unchanged otherwise.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    netloc = host
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    if userinfo:
        netloc = f"{userinfo}@{netloc}"
    path = parts.path or ("/" if host else "")
    kept = [
        pair
        for pair in parts.query.split("&")
        if pair and not is_tracking_param(unquote_plus(pair.split("=", 1)[0]))
    ]
    return urlunsplit((scheme, netloc, path, "&".join(kept), ""))


# ------------------------------------------------------------------------------------------ entry keys


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:32]


def feed_scope(feed_url: str) -> str:
    """The publisher a feed belongs to, for scoping GUIDs: its host without ``www.``.

    A host, not the feed URL, so keys survive a feed moving to https or to a new path, and one article
    in a publisher's several feeds keeps one key; yet GUIDs like ``1`` from two publishers never meet.
    """
    try:
        host = (urlsplit(feed_url.strip()).hostname or "").rstrip(".")
    except ValueError:
        host = ""
    return host.removeprefix("www.")


def entry_key(
    *,
    guid: str | None,
    url: str | None,
    title: str,
    content: str,
    guid_repeated: bool = False,
    scope: str = "",
) -> str:
    """The stable dedup key of an entry, by the first rule that applies:

    1. ``guid:<hash of scope and GUID>`` — the publisher's own identity for the entry;
    2. ``guid+url:<hash of scope, GUID and canonical URL>`` — when this feed document gives the same GUID
       to entries with different links (some CMSs emit one GUID for everything), so the GUID alone would
       merge distinct articles;
    3. ``url:<hash of canonical URL>`` — no GUID;
    4. ``hash:<hash of scope, title and content>`` — neither GUID nor link.

    ``scope`` is :func:`feed_scope` of the feed URL: publishers number GUIDs 1, 2, 3 independently, so an
    unscoped GUID key would merge (and silently drop) different publishers' articles. With it, keys can
    be compared across all feeds. Keys are hashes so they have a fixed length.
    """
    if guid and guid_repeated and url:
        return "guid+url:" + _digest(scope, guid, url)
    if guid:
        return "guid:" + _digest(scope, guid)
    if url:
        return "url:" + _digest(url)
    return "hash:" + _digest(scope, title, content)


# --------------------------------------------------------------------------------------- plain text


class _TextExtractor(HTMLParser):
    """Collects text nodes, skipping script/style, breaking at block elements."""

    _SKIP = frozenset({"script", "style", "template", "noscript"})
    _BLOCK = frozenset({"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


_WS = re.compile(r"\s+")


def plain_text(value: str | None) -> str:
    """HTML or text → one line of plain text: tags stripped, entities decoded, whitespace collapsed."""
    if not value:
        return ""
    if "<" in value:
        parser = _TextExtractor()
        try:
            parser.feed(value)
            parser.close()
            value = "".join(parser.parts)
        except (AssertionError, ValueError):
            value = re.sub(r"<[^>]*>", " ", value)
    # Double-escaped titles (``&amp;amp;``) are common in feeds; one more unescape is harmless for text.
    value = html.unescape(html.unescape(value)) if "&" in value else value
    # NUL fails a PostgreSQL INSERT; a lone surrogate (JSON's "\ud800") cannot be written as UTF-8.
    return _WS.sub(" ", _SURROGATES.sub("\ufffd", value.replace("\x00", ""))).strip()


# ---------------------------------------------------------------------------------------- decoding
# Feed bytes are decoded by extractors.encoding.decode_feed: one module reads charset labels and detects
# encodings for pages and feeds alike.

_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?\?>", re.IGNORECASE)
#: Characters XML 1.0 allows nowhere (C0 controls but tab, newline and carriage return; U+FFFE, U+FFFF).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# ------------------------------------------------------------------------------------------ XML safety

_ROOT = re.compile(r"<[A-Za-z_]")
_ENTITY_DECL = re.compile(r"<!ENTITY", re.IGNORECASE)


def _check_prolog(text: str, url: str) -> None:
    """Refuse documents whose DOCTYPE declares entities (billion laughs, external entities).

    The whole prolog is searched, however long: padding it with comments must not hide a declaration.
    """
    m = _ROOT.search(text)
    prolog = text[: m.start()] if m else text
    if _ENTITY_DECL.search(prolog):
        raise FeedError(
            "parse", url, "DOCTYPE declares entities; refused (entity expansion / external entity)"
        )


# ------------------------------------------------------------------------------------------ JSON Feed


def _looks_like_json(content: bytes, content_type: str | None) -> bool:
    """The bytes decide when they can (servers mislabel feeds); the media type only breaks ties."""
    first = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if first in (b"{", b"["):
        return True
    if first == b"<":
        return False
    return bool(content_type and content_type.endswith("json"))


def _json_str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return clamp_datetime(parsed)


@dataclass(frozen=True)
class _RawEntry:
    guid: str | None
    link: str | None
    title: str
    summary: str
    author: str | None
    published: datetime | None


@dataclass(frozen=True)
class _Skipped:
    """An entry that could not be converted: what identifies it, why, and the detail for the warning."""

    what: str
    reason: str
    detail: str


class _BadLink(ValueError):
    """An entry link that cannot be made into a URL we could fetch."""


def _skip(what: str | None, failure: Exception) -> _Skipped:
    reason = "bad_link" if isinstance(failure, _BadLink) else "bad_entry"
    return _Skipped(
        _SURROGATES.sub("\ufffd", what or "")[:200], reason, f"{type(failure).__name__}: {failure}"
    )


def _base_url(url: str) -> str:
    """The URL relative links are resolved against: the feed URL without its userinfo and query, which
    is where feeds carry their credentials (``?token=``). ``urljoin`` copies the userinfo into every
    relative link, and the query into a link such as ``#latest`` or ``?`` that names the feed itself;
    either way the credential would be stored and shown as an article's URL."""
    parts = urlsplit(url)
    if "@" not in parts.netloc and not parts.query and not parts.fragment:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2], query="", fragment=""))


#: Characters no URL may contain: C0 controls (NUL would even fail a PostgreSQL INSERT), DEL, and lone
#: surrogates (JSON can encode them; they cannot be written as UTF-8). Tab and line breaks are removed
#: before this check, as browsers do.
_BAD_URL_CHARS = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def _resolve(base: str, link: str) -> str:
    """An entry's link made absolute; raises _BadLink for a link that does not parse."""
    cleaned = link.strip().replace("\t", "").replace("\r", "").replace("\n", "")
    if _BAD_URL_CHARS.search(cleaned):
        raise _BadLink(f"control or surrogate character in link {cleaned[:100]!r}")
    try:
        absolute = urljoin(base, cleaned)
        parts = urlsplit(absolute)
        _ = parts.port  # raises ValueError for a port that is not a number in 0-65535
    except ValueError as failure:  # "Invalid IPv6 URL", a netloc invalid under NFKC, a bad port
        raise _BadLink(f"{failure}: {cleaned[:100]!r}") from failure
    return absolute


def _json_int(digits: str) -> int | str:
    """A JSON integer; one too long for ``int()`` (over 4,300 digits raise ValueError, and would fail the
    whole document) stays the string of its digits: it can only be an id, and it is still one."""
    return int(digits) if len(digits) <= 1000 else digits


def _parse_json_feed(
    content: bytes, url: str, charset: str | None
) -> tuple[str | None, list[_RawEntry | _Skipped], list[str]]:
    text, _, warnings = decode_feed(content, charset)
    try:
        doc = json.loads(text, parse_int=_json_int)
    except (ValueError, RecursionError) as exc:
        raise FeedError("parse", url, f"invalid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise FeedError("not_a_feed", url, "JSON document is not a JSON Feed object")
    version = doc.get("version")
    if not isinstance(version, str) or not version.startswith(JSON_FEED_VERSION_PREFIX):
        raise FeedError("not_a_feed", url, "JSON without a jsonfeed.org version")
    items = doc.get("items")
    if not isinstance(items, list):
        raise FeedError("parse", url, "JSON Feed without an items list")
    base = _base_url(url)
    if feed_url := _json_str(doc, "feed_url"):
        with contextlib.suppress(ValueError):  # an unparseable feed_url: resolve against the fetched URL
            base = _base_url(urljoin(base, feed_url))
    entries: list[_RawEntry | _Skipped] = []
    for item in items:
        if not isinstance(item, dict):
            warnings.append("JSON Feed item that is not an object skipped")
            continue
        link = _json_str(item, "url") or _json_str(item, "external_url")
        try:
            entries.append(_json_entry(item, base, link))
        except Exception as failure:  # one entry's oddity must not cost the feed its other entries
            entries.append(_skip(link or _json_str(item, "title"), failure))
    return plain_text(_json_str(doc, "title")) or None, entries, warnings


def _json_entry(item: Mapping[str, Any], base: str, link: str | None) -> _RawEntry:
    guid_value = item.get("id")
    guid = str(guid_value).strip() if isinstance(guid_value, str | int) and str(guid_value).strip() else None
    authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
    if not isinstance(authors, list):
        authors = []
    names = [a["name"] for a in authors if isinstance(a, dict) and isinstance(a.get("name"), str)]
    summary = _json_str(item, "summary") or _json_str(item, "content_text") or ""
    if not summary and (content_html := _json_str(item, "content_html")):
        summary = content_html
    return _RawEntry(
        guid=guid,
        link=_resolve(base, link) if link else None,
        title=plain_text(_json_str(item, "title")),
        summary=plain_text(summary),
        author=", ".join(names) or None,
        published=_parse_iso(_json_str(item, "date_published") or _json_str(item, "date_modified")),
    )


# ------------------------------------------------------------------------------------------- XML feeds


def _struct_to_datetime(value: Any) -> datetime | None:
    if not isinstance(value, time.struct_time):
        return None
    try:
        return clamp_datetime(datetime(*value[:6], tzinfo=UTC))
    except (ValueError, OverflowError):
        return None


def _entry_link(entry: Mapping[str, Any]) -> str | None:
    links = entry.get("links") or []
    for rel in ("alternate", None):
        for link in links:
            if not isinstance(link, Mapping) or not link.get("href"):
                continue
            if rel is None or link.get("rel", "alternate") == rel:
                return str(link["href"])
    value = entry.get("link")
    guid = entry.get("id")
    if isinstance(value, str) and value.strip():
        if value == guid and entry.get("guidislink"):
            # A permalink GUID stands in for a missing <link>, but only if it really is a web URL.
            return value if value.strip().lower().startswith(("http://", "https://")) else None
        return value
    return None


def _parse_xml_feed(
    content: bytes, url: str, charset: str | None
) -> tuple[str | None, list[_RawEntry | _Skipped], list[str], int | None]:
    text, _codec_used, warnings = decode_feed(content, charset)
    # XML 1.0 forbids these characters anywhere, and one of them (a stranger's <id>\x1f</id>) made the
    # whole document unparseable, costing the feed every entry: they are dropped, and the feed says so.
    text, illegal = _XML_ILLEGAL.subn("", text)
    if illegal:
        warnings.append(f"{illegal} character(s) XML forbids removed")
    _check_prolog(text, url)
    # Re-encode as UTF-8 with a prolog that says so: feedparser then has nothing left to guess.
    body = _XML_DECL.sub(b"", text.encode("utf-8", "replace"), count=1)
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + body.lstrip()
    try:
        parsed = feedparser.parse(
            body,
            response_headers={"content-type": "application/xml; charset=utf-8"},
            resolve_relative_uris=True,
            sanitize_html=True,
        )
    except RecursionError:
        raise
    except Exception as failure:
        # feedparser lets a few malformed inputs escape as exceptions (a surrogate character reference
        # such as &#xD800; raises UnicodeEncodeError); for us that is an unparseable feed. Any exception
        # out of the third-party parser is mapped here, at the boundary, to keep parse_feed's contract.
        raise FeedError("parse", url, f"feed parser failed: {type(failure).__name__}: {failure}") from failure
    entries_raw = parsed.get("entries") or []
    version = parsed.get("version") or ""
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        message = f"{type(exc).__name__}: {exc}" if exc is not None else "malformed feed"
        if not entries_raw:
            if not version:
                raise FeedError("not_a_feed", url, f"no RSS, Atom or JSON Feed found ({message})")
            raise FeedError("parse", url, f"unreadable {version} feed: {message}")
        if not any(_entry_link(e) for e in entries_raw):
            # Typically a truncated document: what feedparser salvaged has no link, so nothing is usable.
            raise FeedError("parse", url, f"malformed {version or 'feed'} with no usable entry: {message}")
        warnings.append(f"malformed feed used anyway: {message}")
    elif not version and not entries_raw:
        raise FeedError("not_a_feed", url, "no RSS, Atom or JSON Feed found")
    feed_info = parsed.get("feed") or {}
    base = _base_url(url)
    entries: list[_RawEntry | _Skipped] = []
    for entry in entries_raw:
        link = _entry_link(entry)
        try:
            entries.append(_xml_entry(entry, base, link))
        except Exception as failure:  # one entry's oddity must not cost the feed its other entries
            entries.append(_skip(link or plain_text(entry.get("title")), failure))
    ttl: int | None = None
    raw_ttl = feed_info.get("ttl")
    minutes = parse_count(raw_ttl) if isinstance(raw_ttl, str) else None
    if minutes is not None:
        ttl = int(clamp_delay(minutes * 60.0) or 0)
    title = plain_text(feed_info.get("title")) or None
    return title, entries, warnings, ttl


def _xml_entry(entry: Mapping[str, Any], base: str, link: str | None) -> _RawEntry:
    guid = entry.get("id")
    summary = entry.get("summary") or ""
    if not summary and entry.get("content"):
        first = entry["content"][0]
        summary = first.get("value", "") if isinstance(first, Mapping) else ""
    return _RawEntry(
        guid=guid.strip() if isinstance(guid, str) and guid.strip() else None,
        link=_resolve(base, link) if link else None,
        title=plain_text(entry.get("title")),
        summary=plain_text(summary),
        author=plain_text(entry.get("author")) or None,
        published=_struct_to_datetime(entry.get("published_parsed"))
        or _struct_to_datetime(entry.get("updated_parsed")),
    )


# ---------------------------------------------------------------------------------------------- parse


def parse_feed(
    content: bytes, url: str, *, charset: str | None = None, content_type: str | None = None
) -> ParsedFeed:
    """Parse feed bytes fetched from ``url`` into entries with canonical URLs and entry keys.

    Raises FeedError with reason ``not_a_feed`` (e.g. an HTML page), ``parse`` (a feed too broken to
    read, or a refused DOCTYPE) or ``encoding``; never anything else for any input bytes.
    """
    if not content.strip():
        raise FeedError("not_a_feed", url, "empty document")
    try:
        if _looks_like_json(content, content_type):
            title, raw, warnings = _parse_json_feed(content, url, charset)
            ttl: int | None = None
        else:
            title, raw, warnings, ttl = _parse_xml_feed(content, url, charset)
    except FeedError as exc:
        if exc.url is None:
            raise FeedError(exc.reason, url, exc.message) from exc
        raise
    except RecursionError as exc:
        raise FeedError("parse", url, "document nested too deeply") from exc
    return _build(title, raw, warnings, ttl, url)


def _web_link(link: str | None) -> bool:
    if not link:
        return False
    parts = urlsplit(link)  # _resolve has checked that it parses
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _build(
    title: str | None,
    raw: Sequence[_RawEntry | _Skipped],
    warnings: list[str],
    ttl: int | None,
    url: str,
) -> ParsedFeed:
    scope = feed_scope(url)
    usable: list[tuple[_RawEntry, str, str]] = []
    skipped: list[tuple[str, str]] = []
    for item in raw:
        if isinstance(item, _Skipped):
            skipped.append((item.what, item.reason))
            warnings.append(f"entry {item.what[:60]!r} skipped: {item.reason} ({item.detail[:200]})")
            continue
        if not item.link:
            warnings.append(f"entry {item.title[:60]!r} skipped: no link")
            continue
        if not _web_link(item.link):
            what = _SURROGATES.sub("\ufffd", item.link)[:200]
            skipped.append((what, "bad_link"))
            warnings.append(f"entry {what[:60]!r} skipped: bad_link (not an http(s) link)")
            continue
        assert item.link is not None
        usable.append((item, item.link, canonicalize_url(item.link)))
    guid_urls: dict[str, set[str]] = {}
    for item, _, canonical in usable:
        if item.guid:
            guid_urls.setdefault(item.guid, set()).add(canonical)
    repeated = {guid for guid, urls in guid_urls.items() if len(urls) > 1}
    entries: list[FeedEntry] = []
    seen: Counter[str] = Counter()
    for item, link, canonical in usable:
        key = entry_key(
            guid=item.guid,
            url=canonical,
            title=item.title,
            content=item.summary,
            guid_repeated=item.guid in repeated,
            scope=scope,
        )
        seen[key] += 1
        if seen[key] > 1:
            continue
        entries.append(
            FeedEntry(
                entry_key=key,
                url=canonical,
                link=link,
                guid=item.guid,
                title=item.title,
                summary=item.summary,
                author=item.author,
                published=item.published,
            )
        )
    duplicates = sum(n - 1 for n in seen.values())
    if duplicates:
        warnings.append(f"{duplicates} duplicate entries dropped")
    if repeated:
        warnings.append(f"{len(repeated)} GUIDs repeated for different links; keyed by GUID+URL")
    return ParsedFeed(
        title=title,
        entries=tuple(entries),
        ttl_seconds=ttl,
        warnings=tuple(warnings),
        skipped=tuple(skipped),
    )
