"""Small labelled corpora written for the classifier tests (no benchmark data in the repository)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from classifiers.evaluate import LabeledArticle

_SUBJECTS = ["The United States", "China", "The European Union", "Japan", "Canada", "Mexico", "India"]
_GOODS = ["steel", "solar panels", "electric vehicles", "soybeans", "semiconductors", "aluminium", "wine"]
_TRADE = [
    "{s} raised tariffs on imported {g} and its partners threatened retaliation.",
    "{s} opened trade talks to cut duties on {g} exports.",
    "Negotiators from {s} said the trade deal would remove tariffs on {g}.",
    "{s} imposed anti-dumping duties on {g} after a complaint at the WTO.",
    "{s} tightened export controls on {g} shipments to rival economies.",
]
_OTHER = [
    "{s} reported strong retail sales of {g} as consumers returned to the shops.",
    "A football club in {s} signed a new striker, fans celebrated the {g} sponsorship.",
    "Heavy rain flooded farms in {s} and damaged the {g} harvest, meteorologists said.",
    "The city council in {s} approved a budget for schools and {g} recycling.",
    "Shares of a {g} maker rose in early trading in {s} after strong quarterly earnings.",
]


def make_corpus(size: int, seed: int = 7) -> list[LabeledArticle]:
    """Alternate trade and non-trade articles built from templates, reproducibly."""
    rng = random.Random(seed)
    articles = []
    for index in range(size):
        is_trade = index % 2 == 0
        templates = _TRADE if is_trade else _OTHER
        sentences = [
            rng.choice(templates).format(s=rng.choice(_SUBJECTS), g=rng.choice(_GOODS)) for _ in range(3)
        ]
        title = sentences[0].split(" and ")[0].rstrip(".")
        articles.append(LabeledArticle(title, " ".join(sentences[1:]), is_trade))
    return articles


def write_jsonl(path: Path, articles: list[LabeledArticle]) -> Path:
    lines = [json.dumps({"title": a.title, "text": a.text, "is_trade": a.is_trade}) for a in articles]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def corpus() -> list[LabeledArticle]:
    return make_corpus(60)


@pytest.fixture
def labels_file(tmp_path: Path, corpus: list[LabeledArticle]) -> Path:
    return write_jsonl(tmp_path / "labels.jsonl", corpus)
