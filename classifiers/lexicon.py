"""Load the weighted trade lexicon (a commented TOML file) and find its terms in text, fast."""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

# A wildcard term ("tariff*") must keep at least this many literal letters before the star: the matcher
# indexes wildcard terms by their first WILDCARD_STEM letters so that each text token costs two dict look-ups
# whatever the lexicon's size, and a shorter stem would match too many unrelated words anyway.
WILDCARD_STEM = 4

_TOKEN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class LexiconError(ValueError):
    """The lexicon file is malformed; the message names the file and the offending entry."""


def tokenize(text: str) -> list[str]:
    """Split text into lower-case word tokens, keeping hyphenated compounds ("anti-dumping") whole.

    Apostrophes split ("japan's" → "japan", "s") so possessives still match the bare word; the lexicon
    and the trained models share this one tokenizer so their evidence reads alike.
    """
    return _TOKEN.findall(text.lower())


@dataclass(frozen=True)
class Concept:
    """A trade idea ("tariffs") with the weight a person gave it and the concepts it needs beside it.

    `needs`: counts only when one of these concepts also occurs in the article; `unless`: counts only when
    none of these concepts or combinations does (a commodity-market penalty that must not fire on a story
    about grain tariffs or an export halt).
    """

    name: str
    weight: float
    needs: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()


@dataclass(frozen=True)
class Combination:
    """Extra weight when two concepts occur close together: "curbs" beside "exports" is a trade measure,
    the same two words three paragraphs apart are not. `window`: how many word positions apart their
    matches may start (1 = adjacent), within one zone of the article."""

    name: str
    concepts: tuple[str, str]
    weight: float
    window: int


@dataclass(frozen=True)
class _Term:
    tokens: tuple[str, ...]
    wildcard: tuple[bool, ...]
    concept: int
    #: The second word when it must be exactly that word (a phrase without a star there): checked before
    #: ``matches``, it turns most phrases away for the price of one comparison.
    second: str | None = None

    def matches(self, tokens: list[str], start: int) -> bool:
        if start + len(self.tokens) > len(tokens):
            return False
        for offset, (want, wild) in enumerate(zip(self.tokens, self.wildcard, strict=True)):
            got = tokens[start + offset]
            if not (got.startswith(want) if wild else got == want):
                return False
        return True


@dataclass(frozen=True)
class Scoring:
    """How raw evidence becomes a score: where it sits (headline, lede, deep body) and the threshold.

    Emphasis per zone: `title_weight`, `lede_weight` for the body's first `lede_tokens` words, `focus` for
    the rest (the deep body), whose total is capped at `deep_cap` so that it cannot reach `threshold` on
    its own, once the deep body is longer than `short_body_tokens` (up to that length it is still the
    story's opening paragraphs). A headline alone needs `title_threshold`. A text with no headline reads
    its first `untitled_headline_tokens` words as one (0: it has none). The numbers live in the lexicon
    file's [scoring] table, with the measurements that chose them.
    """

    title_weight: float
    lede_weight: float
    lede_tokens: int
    threshold: float
    title_threshold: float
    scale: float
    focus_tokens: int
    focus_floor: float
    deep_cap: float
    combination_window: int
    short_body_tokens: int = 0
    untitled_headline_tokens: int = 0

    def focus(self, deep_tokens: int) -> float:
        """Weight of deep-body evidence (after the lede) for that many deep words: 1 for a short body,
        falling with its square root as it grows, never below the floor."""
        if deep_tokens <= self.focus_tokens:
            return 1.0
        return max(self.focus_floor, math.sqrt(self.focus_tokens / deep_tokens))

    def threshold_for(self, body_tokens: int) -> float:
        """The raw score a text needs: a headline alone is judged on its own bar, which rises linearly to
        the full bar as the body grows to a lede's length (a feed summary sits in between)."""
        share = min(1.0, body_tokens / self.lede_tokens) if self.lede_tokens else 1.0
        return self.title_threshold + (self.threshold - self.title_threshold) * share

    def probability(self, raw: float, threshold: float) -> float:
        """Map a raw weight sum to [0, 1] so that exactly the threshold gives 0.5."""
        margin = (raw - threshold) / self.scale
        if margin < -700:
            return 0.0
        return 1.0 / (1.0 + math.exp(-margin))


def repeat_factor(count: int) -> float:
    """Weight for a concept seen `count` times: growing, but slowly, so one repeated word cannot decide."""
    return 1.0 + math.log(count)


