"""Integrity of the seed data: the demo site, its feeds, expected texts and labels, the example TOML files.

Other tests (extraction goldens, classifier checks, the end-to-end demo) trust these files; a broken link, a
missing expected text or a label that disagrees with its page would make those tests quietly meaningless.
"""

from __future__ import annotations

import html
import re
import tomllib
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
from bs4 import BeautifulSoup

from alerts.rules import Document, compile_rule, match_all

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
DEMO = SEEDS / "demo"
ARTICLES = DEMO / "articles"
EXPECTED = DEMO / "expected"
FEEDS = (DEMO / "feeds" / "rss.xml", DEMO / "feeds" / "atom.xml")
SHARED_SEED = Path(__file__).resolve().parents[2] / "seeds/trade-talks-japan.txt"  # as received, in the repo

BASE_URL = "http://127.0.0.1:8000"
TOKEN = "{{BASE_URL}}"
SEED = "trade-talks-japan"
SLUGS = sorted(p.stem for p in ARTICLES.glob("*.html"))

# The seed page's surroundings: the extraction test is only meaningful if the page really carries them.
SEED_BOILERPLATE = (
    "Leave a Comment",
    "Your email address will not be published.",
    "Required fields are marked",
    "Latest Videos",
    "Sign up for our newsletter",
    "Share on Facebook",
    "Tweet",
    "Most Read",
    "Related",
    "We use cookies",
    "All rights reserved",
)


def _served(path: Path) -> str:
    """A file as the demo server sends it."""
    return path.read_text(encoding="utf-8").replace(TOKEN, BASE_URL)


def _labels() -> dict[str, dict[str, object]]:
    return tomllib.loads((EXPECTED / "labels.toml").read_text(encoding="utf-8"))


def _feed(path: Path) -> feedparser.FeedParserDict:
    return feedparser.parse(_served(path).encode("utf-8"))


def _soup(slug: str) -> BeautifulSoup:
    return BeautifulSoup(_served(ARTICLES / f"{slug}.html"), "html.parser")


def _blocks(text: str) -> list[str]:
    return text.rstrip("\n").split("\n\n")


def _seed_paragraphs(seed_text: str) -> list[str]:
    """The article paragraphs of the shared seed file: after the headline, before "Leave a Comment"."""
    blocks = [b.strip() for b in seed_text.split("\n\n")]
    return blocks[1 : blocks.index("Leave a Comment")]


def test_there_are_enough_demo_articles_with_both_labels_and_false_friends() -> None:
    labels = _labels()
    assert SEED in SLUGS
    assert len(SLUGS) >= 7
    assert sum(1 for s in SLUGS if labels[s]["is_trade"]) >= 3
    false_friends = [
        slug
        for slug in SLUGS
        if not labels[slug]["is_trade"] and re.search(r"\btrad", (EXPECTED / f"{slug}.txt").read_text())
    ]
    assert len(false_friends) >= 1, "a non-trade article using the word 'trade' keeps the classifier honest"


@pytest.mark.parametrize("feed_path", FEEDS, ids=[p.name for p in FEEDS])
def test_feed_is_well_formed_and_parses_without_bozo(feed_path: Path) -> None:
    parsed = _feed(feed_path)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == {"rss.xml": "rss20", "atom.xml": "atom10"}[feed_path.name]
    assert parsed.entries
    for entry in parsed.entries:
        assert entry.get("id"), f"{entry.link}: no guid/id, so no stable entry key"
        assert entry.get("title")
        assert entry.get("author")
        assert entry.get("summary")
        assert entry.get("published_parsed") or entry.get("updated_parsed")


@pytest.mark.parametrize("feed_path", FEEDS, ids=[p.name for p in FEEDS])
def test_every_feed_item_links_to_an_existing_article_with_matching_title(feed_path: Path) -> None:
    labels = _labels()
    for entry in _feed(feed_path).entries:
        url = urlsplit(entry.link)
        assert f"{url.scheme}://{url.netloc}" == BASE_URL, f"{entry.link} does not use {TOKEN}"
        assert url.path.startswith("/articles/")
        assert url.path.endswith(".html")
        slug = url.path.removeprefix("/articles/").removesuffix(".html")
        assert (ARTICLES / f"{slug}.html").is_file(), entry.link
        assert entry.title == labels[slug]["title"]
        assert entry.author == labels[slug]["author"]


def test_every_article_is_in_a_feed_and_the_seed_is_in_both() -> None:
    per_feed = [{urlsplit(e.link).path for e in _feed(path).entries} for path in FEEDS]
    for slug in SLUGS:
        assert any(f"/articles/{slug}.html" in paths for paths in per_feed), slug
    assert all(f"/articles/{SEED}.html" in paths for paths in per_feed)


