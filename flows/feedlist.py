"""Feed management on the configuration file: add, remove, import OPML, export OPML.

The configuration file is the source of truth for which feeds are polled (every run syncs the feed
table from it), so these commands edit the file itself — through tomlkit, which keeps the operator's
comments and layout — rather than a database row the next run would deactivate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import tomlkit
from lxml import etree
from tomlkit.items import AoT, Table

from extractors.feeds import canonicalize_url
from flows.settings import ConfigError, FeedSettings, Settings


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
    if feeds is None:
        feeds = tomlkit.aot()
        doc.append("feeds", feeds)
    if not isinstance(feeds, AoT):
        raise ConfigError("feeds: must be an array of tables written as [[feeds]] blocks")
    return feeds


def _same(a: str, b: str) -> bool:
    return canonicalize_url(a) == canonicalize_url(b)


def add_feeds(path: Path, lines: Iterable[FeedLine]) -> list[FeedLine]:
    """Append feeds whose URL is not configured yet; returns those added (validated like any config)."""
    doc = _load(path)
    feeds = _feeds(doc)
    present = [str(block.get("url", "")) for block in feeds]
    added: list[FeedLine] = []
    for line in lines:
        try:
            FeedSettings(name=line.name, url=line.url, tags=list(line.tags))
        except ValueError as exc:
            raise ConfigError(f"feed {line.url!r}: {exc}") from None
        if any(_same(line.url, url) for url in present):
            continue
        table = tomlkit.table()
        table.add("name", line.name)
        table.add("url", line.url)
        if line.tags:
            table.add("tags", list(line.tags))
        feeds.append(table)
        present.append(line.url)
        added.append(line)
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return added


def remove_feed(path: Path, name_or_url: str) -> FeedLine:
    """Remove the feed with this name or URL; its stored articles stay (the feed becomes inactive)."""
    doc = _load(path)
    feeds = _feeds(doc)
    for index, block in enumerate(feeds):
        assert isinstance(block, Table)
        url, name = str(block.get("url", "")), str(block.get("name", ""))
        if name == name_or_url or (url and _same(url, name_or_url)):
            del feeds[index]
            path.write_text(tomlkit.dumps(doc), encoding="utf-8")
            return FeedLine(name=name, url=url, tags=tuple(block.get("tags", [])))
    names = ", ".join(str(b.get("name")) for b in feeds) or "none configured"
    raise ConfigError(f"no feed named or at {name_or_url!r} in {path} (feeds: {names})")


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
                lines.append(FeedLine(name=label or url, url=url, tags=folders))
            else:
                walk(outline, (*folders, label) if label else folders)

    body = root.find("body")
    if root.tag != "opml" or body is None:
        raise ConfigError("not an OPML document: expected <opml><body><outline xmlUrl=...>")
    walk(body, ())
    return lines


def write_opml(settings: Settings, title: str = "tradewatch feeds") -> str:
    """The configured feeds as OPML 2.0, grouped by their first tag, for other feed readers."""
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
            out.append(
                f'{indent}<outline type="rss" text={quoteattr(feed.name)} title={quoteattr(feed.name)} '
                f"xmlUrl={quoteattr(feed.url)}/>"
            )
        if group:
            out.append("    </outline>")
    out += ["  </body>", "</opml>"]
    return "\n".join(out) + "\n"
