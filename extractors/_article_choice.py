"""Choose the article body among candidate extractions on evidence, never on size alone.

A page gives up to three candidate bodies (see ``extractors._article_body``):
- ``trafilatura``: trafilatura's own extractor in precision mode over the whole page;
- ``dense block``: the page's densest text container (and its same-styled siblings) read on its own;
- ``fallback``: trafilatura with its bundled readability/justext comparison, computed only when the other two
  leave the page with no credible body, a stub, or one unrelated to its headline (rule 4), because it costs
  about half an extraction more.

Every candidate must first pass ``credible``: no page code written out as text (an ad tag, a script), a
reasonable share of sentence-length lines (a menu or a scoreboard has none), not mostly the text of links (a
list of other stories). The two main candidates are then compared by their shared 4-token shingles:

0. a dense block that shares almost nothing with the article's known headline and summary while
   trafilatura's body shares most of them (``EVIDENCE_GAP``) is a comment thread or a rail: it is out; so is
   a block that reads as an aside (reader-comment signatures on its lines, or headline links each with its
   summary: ``Judge.aside``) when trafilatura's body does not, unless the block matches the headline or
   summary better (a deals page is shaped like a teaser panel);
1. the dense block lies inside trafilatura's body (``AGREE``): trafilatura's body is that block plus page
   periphery (captions, teasers, comments, menus caught around it), so the block is taken;
2. trafilatura's body lies inside the dense block, which holds ``EXTEND_RATIO`` times more: trafilatura
   stopped early (at an ad slot, at the first of a split body's parts), so the block is taken -- unless what
   it adds is a reader-comment thread, the usual reason a block holds more than the article;
3. they disagree (each holds text the other lacks): trafilatura's body is out when it is an aside and the
   block is not, or when it misses the headline and summary the block matches (``EVIDENCE_GAP``);
   otherwise the one with more characters in sentence-length lines wins;
4. the winner is short (``SHORT_CHARS``), or shares nothing with a known headline or summary: the fallback
   is asked, and replaces it when credible and longer, or when it matches the headline or summary clearly
   better (``FALLBACK_GAP``);
5. nothing credible is left: the page has no body, and the caller fails it as ``no_content`` rather than
   store junk.

The evidence (headline, summary) comes from the feed entry when the caller has it -- known before the page
was fetched, so a hijacked page cannot forge it -- and from the page's own title and description otherwise.
The thresholds were set on two labelled sets at once (the Zyte article-extraction pages and L3S-GN1 news
pages, see bench/extraction.py); each rule was kept only if it helped on both.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, cached_property

from extractors._article_data import DATA_DIR

# Rule 1: the dense block is taken when this share of its shingles is in trafilatura's body. Rule 2 uses
# the same share the other way round.
AGREE = 0.9
# Rule 2: the dense block replaces a body it contains when it holds this many times its characters; below
# that it adds a caption or a byline rather than missing paragraphs.
EXTEND_RATIO = 1.5
# Rules 0, 2, 3: a text is a comment thread when this share of its lines carry a comment signature.
MAX_COMMENT_SHARE = 0.2
# Rules 0 and 3: a candidate is out when the other one's headline/summary match is this much higher (0..1).
EVIDENCE_GAP = 0.7
# Rule 4: below this many characters the chosen body is a stub worth a second opinion.
SHORT_CHARS = 250
# Rule 4: below this headline/summary match the chosen body shares nothing with what the article is about,
# and the fallback replaces it when its own match is FALLBACK_GAP higher.
NO_EVIDENCE = 0.1
FALLBACK_GAP = 0.5
# credible(): lines of at least this many characters are sentences, shorter ones are menu items and labels,
# unless they end like a sentence (a Japanese sentence of 40 characters says as much as 150 English ones).
SENTENCE_CHARS = 60
SHORT_SENTENCE_CHARS = 15
_SENTENCE_END = tuple('.!?。！？…"”’»」')
MIN_SENTENCE_SHARE = 0.3
# credible(): characters inside page-code signatures (junk_signatures.toml ``markup``).
MAX_MARKUP_SHARE = 0.1
# credible(): share of the text's shingles that are the text of links on the page.
MAX_LINK_SHARE = 0.5
# aside(): a teaser panel is headline links with their summaries; at least this many paragraphs that are or
# begin with a headline link, making up this share of the paragraphs, is a panel (an article cites a link or
# two). Headline links are compared by their first HEADLINE_PREFIX characters first.
HEADLINE_PREFIX = 12
TEASER_MIN_LINKS = 3
TEASER_LINK_SHARE = 0.25
# Evidence texts with fewer content words than this say too little to judge by ("Home", "News").
MIN_EVIDENCE_WORDS = 3

SHINGLE = 4
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class Signatures:
    """Compiled junk_signatures.toml."""

    markup: re.Pattern[str]
    markup_hints: tuple[str, ...]
    comment: re.Pattern[str]


@cache
def signatures() -> Signatures:
    """Load the markup and comment signatures once per process."""
    with (DATA_DIR / "junk_signatures.toml").open("rb") as handle:
        data = tomllib.load(handle)

    def compile_any(patterns: list[str]) -> re.Pattern[str]:
        for pattern in patterns:
            re.compile(pattern)  # fail at load with the offending entry, not inside a huge alternation
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)

    return Signatures(
        markup=compile_any(data["markup"]),
        markup_hints=tuple(hint.lower() for hint in data["markup_hints"]),
        comment=compile_any(data["comment"]),
    )


@cache
def _stopwords() -> frozenset[str]:
    """Function words of every language the extractor knows: they match anything, so they are no evidence."""
    with (DATA_DIR / "function_words.toml").open("rb") as handle:
        return frozenset(word for words in tomllib.load(handle).values() for word in words)


def shingles(text: str) -> frozenset[tuple[str, ...]]:
    """The lower-cased 4-token runs of a text (one shorter run for a text under 4 tokens). A set rather than
    the benchmark's multiset: repeated runs are rare in prose, and sets intersect in C."""
    return _shingles(_TOKEN.findall(text.lower()))


