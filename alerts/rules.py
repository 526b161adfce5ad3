"""The alert rule language: parse a rule once, then match it against many prepared articles.

Syntax (operators are upper-case; anything else is a word)::

    tariff                 whole word, case-insensitive, simple English plurals (tariff ~ tariffs)
    =tariff                exact form: no plural variants
    tariff*                prefix wildcard (at least MIN_PREFIX_LETTERS letters before the star)
    "trade war"            phrase: consecutive words (each word with its plural variants)
    a b   /   a AND b      both
    a OR b                 either
    NOT a   /   -a         without
    a NEAR/5 b             within 5 words of each other, either order
    ( ... )                grouping
    title:x  source:x  body:x   scope a term, phrase or group to one field
    measure:export_control  implementer:EU  affected:CN  country:CN  product:steel
                           the article's trade events (classifiers.events): a measure name, an ISO 3166
                           code or bloc (either side with country:), a product word or HS chapter
                           (product:72). Event terms joined by AND must hold for one event:
                           ``affected:CN AND measure:export_control`` is an export control on China.

Precedence, tightest first: NEAR, NOT/-, AND (explicit or implicit), OR.

Decisions, so a rule never means something the user did not intend:
- A bare lower-/mixed-case ``and``, ``or``, ``not`` or ``near`` is an error, not a word:
  ``steel or aluminium`` almost always means OR. Quote it (``"or"``) to search for the word.
- A rule must be able to match on a positive term: ``-china`` alone would alert on every article.
- Words are runs of Unicode letters/digits (NFC-normalised, case-folded). A query word containing punctuation
  (``anti-dumping``, ``U.S.``) becomes the phrase of its parts, exactly as the article text is tokenised.
- Unscoped terms search the title and the body; ``source:`` searches the feed name only.

Every error is a `RuleSyntaxError` carrying the position in the query, so configuration loading can name the
rule and point at the mistake. Event-field values are checked by the caller's ``check_field`` (configuration
loading passes ``classifiers.events.check_rule_field``), which keeps this module free of the classifier.

The message sentence (`Match`): the first hit in the body in reading order; the title when the rule hit only
the title; the source name when it hit only the source. Body first because the title is already the message's
headline, so the body sentence adds the context the reader needs to trust the alert.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

__all__ = [
    "Document",
    "EventFacts",
    "Match",
    "Prepared",
    "Query",
    "Rule",
    "RuleSyntaxError",
    "compile_rule",
    "match_all",
    "parse",
    "prepare",
]

Field: TypeAlias = Literal["title", "body", "source"]

# A word is a run of Unicode letters, digits (and underscore, as Python's \w). Both the article text and the
# query words are cut with this same pattern, which is what makes whole-word matching symmetric.
_WORD_RE = re.compile(r"\w+")

# Shortest prefix accepted before a wildcard star: "a*" or "t*" would match a large part of any article
# and turn a rule into noise.
MIN_PREFIX_LETTERS = 2

# Largest NEAR distance: beyond a paragraph's length, "near" means nothing.
MAX_NEAR_DISTANCE = 100

# Deepest nesting of groups, NOTs and NEARs a rule may have. Parsing and matching recurse once per level,
# so a rule 200 parentheses deep crashed `config check` with a RecursionError; a person's rule rarely
# goes past five levels, and this limit keeps every rule far inside Python's recursion limit.
MAX_DEPTH = 32

# The message sentence is capped to this many characters around the hit: enough for a sentence of context,
# short enough for a Slack line or a phone notification.
SENTENCE_CAP = 300

# Words ending in -s that are not plurals of a shorter word; stripping their "s" would create false hits
# (a rule "news" matching "new", "us" matching "u").
_NOT_PLURAL = frozenset(
    {"news", "us", "gas", "bus", "its", "this", "has", "was", "is", "as", "yes", "plus", "thus", "less"}
)

_FIELDS: dict[str, tuple[Field, ...]] = {"title": ("title",), "body": ("body",), "source": ("source",)}
#: Fields of an article's trade events a rule can test (see the module docstring).
EVENT_FIELDS = frozenset({"measure", "implementer", "affected", "country", "product"})
#: ``check_field(name, value)`` returns None when the value is fine, else the message for the user.
FieldCheck = Callable[[str, str], "str | None"]
_DEFAULT_FIELDS: tuple[Field, ...] = ("title", "body")
_OPERATOR_WORDS = frozenset({"and", "or", "not", "near"})
_NEAR_RE = re.compile(r"NEAR/(\d+)")


class RuleSyntaxError(ValueError):
    """A rule that cannot be parsed; carries the position so the configuration error can point at it."""

    def __init__(self, query: str, position: int, message: str, rule: str = "") -> None:
        self.query = query
        self.position = max(0, min(position, len(query)))
        self.message = message
        self.rule = rule
        super().__init__(str(self))

    def __reduce__(self) -> tuple[type[RuleSyntaxError], tuple[str, int, str, str]]:
        # Exceptions pickle as cls(*args); ours takes named parts, and Prefect pickles a failed run's error.
        return (type(self), (self.query, self.position, self.message, self.rule))

    def __str__(self) -> str:
        # The query is shown on one line so the caret lines up even when the query had newlines or tabs.
        flat = "".join(" " if c.isspace() else c for c in self.query)
        prefix = f"rule {self.rule!r}: " if self.rule else ""
        return f"{prefix}{self.message} (at position {self.position})\n  {flat}\n  {' ' * self.position}^"


@dataclass(frozen=True)
class EventFacts:
    """What a rule can test of one trade event; ``sentence`` and ``trigger`` let the alert quote it."""

    measure: str
    implementer: tuple[str, ...] = ()
    affected: tuple[str, ...] = ()
    products: tuple[str, ...] = ()  # product names and their HS chapters ("steel", "72")
    sentence: str = ""
    trigger: str = ""


@dataclass(frozen=True)
class Document:
    """The parts of an article a rule can look at."""

    title: str
    text: str  # body, paragraphs separated by blank lines
    source: str = ""  # feed name
    events: tuple[EventFacts, ...] = ()


@dataclass(frozen=True)
class Match:
    """Why a rule matched, in the form a message needs: the field, the sentence, where the hit is in it."""

    field: Field
    sentence: str
    hit_start: int
    hit_end: int
    terms: tuple[str, ...]


# --------------------------------------------------------------------------------------------- documents


def _fold(word: str) -> str:
    return word.casefold()


@dataclass
class _FieldIndex:
    """One field tokenised once: word offsets, folded words, and a word -> positions index."""

    text: str
    spans: list[tuple[int, int]]
    keys: list[str]
    index: dict[str, list[int]]
    _vocab: list[str] | None = None
    _sentences: list[tuple[int, int]] | None = None

    @classmethod
    def build(cls, raw: str) -> _FieldIndex:
        text = unicodedata.normalize("NFC", raw)
        spans: list[tuple[int, int]] = []
        keys: list[str] = []
        index: dict[str, list[int]] = {}
        for i, m in enumerate(_WORD_RE.finditer(text)):
            key = _fold(m.group())
            spans.append(m.span())
            keys.append(key)
            index.setdefault(key, []).append(i)
        return cls(text, spans, keys, index)

    @property
    def vocab(self) -> list[str]:
        """Sorted distinct words, built on first use by a prefix wildcard (bisect instead of a full scan)."""
        if self._vocab is None:
            self._vocab = sorted(self.index)
        return self._vocab

    @property
    def sentences(self) -> list[tuple[int, int]]:
        if self._sentences is None:
            self._sentences = _split_sentences(self.text)
        return self._sentences


@dataclass(frozen=True)
class Prepared:
    """A document tokenised once, so that matching tens of rules does not re-tokenise it each time."""

    document: Document
    fields: dict[Field, _FieldIndex] = field(repr=False)


def prepare(doc: Document) -> Prepared:
    """Tokenise every field of `doc` once; pass the result to `Query.match` for each rule."""
    return Prepared(
        doc,
        {
            "title": _FieldIndex.build(doc.title),
            "body": _FieldIndex.build(doc.text),
            "source": _FieldIndex.build(doc.source),
        },
    )


# Sentence ends: terminal punctuation (plus closing quotes/brackets) then whitespace, or a blank line.
_SENTENCE_END_RE = re.compile(r"[.!?…]+[\"'”’)\]]*\s+|\n\s*\n")
# Words after which a full stop does not end a sentence ("Mr. Smith", "U.S. Trade Representative").
_PARAGRAPH_BREAK_RE = re.compile(r"\n\s*\n")
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "st", "no", "vs", "inc", "ltd", "co", "corp", "jr", "sr", "gov", "sen", "rep"}
)


def _split_sentences(text: str) -> list[tuple[int, int]]:
    """Cut text into sentence (start, end) offsets; good enough for choosing the line to quote."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END_RE.finditer(text):
        if not _PARAGRAPH_BREAK_RE.search(m.group()):
            last = text[start : m.start()].rsplit(None, 1)[-1:] or [""]
            last_word = last[0].rsplit(".", 1)[-1].casefold()
            follower = text[m.end() : m.end() + 1]
            if (
                (len(last_word) == 1 and last_word.isalpha())
                or last_word in _ABBREVIATIONS
                or follower.islower()
            ):
                continue
        bounds.append((start, m.end()))
        start = m.end()
    bounds.append((start, len(text)))
    return [(s, e) for s, e in bounds if text[s:e].strip()]


