"""Find the trade measures a trade article reports: who did what to whom, on which goods, at what rate, when.

A pure stage beside classification (run only for articles classified as trade): text in, ``TradeEvent``s
out, with the sentence each field came from. No storage, no network. The knowledge is data beside this
module — ``data/event_patterns.toml`` (measure patterns and false friends), ``data/event_places.toml``
(aliases, demonyms, capitals and offices on top of pycountry's ISO 3166 names) and
``data/event_products.toml`` (product words and their HS chapters) — and the algorithm is this sequence:

1. drop the wire dateline ("OTTAWA, Aug 26 (Reuters) -"); cut the title and body into sentences; blank the
   false friends ("feed-in tariffs", "stamp duty");
2. a sentence with a measure pattern becomes a candidate event (the most specific measure first; one per
   clause of ", while"; one per trade-defence instrument named together), with the jurisdictions,
   products, rates and dates *of that sentence*, unless speculation, a threat, a denial or background is
   said of the measure ("could impose", "had imposed", "in May") or it sits in a clause giving the cause
   ("after the US raised tariffs");
3. each jurisdiction gets a role from the words around it: "by the EU" and "Beijing said it would" act
   (implementer), "on Chinese steel", "imports from Canada" and "talks with Japan" are on the receiving end
   (affected), "imports into Mexico" makes Mexico the one taxing them; otherwise a name before the measure
   acts and one after it is affected; names in an aside after the measure ("..., amid U.S. tariffs") take
   no part;
4. sentences without a measure of their own complete the last one: the lead under a headline restating it,
   "The duties take effect on ...", "The list includes soybeans ...";
5. candidates of one measure and implementer are merged into one event per article (the headline and
   the lead usually state the same measure twice); a candidate with no jurisdiction at all joins such an
   event or is dropped, so background talk of "tariffs" invents nothing; a generic tariff change joins the
   specific measure it is part of, and bans join the sanctions package that contains them.

Dates are kept only where the text states one, resolved against the publication date: weekdays and
"today"/"yesterday" here (news means the most recent Wednesday, including today, which dateparser's
"prefer past" setting gets wrong on a Wednesday), explicit dates with dateparser (``RELATIVE_BASE`` = the
publication date), and only after a cheap regular expression has found a date-like phrase, because
dateparser costs about a millisecond per call.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

__all__ = [
    "MEASURES",
    "Rate",
    "TradeEvent",
    "check_rule_field",
    "describe",
    "extract_events",
    "jurisdiction_code",
]

DATA = Path(__file__).resolve().parent / "data"
PATTERNS_FILE = DATA / "event_patterns.toml"
PLACES_FILE = DATA / "event_places.toml"
PRODUCTS_FILE = DATA / "event_products.toml"

#: Rates further than this many characters from a duty word or the measure's own words are about
#: something else in the sentence (a market move, a share of imports).
RATE_REACH = 70
#: Characters before a measure searched for a clause that makes it the cause of the news, not the news:
#: "... since President Trump raised tariffs on Chinese imports to 145% and Beijing retaliated".
BACKGROUND_REACH = 160
#: Characters after the end of a measure's clause searched for a skip word that starts inside the clause.
SKIP_SLACK = 80
#: A measure whose every stated date lies this many days or more before publication is background: the labels
#: of the tuning sets date announcements within a week of publication, effective days up to months after.
STALE_DAYS = 30
#: Sentences of the body, after the headline, that make its lead: where an article states its news.
LEDE_SENTENCES = 1
#: Sentences after a measure's in which a list of goods ("The list includes soybeans ...") is still its list.
LIST_REACH = 3
#: Words before a date phrase searched for "take effect", "in force" (strong effective-date cues); the weak
#: cues ("from", "starting") must stand right before it, since "imports from China on Monday" is no start.
DATE_CUE_WORDS = 8
DATE_WEAK_CUE_WORDS = 2
#: A line in an alert stays readable on a phone and well inside Slack's and e-mail's limits.
LINE_CAP = 200

Role = Literal["actor", "target", "partner"]


# --------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Rate:
    """A duty rate as stated: a percentage, or an amount per unit ("$50 per net ton")."""

    value: float
    unit: str = "%"  # "%", or e.g. "USD/net ton"
    low: float | None = None  # "between 17.4% and 38.1%": low=17.4, value=38.1

    def __str__(self) -> str:
        def num(x: float) -> str:
            return f"{x:g}"

        if self.unit == "%":
            return f"{num(self.low)}–{num(self.value)}%" if self.low is not None else f"{num(self.value)}%"
        currency, _, per = self.unit.partition("/")
        shown = f"{num(self.low)}–{num(self.value)}" if self.low is not None else num(self.value)
        return f"{currency} {shown} per {per}" if per else f"{currency} {shown}"


@dataclass(frozen=True)
class TradeEvent:
    """One trade measure reported by an article, with the sentence each field was read from.

    ``implementer`` and ``affected`` are ISO 3166-1 alpha-2 codes or bloc codes ("EU"); ``products`` are
    product names from the product table and ``hs_chapters`` their two-digit HS chapters; ``subjects``
    are the measures a negotiation or dispute is about ("tariffs", "quotas"). ``evidence`` maps a field
    name to the sentence it came from; ``trigger`` is the phrase that named the measure.
    """

    measure: str
    implementer: tuple[str, ...] = ()
    affected: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    hs_chapters: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    rate_from: Rate | None = None
    rate_to: Rate | None = None
    announced: date | None = None
    effective: date | None = None
    trigger: str = ""
    evidence: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The measure in words ("anti-dumping duty")."""
        return MEASURES.get(self.measure, self.measure.replace("_", " "))


def describe(event: TradeEvent) -> str:
    """One line for an alert or a table: "US → CA · anti-dumping duty · softwood lumber · 8.99% → 17.9% ·
    effective 2022-08-01". Parts that are unknown are left out, never guessed."""
    who = ", ".join(event.implementer) or "?"
    if event.affected:
        who += " → " + ", ".join(event.affected)
    parts = [who, event.label]
    if event.products:
        parts.append(", ".join(event.products[:4]) + (" …" if len(event.products) > 4 else ""))
    elif event.subjects:
        parts.append("on " + ", ".join(event.subjects[:4]))
    if event.rate_to is not None and event.rate_from is not None:
        parts.append(f"{event.rate_from} → {event.rate_to}")
    elif event.rate_to is not None:
        parts.append(str(event.rate_to))
    if event.effective is not None:
        parts.append(f"effective {event.effective.isoformat()}")
    elif event.announced is not None:
        parts.append(f"announced {event.announced.isoformat()}")
    line = " · ".join(parts)
    return line if len(line) <= LINE_CAP else line[: LINE_CAP - 1].rstrip() + "…"


# ------------------------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class _Measure:
    name: str
    label: str
    pattern: re.Pattern[str]
    anchors: frozenset[str]
    requires: re.Pattern[str] | None = None  # also needed somewhere in the sentence (its trade context)


@dataclass(frozen=True)
class _Place:
    code: str
    kind: Literal["name", "demonym", "capital", "actor", "anaphor"]
    guarded: bool = False


@dataclass(frozen=True)
class _Data:
    version: str
    measures: tuple[_Measure, ...]
    anchors: frozenset[str]
    anchor_re: re.Pattern[str]
    false_friends: re.Pattern[str]
    context_skip: re.Pattern[str]
    context_past: re.Pattern[str]
    context_future: re.Pattern[str]
    context_dated: re.Pattern[str]  # a participle right before a past time: "imposed in 2018"
    vows: re.Pattern[str]  # "vowed to", "would take necessary measures": news only with a rate or goods
    comparison: re.Pattern[str]  # "higher than", "compared with": a yardstick, not the measure
    reported: re.Pattern[str]  # "said", "announced": a "would" after one reports a decision
    causes: re.Pattern[str]  # "hurt by", "due to", "on fears of" right before a measure: its setting
    impact: re.Pattern[str]  # "would cost", "would hurt": what a measure would do, a hypothesis
    separate: re.Pattern[str]  # "Separately, ...": a sentence that opens news of its own
    ended: re.Pattern[str]  # "expired", "lapsed": a measure that ran out
    review: re.Pattern[str]  # "Explainer:", "(Reuters Breakingviews)": an article that surveys measures
    tariff_noun: re.Pattern[str]
    places: dict[str, _Place]
    place_re: re.Pattern[str]
    blocs: frozenset[str]  # bloc codes ("EU", "MERCOSUR"): what "the bloc" can stand for
    bloc_re: re.Pattern[str]  # the blocs' names, to follow which bloc an article last named
    anaphor_re: re.Pattern[str]  # "the bloc": whether an article needs that
    products: dict[str, tuple[str, str]]  # folded words -> (product name, HS chapter)
    product_words: int  # the longest product name, in words
    codes: frozenset[str]


_ORIGIN_SUFFIX = r"-(?:made|built|owned|flagged|produced|manufactured|origin|sourced|grown|based)"


def _expand(pattern: str, macros: dict[str, str]) -> str:
    for name, value in macros.items():
        pattern = pattern.replace("{" + name + "}", value)
    return pattern


