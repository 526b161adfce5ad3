"""Feed management on the configuration file: add, remove, import OPML, export OPML.

The configuration file is the source of truth for which feeds are polled (every run syncs the feed
table from it), so these commands edit the file itself — through tomlkit, which keeps the operator's
comments and layout — rather than a database row the next run would deactivate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin
from xml.sax.saxutils import quoteattr

import tomlkit
from lxml import etree
from pydantic import ValidationError
from tomlkit.items import AoT, Array, Table

from extractors.feeds import canonicalize_url
from flows.settings import ConfigError, FeedSettings, Settings

if TYPE_CHECKING:
    from extractors.http import FetchPolicy

#: The media types a page's ``<link rel="alternate">`` uses to advertise its feed, in order of preference.
FEED_LINK_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json", "application/json")


@dataclass(frozen=True)
class FeedLine:
    """A feed as the commands see it: the three fields of a ``[[feeds]]`` block."""

    name: str
    url: str
    tags: tuple[str, ...] = ()


def _load(path: Path) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: configuration file not found; create one with `tradewatch init {path}`"
        ) from None
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _feeds(doc: tomlkit.TOMLDocument) -> AoT:
    feeds = doc.get("feeds")
    if isinstance(feeds, Array) and not feeds:
        del doc["feeds"]  # `feeds = []`, as older versions left after removing the last feed
        feeds = None
    if feeds is None:
        feeds = tomlkit.aot()
        doc.append("feeds", feeds)
    if not isinstance(feeds, AoT):
        raise ConfigError("feeds: must be an array of tables written as [[feeds]] blocks")
    return feeds


def _invalid(line: FeedLine, exc: ValidationError) -> ConfigError:
    """The validation error of a feed as one readable line (pydantic's own text names its internals)."""
    problems = "; ".join(
        f"{'.'.join(str(p) for p in error['loc'])}: {str(error['msg']).removeprefix('Value error, ')}"
        for error in exc.errors()
    )
    return ConfigError(f"feed {line.url!r}: {problems}")


def _unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name (2)``, ``name (3)``… when another feed has it (OPML lists often repeat titles)."""
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name} ({number})", number + 1
    return candidate


def add_feeds(path: Path, lines: Iterable[FeedLine], *, rename_duplicates: bool = False) -> list[FeedLine]:
    """Append feeds whose URL is not configured yet; returns those added (validated like any config).

    Feed names are unique (``run --feed`` and ``feeds remove`` select by name): a name already taken is
    refused, or with ``rename_duplicates`` (an OPML import) numbered. Linear in the number of feeds:
    each URL is canonicalised once and looked up in a set.
    """
    doc = _load(path)
    feeds = _feeds(doc)
    present = {canonicalize_url(str(block.get("url", ""))) for block in feeds}
    names = {str(block.get("name", "")) for block in feeds}
    added: list[FeedLine] = []
    for line in lines:
        try:
            FeedSettings(name=line.name, url=line.url, tags=list(line.tags))
        except ValidationError as exc:
            raise _invalid(line, exc) from None
        key = canonicalize_url(line.url)
        if key in present:
            continue
        if line.name in names:
            if not rename_duplicates:
                raise ConfigError(
                    f"a feed named {line.name!r} is already configured in {path}; "
                    "choose another name with --name"
                )
            line = FeedLine(name=_unique_name(line.name, names), url=line.url, tags=line.tags)
        table = tomlkit.table()
        table.add("name", line.name)
        table.add("url", line.url)
        if line.tags:
            table.add("tags", list(line.tags))
        feeds.append(table)
        present.add(key)
        names.add(line.name)
        added.append(line)
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return added


def remove_feed(path: Path, name_or_url: str) -> FeedLine:
    """Remove the feed with this name or URL; its stored articles stay (the feed becomes inactive).

    Removing the last feed removes the ``feeds`` key, so the file stays one `feeds add` can extend.
    """
    doc = _load(path)
    feeds = _feeds(doc)
    by_name = [i for i, block in enumerate(feeds) if str(block.get("name", "")) == name_or_url]
    key = canonicalize_url(name_or_url)
    by_url = [i for i, block in enumerate(feeds) if canonicalize_url(str(block.get("url", ""))) == key]
    matches = by_name or by_url
    if len(matches) > 1:
        raise ConfigError(
            f"{len(matches)} feeds in {path} are named {name_or_url!r}; remove one by its URL instead"
        )
    if not matches:
        names = ", ".join(str(b.get("name")) for b in feeds) or "none configured"
        raise ConfigError(f"no feed named or at {name_or_url!r} in {path} (feeds: {names})")
    block = feeds[matches[0]]
    assert isinstance(block, Table)
    removed = FeedLine(
        name=str(block.get("name", "")), url=str(block.get("url", "")), tags=tuple(block.get("tags", []))
    )
    del feeds[matches[0]]
    if not feeds:
        del doc["feeds"]
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return removed


def feed_links(html: bytes, base_url: str) -> list[str]:
    """The feeds a web page advertises with ``<link rel="alternate" type="application/rss+xml" href>``.

    Absolute URLs, RSS before Atom before JSON Feed, in page order within a type, without repeats.
    BeautifulSoup (html.parser builder) rather than a full lxml tree: a home page is a stranger's markup
    of any quality, read once per `feeds add`, so tolerance and plain code matter and speed does not;
    it reads ``rel`` as the list of tokens HTML defines (``rel="alternate feed"``).
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    found: list[tuple[int, int, str]] = []
    for position, link in enumerate(soup.find_all("link", href=True)):
        rel: Any = link.get("rel") or []
        rels = [r.lower() for r in (rel.split() if isinstance(rel, str) else rel)]
        kind = str(link.get("type") or "").lower().split(";")[0].strip()
        href = str(link.get("href") or "").strip()
        if "alternate" in rels and kind in FEED_LINK_TYPES and href:
            found.append((FEED_LINK_TYPES.index(kind), position, urljoin(base_url, href)))
    links: list[str] = []
    for _, _, url in sorted(found):
        if url not in links and url.lower().startswith(("http://", "https://")):
            links.append(url)
    return links


@dataclass(frozen=True)
class Discovery:
    """What `feeds add` found at a URL: the feed to configure, and a note for the person."""

    url: str
    note: str
    checked: bool


def discover_feed(url: str, policy: FetchPolicy) -> Discovery:
    """Fetch ``url``: a feed is kept as it is; a web page is replaced by the feed it advertises.

    Raises ConfigError for a page that advertises no feed (nothing sensible to add). A URL that cannot be
    fetched now (offline, a timeout, a refused address) is kept unchecked, with the reason in the note:
    editing the configuration must not need the network.
    """
    import asyncio

    from extractors.errors import StageError
    from extractors.feeds import parse_feed
    from extractors.http import Fetcher

    async def fetch() -> tuple[bytes, str, str | None, str | None]:
        async with Fetcher(policy) as fetcher:
            response = await fetcher.fetch_feed(url)
        return response.content, response.url, response.charset, response.content_type

    try:
        content, final_url, charset, content_type = asyncio.run(fetch())
    except StageError as exc:
        return Discovery(url, f"not checked: {exc.reason}: {exc.message}", checked=False)
    try:
        parsed = parse_feed(content, final_url, charset=charset, content_type=content_type)
    except StageError as exc:
        links = feed_links(content, final_url)
        if links:
            return Discovery(links[0], f"{url} is a web page; it advertises the feed {links[0]}", True)
        raise ConfigError(
            f"{url} is not a feed ({exc.reason}) and advertises none with "
            '<link rel="alternate" type="application/rss+xml">; give the feed\'s own URL'
        ) from None
    return Discovery(url, f"a feed with {len(parsed.entries)} entries", checked=True)


def read_opml(data: bytes) -> list[FeedLine]:
    """Feeds from an OPML subscription list; folder names become tags. Entities and DTDs are not loaded."""
    if b"<!entity" in data.lower():
        raise ConfigError("OPML file declares XML entities; refusing it (entity expansion can be a bomb)")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ConfigError(f"OPML file is not well-formed XML: {exc}") from None
    lines: list[FeedLine] = []

    def walk(node: etree._Element, folders: tuple[str, ...]) -> None:
        for outline in node.findall("outline"):
            url = outline.get("xmlUrl")
            label = outline.get("title") or outline.get("text") or ""
            if url:
                # OPML 2.0 `category`: comma-separated, each a slash-delimited path; its last part is a tag.
                categories = [
                    c.strip().rsplit("/", 1)[-1] for c in (outline.get("category") or "").split(",")
                ]
                tags = tuple(dict.fromkeys([*folders, *(c for c in categories if c)]))
                lines.append(FeedLine(name=label or url, url=url, tags=tags))
            else:
                walk(outline, (*folders, label) if label else folders)

    body = root.find("body")
    if root.tag != "opml" or body is None:
        raise ConfigError("not an OPML document: expected <opml><body><outline xmlUrl=...>")
    walk(body, ())
    return lines


def write_opml(settings: Settings, title: str = "tradewatch feeds") -> str:
    """The configured feeds as OPML 2.0, grouped by their first tag, for other feed readers.

    Every tag is also written to the outline's ``category`` attribute, so an export read back by
    ``read_opml`` gives the same tags (the folder alone would keep only the first).
    """
    groups: dict[str, list[FeedSettings]] = {}
    for feed in settings.feeds:
        groups.setdefault(feed.tags[0] if feed.tags else "", []).append(feed)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{title}</title></head>",
    ]
    out.append("  <body>")
    for group, feeds in groups.items():
        indent = "    "
        if group:
            out.append(f"    <outline text={quoteattr(group)} title={quoteattr(group)}>")
            indent = "      "
        for feed in feeds:
            category = f" category={quoteattr(','.join(feed.tags))}" if feed.tags else ""
            out.append(
                f'{indent}<outline type="rss" text={quoteattr(feed.name)} title={quoteattr(feed.name)} '
                f"xmlUrl={quoteattr(feed.url)}{category}/>"
            )
        if group:
            out.append("    </outline>")
    out += ["  </body>", "</opml>"]
    return "\n".join(out) + "\n"