# ------------------------------------------------------------------------------------------------ AST


def _plural_variants(word: str) -> frozenset[str]:
    """The word plus its simple English plural and singular forms (tariff ~ tariffs, duty ~ duties)."""
    forms = {word}
    if not word.isalpha() or len(word) < 2:
        return frozenset(forms)
    # plural of word
    if word.endswith(("s", "x", "z", "ch", "sh", "o")):
        forms.add(word + "es")
    if len(word) > 2 and word.endswith("y") and word[-2] not in "aeiou":
        forms.add(word[:-1] + "ies")
    else:
        forms.add(word + "s")
    # singular of word, if it looks like a plural
    if word not in _NOT_PLURAL and len(word) > 3:
        if word.endswith("ies"):
            forms.add(word[:-3] + "y")
        elif word.endswith("es") and word[:-2].endswith(("s", "x", "z", "ch", "sh", "o")):
            forms.add(word[:-2])
        elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
            forms.add(word[:-1])
    return frozenset(forms)


@dataclass(frozen=True)
class _Word:
    """One word of a term: a set of accepted folded forms, or a prefix."""

    forms: frozenset[str]
    prefix: str = ""

    def positions(self, fx: _FieldIndex) -> list[int]:
        if self.prefix:
            vocab = fx.vocab
            out: list[int] = []
            i = bisect.bisect_left(vocab, self.prefix)
            while i < len(vocab) and vocab[i].startswith(self.prefix):
                out.extend(fx.index[vocab[i]])
                i += 1
            return sorted(out) if out else out
        if len(self.forms) == 1:
            (only,) = self.forms
            return fx.index.get(only, [])
        found: list[int] = []
        for form in self.forms:
            found.extend(fx.index.get(form, ()))
        found.sort()
        return found

    def accepts(self, folded: str) -> bool:
        return folded.startswith(self.prefix) if self.prefix else folded in self.forms