def _shingles(tokens: list[str]) -> frozenset[tuple[str, ...]]:
    if len(tokens) < SHINGLE:
        return frozenset([tuple(tokens)]) if tokens else frozenset()
    return frozenset(zip(*(tokens[i:] for i in range(SHINGLE)), strict=False))


def _is_sentence(line: str) -> bool:
    if len(line) >= SENTENCE_CHARS:
        return True
    return len(line) >= SHORT_SENTENCE_CHARS and line.endswith(_SENTENCE_END)


def _lines(text: str) -> list[str]:
    return [line for line in (raw.strip() for raw in text.split("\n")) if line]


@dataclass
class Candidate:
    """One possible body: its paragraphs, and what the choice needs to know about them (computed once)."""

    name: str
    paragraphs: list[str]

    @cached_property
    def text(self) -> str:
        return "\n".join(self.paragraphs)

    @cached_property
    def tokens(self) -> list[str]:
        return _TOKEN.findall(self.text.lower())

    @cached_property
    def shingles(self) -> frozenset[tuple[str, ...]]:
        return _shingles(self.tokens)

    @cached_property
    def words(self) -> frozenset[str]:
        return frozenset(self.tokens)

    @cached_property
    def sentence_chars(self) -> int:
        """Characters in lines of sentence length: the part of the text that reads as prose."""
        return sum(len(line) for line in _lines(self.text) if _is_sentence(line))

    def __len__(self) -> int:
        return len(self.text)

    def inside(self, other: Candidate) -> float:
        """Share of this candidate's shingles that ``other`` holds too (0 when this one is empty)."""
        return len(self.shingles & other.shingles) / len(self.shingles) if self.shingles else 0.0


@dataclass(frozen=True)
class Evidence:
    """What the article is known to be about: its headline and summary, as sets of content words."""

    texts: tuple[frozenset[str], ...] = ()

    @classmethod
    def of(cls, texts: Iterable[str | None]) -> Evidence:
        stop = _stopwords()
        sets = []
        for text in texts:
            words = frozenset(w for w in _TOKEN.findall((text or "").lower()) if w not in stop and len(w) > 1)
            if len(words) >= MIN_EVIDENCE_WORDS and words not in sets:
                sets.append(words)
        return cls(tuple(sets))

    def support(self, candidate: Candidate) -> float | None:
        """The best share of one evidence text's words found in the candidate; None without evidence."""
        if not self.texts:
            return None
        return max(len(text & candidate.words) / len(text) for text in self.texts)


@dataclass
class Judge:
    """The checks that need the page: the texts of its headline-length links, and their shingles."""

    link_shingles: frozenset[tuple[str, ...]] = frozenset()
    headlines: frozenset[str] = frozenset()  # texts of the page's headline-length links

    @cached_property
    def _by_prefix(self) -> dict[str, list[str]]:
        prefixes: dict[str, list[str]] = {}
        for text in self.headlines:
            prefixes.setdefault(text[:HEADLINE_PREFIX], []).append(text)
        return prefixes

    def led_by_link(self, paragraph: str) -> bool:
        """Whether the paragraph is, or begins with, one of the page's headline links."""
        found = self._by_prefix.get(paragraph[:HEADLINE_PREFIX], ())
        return any(paragraph.startswith(text) for text in found)

    def link_share(self, candidate: Candidate) -> float:
        own = candidate.shingles
        return len(own & self.link_shingles) / len(own) if own else 0.0

    def credible(self, candidate: Candidate | None) -> bool:
        """Whether a candidate can be an article body at all: not page code, not a menu, not a link panel."""
        if candidate is None or not candidate.text.strip():
            return False
        if _markup_chars(candidate.text) > MAX_MARKUP_SHARE * len(candidate):
            return False
        if candidate.sentence_chars < MIN_SENTENCE_SHARE * sum(map(len, _lines(candidate.text))):
            return False
        return self.link_share(candidate) <= MAX_LINK_SHARE

    def aside(self, candidate: Candidate) -> bool:
        """Whether the text reads as what sits beside an article: a reader-comment thread, or a teaser
        panel (headline links, each with or followed by its summary). A deals page or a list article has
        the same shape, so this only decides between two candidates, never refuses a lone one."""
        if comment_share(_lines(candidate.text)) >= MAX_COMMENT_SHARE:
            return True
        links = sum(1 for paragraph in candidate.paragraphs if self.led_by_link(paragraph))
        return links >= TEASER_MIN_LINKS and links >= TEASER_LINK_SHARE * len(candidate.paragraphs)