@cache
def _data() -> _Data:
    """Load and compile the three data files once per process (they are immutable)."""
    import pycountry

    raw = tomllib.loads(PATTERNS_FILE.read_text(encoding="utf-8"))
    macros: dict[str, str] = raw["macros"]
    measures = tuple(
        _Measure(
            m["name"],
            m["label"],
            re.compile("|".join(f"(?:{_expand(p, macros)})" for p in m["patterns"]), re.IGNORECASE),
            frozenset(a.casefold() for a in m["anchors"]),
            re.compile(_expand(m["requires"], macros), re.IGNORECASE) if "requires" in m else None,
        )
        for m in raw["measure"]
    )
    anchors = sorted({a for m in measures for a in m.anchors}, key=len, reverse=True)
    anchor_re = re.compile(r"\b(?:" + "|".join(re.escape(a) for a in anchors) + ")", re.IGNORECASE)
    false_friends = re.compile(
        r"\b(?:" + "|".join(f"(?:{p})" for p in raw["false_friends"]["patterns"]) + r")\b", re.IGNORECASE
    )
    context_skip = re.compile("|".join(f"(?:{p})" for p in raw["context"]["skip"]), re.IGNORECASE)
    tariff_noun = re.compile(
        r"\b(?:" + macros["TARIFF"] + r"|rates?|margins?|fees?|charges?|deposits?)\b", re.IGNORECASE
    )

    places_raw = tomllib.loads(PLACES_FILE.read_text(encoding="utf-8"))
    skip = set(places_raw["skip"]["names"])
    guarded = set(places_raw["skip"]["guarded"])
    places: dict[str, _Place] = {}
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            name = getattr(country, attr, None)
            if not name or "," in name or "(" in name:
                continue
            if name in skip:
                if name in guarded:
                    places[name] = _Place(country.alpha_2, "name", guarded=True)
                continue
            places.setdefault(name, _Place(country.alpha_2, "name"))
    tables: list[tuple[str, Literal["name", "demonym", "capital", "actor", "anaphor"]]] = [
        ("names", "name"),
        ("blocs", "name"),
        ("blocs_demonym", "demonym"),
        ("demonyms", "demonym"),
        ("capitals", "capital"),
        ("actors", "actor"),
        ("anaphors", "anaphor"),
    ]
    for table, kind in tables:
        for code, aliases in places_raw[table].items():
            for alias in aliases:
                places[alias] = _Place(code, kind)
    for name in guarded:
        places.setdefault(name, _Place("", "name", guarded=True))
    for phrase in places_raw["ignore"]["phrases"]:
        places[phrase] = _Place("", "name")  # matched so that the name inside it is not
    alternatives = "|".join(re.escape(a) for a in sorted(places, key=len, reverse=True))
    # Case-sensitive: names are capitalised in running text. A hyphen followed by a lower-case letter
    # continues the word ("China-made" is listed on its own); "U.S.-China" is two names.
    # "US-built", "Japan-flagged": any name with an origin suffix is used as a demonym.
    place_re = re.compile(rf"(?<![\w-])({alternatives})({_ORIGIN_SUFFIX})?(?!\w)(?!-[a-z])")

    products_raw = tomllib.loads(PRODUCTS_FILE.read_text(encoding="utf-8"))["products"]
    products: dict[str, tuple[str, str]] = {}
    for name, spec in products_raw.items():
        for word in (name, *spec.get("alias", [])):
            for form in _plural_forms(word.casefold()):
                products.setdefault(form, (name, spec.get("hs", "")))
    codes = frozenset(p.code for p in places.values() if p.code)
    bloc_names = sorted(
        (a for aliases in places_raw["blocs"].values() for a in aliases), key=len, reverse=True
    )
    return _Data(
        version=str(raw["version"]),
        measures=measures,
        anchors=frozenset(anchors),
        anchor_re=anchor_re,
        false_friends=false_friends,
        context_skip=context_skip,
        context_past=re.compile("|".join(f"(?:{p})" for p in raw["context"]["past"]), re.IGNORECASE),
        context_future=re.compile(raw["context"]["future"], re.IGNORECASE),
        context_dated=re.compile(raw["context"]["dated"], re.IGNORECASE),
        vows=re.compile("|".join(f"(?:{p})" for p in raw["context"]["vows"]), re.IGNORECASE),
        comparison=re.compile("|".join(f"(?:{p})" for p in raw["context"]["comparison"]), re.IGNORECASE),
        reported=re.compile(raw["context"]["reported"], re.IGNORECASE),
        causes=re.compile("|".join(f"(?:{p})" for p in raw["context"]["causes"]), re.IGNORECASE),
        impact=re.compile(raw["context"]["impact"], re.IGNORECASE),
        separate=re.compile(raw["context"]["separate"], re.IGNORECASE),
        ended=re.compile(raw["context"]["ended"], re.IGNORECASE),
        review=re.compile(raw["context"]["review"], re.IGNORECASE),
        tariff_noun=tariff_noun,
        places=places,
        place_re=place_re,
        blocs=frozenset(places_raw["blocs"]),
        bloc_re=re.compile(rf"(?<![\w-])(?:{'|'.join(re.escape(a) for a in bloc_names)})(?!\w)"),
        anaphor_re=re.compile(
            r"(?<![\w-])(?:"
            + "|".join(re.escape(a) for aliases in places_raw["anaphors"].values() for a in aliases)
            + r")(?!\w)"
        ),
        products=products,
        product_words=max(len(p.split()) for p in products),
        codes=codes,
    )


def _plural_forms(word: str) -> tuple[str, ...]:
    if word.endswith("s") or not word[-1:].isalpha():
        return (word,)
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return (word, word[:-1] + "ies")
    if word.endswith(("ch", "sh", "x")):
        return (word, word + "es")
    return (word, word + "s")


@cache
def version() -> str:
    """The data version; stored with each event so a re-extraction can be told apart.

    Read from the patterns file alone: the run's process stores events found in the workers and
    needs only this string, and compiling every pattern there (``_data``) cost over a second of the
    run's CPU for nothing.
    """
    return str(tomllib.loads(PATTERNS_FILE.read_text(encoding="utf-8"))["version"])


def _measure_labels() -> dict[str, str]:
    raw = tomllib.loads(PATTERNS_FILE.read_text(encoding="utf-8"))
    return {m["name"]: m["label"] for m in raw["measure"]}


#: Measure name -> its label in words, in the order of the data file.
MEASURES: dict[str, str] = _measure_labels()


def jurisdiction_code(value: str) -> str | None:
    """A code or a name as a user writes it in a rule or a search ("cn", "China", "EU") -> "CN", else None."""
    data = _data()
    upper = value.strip().upper()
    if upper in data.codes:
        return upper
    place = data.places.get(value.strip())
    if place is not None and place.code:
        return place.code
    import pycountry

    try:
        found = pycountry.countries.lookup(value.strip())
    except LookupError:
        return None
    return str(found.alpha_2)


def check_rule_field(name: str, value: str) -> str | None:
    """Validate an event field in an alert rule (``measure:``, ``implementer:``, ``affected:``,
    ``country:``, ``product:``): None when fine, else the message to show with the rule's position."""
    if name == "measure":
        if value.casefold() not in MEASURES:
            return f"unknown measure {value!r}; use one of: {', '.join(MEASURES)}"
        return None
    if name in ("implementer", "affected", "country"):
        if jurisdiction_code(value) is None:
            return f"unknown country or bloc {value!r}; use an ISO 3166 code such as CN, or EU"
        return None
    if name == "product":
        return None  # any word: products are free text (and two-digit HS chapters)
    return f"unknown event field {name!r}"


# ------------------------------------------------------------------------------------------- sentences

_SENTENCE_END_RE = re.compile(r"[.!?…]+[\"'”’)\]]*\s+|\n\s*\n|\n(?=[A-Z“\"‘'])")
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "st", "no", "vs", "inc", "ltd", "co", "corp", "jr", "sr", "gov", "sen", "rep",
     "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "approx", "est"}
)  # fmt: skip


def split_sentences(text: str) -> list[str]:
    """Sentences of a text; "U.S." and "Jan." do not end one, a blank line always does."""
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END_RE.finditer(text):
        if "\n" not in m.group():
            space = text.rfind(" ", start, m.start())
            last_word = text[max(start, space + 1) : m.start()].rsplit(".", 1)[-1].casefold()
            follower = text[m.end() : m.end() + 1]
            if (len(last_word) == 1 and last_word.isalpha()) or last_word in _ABBREVIATIONS:
                continue
            if follower.islower():
                continue
        piece = text[start : m.end()].strip()
        if piece:
            out.append(piece)
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


# ---------------------------------------------------------------------------------------- jurisdictions


def _role_words(name: str) -> frozenset[str]:
    """A word list of ``[roles]`` in the places file (see its comments for what each list does)."""
    roles = tomllib.loads(PLACES_FILE.read_text(encoding="utf-8"))["roles"]
    return frozenset(str(w).casefold() for w in roles[name])