Span: TypeAlias = tuple[int, int]  # token start, token end (exclusive)
#: Pairs a NEAR may build to find the tightest quote inside one match window; past this the quote is the
#: tightest pair with the first union (still a real match, perhaps a few words longer).
NEAR_QUOTE_PAIRS = 20_000


@dataclass(frozen=True)
class _Hit:
    field: Field
    start: int
    end: int
    terms: tuple[str, ...]


class _Node:
    pos: int

    def eval(self, prep: Prepared, fields: tuple[Field, ...], hits: list[_Hit] | None) -> bool:
        """Is the node true? When `hits` is given, append the positive hits that made it true."""
        raise NotImplementedError


class _Positional(_Node):
    """A node that has word positions (terms, phrases, NEAR, OR of those), so NEAR can measure distance."""

    label: str

    def spans(self, fx: _FieldIndex) -> list[Span]:
        raise NotImplementedError

    def hit(self, fx: _FieldIndex, found: list[Span]) -> Span:
        """The span to quote, given ``found`` (non-empty, sorted): the first."""
        return found[0]

    def eval(self, prep: Prepared, fields: tuple[Field, ...], hits: list[_Hit] | None) -> bool:
        ok = False
        for name in fields:
            fx = prep.fields[name]
            found = self.spans(fx)
            if found:
                ok = True
                if hits is None:
                    return True
                start, end = self.hit(fx, found)
                hits.append(_Hit(name, start, end, self.terms()))
        return ok

    def terms(self) -> tuple[str, ...]:
        return (self.label,)


@dataclass(frozen=True, eq=False)
class _Term(_Positional):
    words: tuple[_Word, ...]
    label: str
    pos: int

    def spans(self, fx: _FieldIndex) -> list[Span]:
        first = self.words[0].positions(fx)
        if len(self.words) == 1 or not first:
            return [(p, p + 1) for p in first]
        n, keys = len(fx.keys), fx.keys
        out: list[Span] = []
        for p in first:
            if p + len(self.words) > n:
                break
            if all(w.accepts(keys[p + k]) for k, w in enumerate(self.words[1:], 1)):
                out.append((p, p + len(self.words)))
        return out