def test_feeds_use_only_the_base_url_token_for_absolute_links() -> None:
    for path in FEEDS:
        raw = path.read_text(encoding="utf-8")
        for url in re.findall(r"""(?:href="|<link>|<guid[^>]*>)(https?://[^"<]+)""", raw):
            raise AssertionError(f"{path.name}: absolute URL {url} should start with {TOKEN}")


@pytest.mark.parametrize("slug", SLUGS)
def test_article_has_expected_text_and_labels(slug: str) -> None:
    text = (EXPECTED / f"{slug}.txt").read_text(encoding="utf-8")
    assert text.endswith("\n")
    assert not text.endswith("\n\n")
    for block in _blocks(text):
        assert block, "blocks are separated by exactly one blank line"
        assert block == block.strip()
        assert "\n" not in block, "one block per paragraph, no line breaks inside"
    assert 250 <= len(re.findall(r"\w+", text)) <= 600
    label = _labels()[slug]
    assert isinstance(label["is_trade"], bool)
    published = datetime.fromisoformat(str(label["published"]))
    assert published.utcoffset() is not None, "published needs an explicit UTC offset"
    assert published.year == 2026


def test_labels_cover_exactly_the_articles() -> None:
    assert sorted(_labels()) == SLUGS
    assert sorted(p.stem for p in EXPECTED.glob("*.txt")) == SLUGS


@pytest.mark.parametrize("slug", SLUGS)
def test_page_metadata_agrees_with_labels(slug: str) -> None:
    soup, label = _soup(slug), _labels()[slug]
    h1 = soup.find("h1")
    assert h1 is not None
    assert " ".join(h1.get_text().split()) == label["title"]
    published = soup.find("meta", attrs={"property": "article:published_time"})
    assert published is not None
    assert published["content"] == label["published"]
    assert label["author"] in soup.get_text()
    canonical = soup.find("link", attrs={"rel": "canonical"})
    assert canonical is not None
    assert canonical["href"] == f"{BASE_URL}/articles/{slug}.html"


@pytest.mark.parametrize("slug", SLUGS)
def test_every_expected_block_is_a_whole_element_of_its_page(slug: str) -> None:
    """The expected text is really on the page, block by block, and in the page's order."""
    elements = [" ".join(el.get_text().split()) for el in _soup(slug).find_all(["p", "li"])]
    positions = []
    for block in _blocks((EXPECTED / f"{slug}.txt").read_text(encoding="utf-8")):
        assert block in elements, f"{slug}: block not found as a <p> or <li>: {block[:60]!r}"
        positions.append(elements.index(block))
    assert positions == sorted(positions)


def test_seed_page_contains_the_nine_paragraphs_verbatim_and_real_boilerplate() -> None:
    page = html.unescape(_served(ARTICLES / f"{SEED}.html"))
    paragraphs = _blocks((EXPECTED / f"{SEED}.txt").read_text(encoding="utf-8"))
    assert len(paragraphs) == 9
    for paragraph in paragraphs:
        assert f"<p>{paragraph}</p>" in page
    assert paragraphs[2].startswith("A Great Honour"), "the paragraph keeps its missing opening quote"
    for phrase in SEED_BOILERPLATE:
        assert phrase in page, phrase
    soup = _soup(SEED)
    for selector in ("div.entry-content", "div.comment-respond", "section.widget", "nav.breadcrumbs"):
        assert soup.select_one(selector) is not None, selector
    assert soup.find("script", attrs={"type": "application/ld+json"}) is not None


def test_seed_expected_text_equals_the_shared_seed_document() -> None:
    paragraphs = _seed_paragraphs(SHARED_SEED.read_text(encoding="utf-8"))
    assert len(paragraphs) == 9
    assert (EXPECTED / f"{SEED}.txt").read_text(encoding="utf-8") == "\n\n".join(paragraphs) + "\n"


def test_default_feeds_are_https_and_unique() -> None:
    feeds = tomllib.loads((SEEDS / "feeds.toml").read_text(encoding="utf-8"))["feeds"]
    assert len(feeds) >= 5
    urls = [feed["url"] for feed in feeds]
    assert len(set(urls)) == len(urls)
    for feed in feeds:
        assert set(feed) == {"name", "url", "tags"}, feed
        assert feed["url"].startswith("https://")
        assert feed["name"]
        assert feed["tags"]


def test_example_rules_alert_on_demo_trade_articles_and_never_on_the_others() -> None:
    raw = tomllib.loads((SEEDS / "rules.toml").read_text(encoding="utf-8"))["rules"]
    rules = [compile_rule(r["name"], r["query"], trade_only=r.get("trade_only", False)) for r in raw]
    labels = _labels()
    for slug in SLUGS:
        doc = Document(title=str(labels[slug]["title"]), text=(EXPECTED / f"{slug}.txt").read_text("utf-8"))
        matched = match_all(rules, doc, is_trade=bool(labels[slug]["is_trade"]))
        assert bool(matched) == labels[slug]["is_trade"], (slug, [rule.name for rule, _ in matched])