#: Nouns after a country word that make it the actor: "Chinese officials", "China's commerce ministry".
_ACTOR_NOUNS = _role_words("actor_nouns")
#: Words right before a country word that make it the one affected ("tariffs on Chinese steel").
_TARGET_WORDS = _role_words("target_words")
_PARTNER_WORDS = _role_words("partner_words")
#: Nouns after a country name that make it the origin of goods: "U.S. imports", "EU farm goods".
_TARGET_NOUNS = _role_words("target_nouns")
#: What may stand between two names listed as one subject: "Britain and India", "the EU, Japan and Canada",
#: "The European Free Trade Association and South American trade bloc Mercosur".
_GROUP_GAP_RE = re.compile(
    r"^(?:(?:, )?(?:and|&)(?:\s+[\w'’-]+){0,4}|(?:,|and|&|, and)?(?:\s*(?:the|its))?(?:\s+[A-Z][\w-]*){0,3})$"
)
_LOCATION_WORDS = _role_words("location_words")
#: Before "of X": a name in passing ("the invasion of Ukraine"), or the name of the state itself ("the
#: Kingdom of Saudi Arabia"); after any other word, X is on the receiving end ("in favour of the EU").
_OF_PASSING = _role_words("of_passing")
_OF_ACTOR = _role_words("of_actor")
#: Words before "to" that make the country after it where goods go: "cars shipped to the US".
_DESTINATION_WORDS = _role_words("destination_words")
_ORIGIN_WORDS = _role_words("origin_words")
_PASSING_NOUNS = _role_words("passing_nouns")
#: "Switzerland hit with 39% US tariff": a name before one of these is the one the measure falls on.
_VICTIM_RE = re.compile(
    r"^\s+(?:"
    + "|".join(re.escape(w) for w in sorted(_role_words("victim_phrases"), key=len)[::-1])
    + r")\b",
    re.IGNORECASE,
)
_POSSESSIVE_RE = re.compile(r"^['’]s\b")
_WORD_RE = re.compile(r"[\w'’-]+")


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    code: str
    role: Role
    destination: bool = False  # "imports into Mexico", "cars shipped to the US": where goods go


def _mentions(sentence: str, trigger: tuple[int, int], last_bloc: str | None = None) -> list[_Mention]:
    data = _data()
    found: list[_Mention] = []
    previous_role: Role | None = None
    previous_end = -1
    for m in data.place_re.finditer(sentence):
        place = data.places[m.group(1)]
        if m.group(2) and place.code:
            place = _Place(place.code, "demonym")
        if not place.code:
            continue
        if place.code in data.blocs and place.kind != "anaphor":
            last_bloc = place.code
        elif place.kind == "anaphor":
            place = _Place(last_bloc or place.code, "name")  # "the bloc": the one named last
        before_words = _WORD_RE.findall(sentence[max(0, m.start() - 40) : m.start()])
        prev = before_words[-1].casefold() if before_words else ""
        if prev == "the" and len(before_words) > 1:
            prev = before_words[-2].casefold()
        after = sentence[m.end() :]
        possessive = bool(_POSSESSIVE_RE.match(after))
        after_words = _WORD_RE.findall(after[:60])
        if possessive and after_words:
            after_words[0] = after_words[0][2:] or (after_words[1] if len(after_words) > 1 else "")
        nxt = after_words[0].casefold() if after_words else ""
        if place.guarded and not (possessive or prev in _TARGET_WORDS | _PARTNER_WORDS):
            continue
        if nxt in _PASSING_NOUNS and not possessive:
            continue  # "sanctions over the Ukraine war": the topic, not a party
        if (
            place.kind == "actor"
            and found
            and re.fullmatch(r"(?:['’]s)?\s+", sentence[previous_end : m.start()])
        ):
            continue  # "Brazil's Congress", "Mexican Senate": the institution of the country just named
        if prev == "of" and place.kind != "demonym":
            before_of = before_words[-2].casefold() if len(before_words) > 1 else ""
            if before_of in _OF_PASSING:
                continue  # "the invasion of Ukraine", "the people of Taiwan": a name in passing, not a party
            if before_of in _OF_ACTOR:
                prev = ""  # "the Gulf state of Qatar imposed": the name itself, in its place in the sentence
        if prev in _LOCATION_WORDS:
            prev2 = before_words[-2].casefold() if len(before_words) > 1 else ""
            if prev != "in" or prev2 not in _ORIGIN_WORDS:
                continue  # a place, not a government: "talks in Washington", "opened in Shanghai"
            prev = "from"  # "made in China" is where goods come from
        if place.kind == "capital" and after[:1] == " " and after[1:2].isupper():
            continue  # part of a longer name: "Washington Post", "Beijing Capital"
        role = _role(place, prev, nxt, possessive, m.start(), trigger)
        if role == "actor" and prev != "by" and _VICTIM_RE.match(after):
            role = "target"  # "Switzerland hit with 39% US tariff"
        if (
            role == "actor"
            and possessive
            and nxt not in _ACTOR_NOUNS
            and after_words
            and after_words[0][:1].isupper()
            and any(x.role == "actor" for x in found)
        ):
            role = "target"  # "Taiwan has added China's Huawei to its list": the company's country
        if prev == "and" and previous_role in ("target", "partner") and m.start() - previous_end < 40:
            role = previous_role  # a list: "on China and Mexico", "between the US and Japan"
        if prev in ("and", "or") and previous_role == "actor" and m.start() - previous_end < 12:
            role = "actor"  # "the US and the EU imposed ..."
        lead = [w.casefold() for w in before_words[-3:] if w.casefold() != "the"]
        destination = prev == "into" or (prev == "to" and len(lead) > 1 and lead[-2] in _DESTINATION_WORDS)
        found.append(_Mention(m.start(), m.end(), place.code, role, destination))
        previous_role, previous_end = role, m.end()
    return found


def _role(place: _Place, prev: str, nxt: str, possessive: bool, start: int, trigger: tuple[int, int]) -> Role:
    if prev == "by":
        if place.kind == "demonym" and nxt not in _ACTOR_NOUNS:
            return "target"  # "operated by Chinese companies": the companies are on the receiving end
        return "actor"
    if prev in _PARTNER_WORDS:
        return "partner"
    if prev in _TARGET_WORDS:
        return "target"
    if place.kind == "demonym":
        return "actor" if nxt in _ACTOR_NOUNS else "target"
    if possessive:
        if nxt in _ACTOR_NOUNS or start < trigger[0]:
            return "actor"
        return "target"
    if place.kind == "actor":
        return "actor"
    if place.kind == "name":
        if nxt in _ACTOR_NOUNS:
            return "actor"
        if nxt in _TARGET_NOUNS:
            return "target"
    return "actor" if start < trigger[0] else "target"


# --------------------------------------------------------------------------------------------- products


_PRODUCT_WORD_RE = re.compile(r"\w[\w'’-]*")


def _products(sentence: str) -> list[tuple[str, str]]:
    """Product names in a sentence, longest first at each word ("electric vehicles", not "vehicles").

    Looked up word by word in a dict: a regular expression of every product name was ten times slower.
    """
    data = _data()
    words = [w.casefold().strip("'’-") for w in _PRODUCT_WORD_RE.findall(sentence)]
    out: dict[str, str] = {}
    i = 0
    while i < len(words):
        for n in range(min(data.product_words, len(words) - i), 0, -1):
            found = data.products.get(" ".join(words[i : i + n]))
            if found is not None:
                out.setdefault(*found)
                i += n
                break
        else:
            i += 1
    return list(out.items())


#: What talks, disputes and retaliation are about: subject name -> pattern (event_patterns.toml, [subjects]).
_SUBJECTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in tomllib.loads(PATTERNS_FILE.read_text(encoding="utf-8"))["subjects"].items()
)


# ------------------------------------------------------------------------------------------------ rates