@dataclass(frozen=True, eq=False)
class _Near(_Positional):
    """``left NEAR/distance right``: a left span with a right span at most ``distance`` words away.

    Linear (up to a logarithm) in the number of spans, however often both sides occur: building every
    (left, right) pair took 15.9 s and ~1 GB for ``tariff NEAR/100 china`` over a 1.5 MB text. Instead,
    each left span yields one span, the union of all its pairs: from the earliest start to the latest
    end among the right spans near it. That union is exact for what a span is used for here: whether
    the rule matches, and the distance to a further NEAR (the pair with the latest end is the nearest to
    anything after, the one with the earliest start to anything before, and every word between lies in
    some pair's span, since they all contain the left span). The quoted hit is one real, tightest pair.

    How one left span (s1, e1) finds its partners, with the right spans sorted by start: a right span
    (s2, e2) is near it when ``s2 <= e1 + distance`` and ``e2 >= s1 - distance``. With ``reach[i]`` the
    largest end among right spans 0..i (non-decreasing), the near ones are those up to the last start
    within reach whose end is ``>= s1 - distance``; the first of them is found by bisecting ``reach``,
    and the latest end among them is ``reach`` at the last index.
    """

    left: _Positional
    right: _Positional
    distance: int
    pos: int
    label: str = ""

    def spans(self, fx: _FieldIndex) -> list[Span]:
        return [union for union, _left in self._unions(fx)]

    def _unions(self, fx: _FieldIndex) -> list[tuple[Span, Span]]:
        """(union of the left span's pairs, the left span) for every left span that has a partner."""
        a = self.left.spans(fx)
        if not a:
            return []
        b = sorted(set(self.right.spans(fx)))
        if not b:
            return []
        starts = [s for s, _ in b]
        reach: list[int] = []
        top = -1
        for _, e in b:
            top = max(top, e)
            reach.append(top)
        out: list[tuple[Span, Span]] = []
        for s1, e1 in a:
            last = bisect.bisect_right(starts, e1 + self.distance) - 1
            if last < 0 or reach[last] < s1 - self.distance:
                continue
            first = bisect.bisect_left(reach, s1 - self.distance)  # the first right span near enough
            if b[first] == (s1, e1):  # a word is not near itself: another partner is needed
                if first == last:
                    continue
                first += 1  # every later right span up to `last` starts at or after s1: near enough
            out.append(((min(s1, b[first][0]), max(e1, reach[last])), (s1, e1)))
        out.sort()
        return out

    def hit(self, fx: _FieldIndex, found: list[Span]) -> Span:
        """The tightest real match inside the first union (the union itself may be much longer).

        A nested NEAR's left side is itself a union, so the tightest pair *with that union* could still
        quote words no real match needs (a 9-word quote for ``aa NEAR/1 bb NEAR/1 bb NEAR/1 aa``, whose
        real matches are at most 7 words). Inside the first union every real match of the chain is
        rebuilt exactly, pairs of real spans level by level; that is quadratic, so it is done for this
        one window only and given up for the old approximation when a level would build too many pairs.
        """
        unions = self._unions(fx)
        if not unions:  # pragma: no cover - only called when spans() found something
            return found[0]
        (start, end), (s1, e1) = unions[0]
        exact = self._real_spans(fx, start, end)
        if exact:
            return min(exact, key=lambda span: (span[1] - span[0], span[0]))
        best = (start, end)
        for s2, e2 in sorted(set(self.right.spans(fx))):
            if s2 > e1 + self.distance:
                break
            gap = s2 - e1 if s2 >= e1 else s1 - e2
            if gap <= self.distance and (s2, e2) != (s1, e1):
                pair = (min(s1, s2), max(e1, e2))
                if pair[1] - pair[0] < best[1] - best[0]:
                    best = pair
        return best

    def _real_spans(self, fx: _FieldIndex, start: int, end: int) -> set[Span] | None:
        """Every real (left, right) pair span inside [start, end), or None when too many to build."""
        sides = []
        for side in (self.left, self.right):
            if isinstance(side, _Near):
                inner = side._real_spans(fx, start, end)
                if inner is None:
                    return None
                sides.append(inner)
            else:
                sides.append({(s, e) for s, e in side.spans(fx) if s >= start and e <= end})
        left, right = sides
        if len(left) * len(right) > NEAR_QUOTE_PAIRS:
            return None
        return {
            (min(s1, s2), max(e1, e2))
            for s1, e1 in left
            for s2, e2 in right
            if (s2 - e1 if s2 >= e1 else s1 - e2) <= self.distance and (s2, e2) != (s1, e1)
        }

    def terms(self) -> tuple[str, ...]:
        return _dedupe((*self.left.terms(), *self.right.terms()))


def _eval_any(
    children: tuple[_Node, ...], prep: Prepared, fields: tuple[Field, ...], hits: list[_Hit] | None
) -> bool:
    """OR: true if any branch is; when collecting hits, every true branch contributes its hits."""
    ok = False
    for c in children:
        if c.eval(prep, fields, hits):
            ok = True
            if hits is None:
                return True
    return ok


@dataclass(frozen=True, eq=False)
class _AnyOf(_Positional):
    """OR whose branches are all positional: usable as a NEAR operand."""

    children: tuple[_Positional, ...]
    pos: int
    label: str = ""

    def spans(self, fx: _FieldIndex) -> list[Span]:
        out: list[Span] = []
        for c in self.children:
            out.extend(c.spans(fx))
        out.sort()
        return out

    def eval(self, prep: Prepared, fields: tuple[Field, ...], hits: list[_Hit] | None) -> bool:
        return _eval_any(self.children, prep, fields, hits)

    def terms(self) -> tuple[str, ...]:
        return _dedupe(t for c in self.children for t in c.terms())