class Lexicon:
    """The parsed lexicon plus an index that finds every term in one left-to-right pass over the tokens."""

    def __init__(
        self,
        version: str,
        scoring: Scoring,
        concepts: list[Concept],
        terms: list[tuple[str, int]],
        combinations: list[Combination],
    ) -> None:
        self.version = version
        self.scoring = scoring
        self.concepts = tuple(concepts)
        self.combinations = tuple(combinations)
        number = {concept.name: position for position, concept in enumerate(concepts)}
        combined = {combination.name: position for position, combination in enumerate(combinations)}
        #: Each concept's `needs` and `unless` as concept (and combination) indices, and each combination's
        #: two concepts.
        self.needs = tuple(frozenset(number[name] for name in c.needs) for c in concepts)
        self.unless = tuple(frozenset(number[name] for name in c.unless if name in number) for c in concepts)
        self.unless_combinations = tuple(
            frozenset(combined[name] for name in c.unless if name in combined) for c in concepts
        )
        self.pairs = tuple((number[c.concepts[0]], number[c.concepts[1]]) for c in combinations)
        self._exact: dict[str, list[_Term]] = {}
        self._wild: dict[str, list[_Term]] = {}
        for text, concept in terms:
            term = _compile_term(text, concept, f"concept {concepts[concept].name!r}")
            if term.wildcard[0]:
                self._wild.setdefault(term.tokens[0][:WILDCARD_STEM], []).append(term)
            else:
                self._exact.setdefault(term.tokens[0], []).append(term)
        # Longest phrase first, so "trade show" is tried (and wins) before "trade" at the same position.
        for index in (self._exact, self._wild):
            for bucket in index.values():
                bucket.sort(key=lambda t: (-len(t.tokens), t.tokens))

    def _words(self, tokens: list[str]) -> list[str]:
        """Split each hyphenated compound that no term starts with into its parts.

        The tokenizer keeps "anti-dumping" and "trade-in" whole because terms are written for them; the
        same rule would hide "tariff" in "zero-tariff" and "trade war" in "trade-war fears", compounds
        headline writers coin freely, so those are read as their words.
        """
        if not any("-" in token for token in tokens):
            return tokens
        words: list[str] = []
        for token in tokens:
            if "-" in token and not self._starts_term(token):
                words.extend(part for part in token.split("-") if part)
            else:
                words.append(token)
        return words

    def _starts_term(self, token: str) -> bool:
        if token in self._exact:
            return True
        return any(token.startswith(term.tokens[0]) for term in self._wild.get(token[:WILDCARD_STEM], ()))

    def count(self, text: str) -> tuple[Counter[int], int]:
        """Count concept matches in a text, and its words (see `find`)."""
        hits, n = self.find(text)
        return Counter(concept for _, concept in hits), n

    def find(self, text: str) -> tuple[list[tuple[int, int]], int]:
        """Find concept matches in a text as (word position, concept index), in order, and count its words.

        At each position the longest term wins. Matched tokens are consumed, which is how negative context
        works: "trade union" takes the token "trade" so the generic "trade" concept never sees it.
        """
        tokens = self._words(tokenize(text))
        hits: list[tuple[int, int]] = []
        exact, wild = self._exact, self._wild
        # Nearly every word starts no term: find the few that may in one comprehension, then try terms
        # only there.
        starts = [i for i, token in enumerate(tokens) if token in exact or token[:WILDCARD_STEM] in wild]
        free = 0  # the first position not consumed by a match
        n = len(tokens)
        for i in starts:
            if i < free:
                continue
            token = tokens[i]
            following = tokens[i + 1] if i + 1 < n else None
            best: _Term | None = None
            for bucket in (exact.get(token), wild.get(token[:WILDCARD_STEM])):
                if not bucket:
                    continue
                for term in bucket:
                    if term.second is not None and term.second != following:
                        continue  # a phrase whose second word is not here: most of them, at most places
                    if (best is None or len(term.tokens) > len(best.tokens)) and term.matches(tokens, i):
                        best = term
                        break
            if best is not None:
                hits.append((i, best.concept))
                free = i + len(best.tokens)
        return hits, n


def _compile_term(text: str, concept: int, where: str) -> _Term:
    """Turn one spelled-out variant into tokens, with the same tokenizer the text goes through."""
    tokens: list[str] = []
    wildcard: list[bool] = []
    for part in text.split():
        star = part.endswith("*")
        pieces = tokenize(part.rstrip("*"))
        if not pieces:
            raise LexiconError(f"{where}: term {text!r} has no word in {part!r}")
        tokens.extend(pieces)
        wildcard.extend([False] * (len(pieces) - 1) + [star])
    if wildcard[0] and len(tokens[0]) < WILDCARD_STEM:
        raise LexiconError(f"{where}: term {text!r}: a wildcard needs {WILDCARD_STEM}+ letters before '*'")
    second = tokens[1] if len(tokens) > 1 and not wildcard[1] else None
    return _Term(tuple(tokens), tuple(wildcard), concept, second)