_NUM = r"(\d{1,3}(?:,\d{3})*(?:\.\d+)?)"
_PCT = rf"{_NUM}\s*(?:%|per ?cent\b|percent\b|percentage points?\b)"
_CURRENCY = r"(US\$|C\$|A\$|\$|€|£|¥)"
_UNIT = (
    r"(net tons?|metric tons?|tonnes?|tons?|kg|kilograms?|units?|vehicles?|containers?|barrels?|pairs?|TEUs?"
    r"|parcels?|packages?|items?|voyages?|litres?|liters?)"
)
_RANGE_RE = re.compile(
    rf"\b(?:between {_NUM}\s*(?:%|per ?cent|percent)? and {_PCT}"
    rf"|ranging from {_PCT}(?: \w+){{0,3}}? to {_PCT}"
    rf"|(?:of|from) {_NUM}\s*(?:%|per ?cent|percent)? to {_PCT}(?! from))",
    re.IGNORECASE,
)
_BY_TO_RE = re.compile(
    rf"\bby (?:an? )?(?:additional |further |extra |another )?{_PCT} to {_PCT}", re.IGNORECASE
)
_PHASED_RE = re.compile(
    rf"\b(?:starting|beginning|initially) at {_PCT},?(?: and)? (?:\w+ )?"
    rf"(?:rising|increasing|climbing|going up) to {_PCT}",
    re.IGNORECASE,
)
#: "halve its 150% tariff on whisky to 75%" (but "120% and on alcoholic drinks to 140%" is a list).
_CHANGE_RE = re.compile(rf"{_PCT}(?: (?!(?:and|or|but|while)\b)[\w-]+){{1,6}}? to {_PCT}", re.IGNORECASE)
_ZERO = r"(zero|nil)\b"
_FROM_TO_RE = re.compile(
    rf"\bfrom {_PCT} to {_PCT}|\bfrom {_NUM} to {_PCT}|\bfrom {_ZERO} to {_PCT}", re.IGNORECASE
)
#: "to 32% from as much as 64%", "to 3.5% of the customs value from 2%", "to 20% from zero", "to 50%,
#: from the 25% he imposed in March".
_TO_FROM_RE = re.compile(
    rf"\bto {_PCT}(?:,? (?:of|on) (?:the )?[\w-]+(?: [\w-]+){{0,2}})?,? (?:up |down )?from "
    rf"(?:(?:as much as|as high as|up to|about|around|nearly|roughly|the|its|their|a|an) )?"
    rf"(?:{_PCT}|{_NUM}\b|{_ZERO})",
    re.IGNORECASE,
)
_PCT_RE = re.compile(_PCT, re.IGNORECASE)
#: Currencies written after the number ("400 yuan per net ton"): event_patterns.toml, [currencies].
_CURRENCY_WORDS: dict[str, str] = tomllib.loads(PATTERNS_FILE.read_text(encoding="utf-8"))["currencies"]
_CURRENCY_WORD = r"(" + "|".join(_CURRENCY_WORDS) + r")"
#: A duty amount per unit: "$50 per net ton", "400 yuan ($56) per net ton", "2 euros on each small parcel".
_AMOUNT_RE = re.compile(
    rf"(?:{_CURRENCY}\s?{_NUM}|{_NUM}\s?{_CURRENCY_WORD}\b)(?:\s?\([^)]{{1,20}}\))?"
    rf"(?:\s?(?:a|an|per|/|for each|each|on each)\s(?:{_UNIT}|(?!per\b)[\w-]+\s{_UNIT}))?",
    re.IGNORECASE,
)
#: Words right before a number that make it a change or a market move, not a duty rate.
_NOT_RATE_BEFORE = re.compile(
    r"\b(?:by|fell|fall|falls|rose|rise|rises|dropped|drop|drops|grew|grow|gained|lost|down|up|jumped|"
    r"slumped|surged|climbed|declined|about|roughly|nearly|some|of)\s+"
    r"(?:about |around |roughly |nearly |almost )?$",
    re.IGNORECASE,
)
_NOT_RATE_AFTER = re.compile(
    r"^\s*(?:of|in|higher|lower|more|less|stake|share|year|a year|annual)", re.IGNORECASE
)
_CURRENCY_NAMES = {"US$": "USD", "$": "USD", "C$": "CAD", "A$": "AUD", "€": "EUR", "£": "GBP", "¥": "JPY"}


def _num(text: str) -> float:
    return 0.0 if text.casefold() in ("zero", "nil") else float(text.replace(",", ""))


def _near_duty(sentence: str, start: int, end: int, trigger: tuple[int, int]) -> bool:
    if start - RATE_REACH <= trigger[1] and end + RATE_REACH >= trigger[0]:
        return True
    data = _data()
    window = sentence[max(0, start - RATE_REACH) : end + RATE_REACH]
    return data.tariff_noun.search(window) is not None


def _rates(sentence: str, trigger: tuple[int, int]) -> tuple[Rate | None, Rate | None]:
    """(rate_from, rate_to) stated in a measure's sentence, or None for each."""
    m = _RANGE_RE.search(sentence)
    if m and m.group().casefold().startswith(("ranging", "between", "of")):
        low, high = (g for g in m.groups() if g is not None)
        if _near_duty(sentence, m.start(), m.end(), trigger):
            return None, Rate(_num(high), low=_num(low))
    for regex, order in ((_FROM_TO_RE, "from_to"), (_TO_FROM_RE, "to_from")):
        m = regex.search(sentence)
        if m and _near_duty(sentence, m.start(), m.end(), trigger):
            groups = [g for g in m.groups() if g is not None]
            a, b = _num(groups[0]), _num(groups[1])
            return (Rate(a), Rate(b)) if order == "from_to" else (Rate(b), Rate(a))
    m = _RANGE_RE.search(sentence)
    if m and _near_duty(sentence, m.start(), m.end(), trigger):
        low, high = (g for g in m.groups() if g is not None)
        return None, Rate(_num(high), low=_num(low))
    m = _BY_TO_RE.search(sentence)  # "by an additional 50 percentage points to 84%": the rate it reaches
    if m and _near_duty(sentence, m.start(), m.end(), trigger):
        return None, Rate(_num(m.group(2)))
    m = _PHASED_RE.search(sentence)  # "starting at 10% and rising to 35% by July 2026": the rate it reaches
    if m and _near_duty(sentence, m.start(), m.end(), trigger):
        return None, Rate(_num(m.group(2)))
    m = _CHANGE_RE.search(sentence)  # "halve its 150% tariff on whisky to 75%"
    if m and _near_duty(sentence, m.start(), m.end(), trigger):
        return Rate(_num(m.group(1))), Rate(_num(m.group(2)))
    for m in _PCT_RE.finditer(sentence):
        window = max(0, m.start() - 20)
        not_rate = _NOT_RATE_BEFORE.search(sentence[window : m.start()])
        # (the window's offsets are relative: the noun before "of" is looked for before its own start)
        of_at = window + not_rate.start() if not_rate else 0
        if not_rate and not (
            not_rate.group().casefold().startswith("of")
            and _data().tariff_noun.search(sentence[max(0, of_at - 12) : of_at])
        ):
            continue  # ("a market share of 20%" is no rate; "duties of 58.3%" is)
        if _NOT_RATE_AFTER.match(sentence[m.end() :]):
            continue
        if _near_duty(sentence, m.start(), m.end(), trigger):
            return None, Rate(_num(m.group(1)))
    amounts = [m for m in _AMOUNT_RE.finditer(sentence) if (m.group(5) or m.group(6)) is not None]
    # (No unit: "$2 billion of goods" is trade value, not a duty; a duty amount is per unit.)
    for i, m in enumerate(amounts):
        not_rate = _NOT_RATE_BEFORE.search(sentence[max(0, m.start() - 20) : m.start()])
        if not_rate and not not_rate.group().casefold().startswith("of"):
            continue  # ("fees of 300 yuan per net ton" is a rate all the same)
        if _near_duty(sentence, m.start(), m.end(), trigger):
            nxt = amounts[i + 1] if i + 1 < len(amounts) else None
            if nxt is not None and re.fullmatch(r",? (?:up |down )?from ", sentence[m.end() : nxt.start()]):
                return _amount(nxt), _amount(m)  # "to $375 a tonne from $175 a tonne"
            if nxt is not None and re.fullmatch(r" to ", sentence[m.end() : nxt.start()]):
                return _amount(m), _amount(nxt)  # "from $175 a tonne to $375 a tonne"
            return None, _amount(m)
    return None, None


def _amount(m: re.Match[str]) -> Rate:
    if m.group(1):
        currency, value = _CURRENCY_NAMES.get(m.group(1), m.group(1)), m.group(2)
    else:
        currency, value = _CURRENCY_WORDS[m.group(4).casefold()], m.group(3)
    unit = (m.group(5) or m.group(6)).casefold()
    unit = unit if unit == "kg" else re.sub(r"s$", "", unit)
    return Rate(_num(value), unit=f"{currency}/{unit}")


# ------------------------------------------------------------------------------------------------ dates