@dataclass(frozen=True, eq=False)
class _EventTerm(_Node):
    """``affected:CN``: true when one of the article's trade events has that value."""

    name: str
    value: str
    pos: int

    def accepts(self, event: EventFacts) -> bool:
        value = self.value
        if self.name == "measure":
            return event.measure == value
        if self.name == "implementer":
            return value in event.implementer
        if self.name == "affected":
            return value in event.affected
        if self.name == "country":
            return value in event.implementer or value in event.affected
        forms = _plural_variants(value)
        return any(_fold(p) in forms for p in event.products)

    def eval(self, prep: Prepared, fields: tuple[Field, ...], hits: list[_Hit] | None) -> bool:
        chosen = [e for e in prep.document.events if self.accepts(e)]
        if chosen and hits is not None:
            hits.extend(_event_hits(prep, chosen[0], self.terms()))
        return bool(chosen)

    def terms(self) -> tuple[str, ...]:
        return (f"{self.name}:{self.value}",)


def _event_hits(prep: Prepared, event: EventFacts, terms: tuple[str, ...]) -> list[_Hit]:
    """Where the event was stated: its trigger words in the body (or title), for the message's quote."""
    for name in ("body", "title"):
        fx = prep.fields[name]
        at = fx.text.find(event.sentence) if event.sentence else -1
        if at < 0 or not fx.spans:
            continue
        offset = event.sentence.find(event.trigger) if event.trigger else -1
        start = at + max(offset, 0)
        end = start + (len(event.trigger) if offset >= 0 else len(event.sentence))
        starts = [s for s, _ in fx.spans]
        first = max(0, bisect.bisect_right(starts, start) - 1)
        last = max(first + 1, bisect.bisect_left(starts, end))
        return [_Hit(name, first, min(last, len(fx.spans)), terms)]
    title = prep.fields["title"]
    return [_Hit("title", 0, len(title.spans), terms)] if title.spans else []


@dataclass(frozen=True, eq=False)
class _And(_Node):
    children: tuple[_Node, ...]
    pos: int

    def eval(self, prep: Prepared, fields: tuple[Field, ...], hits: list[_Hit] | None) -> bool:
        together = [c for c in self.children if isinstance(c, _EventTerm)]
        joint: list[_Hit] = []
        if len(together) > 1:  # event terms joined by AND describe one event, not one event each
            events = [e for e in prep.document.events if all(t.accepts(e) for t in together)]
            if not events:
                return False
            joint = _event_hits(prep, events[0], _dedupe(t for c in together for t in c.terms()))
        else:
            together = []
        mine: list[_Hit] | None = [] if hits is not None else None
        for c in self.children:
            if c in together:
                continue
            if not c.eval(prep, fields, mine):
                return False
        if hits is not None:
            hits.extend(joint)
            if mine:
                hits.extend(mine)
        return True


@dataclass(frozen=True, eq=False)
class _Or(_Node):
    children: tuple[_Node, ...]
    pos: int

    def eval(self, prep: Prepared, fields: tuple[Field, ...], hits: list[_Hit] | None) -> bool:
        return _eval_any(self.children, prep, fields, hits)


@dataclass(frozen=True, eq=False)
class _Not(_Node):
    child: _Node
    pos: int

    def eval(self, prep: Prepared, fields: tuple[Field, ...], hits: list[_Hit] | None) -> bool:
        # Hits under NOT are never reported: they are what the article must *not* contain.
        return not self.child.eval(prep, fields, None)


@dataclass(frozen=True, eq=False)
class _Scope(_Node):
    fields: tuple[Field, ...]
    child: _Node
    pos: int

    def eval(self, prep: Prepared, fields: tuple[Field, ...], hits: list[_Hit] | None) -> bool:
        return self.child.eval(prep, self.fields, hits)


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _can_hit(node: _Node) -> bool:
    """Can the node be true only because something is present? (Else the rule would match everything.)"""
    if isinstance(node, _Positional | _EventTerm):
        return True
    if isinstance(node, _Not):
        return False
    if isinstance(node, _Scope):
        return _can_hit(node.child)
    if isinstance(node, _And):
        return any(_can_hit(c) for c in node.children)
    if isinstance(node, _Or):
        return all(_can_hit(c) for c in node.children)
    return False


# --------------------------------------------------------------------------------------------- parser


@dataclass(frozen=True)
class _Tok:
    kind: Literal["word", "phrase", "lparen", "rparen", "and", "or", "not", "near", "field", "event", "end"]
    text: str
    pos: int
    value: int = 0  # NEAR distance
    argument: str = ""  # an event field's value


