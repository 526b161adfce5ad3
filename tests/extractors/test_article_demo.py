"""Golden tests: every demo page extracts to exactly its expected body text, with no boilerplate."""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path

import pytest

from extractors.article import extract

DEMO = Path(__file__).resolve().parents[2] / "seeds" / "demo"
PAGES = sorted((DEMO / "articles").glob("*.html"))
BASE_URL = "http://127.0.0.1:8000"

# Lines of the seed page's surroundings that must never reach stored text or alerts.
FORBIDDEN = (
    "Leave a Comment",
    "Your email address will not be published",
    "Required fields are marked",
    "Latest Videos",
    "Most Read",
    "Sign up for our newsletter",
    "All rights reserved",
    "We use cookies",
)


def _page(path: Path) -> str:
    return path.read_text(encoding="utf-8").replace("{{BASE_URL}}", BASE_URL)


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_demo_page_extracts_exactly_the_expected_text(page: Path) -> None:
    expected = (DEMO / "expected" / f"{page.stem}.txt").read_text(encoding="utf-8").strip()
    article = extract(_page(page).encode("utf-8"), url=f"{BASE_URL}/articles/{page.name}")
    assert article.text == expected
    for phrase in FORBIDDEN:
        assert phrase not in article.text


def test_seed_page_has_nine_paragraphs() -> None:
    article = extract(_page(DEMO / "articles" / "trade-talks-japan.html"))
    assert len(article.text.split("\n\n")) == 9


LABELS = tomllib.loads((DEMO / "expected" / "labels.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_demo_page_metadata_matches_labels(page: Path) -> None:
    label = LABELS[page.stem]
    url = f"{BASE_URL}/articles/{page.name}"
    article = extract(_page(page).encode("utf-8"), url=url)
    assert article.title == label["title"]
    assert article.author == label["author"]
    assert article.published == datetime.fromisoformat(label["published"])
    assert article.published is not None
    assert article.published.utcoffset() == datetime.fromisoformat(label["published"]).utcoffset()
    assert article.canonical_url == url
    assert article.language == "en"
    assert article.url == url