def _expand(term: str) -> list[str]:
    """Spell out the variants a person means by one term.

    "anti-dumping" also matches "anti dumping" (news copy and wire text split compounds inconsistently);
    a leading "=" ("=trade-in") keeps the hyphenated form only, for compounds whose spaced form means
    something else ("trade in goods").
    """
    if term.startswith("="):
        return [term[1:]]
    variants = [term]
    if "-" in term:
        variants.append(term.replace("-", " "))
    return variants


def parse_lexicon(raw: dict[str, Any], source: str) -> Lexicon:
    """Build a Lexicon from parsed TOML, naming the file and entry on any mistake."""
    try:
        version = str(raw["version"])
        scoring_raw = raw["scoring"]
        scoring = Scoring(
            title_weight=float(scoring_raw["title_weight"]),
            lede_weight=float(scoring_raw["lede_weight"]),
            lede_tokens=int(scoring_raw["lede_tokens"]),
            threshold=float(scoring_raw["threshold"]),
            title_threshold=float(scoring_raw["title_threshold"]),
            scale=float(scoring_raw["scale"]),
            focus_tokens=int(scoring_raw["focus_tokens"]),
            focus_floor=float(scoring_raw["focus_floor"]),
            deep_cap=float(scoring_raw["deep_cap"]),
            combination_window=int(scoring_raw["combination_window"]),
            # optional (2026.12.3): a lexicon file without them keeps the earlier behaviour
            short_body_tokens=int(scoring_raw.get("short_body_tokens", 0)),
            untitled_headline_tokens=int(scoring_raw.get("untitled_headline_tokens", 0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LexiconError(f"{source}: missing or bad 'version' or [scoring] entry: {exc}") from exc
    concepts: list[Concept] = []
    terms: list[tuple[str, int]] = []
    seen: dict[str, str] = {}
    for position, entry in enumerate(raw.get("concept", []), start=1):
        where = f"{source}: concept #{position} ({entry.get('name', '?')})"
        try:
            concept = Concept(
                str(entry["name"]),
                float(entry["weight"]),
                tuple(entry.get("needs", ())),
                tuple(entry.get("unless", ())),
            )
            entry_terms = list(entry["terms"])
        except (KeyError, TypeError, ValueError) as exc:
            raise LexiconError(f"{where}: needs name, weight and terms: {exc}") from exc
        for term in entry_terms:
            for variant in _expand(str(term).strip().lower()):
                key = " ".join(tokenize(variant)) + ("*" if variant.endswith("*") else "")
                if key in seen:
                    raise LexiconError(f"{where}: term {variant!r} already belongs to {seen[key]!r}")
                seen[key] = concept.name
                terms.append((variant, len(concepts)))
        concepts.append(concept)
    names = {c.name for c in concepts}
    if len(names) != len(concepts):
        raise LexiconError(f"{source}: concept names must be unique")
    combinations: list[Combination] = []
    for entry in raw.get("combination", []):
        where = f"{source}: combination {entry.get('name', '?')!r}"
        try:
            pair = tuple(str(name) for name in entry["concepts"])
            window = int(entry.get("window", scoring.combination_window))
            weight = float(entry["weight"])
        except (KeyError, TypeError, ValueError) as exc:
            raise LexiconError(f"{where}: needs name, concepts and weight: {exc}") from exc
        if len(pair) != 2:
            raise LexiconError(f"{where}: names {len(pair)} concepts; a combination pairs exactly two")
        combinations.append(Combination(str(entry["name"]), (pair[0], pair[1]), weight, window))
    for concept in concepts:
        unknown = set(concept.needs) - names
        if unknown:
            raise LexiconError(f"{source}: concept {concept.name!r} needs unknown {sorted(unknown)}")
        unknown = set(concept.unless) - names - {combo.name for combo in combinations}
        if unknown:
            raise LexiconError(f"{source}: concept {concept.name!r}: unless names unknown {sorted(unknown)}")
    for combo in combinations:
        unknown = set(combo.concepts) - names
        if unknown:
            raise LexiconError(f"{source}: combination {combo.name!r} names unknown {sorted(unknown)}")
    try:
        return Lexicon(version, scoring, concepts, terms, combinations)
    except LexiconError as exc:
        raise LexiconError(f"{source}: {exc}") from exc


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """Read a lexicon file; None reads the one shipped with tradewatch."""
    if path is None:
        resource = resources.files("classifiers").joinpath("data/trade_lexicon.toml")
        text, source = resource.read_text(encoding="utf-8"), "classifiers/data/trade_lexicon.toml"
    else:
        text, source = Path(path).read_text(encoding="utf-8"), str(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LexiconError(f"{source}: not valid TOML: {exc}") from exc
    return parse_lexicon(raw, source)