def _lex(query: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
        elif c == "(":
            toks.append(_Tok("lparen", c, i))
            i += 1
        elif c == ")":
            toks.append(_Tok("rparen", c, i))
            i += 1
        elif c == '"':
            close = query.find('"', i + 1)
            if close < 0:
                raise RuleSyntaxError(query, i, "unclosed quote")
            toks.append(_Tok("phrase", query[i + 1 : close], i))
            i = close + 1
        elif c == "-" and (i + 1 >= n or query[i + 1].isspace() or query[i + 1] in ")"):
            raise RuleSyntaxError(
                query, i, "'-' must stand directly before the term it excludes, as in -china"
            )
        elif c == "-":
            toks.append(_Tok("not", c, i))
            i += 1
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] not in '()"':
                j += 1
            word = query[i:j]
            field_name, colon, _ = word.partition(":")
            if colon and field_name.isascii() and field_name.isalpha():
                if field_name.lower() in EVENT_FIELDS:
                    start = i + len(field_name) + 1
                    value, end = query[start:j], j
                    if not value and start < n and query[start] == '"':
                        close = query.find('"', start + 1)
                        if close < 0:
                            raise RuleSyntaxError(query, start, "unclosed quote")
                        value, end = query[start + 1 : close], close + 1
                    if not value.strip():
                        raise RuleSyntaxError(
                            query, start, f"{field_name}: needs a value, as in {field_name.lower()}:CN"
                        )
                    toks.append(_Tok("event", field_name.lower(), i, argument=value.strip()))
                    i = end
                    continue
                if field_name.lower() not in _FIELDS:
                    raise RuleSyntaxError(
                        query,
                        i,
                        f"unknown field {field_name!r}: use title:, body:, source:, or an event field "
                        f"({', '.join(sorted(EVENT_FIELDS))}:) (or quote it)",
                    )
                toks.append(_Tok("field", field_name.lower(), i))
                i += len(field_name) + 1
                continue  # the rest (if any) is lexed as the scoped term
            toks.append(_word_token(query, word, i))
            i = j
    toks.append(_Tok("end", "", n))
    return toks


def _word_token(query: str, word: str, pos: int) -> _Tok:
    if word in ("AND", "OR", "NOT"):
        return _Tok(word.lower(), word, pos)  # type: ignore[arg-type]
    if word.startswith("NEAR"):
        m = _NEAR_RE.fullmatch(word)
        if not m:
            raise RuleSyntaxError(query, pos, "NEAR needs a distance in words, as in NEAR/5")
        distance = int(m.group(1))
        if not 0 < distance <= MAX_NEAR_DISTANCE:
            raise RuleSyntaxError(query, pos, f"NEAR distance must be between 1 and {MAX_NEAR_DISTANCE}")
        return _Tok("near", word, pos, distance)
    if word.casefold() in _OPERATOR_WORDS or word.casefold().startswith("near/"):
        raise RuleSyntaxError(
            query, pos, f"{word!r} looks like an operator: write it upper-case ({word.upper()}) or quote it"
        )
    return _Tok("word", word, pos)


def _compile_word(query: str, word: str, pos: int, label: str) -> _Term:
    """One query word (or phrase word list) into a term; punctuation inside splits it into a phrase."""
    exact = word.startswith("=")
    body = word[1:] if exact else word
    prefix = body.endswith("*")
    if prefix:
        body = body[:-1]
    star = body.find("*")
    if star >= 0:
        raise RuleSyntaxError(
            query, pos + (1 if exact else 0) + star, "'*' is only allowed at the end of a word"
        )
    if exact and prefix:
        raise RuleSyntaxError(query, pos, "'=' (exact form) and '*' (prefix) cannot be combined")
    if body.startswith("="):
        raise RuleSyntaxError(query, pos + 1, "'=' is only allowed at the start of a word")
    parts = [_fold(m.group()) for m in _WORD_RE.finditer(unicodedata.normalize("NFC", body))]
    if not parts:
        raise RuleSyntaxError(query, pos, f"{word!r} has no letters or digits to match")
    words = [_Word(frozenset({p}) if exact else _plural_variants(p)) for p in parts]
    if prefix:
        if len(parts[-1]) < MIN_PREFIX_LETTERS or not body[-1:].isalnum():
            raise RuleSyntaxError(
                query, pos, f"a wildcard needs at least {MIN_PREFIX_LETTERS} letters before '*'"
            )
        words[-1] = _Word(frozenset(), parts[-1])
    return _Term(tuple(words), label, pos)


