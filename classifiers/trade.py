"""Decide whether an article is international-trade news, with the evidence that decided it."""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

from classifiers.language import detect_language
from classifiers.lexicon import Lexicon, load_lexicon, repeat_factor
from classifiers.verdict import Classifier, Evidence, Field, Verdict, sort_evidence

__all__ = [
    "Classifier",
    "Evidence",
    "LexiconClassifier",
    "Verdict",
    "classify",
    "load_classifier",
]

REASON_EMPTY = "empty text"
REASON_BELOW = "below threshold"
REASON_ABOVE = "above threshold"


def reject_reason(title: str, text: str) -> str:
    """Say why a text cannot be judged ("empty text", "non-English (de)"), or "" when it can.

    Shared by every classifier so that all of them refuse the same inputs with the same words.
    """
    if not title.strip() and not text.strip():
        return REASON_EMPTY
    language = detect_language(f"{title}\n{text}")
    if language != "en":
        return f"non-English ({language})"
    return ""


class LexiconClassifier:
    """The shipped classifier: a weighted lexicon chosen by people, needing no training data.

    Immutable after construction, so one instance serves any number of threads.
    """

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon if lexicon is not None else load_lexicon()
        self.version = f"lexicon-{self.lexicon.version}"

    def classify(self, title: str, text: str) -> Verdict:
        """Judge one article; never raises on odd input, it returns a verdict with a reason instead."""
        reason = reject_reason(title, text)
        if reason:
            return Verdict(is_trade=False, score=0.0, evidence=(), version=self.version, reason=reason)
        lexicon = self.lexicon
        title_counts, _ = lexicon.count(title)
        body_counts, body_tokens = lexicon.count(text)
        focus = lexicon.scoring.focus(body_tokens)
        found: dict[Field, Counter[int]] = {"title": title_counts, "body": body_counts}
        present = {lexicon.concepts[i].name for counts in found.values() for i in counts}
        evidence: list[Evidence] = []
        raw = 0.0
        for field, counts in found.items():
            emphasis = lexicon.scoring.title_weight if field == "title" else focus
            for index, count in counts.items():
                concept = lexicon.concepts[index]
                if concept.needs and not present.intersection(concept.needs):
                    continue
                weight = concept.weight * emphasis * repeat_factor(count)
                raw += weight
                evidence.append(Evidence(concept.name, field, round(weight, 3), count))
        title_names = {lexicon.concepts[i].name for i in found["title"]}
        for combo in lexicon.combinations:
            if present.issuperset(combo.concepts):
                in_title = bool(title_names.intersection(combo.concepts))
                weight = combo.weight if in_title else combo.weight * focus
                raw += weight
                evidence.append(Evidence(combo.name, "title" if in_title else "body", round(weight, 3)))
        score = lexicon.scoring.probability(raw)
        is_trade = score >= 0.5
        return Verdict(
            is_trade=is_trade,
            score=round(score, 4),
            evidence=sort_evidence(evidence),
            version=self.version,
            reason=REASON_ABOVE if is_trade else REASON_BELOW,
        )


@cache
def default_classifier() -> LexiconClassifier:
    """The shipped lexicon classifier, loaded once and shared (it is immutable)."""
    return LexiconClassifier()


def classify(title: str, text: str) -> Verdict:
    """Judge an article with the shipped lexicon (loaded once, then shared)."""
    return default_classifier().classify(title, text)


def load_classifier(model_path: str | Path | None = None) -> Classifier:
    """Return the classifier configuration asks for: None → the lexicon, else a trained model file."""
    if model_path is None:
        return default_classifier()
    from classifiers.linear import load_model  # a trained model is optional; load its code only if used

    return load_model(model_path)
