"""The classifier's answer: a verdict with the evidence that decided it, shared by every classifier."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

Field = Literal["title", "lede", "body"]


@dataclass(frozen=True)
class Evidence:
    """One reason behind a verdict, so a reader can see *why* an article was (not) called trade news."""

    phrase: str  # the lexicon concept or model term, e.g. "tariffs", "trade talks"
    field: Field  # where it matched: the headline, the lede (first words of the body), or the rest
    weight: float  # its contribution to the raw score (negative for false-friend context)
    count: int = 1


@dataclass(frozen=True)
class Verdict:
    """Whether a text is international-trade news, how sure the classifier is, and the evidence.

    `score` is in [0, 1] and `is_trade` is exactly `score >= 0.5` for every classifier, so users can
    sort and threshold scores from the lexicon and from trained models the same way.
    """

    is_trade: bool
    score: float
    evidence: tuple[Evidence, ...]  # sorted by |weight|, largest first
    version: str  # "lexicon-<version>" or "linear-<hash>": which classifier decided
    reason: str = ""  # why the verdict is what it is when the text was not really judged


class Classifier(Protocol):
    """Anything that can judge an article; the lexicon and trained linear models both qualify."""

    @property
    def version(self) -> str:
        """Names the classifier and its data (lexicon version or model hash) so verdicts are traceable."""
        ...

    def classify(self, title: str, text: str, language: str | None = None) -> Verdict:
        """Judge one article; ``language`` is the article's (ISO 639-1) when the extractor found one."""
        ...


def sort_evidence(items: list[Evidence]) -> tuple[Evidence, ...]:
    """Order evidence largest effect first, ties by phrase, so verdicts are deterministic and readable."""
    return tuple(sorted(items, key=lambda e: (-abs(e.weight), e.phrase, e.field)))