class _Parser:
    def __init__(self, query: str, check_field: FieldCheck | None = None) -> None:
        self.query = query
        self.toks = _lex(query)
        self.i = 0
        self.check_field = check_field
        self.depth = 0

    def deeper(self, pos: int) -> None:
        """One more level of nesting (a group, a NOT, a NEAR); refused past MAX_DEPTH, with its position."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(
                pos, f"the rule nests groups, NOT and NEAR more than {MAX_DEPTH} levels deep; simplify it"
            )

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def fail(self, pos: int, message: str) -> RuleSyntaxError:
        return RuleSyntaxError(self.query, pos, message)

    def parse(self) -> _Node:
        if self.peek().kind == "end":
            raise self.fail(0, "empty rule")
        node = self.or_expr()
        tok = self.peek()
        if tok.kind == "rparen":
            raise self.fail(tok.pos, "')' without a matching '('")
        if tok.kind != "end":  # pragma: no cover - every other token starts or continues an expression
            raise self.fail(tok.pos, f"unexpected {tok.text!r}")
        return node

    def or_expr(self) -> _Node:
        first = self.peek()
        children = [self.and_expr()]
        while self.peek().kind == "or":
            op = self.take()
            if self.peek().kind in ("end", "rparen", "or", "and"):
                raise self.fail(self.peek().pos, f"expected a term after {op.text}")
            children.append(self.and_expr())
        if len(children) == 1:
            return children[0]
        if all(isinstance(c, _Positional) for c in children):
            return _AnyOf(tuple(c for c in children if isinstance(c, _Positional)), first.pos)
        return _Or(tuple(children), first.pos)

    def and_expr(self) -> _Node:
        first = self.peek()
        children = [self.unary()]
        while True:
            kind = self.peek().kind
            if kind == "and":
                op = self.take()
                if self.peek().kind in ("end", "rparen", "or", "and"):
                    raise self.fail(self.peek().pos, f"expected a term after {op.text}")
            elif kind not in ("word", "phrase", "lparen", "not", "field", "event"):
                break
            children.append(self.unary())
        return children[0] if len(children) == 1 else _And(tuple(children), first.pos)

    def unary(self) -> _Node:
        tok = self.peek()
        if tok.kind == "not":
            self.take()
            if self.peek().kind in ("end", "rparen", "or", "and", "near"):
                raise self.fail(self.peek().pos, f"expected a term after {tok.text}")
            self.deeper(tok.pos)
            child = self.unary()
            self.depth -= 1
            return _Not(child, tok.pos)
        return self.near()

    def near(self) -> _Node:
        left = self.primary()
        levels = 0  # each NEAR wraps the chain so far: a NEAR b NEAR c is NEAR(NEAR(a, b), c)
        while self.peek().kind == "near":
            op = self.take()
            self.deeper(op.pos)
            levels += 1
            if self.peek().kind in ("end", "rparen", "or", "and", "near", "not"):
                raise self.fail(self.peek().pos, f"expected a word, phrase or group after {op.text}")
            right_pos = self.peek().pos
            right = self.positional(self.primary(), right_pos)
            left = self.positional(left, left.pos)
            left = _Near(left, right, op.value, left.pos)
        self.depth -= levels
        return left

    def positional(self, node: _Node, pos: int) -> _Positional:
        if not isinstance(node, _Positional):
            raise self.fail(
                pos, "NEAR joins words, phrases or (a OR b) groups; put NOT, AND, fields outside it"
            )
        return node

    def primary(self) -> _Node:
        tok = self.take()
        if tok.kind == "word":
            return _compile_word(self.query, tok.text, tok.pos, tok.text)
        if tok.kind == "phrase":
            return self.phrase(tok)
        if tok.kind == "event":
            return self.event(tok)
        if tok.kind == "lparen":
            if self.peek().kind == "rparen":
                raise self.fail(tok.pos, "empty parentheses")
            self.deeper(tok.pos)
            inner = self.or_expr()
            close = self.take()
            if close.kind != "rparen":
                raise self.fail(tok.pos, "'(' is never closed")
            self.depth -= 1
            return inner
        if tok.kind == "field":
            nxt = self.peek()
            if nxt.kind not in ("word", "phrase", "lparen"):
                raise self.fail(nxt.pos, f"expected a word, phrase or group after {tok.text}:")
            return _Scope(_FIELDS[tok.text], self.primary(), tok.pos)
        if tok.kind == "end":
            raise self.fail(tok.pos, "rule ends where a term was expected")
        if tok.kind == "rparen":
            raise self.fail(tok.pos, "')' without a matching '('")
        raise self.fail(tok.pos, f"{tok.text} needs a term before it")

    def event(self, tok: _Tok) -> _EventTerm:
        value = tok.argument
        if tok.text in ("implementer", "affected", "country"):
            value = value.upper()
        elif tok.text == "measure":
            value = value.casefold()
        if self.check_field is not None:
            problem = self.check_field(tok.text, value)
            if problem:
                raise self.fail(tok.pos + len(tok.text) + 1, problem)
        return _EventTerm(tok.text, value, tok.pos)

    def phrase(self, tok: _Tok) -> _Term:
        label = f'"{tok.text}"'
        words: list[_Word] = []
        offset = tok.pos + 1
        for m in re.finditer(r"\S+", tok.text):
            term = _compile_word(self.query, m.group(), offset + m.start(), m.group())
            words.extend(term.words)
        if not words:
            raise self.fail(tok.pos, "empty phrase")
        return _Term(tuple(words), label, tok.pos)


# ------------------------------------------------------------------------------------------- queries


class Query:
    """A parsed rule. Build with `parse`; match against `prepare`d documents."""

    __slots__ = ("_root", "source")

    def __init__(self, source: str, root: _Node) -> None:
        self.source = source
        self._root = root

    def __repr__(self) -> str:
        return f"Query({self.source!r})"

    def matches(self, doc: Document | Prepared) -> bool:
        """Does the rule match? Cheaper than `match`: stops at the first deciding term."""
        prep = doc if isinstance(doc, Prepared) else prepare(doc)
        return self._root.eval(prep, _DEFAULT_FIELDS, None)

    def match(self, doc: Document | Prepared) -> Match | None:
        """The match with its quotable sentence, or None."""
        prep = doc if isinstance(doc, Prepared) else prepare(doc)
        hits: list[_Hit] = []  # one pass: AND keeps a branch's hits only when the branch holds
        if not self._root.eval(prep, _DEFAULT_FIELDS, hits) or not hits:
            return None  # (no hits: parse() refuses rules that can match without a positive hit)
        order = {"body": 0, "title": 1, "source": 2}
        best = min(hits, key=lambda h: (order[h.field], h.start, h.end))
        sentence, hs, he = _quote(prep.fields[best.field], best.start, best.end)
        terms = _dedupe(t for h in sorted(hits, key=lambda h: h.start) for t in h.terms)
        return Match(best.field, sentence, hs, he, terms)


def parse(query: str, *, check_field: FieldCheck | None = None) -> Query:
    """Parse and validate a rule; raises `RuleSyntaxError` with the position of the first problem.

    ``check_field`` validates event-field values (``measure:``, ``affected:`` ...) as they are parsed.
    """
    root = _Parser(query, check_field).parse()
    if not _can_hit(root):
        where = root
        if isinstance(root, _Or):  # point at the OR branch that would match articles for what they lack
            where = next(c for c in root.children if not _can_hit(c))
        raise RuleSyntaxError(query, where.pos, "this only excludes words; add a word it must contain")
    return Query(query, root)


_WS_RE = re.compile(r"\s+")


def _quote(fx: _FieldIndex, start_tok: int, end_tok: int) -> tuple[str, int, int]:
    """The sentence around tokens [start_tok, end_tok), whitespace-normalised and capped around the hit."""
    cs, ce = fx.spans[start_tok][0], fx.spans[end_tok - 1][1]
    starts = [s for s, _ in fx.sentences]
    k = max(0, bisect.bisect_right(starts, cs) - 1)
    ss = fx.sentences[k][0]
    se = max(fx.sentences[k][1], ce)  # a phrase spanning a sentence break keeps its whole hit
    before = _WS_RE.sub(" ", fx.text[ss:cs]).lstrip()
    hit = _WS_RE.sub(" ", fx.text[cs:ce])
    after = _WS_RE.sub(" ", fx.text[ce:se]).rstrip()
    room = max(0, SENTENCE_CAP - len(hit))
    if len(before) + len(after) > room:
        keep_before = min(len(before), max(room // 2, room - len(after)))
        keep_after = room - keep_before
        if keep_before < len(before):
            cut = before[len(before) - keep_before :]
            space = cut.find(" ")
            before = "…" + (cut[space + 1 :] if 0 <= space < len(cut) - 1 else cut)
        if keep_after < len(after):
            cut = after[:keep_after]
            space = cut.rfind(" ")
            after = (cut[:space] if space > 0 else cut) + "…"
    return before + hit + after, len(before), len(before) + len(hit)


# --------------------------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    """A named rule as configured: the parsed query and whether it only applies to trade articles."""

    name: str
    query: Query
    trade_only: bool = False

    def match(self, doc: Document | Prepared, *, is_trade: bool | None = None) -> Match | None:
        """Match, honouring `trade_only` (an article not yet classified counts as not trade)."""
        if self.trade_only and not is_trade:
            return None
        return self.query.match(doc)


def compile_rule(
    name: str, query: str, *, trade_only: bool = False, check_field: FieldCheck | None = None
) -> Rule:
    """Parse a configured rule; the error names the rule, so a bad configuration file says which line."""
    try:
        return Rule(name, parse(query, check_field=check_field), trade_only)
    except RuleSyntaxError as exc:
        raise RuleSyntaxError(exc.query, exc.position, exc.message, rule=name) from None


def match_all(
    rules: Sequence[Rule], doc: Document, *, is_trade: bool | None = None
) -> list[tuple[Rule, Match]]:
    """Every rule that matches `doc`, with its match; the document is tokenised once for all of them."""
    prep = prepare(doc)
    out: list[tuple[Rule, Match]] = []
    for rule in rules:
        m = rule.match(prep, is_trade=is_trade)
        if m is not None:
            out.append((rule, m))
    return out