def _markup_chars(text: str) -> int:
    """Characters of the text inside page-code signatures; the regexes run only on text that holds one of
    the signatures' literal hints (prose rarely does, and the hints are found in C)."""
    found = signatures()
    lowered = text.lower()
    if not any(hint in lowered for hint in found.markup_hints):
        return 0
    return sum(len(match.group()) for match in found.markup.finditer(text))


def comment_share(lines: list[str]) -> float:
    """Share of the lines that carry a reader-comment signature (junk_signatures.toml ``comment``)."""
    pattern = signatures().comment
    return sum(1 for line in lines if pattern.search(line)) / len(lines) if lines else 0.0


def _added_lines(base: Candidate, larger: Candidate) -> list[str]:
    """Lines of ``larger`` that ``base`` does not hold (most of their shingles are new)."""
    added = []
    for line in _lines(larger.text):
        own = shingles(line)
        if own and len(own & base.shingles) < 0.5 * len(own):
            added.append(line)
    return added


@dataclass(frozen=True)
class Choice:
    """The chosen body (None: no credible body) and the rule that chose it, for tests and debugging."""

    candidate: Candidate | None
    rule: str


def choose(
    primary: Candidate,
    block: Candidate | None,
    fallback: Callable[[], Candidate],
    evidence: Evidence,
    judge: Judge,
) -> Choice:
    """Apply the rules of this module's docstring; ``fallback`` is called only when rule 4 needs it."""
    main: Candidate | None = primary if judge.credible(primary) else None
    dense = block if judge.credible(block) else None
    chosen, rule = _compare(main, dense, evidence, judge)

    support = evidence.support(chosen) if chosen is not None else None
    short = chosen is None or len(chosen) < SHORT_CHARS
    unsupported = support is not None and support < NO_EVIDENCE
    if short or unsupported:
        second = fallback()
        if judge.credible(second):
            second_support = evidence.support(second)
            if chosen is None:
                return Choice(second, "fallback: nothing else credible")
            if short and len(second) > len(chosen):
                return Choice(second, "fallback: longer than a short body")
            if unsupported and (second_support or 0.0) >= (support or 0.0) + FALLBACK_GAP:
                return Choice(second, "fallback: matches the headline/summary")
    return Choice(chosen, rule)


def _compare(
    main: Candidate | None, dense: Candidate | None, evidence: Evidence, judge: Judge
) -> tuple[Candidate | None, str]:
    """Rules 0-3: trafilatura's body against the dense block."""
    if main is None and dense is None:
        return None, "nothing credible"
    if main is None or dense is None:
        return (main, "trafilatura alone") if main is not None else (dense, "dense block alone")
    main_support, dense_support = evidence.support(main), evidence.support(dense)
    if main_support is not None and dense_support is not None and dense_support < main_support - EVIDENCE_GAP:
        # Whatever the overlap, a block that lost the headline's words is a comment thread or a rail.
        return main, "dense block does not match the headline/summary"
    better_match = (dense_support or 0.0) > (main_support or 0.0)
    if not better_match and judge.aside(dense) and not judge.aside(main):
        return main, "dense block is an aside"
    if dense.inside(main) >= AGREE:
        return dense, "dense block inside trafilatura's body"
    if main.inside(dense) >= AGREE:
        if len(dense) >= EXTEND_RATIO * len(main):
            if comment_share(_added_lines(main, dense)) < MAX_COMMENT_SHARE:
                return dense, "dense block extends trafilatura's body"
            return main, "dense block adds a comment thread"
        return main, "dense block adds little"
    if judge.aside(main) and not judge.aside(dense):
        return dense, "disagree: trafilatura's body is an aside"
    if main_support is not None and dense_support is not None and main_support < dense_support - EVIDENCE_GAP:
        return dense, "disagree: only the dense block matches the headline/summary"
    winner = max((main, dense), key=lambda c: c.sentence_chars)  # max keeps trafilatura's on a tie
    return winner, "disagree: more prose"
