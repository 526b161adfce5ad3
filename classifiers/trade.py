"""Decide whether an article is international-trade news, with the evidence that decided it."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from classifiers.lexicon import Lexicon, load_lexicon, repeat_factor
from classifiers.verdict import Classifier, Evidence, Field, Verdict, sort_evidence
from extractors.language import detect_language

__all__ = [
    "Classifier",
    "Evidence",
    "LexiconClassifier",
    "Verdict",
    "classify",
]

REASON_EMPTY = "empty text"
REASON_BELOW = "below threshold"
REASON_ABOVE = "above threshold"


def reject_reason(title: str, text: str, language: str | None = None) -> str:
    """Say why a text cannot be judged ("empty text", "non-English (de)"), or "" when it can.

    Shared by every classifier so that all of them refuse the same inputs with the same words.
    ``language`` is the article's language as the extractor stored it; without one the same detector
    reads the text, and a text it is unsure of counts as English (see ``extractors.language``).
    """
    if not title.strip() and not text.strip():
        return REASON_EMPTY
    language = language or detect_language(f"{title}\n{text}") or "en"
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

    def classify(self, title: str, text: str, language: str | None = None) -> Verdict:
        """Judge one article; never raises on odd input, it returns a verdict with a reason instead.

        The article is read in three zones: the headline, the lede (the body's first words, where news
        writing states its subject) and the deep body. Each concept counts in each zone it occurs in, at
        that zone's emphasis, and each combination counts in a zone where its two concepts stand close
        together; so a trade story is recognised by where its evidence sits, not by how much of it a long
        text accumulates. A headline with no body is judged against its own, lower bar; a text with no
        headline (an untitled feed item, a wire correction) has its opening words read as one, since news
        writing puts its summary first.
        """
        reason = reject_reason(title, text, language)
        if reason:
            return Verdict(is_trade=False, score=0.0, evidence=(), version=self.version, reason=reason)
        lexicon = self.lexicon
        scoring = lexicon.scoring
        if scoring.untitled_headline_tokens and not title.strip():
            words = text.split()
            title = " ".join(words[: scoring.untitled_headline_tokens])
            text = " ".join(words[scoring.untitled_headline_tokens :])
        title_hits, _ = lexicon.find(title)
        body_hits, body_tokens = lexicon.find(text)
        lede_end = scoring.lede_tokens
        cut = next((k for k, (position, _) in enumerate(body_hits) if position >= lede_end), len(body_hits))
        zones: tuple[tuple[Field, list[tuple[int, int]], float], ...] = (
            ("title", title_hits, scoring.title_weight),
            ("lede", body_hits[:cut], scoring.lede_weight),
            ("body", body_hits[cut:], scoring.focus(body_tokens - lede_end)),
        )
        present = {concept for _, concept in title_hits} | {concept for _, concept in body_hits}
        usable = {c for c in present if not lexicon.needs[c] or lexicon.needs[c] & present}
        # Where each usable concept stands in each zone, and which combinations form there: first, because
        # a concept's `unless` may name a combination ("a restriction verb beside exports").
        placed: list[dict[int, list[int]]] = []
        formed: list[list[int]] = []
        for _, hits, _ in zones:
            positions: dict[int, list[int]] = {}
            for position, concept in hits:
                if concept in usable:
                    positions.setdefault(concept, []).append(position)
            placed.append(positions)
            formed.append(
                [
                    index
                    for index, (first, second) in enumerate(lexicon.pairs)
                    if first in positions
                    and second in positions
                    and _nearest(positions[first], positions[second]) <= lexicon.combinations[index].window
                ]
            )
        combinations = {index for indices in formed for index in indices}
        counted = {
            c
            for c in usable
            if not lexicon.unless[c] & present and not lexicon.unless_combinations[c] & combinations
        }
        # A combination counts only where both its concepts count: a penalty's combination ("coffee" beside
        # "exports": a commodity report) is lifted with the penalty by a trade measure in the article.
        pairs = lexicon.pairs
        formed = [[i for i in found if pairs[i][0] in counted and pairs[i][1] in counted] for found in formed]
        evidence: list[Evidence] = []
        raw = 0.0
        for (field, _, emphasis), positions, indices in zip(zones, placed, formed, strict=True):
            before, mark = raw, len(evidence)
            for concept, found in positions.items():
                if concept not in counted:
                    continue
                weight = lexicon.concepts[concept].weight * emphasis * repeat_factor(len(found))
                if not weight:
                    continue  # a concept that only places words for combinations ("change verbs")
                raw += weight
                evidence.append(Evidence(lexicon.concepts[concept].name, field, round(weight, 3), len(found)))
            for index in indices:
                weight = lexicon.combinations[index].weight * emphasis
                raw += weight
                evidence.append(Evidence(lexicon.combinations[index].name, field, round(weight, 3)))
            long_body = body_tokens - lede_end > scoring.short_body_tokens
            if field == "body" and long_body and raw - before > scoring.deep_cap:
                # The deep body of a long piece alone never decides (see Scoring.deep_cap); its evidence
                # is scaled down with it, so the evidence still adds up to the score.
                share = scoring.deep_cap / (raw - before)
                evidence[mark:] = [replace(e, weight=round(e.weight * share, 3)) for e in evidence[mark:]]
                raw = before + scoring.deep_cap
        score = scoring.probability(raw, scoring.threshold_for(body_tokens))
        is_trade = score >= 0.5
        return Verdict(
            is_trade=is_trade,
            score=round(score, 4),
            evidence=sort_evidence(evidence),
            version=self.version,
            reason=REASON_ABOVE if is_trade else REASON_BELOW,
        )


def _nearest(first: list[int], second: list[int]) -> int:
    """How close the nearest occurrences of two concepts stand, in word positions (1 = adjacent); both
    lists ascending."""
    best = 1 << 30
    i = j = 0
    while i < len(first) and j < len(second):
        gap = first[i] - second[j]
        if gap < 0:
            best = min(best, -gap)
            i += 1
        else:
            best = min(best, gap)
            j += 1
    return best


@cache
def default_classifier() -> LexiconClassifier:
    """The shipped lexicon classifier, loaded once and shared (it is immutable)."""
    return LexiconClassifier()


def classify(title: str, text: str) -> Verdict:
    """Judge an article with the shipped lexicon (loaded once, then shared)."""
    return default_classifier().classify(title, text)