_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DATE_RE = re.compile(
    rf"\b(?:{_MONTHS}\.? \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?(?!\d)"
    rf"|\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MONTHS}(?:,? \d{{4}})?"
    rf"|{_MONTHS} \d{{4}}"
    r"|\d{4}-\d{2}-\d{2}"
    r"|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
    r"|today|tomorrow|yesterday|tonight)\b"
)
_EFFECTIVE_CUE_RE = re.compile(
    r"\b(?:effective|effect|force|kicks? in|kicked in|applies|apply|applied|midnight)\b", re.IGNORECASE
)
_WEAK_CUE_RE = re.compile(
    r"\b(?:from|starting|starts?|begins?|beginning|as of|effective|until|through|till)\b", re.IGNORECASE
)
_EFFECTIVE_AFTER_RE = re.compile(
    r"^[,\s]*(?:when|as|once)? ?(?:the )?(?:\w+ ){0,3}?"
    r"(?:(?:take|takes|took|came|come|comes|go|goes|went|enter|enters|entered) "
    r"(?:effect|into force|into effect)"
    r"|(?:began|begins|begin|started|starts|start) (?:to )?"
    r"(?:collect|charg|apply|levy|levi|impos|enforc)\w*)",
    re.IGNORECASE,
)
#: Words after which a date says when something was said, whatever came before them ("... with immediate
#: effect, the ministry said in a notification late on Friday").
_REPORT_WORDS = frozenset(
    {"said", "says", "announced", "told", "stated", "confirmed", "declared", "added", "statement",
     "notification", "announcement", "reported", "wrote", "showed", "immediately", "immediate"}
)  # fmt: skip
_PAST_EFFECT_RE = re.compile(r"\b(?:took|came|went|entered|kicked|started|began|applied)\b", re.IGNORECASE)
_PLAN_CUE_RE = re.compile(
    r"\b(?:will|would|expected|scheduled|set to|due|plans?|planned|next|meet|meeting|visit|until|through"
    r"|by)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def _parse_date(phrase: str, base: date, prefer: str) -> date | None:
    """An explicit date ("March 1", "1 January 2027") with dateparser, relative to the publication date."""
    import dateparser

    parsed = dateparser.parse(
        phrase.replace(".", ""),
        languages=["en"],
        settings={
            "RELATIVE_BASE": datetime(base.year, base.month, base.day, 12),
            "PREFER_DATES_FROM": prefer,
            "PREFER_DAY_OF_MONTH": "first",
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    return parsed.date() if parsed else None


def _resolve(phrase: str, base: date | None, prefer: Literal["past", "future"]) -> date | None:
    low = phrase.casefold()
    if base is None:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", phrase) or re.search(r"\d{4}$", phrase):
            return _parse_date(phrase, date(2000, 1, 1), prefer)
        return None  # "Wednesday" means nothing without the day the article was published
    if low in ("today", "tonight"):
        return base
    if low == "yesterday":
        return base - timedelta(days=1)
    if low == "tomorrow":
        return base + timedelta(days=1)
    if low in _WEEKDAYS:
        wanted = _WEEKDAYS.index(low)
        if prefer == "past":
            return base - timedelta(days=(base.weekday() - wanted) % 7)
        return base + timedelta(days=(wanted - base.weekday()) % 7)
    if re.search(r"\d{4}", phrase):
        return _parse_date(phrase, base, prefer)
    # A day without a year is the one nearest the publication date: "take effect from March 7" in a story
    # of March 8 is yesterday, not next year; "from January 1" on December 31 is tomorrow.
    preferred = _parse_date(phrase, base, prefer)
    other = _parse_date(phrase, base, "future" if prefer == "past" else "past")
    if preferred is None or other is None:
        return preferred or other
    return other if abs((other - base).days) < abs((preferred - base).days) else preferred


def _dates(sentence: str, base: date | None) -> tuple[date | None, date | None, str, str]:
    """(announced, effective) stated in a sentence, with the phrases they came from."""
    announced: date | None = None
    effective: date | None = None
    announced_phrase = effective_phrase = ""
    previous_end = -100
    for m in _DATE_RE.finditer(sentence):
        phrase = m.group()
        if m.start() - previous_end < 8:
            previous_end = m.end()
            continue  # "from February 15 to June 30": the end of a period
        previous_end = m.end()
        before_words = _WORD_RE.findall(sentence[max(0, m.start() - 80) : m.start()])[-DATE_CUE_WORDS:]
        for k in range(len(before_words) - 1, -1, -1):
            if before_words[k].casefold() in _REPORT_WORDS:
                # "effective immediately, Trudeau said on Tuesday": the cue is spent before the date, which
                # says when it was said.
                before_words = before_words[k + 1 :]
                break
        before = " ".join(before_words)
        after = sentence[m.end() : m.end() + 60]
        weak = _WEAK_CUE_RE.search(" ".join(before_words[-DATE_WEAK_CUE_WORDS:]))
        if weak and weak.group().casefold() in ("until", "through", "till"):
            continue  # an end date, not a start
        cue = weak or _EFFECTIVE_CUE_RE.search(before)
        if cue or _EFFECTIVE_AFTER_RE.match(after):
            if effective is None:
                prefer: Literal["past", "future"] = "past" if _PAST_EFFECT_RE.search(before) else "future"
                if not cue and _PAST_EFFECT_RE.search(after[:40]):
                    prefer = "past"
                effective = _resolve(phrase, base, prefer)
                effective_phrase = phrase
            continue
        if _PLAN_CUE_RE.search(" ".join(before_words[-4:])):
            continue  # a meeting or a plan ahead, not the day something was done
        if announced is None:
            announced = _resolve(phrase, base, "past")
            announced_phrase = phrase
    return announced, effective, announced_phrase, effective_phrase


# ------------------------------------------------------------------------------------------- extraction


@dataclass
class _Candidate:
    measure: str
    trigger: str
    implementer: list[str]
    affected: list[str]
    products: list[tuple[str, str]]
    subjects: list[str]
    rate_from: Rate | None
    rate_to: Rate | None
    announced: date | None
    effective: date | None
    evidence: dict[str, str]
    order: int
    in_title: bool = False
    lede: bool = False  # told in the headline or the lead (LEDE_SENTENCES), where an article states its news
    anaphoric: bool = False  # "the levies took effect ...": refers to a tariff told before, is no news itself
    separate: bool = False  # "Separately, India cut ...": news of its own, never folded into another event


_BILATERAL = frozenset({"agreement_signed", "agreement_negotiating", "dispute_filed", "dispute_ruled"})
#: Talks and disputes are about a measure; the rate quoted in their sentence is the disputed measure's.
_NO_RATE = frozenset({"agreement_negotiating", "dispute_filed", "dispute_ruled"})
_SUBJECT_MEASURES = _BILATERAL | {"retaliation"}


#: A measure in a clause that gives a reason or a time ("after the US raised tariffs") is background.
#: A clause after the measure that gives its cause, setting or company: "..., amid U.S. tariff hikes",
#: "... in the face of sweeping U.S. tariffs", "..., as the country seeks to avoid U.S. tariffs".
_ASIDE_RE = re.compile(
    r"(?:,\s*|\s)(?:amid|after|following|since|because|despite|even as|in the face of|as part of"
    r"|the latest)\b"
    r"|,\s*(?:as|while|joining|seeking|hoping|finding|saying|citing|noting|arguing|claiming|alleging|accusing"
    r"|hitting|affecting|hurting|squeezing)\b|\bas (?:the|it|they|he|she)\b"
    r"|,\s*(?:a|in a) (?:move|blow|boost|win|setback|step|sign|decision|response)\b"
    r"|\b(?:responding|in response|reacting|in reaction|retaliating) (?:to|against)\b",
    re.IGNORECASE,
)
_CLAUSE_BREAK_RE = re.compile(r"[,;:—–(]|\b(?:that|which|who|after|because|but|although|while|when)\b")
#: "had ordered", "had already imposed" right before the measure, unless reported ("said it had launched").
_PAST_PERFECT_RE = re.compile(
    r"^(?:(?!\b(?:said|says|announced|confirmed|told|stated|added)\b).)*\bhad(?: [\w-]+){0,2}\s+$",
    re.IGNORECASE | re.DOTALL,
)
_BACKGROUND_RE = re.compile(
    r"\b(?:after|since|because|following|amid|before|when|even as|despite)\b[^,;:—–]*$", re.IGNORECASE
)


#: The end of a measure's clause for what is said of the measure itself, past relative clauses about it.
_CLAUSE_END_RE = re.compile(r"[,;:—–(]")
_WOULD_RE = re.compile(r"\bwould\b", re.IGNORECASE)
#: A non-restrictive relative clause still open before the measure: "Beijing, which has also opened an
#: anti-dumping probe into EU pork, said ...". What it says of a party is background to the news.
_RELATIVE_RE = re.compile(r",\s*(?:which|who|whose)\b[^,;:—–()]*$", re.IGNORECASE)
#: Between a measure and the participle that dates it only a comma may stand ("tariffs, in place since 2018").
_DATED_BREAK_RE = re.compile(r"[;:—–(]|\b(?:that|which|who|after|because|but|although|while|when)\b")
#: An older rate between a measure and a dating participle: the participle dates that rate ("from the 25% he
#: imposed in March").
_OLDER_RATE_RE = re.compile(r"%|\d\s*(?:per ?cent|percent)\b|\bfrom\b", re.IGNORECASE)
#: Characters before a past time searched for the participle that dates it ("imposed in", "in place since").
DATED_REACH = 50


def _hypothesis(sentence: str, would: re.Match[str]) -> bool:
    """Whether a "would" states a hypothesis rather than reports a decision: nobody is said to have said
    it ("a 25% tariff would cost carmakers $5 billion"), or it tells what a measure would do to others."""
    data = _data()
    if data.reported.search(sentence, 0, would.start()):
        return False  # "China said it would impose ..."
    return data.impact.match(sentence, would.start()) is not None or not data.reported.search(
        sentence, would.end()
    )


def _dates_measure(sentence: str, past: re.Match[str], trigger: tuple[int, int]) -> bool:
    """Whether a past time ("in 2018", "since March") dates the measure through a participle right before
    it ("the duties imposed in 2018", "tariffs, in place since 2019"), so that the measure is background.

    Right after the measure ("relief from the duties Washington imposed in March") it does so even in a
    sentence that looks ahead; set off by a comma ("tariffs on motorcycles, in place since 2018, have cost
    ...") only in a sentence that does not ("Vietnam will extend a safeguard duty, in place since 2016, for
    three years" is news of an extension). Another clause, a comparison or an older rate between them ("to
    50%, from the 25% he imposed in March") makes the participle theirs, not the measure's.
    """
    data = _data()
    start = max(trigger[0], past.start() - DATED_REACH)
    participle = data.context_dated.search(sentence, start, past.start())
    if past.start() <= trigger[0] or participle is None:
        return False
    between = sentence[trigger[1] : participle.start()]
    if _DATED_BREAK_RE.search(sentence, trigger[1], past.start()) or _OLDER_RATE_RE.search(between):
        return False
    if data.comparison.search(sentence, trigger[1], past.start()):
        return False  # "a 10% tariff from March 4, on top of the levy imposed in February": the yardstick's
    return "," not in between or not data.context_future.search(sentence)


def _until_comparison(sentence: str) -> str:
    """The sentence up to its first comparison frame: "The duties take effect on Friday, far above the 10%
    Japan pays" gives no rate for the duties."""
    frame = _data().comparison.search(sentence)
    return sentence if frame is None else sentence[: frame.start()]


def _stale(base: date | None, *dates: date | None) -> bool:
    """Whether every date a measure's sentence gives is more than STALE_DAYS before publication: news is
    recent, and a measure dated months back ("imposed on March 4" in a June story) is the story's setting.
    A sentence without any date, or an article without a publication date, is never stale."""
    stated = [d for d in dates if d is not None]
    return base is not None and bool(stated) and all((base - d).days > STALE_DAYS for d in stated)


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


def _last_bloc(sentence: str, last: str | None) -> str | None:
    """The bloc a sentence names last (what a later "the bloc" stands for), else ``last``."""
    data = _data()
    for m in data.bloc_re.finditer(sentence):
        last = data.places[m.group()].code
    return last


def _candidate(
    sentence: str, order: int, base: date | None, last_bloc: str | None = None
) -> _Candidate | None:
    data = _data()
    found = {a.casefold() for a in data.anchor_re.findall(sentence)}
    if not found:
        return None
    clean, blanked = data.false_friends.subn(_blank, sentence)
    if blanked:
        found = {a.casefold() for a in data.anchor_re.findall(clean)}
        if not found:
            return None
    present = _anchors_present(frozenset(found))
    for measure in data.measures:
        if measure.anchors.isdisjoint(present):
            continue
        m = measure.pattern.search(clean)
        if m is not None and (measure.requires is None or measure.requires.search(clean)):
            break
    else:
        return None
    for rival_name in _YIELDS_TO_EARLIER.get(measure.name, ()):
        rival = next(x for x in data.measures if x.name == rival_name)
        r = rival.pattern.search(clean, 0, m.start())
        if r is not None and r.end() <= m.start():
            # "raised tariffs on aluminum ... and ended duty-free quotas for steel": the first verb is news
            measure, m = rival, r
            break
    trigger = (m.start(), m.end())
    # A skip word counts up to the end of the measure's clause (see below): the long skip list is searched no
    # further than that, which keeps the stage's speed on long sentences.
    brk = _CLAUSE_BREAK_RE.search(sentence, trigger[1])
    reach = len(sentence) if brk is None else brk.end()
    skips = [x for x in data.context_skip.finditer(sentence, 0, reach + SKIP_SLACK) if x.start() < reach]
    past = list(data.context_past.finditer(sentence))
    if past and not data.context_future.search(sentence):
        skips += past
    # "A 25% tariff would cost carmakers $5 billion": a "would" reporting nobody's decision is a hypothesis.
    skips += [w for w in _WOULD_RE.finditer(sentence) if _hypothesis(sentence, w)]
    for skip in skips:
        if skip.start() < trigger[1] or not _CLAUSE_BREAK_RE.search(sentence, trigger[1], skip.start()):
            # "could impose", "denied it would ban", "tariffs on pork were likely": said of the measure.
            # ("China imposed duties, which analysts said could hurt exports" still reports the duties.)
            return None
    clause_end = _CLAUSE_END_RE.search(sentence, trigger[1])
    if data.ended.search(sentence, trigger[0], clause_end.start() if clause_end else len(sentence)):
        return None  # "the safeguard tariffs that Trump imposed in 2018 expired this month"
    if any(_dates_measure(sentence, p, trigger) for p in past):
        return None  # "relief from the duties Washington imposed in March": a measure of the past
    frame = next(reversed(list(data.comparison.finditer(clean, 0, trigger[1]))), None)
    if (
        frame is not None
        and frame.end() < trigger[1]
        and not _CLAUSE_BREAK_RE.search(clean, frame.end(), max(frame.end(), trigger[0]))
    ):
        return None  # "... far higher than the 15% tariff agreed with Japan": the yardstick, not the news
    cause = next(
        reversed(list(data.causes.finditer(clean, max(0, trigger[0] - BACKGROUND_REACH), trigger[0]))), None
    )
    if cause is not None and not _CLAUSE_BREAK_RE.search(clean, cause.end(), trigger[0]):
        return None  # "profit fell 37%, hurt by U.S. tariffs of 15% on Japanese cars": the cause of the news
    if _RELATIVE_RE.search(clean, 0, trigger[0]):
        return None  # "Beijing, which has also opened an anti-dumping probe into EU pork, said ...": an aside
    preceding = clean[max(0, m.start() - BACKGROUND_REACH) : m.start()]
    if _BACKGROUND_RE.search(preceding):
        return None  # "..., after the United States raised its tariffs": the cause, not the news
    if _PAST_PERFECT_RE.search(preceding):
        return None  # "Brazil had exempted electric cars from import duties": what came before the news
    mentions = _mentions(clean, trigger, last_bloc)
    goods_end = len(clean)
    if measure.name in _IMPORT_SIDE:
        # A duty on goods entering a country is that country's: "imports of Chinese steel into Mexico".
        mentions = [replace(x, role="actor") if x.destination else x for x in mentions]
    if measure.name != "retaliation":
        # "..., amid U.S. tariff hikes": a clause after the measure that gives its cause or setting names
        # parties of another story. (Retaliation names the one it answers in just such a clause.)
        aside = _ASIDE_RE.search(clean, trigger[1])
        if aside is not None:
            mentions = [x for x in mentions if x.start < aside.start()]
            goods_end = aside.start()  # its goods are the other story's too
    comparison = data.comparison.search(clean, trigger[1])
    if comparison is not None and comparison.start() < goods_end:
        # "..., far higher than the 15% rate agreed with the EU": the yardstick's parties, goods and rate
        mentions = [x for x in mentions if x.start < comparison.start()]
        goods_end = comparison.start()
    actors = [x for x in mentions if x.role == "actor"]
    before = [x for x in actors if x.start < trigger[0]]
    implementer: list[str] = []
    partners = [x.code for x in mentions if x.role == "partner"]
    if before:
        # The subject nearest the measure acts ("..., Sefcovic said, after the United States raised"), with
        # the names listed with it ("The US and Japan agreed").
        group = [before[-1]]
        for x in reversed(before[:-1]):
            if _GROUP_GAP_RE.match(clean[x.end : group[0].start].strip()):
                group.insert(0, x)
            else:
                break
        codes = list(dict.fromkeys(x.code for x in group))
        implementer = codes[:1]
        if measure.name in _BILATERAL:
            partners = codes[1:] + partners  # "Britain and India signed": India is the other party
        else:
            implementer = codes
    elif actors:
        implementer = [actors[0].code]
    if not implementer and partners and measure.name in ("agreement_signed", "agreement_negotiating"):
        implementer, partners = [partners[0]], partners[1:]
    if measure.name == "dispute_ruled":
        # A ruling is made by a panel, not a country: every party named is affected by it.
        partners = list(dict.fromkeys(implementer + partners))
        implementer = []
    # The other side: the parties named with the subject ("Britain and India signed") or after a partner
    # word ("talks with Japan"), and those on the receiving end ("duties on Chinese steel").
    wanted = set(partners) | {x.code for x in mentions if x.role == "target"}
    if measure.name == "dispute_ruled":
        wanted |= {x.code for x in mentions}  # "in a case brought by the EU": every party is affected
    affected = list(dict.fromkeys(x.code for x in mentions if x.code in wanted and x.code not in implementer))
    rate_from, rate_to = (None, None) if measure.name in _NO_RATE else _rates(clean[:goods_end], trigger)
    announced, effective, _a, _e = _dates(clean, base)
    if _stale(base, announced, effective):
        return None  # "Trump's reciprocal tariffs, announced on April 2, ..." in a June story: the setting
    goods = clean[:goods_end]
    if measure.name == "retaliation":
        # "countermeasures against U.S. steel and aluminium tariffs, 25% duties on soybeans": the goods of
        # the measure answered are not the retaliation's.
        goods = _ANSWERED_RE.sub(_blank, goods)
    products = _products(goods)
    if rate_to is None and not products and data.vows.search(clean):
        return None  # "vowed to take necessary countermeasures": no measure named, no event
    subjects = [name for name, rx in _SUBJECTS if measure.name in _SUBJECT_MEASURES and rx.search(clean)]
    evidence = {"measure": sentence}
    found_fields = {
        "implementer": bool(implementer),
        "affected": bool(affected),
        "products": bool(products),
        "subjects": bool(subjects),
        "rate": rate_to is not None,
        "announced": announced is not None,
        "effective": effective is not None,
    }
    evidence.update((key, sentence) for key, present in found_fields.items() if present)
    return _Candidate(
        measure=measure.name,
        trigger=sentence[trigger[0] : trigger[1]],
        implementer=implementer,
        affected=affected,
        products=products,
        subjects=subjects,
        rate_from=rate_from,
        rate_to=rate_to,
        announced=announced,
        effective=effective,
        evidence=evidence,
        order=order,
        anaphoric=measure.name in _GENERIC and bool(_DEFINITE_RE.search(clean, 0, trigger[0])),
    )


#: What a retaliation answers: "against Washington's refusal to exempt it from higher steel duties".
_ANSWERED_RE = re.compile(
    r"\b(?:against|to|for|over)\s+(?:[\w.'’-]+\s+){0,8}?(?:tariffs?|duties|levies|measures|sanctions|controls|curbs)\b",
    re.IGNORECASE,
)
#: The plain tariff changes, which a sentence can name by a definite reference to one told before.
_GENERIC = frozenset({"tariff_increase", "tariff_decrease"})
#: "the levies, which took effect on Aug. 6", "these duties": a tariff the article already named.
_DEFINITE_RE = re.compile(r"\b(?:the|these|those|such)\s+(?:[\w%.-]+\s+){0,2}$", re.IGNORECASE)


_MEASURE_NOUNS = (
    r"(?:duty|duties|tariffs?|levy|levies|rates?|measures?|controls|restrictions|ban|fees?|charges|quotas?|"
    r"rules?|sanctions|deal|agreement|pact|surtax(?:es)?|surcharges?|increases?|hikes?|cuts?|reductions?|"
    r"curbs?|limits?|caps?)"
)
_GENERIC_NOUNS = r"(?:changes?|decision|move|decree|order|orders|regulation|list|step|steps|policy|ruling)"
#: A sentence that goes on about the measure just reported: "The duties take effect on Thursday."
_CONTINUATION_RE = re.compile(
    r"^(?:The|These|Those|Its|Their|Such)\s+(?:new\s+|higher\s+|provisional\s+|definitive\s+|additional\s+|"
    rf"extra\s+|[\w-]+\s+)?{_MEASURE_NOUNS}\b",
    re.IGNORECASE,
)
#: ... or about the decision that took it: "The decision will take effect within 30 days." (dates only: "the
#: move sent futures up 5%" is no rate).
_CONTINUATION_DATES_RE = re.compile(
    rf"^(?:The|These|Those|Its|Their|This|That)\s+(?:\w+\s+)?{_GENERIC_NOUNS}\b", re.IGNORECASE
)
#: ... or says when it takes effect with the measure further in: "The ministry said the rules, most of which
#: take effect on Dec. 1, ..." (the effective date only).
_REFERENCE_RE = re.compile(
    rf"\b(?:the|these|those|its|their|such)\s+(?:[\w-]+\s+){{0,2}}(?:{_MEASURE_NOUNS}|{_GENERIC_NOUNS})\b",
    re.IGNORECASE,
)
_TAKES_EFFECT_RE = re.compile(
    r"\b(?:take|takes|took|taking|come|comes|came|go|goes|went|enter|enters|entered) "
    r"(?:effect|into force|into effect)|\beffective (?:from|on|as of)\b",
    re.IGNORECASE,
)


def _continue(group: Sequence[_Candidate], sentence: str, base: date | None) -> None:
    """Take the dates and rate of a continuation sentence into the events of the sentence it continues."""
    m = _CONTINUATION_RE.match(sentence)
    dates_only = effective_only = False
    if m is None:
        m = _CONTINUATION_DATES_RE.match(sentence)
        dates_only = True
    if m is None:
        if not (_TAKES_EFFECT_RE.search(sentence) and _REFERENCE_RE.search(sentence)):
            return
        effective_only = True
    if _data().context_skip.search(sentence):
        return
    announced, effective, _a, _e = _dates(sentence, base)
    for last in group:
        if effective is not None and last.effective is None:
            last.effective = effective
            last.evidence.setdefault("effective", sentence)
        if effective_only:
            continue
        if announced is not None and last.announced is None:
            last.announced = announced
            last.evidence.setdefault("announced", sentence)
        if dates_only or m is None or last.measure in _NO_RATE:
            continue
        rate_from, rate_to = _rates(_until_comparison(sentence), (m.start(), m.end()))
        if rate_to is not None and (last.rate_to is None or last.in_title):
            last.rate_from, last.rate_to = rate_from, rate_to
            last.evidence["rate"] = sentence


#: Measures a country takes on goods entering it (the destination of the goods is the implementer).
_IMPORT_SIDE = frozenset(
    {"tariff_increase", "tariff_decrease", "anti_dumping", "countervailing_duty", "safeguard", "quota",
     "import_ban", "fee_increase", "retaliation"}
)  # fmt: skip
#: A quota named after a tariff change in the same sentence is part of it, not the news.
_YIELDS_TO_EARLIER = {
    "quota": ("tariff_increase", "tariff_decrease"),
    "tariff_decrease": ("tariff_increase",),  # "raises aluminum tariff to 25%, ends exemptions on steel"
}


def _restate(group: Sequence[_Candidate], sentence: str, base: date | None) -> None:
    """The lead under a headline tells the headline's news in other words ("China will require importers of
    EU brandy to pay deposits of 30.6% to 39.0% from Oct. 11"): when it names one of the headline event's
    parties but no measure of its own, its dates and rate complete the headline's events."""
    data = _data()
    codes = {data.places[m.group(1)].code for m in data.place_re.finditer(sentence)}
    if not any(c in codes for e in group for c in (*e.implementer, *e.affected)):
        return
    if data.context_skip.search(sentence):
        return
    clean = data.false_friends.sub(_blank, sentence)
    announced, effective, _a, _e = _dates(clean, base)
    rate_from, rate_to = _rates(_until_comparison(clean), (-RATE_REACH * 2, -RATE_REACH * 2))
    for event in group:
        if event.measure in _NO_RATE:
            continue
        for key, value in (("announced", announced), ("effective", effective)):
            if value is not None and getattr(event, key) is None:
                setattr(event, key, value)
                event.evidence[key] = sentence
        if rate_to is not None:
            event.rate_from, event.rate_to = rate_from, rate_to
            event.evidence["rate"] = sentence


#: "Goods on the list include soybeans, motorcycles and orange juice": the goods of the measure just told.
_LIST_CUE_RE = re.compile(
    r"\b(?:include|includes|including|included|such as|covers?|covering|will face|faces?|affects?|affected|"
    r"appl(?:y|ies) to)\b",
    re.IGNORECASE,
)


def _list_products(group: Sequence[_Candidate], sentence: str) -> None:
    """Products listed in a sentence after a measure's, when it names no other party or measure."""
    if not _LIST_CUE_RE.search(sentence):
        return
    products = _products(sentence)
    if not products or _data().place_re.search(sentence):
        return
    for event in group:
        for product in products:
            if product not in event.products:
                event.products.append(product)
                event.evidence.setdefault("products", sentence)


#: Trade-defence instruments imposed together: "final anti-dumping and countervailing duties" is two events.
_REMEDIES = ("anti_dumping", "countervailing_duty", "safeguard")
#: Where one sentence reports two sides' measures: "The US will cut ... to 30%, while China will cut ...".
_CLAUSE_RE = re.compile(r",\s+(?:while|whereas)\s+|;\s+|,\s+and\s+(?=(?:the\s+)?[A-Z])")


def _sentence_candidates(
    sentence: str, order: int, base: date | None, last_bloc: str | None
) -> list[_Candidate]:
    """The events of one sentence: usually none or one; one per clause when its clauses report each their
    own measure; one per trade-defence instrument when several are named together."""
    whole = _candidates(sentence, order, base, last_bloc)
    clauses = _CLAUSE_RE.split(sentence) if whole else []
    if len(clauses) > 1:
        found = [_candidates(clause, order, base, last_bloc) for clause in clauses]
        if sum(1 for f in found if f) > 1:
            announced, effective, _a, _e = _dates(sentence, base)
            out = [c for f in found for c in f]
            for c in out:
                c.evidence = dict.fromkeys(c.evidence, sentence)
                if c.announced is None and announced is not None:
                    c.announced = announced
                    c.evidence["announced"] = sentence
                if c.effective is None and effective is not None:
                    c.effective = effective
                    c.evidence["effective"] = sentence
            return out
    return whole


#: A ban said to be (part of) sanctions: "in new sanctions", "the latest in a series of sanctions".
_SANCTIONS_RE = re.compile(r"\b(?:sanctions|embargo(?:es)?)\b", re.IGNORECASE)


def _candidates(sentence: str, order: int, base: date | None, last_bloc: str | None) -> list[_Candidate]:
    first = _candidate(sentence, order, base, last_bloc)
    if first is None:
        return []
    out = [first]
    if first.measure in ("import_ban", "export_ban") and _SANCTIONS_RE.search(
        _data().false_friends.sub(_blank, sentence)
    ):
        # "banned imports of Russian oil, the latest in a series of sanctions": the ban is a sanction; the
        # package event takes it in (see _fold_generic).
        out.append(replace(first, measure="sanctions", evidence=dict(first.evidence)))
    if first.measure in _REMEDIES:
        data = _data()
        clean = data.false_friends.sub(_blank, sentence)
        for measure in data.measures:
            if measure.name in _REMEDIES and measure.name != first.measure and measure.pattern.search(clean):
                out.append(
                    replace(
                        first,
                        measure=measure.name,
                        rate_from=None,
                        rate_to=None,
                        evidence=dict(first.evidence),
                    )
                )
    return out


@lru_cache(maxsize=1024)
def _anchors_present(found: frozenset[str]) -> frozenset[str]:
    """The regex returns the longest anchor at each place ("exports"); shorter ones ("export") hold too."""
    return frozenset(a for a in _data().anchors for f in found if f.startswith(a))


def _merge(into: _Candidate, other: _Candidate) -> None:
    """Fill what ``into`` lacks from ``other`` (a later sentence about the same measure).

    A rate stated in the body replaces one from the headline: headlines round ("up to 38%") where the
    body is exact ("between 17.4% and 38.1%").
    """
    if not into.implementer and other.implementer:
        into.implementer = list(other.implementer)
        into.evidence.setdefault("implementer", other.evidence["implementer"])
    for code in other.affected:
        if code not in into.affected and code not in into.implementer:
            into.affected.append(code)
            into.evidence.setdefault("affected", other.evidence["affected"])
    into.affected = [c for c in into.affected if c not in into.implementer]
    for product in other.products:
        if product not in into.products:
            into.products.append(product)
            into.evidence.setdefault("products", other.evidence["products"])
    for subject in other.subjects:
        if subject not in into.subjects:
            into.subjects.append(subject)
            into.evidence.setdefault("subjects", other.evidence["subjects"])
    if other.rate_to is not None and (into.rate_to is None or (into.in_title and not other.in_title)):
        into.rate_from, into.rate_to = other.rate_from, other.rate_to
        into.evidence["rate"] = other.evidence["rate"]
        into.in_title = other.in_title
    into.lede = into.lede or other.lede
    for key in ("announced", "effective"):
        if getattr(into, key) is None and getattr(other, key) is not None:
            setattr(into, key, getattr(other, key))
            into.evidence.setdefault(key, other.evidence[key])


def _combine(candidates: Sequence[_Candidate]) -> list[_Candidate]:
    """One event per (measure, implementer): the article repeats its news in headline, lead and body."""
    events: list[_Candidate] = []
    orphans: list[_Candidate] = []
    for cand in candidates:
        if cand.anaphoric and not cand.lede:
            # "Lula's government said the levies, which took effect on Aug. 6, violate WTO rules": the tariffs
            # a dispute is about. A definite reference only adds to a tariff event the article reports.
            same_kind = next((e for e in events if e.measure == cand.measure), None) or next(
                (e for e in events if e.measure in _TARIFF_LIKE), None
            )
            if same_kind is not None:
                _merge(same_kind, cand)
            continue
        if not cand.implementer:
            orphans.append(cand)
            continue
        same = next(
            (
                e
                for e in events
                if e.measure == cand.measure and e.implementer == cand.implementer and not cand.separate
            ),
            None,
        )
        if same is None:
            events.append(cand)
        else:
            _merge(same, cand)
    for cand in orphans:
        same_measure = [e for e in events if e.measure == cand.measure]
        if same_measure:
            _merge(same_measure[0], cand)
        elif cand.measure in _GENERIC and (
            host := next((e for e in events if e.measure in _TARIFF_LIKE), None)
        ):
            # "The duty on walnuts would rise to 120% from 30%" under "India imposes retaliatory tariffs":
            # the detail of the tariff measure the article reports.
            _merge(host, cand)
        elif cand.affected:
            # A measure with only its target named ("duties on Chinese steel"): keep it if no event of its
            # kind exists yet; a later orphan of the same kind joins it.
            events.append(cand)
    events.sort(key=lambda e: e.order)
    return [e for e in _fold_generic(events) if _salient(e)]


def _salient(event: _Candidate) -> bool:
    """Whether an event is the article's news rather than its context.

    An article states its news in the headline and the lead; the body goes on to give it detail and
    setting — earlier rounds, side probes, a rival's measure quoted in passing. An event first found
    deeper down (and that no headline or lead sentence restated) is news of its own only with its own
    concrete evidence: who took it, and a rate, a date or the goods ("Separately, India on Monday imposed
    anti-dumping duties of 30% on Chinese solar glass"). "The Commission is also investigating Chinese
    glyphosate" names neither and is context.
    """
    if event.lede:
        return True
    concrete = event.rate_to is not None or event.announced is not None or event.effective is not None
    return bool(event.implementer) and (concrete or bool(event.products))


#: Specific measures that are themselves tariff changes: a plain "tariff increase" (or cut) reported by the
#: same article about the same parties is the same news told in other words, and joins them.
_TARIFF_LIKE = (
    "retaliation",
    "anti_dumping",
    "countervailing_duty",
    "safeguard",
    "agreement_signed",
    "quota",
)


#: Bans and controls a sanctions package includes ("including a ban on imports of Russian aluminium").
_SANCTION_PARTS = ("import_ban", "export_ban", "export_control")


def _other_rate(host: _Candidate, event: _Candidate) -> bool:
    """Whether a tariff change states a rate of its own, other than its would-be host's: "a 50% surtax on
    volumes above the quota" and "a 25% surtax from July 31 on steel melted in China" are two measures."""
    if host.rate_to is None or event.rate_to is None:
        return False
    return abs(host.rate_to.value - event.rate_to.value) >= 1  # (a headline rounds: "17%" is "17.09%")


def _fold_generic(events: list[_Candidate]) -> list[_Candidate]:
    kept: list[_Candidate] = []
    for event in events:
        if event.measure in _SANCTION_PARTS:
            package = next(
                (
                    e
                    for e in events
                    if e.measure == "sanctions"
                    and (e.implementer == event.implementer or not event.implementer)
                ),
                None,
            )
            if package is not None:
                _merge(package, event)
                continue
        if event.measure in _GENERIC and not event.separate:
            host = next(
                (
                    e
                    for e in events
                    if e.measure in _TARIFF_LIKE
                    and not _other_rate(e, event)
                    and (
                        not event.implementer
                        or not e.implementer
                        # (the one a retaliation answers took a measure of its own: not folded)
                        or set(event.implementer)
                        <= set(e.implementer) | (set() if e.measure == "retaliation" else set(e.affected))
                    )
                ),
                None,
            )
            if host is not None:
                if host.measure == "agreement_signed":
                    event.affected = [c for c in event.affected if c not in host.implementer]
                    event.implementer = []  # the agreement's parties stay as the agreement names them
                _merge(host, event)
                continue
        kept.append(event)
    for event in kept:
        if event.measure == "retaliation" and not event.affected:
            # Retaliation is against whoever acted first: the article's other implementer.
            other = next((c for e in kept for c in e.implementer if c not in event.implementer), None)
            if other is not None:
                event.affected.append(other)
    return kept


#: A wire dateline opening the body: "OTTAWA, Aug 26 (Reuters) - ", "NYON, Switzerland (AP) — ",
#: "BEIJING, July 4 (Xinhua) -- ". Its date is the filing day and its place where the reporter sits: neither
#: says when a measure was announced or who took it.
_DATELINE_RE = re.compile(
    r"^\s*[A-Z][A-Z.'’/ -]+[A-Z.](?:,\s*(?:[A-Z][a-z]{2,4}\.?\s\d{1,2}|[A-Z][\w.]*(?:\s[A-Z][\w.]*){0,2}))*"
    r"(?:\s*\([A-Z][\w .-]{1,30}\))?\s*(?:--|—|–|-)\s+"
)


def extract_events(
    title: str, text: str, published: datetime | date | None = None, *, language: str | None = "en"
) -> tuple[TradeEvent, ...]:
    """The trade events an article reports, in the order it reports them; () when none is stated.

    Meant for articles already classified as trade; on other text it still only reports sentences that
    name a measure and a jurisdiction. Non-English text yields nothing (the patterns are English).
    """
    if language and not language.casefold().startswith("en"):
        return ()
    if not _data().anchor_re.search(title) and not _data().anchor_re.search(text):
        return ()  # most trade articles name a measure; the rest cost one scan
    base = published.date() if isinstance(published, datetime) else published
    review = bool(_data().review.search(title) or _data().review.search(text[:120]))
    text = _DATELINE_RE.sub("", text, count=1)
    candidates: list[_Candidate] = []
    group: list[_Candidate] = []  # the events of the last sentence that reported any
    # Only "the bloc" needs the bloc named last: other articles skip following it.
    follow_blocs = any(_data().anaphor_re.search(part) for part in (title, text))
    order = 0
    last_bloc: str | None = None
    title_sentences = 0
    for in_title, part in ((True, title), (False, text)):
        if not part:
            continue
        if not in_title:
            title_sentences = order
        for sentence in split_sentences(part):
            order += 1
            if len(sentence) > 2000:
                sentence = sentence[:2000]  # a run-on "sentence" (a table, a list) is not prose
            cands = _sentence_candidates(sentence, order, base, last_bloc)
            if follow_blocs:
                last_bloc = _last_bloc(sentence, last_bloc)
            if (
                cands
                and candidates
                and not any(c.implementer or c.affected or c.products for c in cands)
                and _CONTINUATION_RE.match(sentence)
            ):
                cands = []  # "The duties will take effect from March 7": more about the last one
            if cands:
                lede = in_title or order <= title_sentences + LEDE_SENTENCES
                separate = bool(_data().separate.match(sentence))
                for cand in cands:
                    cand.in_title, cand.lede, cand.separate = in_title, lede, separate
                candidates.extend(cands)
                group = cands
            elif group and not in_title:
                if group[0].in_title and candidates[-1] is group[-1] and order == title_sentences + 1:
                    _restate(group, sentence, base)
                _continue(group, sentence, base)
                if order - group[-1].order <= LIST_REACH:
                    _list_products(group, sentence)
    events = _combine(candidates)
    if review:
        # An explainer surveys measures: only those it dates are news (stale ones were dropped already).
        events = [e for e in events if e.announced is not None or e.effective is not None]
    return tuple(_event(c) for c in events)


def _event(c: _Candidate) -> TradeEvent:
    return TradeEvent(
        measure=c.measure,
        implementer=tuple(c.implementer),
        affected=tuple(c.affected),
        products=tuple(name for name, _hs in c.products),
        hs_chapters=tuple(dict.fromkeys(hs for _name, hs in c.products if hs)),
        subjects=tuple(c.subjects),
        rate_from=c.rate_from,
        rate_to=c.rate_to,
        announced=c.announced,
        effective=c.effective,
        trigger=c.trigger,
        evidence=dict(c.evidence),
    )
