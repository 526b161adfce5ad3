"""Find the trade measures a trade article reports: who did what to whom, on which goods, at what rate, when.

A pure stage beside classification (run only for articles classified as trade): text in, ``TradeEvent``s
out, with the sentence each field came from. No storage, no network. The knowledge is data beside this
module — ``data/event_patterns.toml`` (measure patterns and false friends), ``data/event_places.toml``
(aliases, demonyms, capitals and offices on top of pycountry's ISO 3166 names) and
``data/event_products.toml`` (product words and their HS chapters) — and the algorithm is this sequence:

1. cut the title and body into sentences; blank the false friends ("feed-in tariffs", "stamp duty");
2. a sentence with a measure pattern becomes a candidate event (one per sentence, the most specific
   measure first), with the jurisdictions, products, rates and dates *of that sentence*;
3. each jurisdiction gets a role from the words around it: "by the EU" and "Beijing said it would" act
   (implementer), "on Chinese steel", "imports from Canada" and "talks with Japan" are on the receiving end
   (affected); otherwise a name before the measure acts and one after it is affected;
4. candidates of one measure and implementer are merged into one event per article (the headline and
   the lead usually state the same measure twice); a candidate with no jurisdiction at all joins such an
   event or is dropped, so background talk of "tariffs" invents nothing.

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
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class _Place:
    code: str
    kind: Literal["name", "demonym", "capital", "actor"]
    guarded: bool = False


@dataclass(frozen=True)
class _Data:
    version: str
    measures: tuple[_Measure, ...]
    anchors: frozenset[str]
    anchor_re: re.Pattern[str]
    false_friends: re.Pattern[str]
    context_skip: re.Pattern[str]
    tariff_noun: re.Pattern[str]
    places: dict[str, _Place]
    place_re: re.Pattern[str]
    products: dict[str, tuple[str, str]]  # folded words -> (product name, HS chapter)
    product_words: int  # the longest product name, in words
    codes: frozenset[str]


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
        r"\b(?:" + macros["TARIFF"] + r"|rates?|margins?|fees?|charges?)\b", re.IGNORECASE
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
    tables: list[tuple[str, Literal["name", "demonym", "capital", "actor"]]] = [
        ("names", "name"),
        ("blocs", "name"),
        ("blocs_demonym", "demonym"),
        ("demonyms", "demonym"),
        ("capitals", "capital"),
        ("actors", "actor"),
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
    place_re = re.compile(rf"(?<![\w-])(?:{alternatives})(?!\w)(?!-[a-z])")

    products_raw = tomllib.loads(PRODUCTS_FILE.read_text(encoding="utf-8"))["products"]
    products: dict[str, tuple[str, str]] = {}
    for name, spec in products_raw.items():
        for word in (name, *spec.get("alias", [])):
            for form in _plural_forms(word.casefold()):
                products.setdefault(form, (name, spec.get("hs", "")))
    codes = frozenset(p.code for p in places.values() if p.code)
    return _Data(
        version=str(raw["version"]),
        measures=measures,
        anchors=frozenset(anchors),
        anchor_re=anchor_re,
        false_friends=false_friends,
        context_skip=context_skip,
        tariff_noun=tariff_noun,
        places=places,
        place_re=place_re,
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


def version() -> str:
    """The data version; stored with each event so a re-extraction can be told apart."""
    return _data().version


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
_GROUP_GAP_RE = re.compile(r"^(?:,|and|&|, and)?(?:\s*(?:the|its))?(?:\s+[A-Z][\w-]*){0,3}$")
_LOCATION_WORDS = _role_words("location_words")
_ORIGIN_WORDS = _role_words("origin_words")
_POSSESSIVE_RE = re.compile(r"^['’]s\b")
_WORD_RE = re.compile(r"[\w'’-]+")


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    code: str
    role: Role


def _mentions(sentence: str, trigger: tuple[int, int]) -> list[_Mention]:
    data = _data()
    found: list[_Mention] = []
    previous_role: Role | None = None
    previous_end = -1
    for m in data.place_re.finditer(sentence):
        place = data.places[m.group()]
        if not place.code:
            continue
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
        if prev in _LOCATION_WORDS:
            prev2 = before_words[-2].casefold() if len(before_words) > 1 else ""
            if prev != "in" or prev2 not in _ORIGIN_WORDS:
                continue  # a place, not a government: "talks in Washington", "opened in Shanghai"
            prev = "from"  # "made in China" is where goods come from
        if place.kind == "capital" and after[:1] == " " and after[1:2].isupper():
            continue  # part of a longer name: "Washington Post", "Beijing Capital"
        role = _role(place, prev, nxt, possessive, m.start(), trigger)
        if prev == "and" and previous_role in ("target", "partner") and m.start() - previous_end < 40:
            role = previous_role  # a list: "on China and Mexico", "between the US and Japan"
        if prev in ("and", "or") and previous_role == "actor" and m.start() - previous_end < 12:
            role = "actor"  # "the US and the EU imposed ..."
        found.append(_Mention(m.start(), m.end(), place.code, role))
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
_PCT = rf"{_NUM}\s*(?:%|per ?cent\b|percent\b)"
_CURRENCY = r"(US\$|C\$|A\$|\$|€|£|¥)"
_UNIT = (
    r"(net tons?|metric tons?|tonnes?|tons?|kg|kilograms?|units?|vehicles?|containers?|barrels?|pairs?|TEUs?)"
)
_RANGE_RE = re.compile(
    rf"\b(?:between {_NUM}\s*(?:%|per ?cent|percent)? and {_PCT}"
    rf"|ranging from {_PCT}(?: \w+){{0,3}}? to {_PCT}"
    rf"|(?:of|from) {_NUM}\s*(?:%|per ?cent|percent)? to {_PCT}(?! from))",
    re.IGNORECASE,
)
_CHANGE_RE = re.compile(rf"{_PCT}(?: [\w-]+){{1,6}}? to {_PCT}", re.IGNORECASE)
_FROM_TO_RE = re.compile(rf"\bfrom {_PCT} to {_PCT}|\bfrom {_NUM} to {_PCT}", re.IGNORECASE)
_TO_FROM_RE = re.compile(
    rf"\bto {_PCT},? (?:up |down )?from {_PCT}|\bto {_PCT},? (?:up |down )?from {_NUM}\b", re.IGNORECASE
)
_PCT_RE = re.compile(_PCT, re.IGNORECASE)
_AMOUNT_RE = re.compile(rf"{_CURRENCY}\s?{_NUM}(?:\s?(?:a|per|/|for each|each)\s{_UNIT})?", re.IGNORECASE)
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
    return float(text.replace(",", ""))


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
    m = _CHANGE_RE.search(sentence)  # "halve its 150% tariff on whisky to 75%"
    if m and _near_duty(sentence, m.start(), m.end(), trigger):
        return Rate(_num(m.group(1))), Rate(_num(m.group(2)))
    for m in _PCT_RE.finditer(sentence):
        if _NOT_RATE_BEFORE.search(sentence[max(0, m.start() - 20) : m.start()]):
            continue
        if _NOT_RATE_AFTER.match(sentence[m.end() :]):
            continue
        if _near_duty(sentence, m.start(), m.end(), trigger):
            return None, Rate(_num(m.group(1)))
    for m in _AMOUNT_RE.finditer(sentence):
        if m.group(3) is None:
            continue  # "$2 billion of goods" is trade value, not a duty: a duty amount is per unit
        if _NOT_RATE_BEFORE.search(sentence[max(0, m.start() - 20) : m.start()]):
            continue
        if _near_duty(sentence, m.start(), m.end(), trigger):
            currency = _CURRENCY_NAMES.get(m.group(1), m.group(1))
            unit = re.sub(r"s$", "", m.group(3).casefold()) if m.group(3).casefold() != "kg" else "kg"
            return None, Rate(_num(m.group(2)), unit=f"{currency}/{unit}")
    return None, None


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
    r"(?:take|takes|took|came|come|comes|go|goes|went|enter|enters|entered) "
    r"(?:effect|into force|into effect)",
    re.IGNORECASE,
)
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


_BILATERAL = frozenset({"agreement_signed", "agreement_negotiating", "dispute_filed", "dispute_ruled"})
#: Talks and disputes are about a measure; the rate quoted in their sentence is the disputed measure's.
_NO_RATE = frozenset({"agreement_negotiating", "dispute_filed", "dispute_ruled"})
_SUBJECT_MEASURES = _BILATERAL | {"retaliation"}


#: A measure in a clause that gives a reason or a time ("after the US raised tariffs") is background.
_BACKGROUND_RE = re.compile(
    r"\b(?:after|since|because|following|amid|before|when)\b[^,;:—–]*$", re.IGNORECASE
)


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


def _candidate(sentence: str, order: int, base: date | None) -> _Candidate | None:
    data = _data()
    found = {a.casefold() for a in data.anchor_re.findall(sentence)}
    if not found or data.context_skip.search(sentence):
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
        if m is not None:
            break
    else:
        return None
    trigger = (m.start(), m.end())
    if _BACKGROUND_RE.search(clean[max(0, m.start() - 70) : m.start()]):
        return None  # "..., after the United States raised its tariffs": the cause, not the news
    mentions = _mentions(clean, trigger)
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
    if not implementer and partners and measure.name in _BILATERAL:
        implementer, partners = [partners[0]], partners[1:]
    if measure.name == "dispute_ruled":
        # A ruling is made by a panel, not a country: every party named is affected by it.
        partners = list(dict.fromkeys(implementer + partners))
        implementer = []
    affected = []
    for x in mentions:
        if x.role in ("target", "partner") and x.code not in implementer and x.code not in affected:
            if x.role == "partner" and x.code not in partners:
                continue
            affected.append(x.code)
    rate_from, rate_to = (None, None) if measure.name in _NO_RATE else _rates(clean, trigger)
    announced, effective, _a, _e = _dates(clean, base)
    products = _products(clean)
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
    )


#: A sentence that goes on about the measure just reported: "The duties take effect on Thursday."
_CONTINUATION_RE = re.compile(
    r"^(?:The|These|Those|Its|Their|Such)\s+(?:new\s+|higher\s+|provisional\s+|definitive\s+|additional\s+|"
    r"extra\s+|\w+\s+)?(?:duty|duties|tariffs?|levy|levies|rates?|measures?|controls|restrictions|ban|fees?|"
    r"charges|quotas?|rules?|sanctions|deal|agreement|pact|surtax)\b",
    re.IGNORECASE,
)


def _continue(last: _Candidate, sentence: str, base: date | None) -> None:
    """Take the dates and rate of a continuation sentence into the event it continues."""
    m = _CONTINUATION_RE.match(sentence)
    if m is None or _data().context_skip.search(sentence):
        return
    announced, effective, _a, _e = _dates(sentence, base)
    rate_from, rate_to = (None, None) if last.measure in _NO_RATE else _rates(sentence, (m.start(), m.end()))
    if effective is not None and last.effective is None:
        last.effective = effective
        last.evidence.setdefault("effective", sentence)
    if announced is not None and last.announced is None:
        last.announced = announced
        last.evidence.setdefault("announced", sentence)
    if rate_to is not None and (last.rate_to is None or last.in_title):
        last.rate_from, last.rate_to = rate_from, rate_to
        last.evidence["rate"] = sentence


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
    for key in ("announced", "effective"):
        if getattr(into, key) is None and getattr(other, key) is not None:
            setattr(into, key, getattr(other, key))
            into.evidence.setdefault(key, other.evidence[key])


def _combine(candidates: Sequence[_Candidate]) -> list[_Candidate]:
    """One event per (measure, implementer): the article repeats its news in headline, lead and body."""
    events: list[_Candidate] = []
    orphans: list[_Candidate] = []
    for cand in candidates:
        if not cand.implementer:
            orphans.append(cand)
            continue
        same = next(
            (e for e in events if e.measure == cand.measure and e.implementer == cand.implementer), None
        )
        if same is None:
            events.append(cand)
        else:
            _merge(same, cand)
    for cand in orphans:
        same_measure = [e for e in events if e.measure == cand.measure]
        if same_measure:
            _merge(same_measure[0], cand)
        elif cand.affected:
            # A measure with only its target named ("duties on Chinese steel"): keep it if no event of its
            # kind exists yet; a later orphan of the same kind joins it.
            events.append(cand)
    events.sort(key=lambda e: e.order)
    return _fold_generic(events)


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


def _fold_generic(events: list[_Candidate]) -> list[_Candidate]:
    kept: list[_Candidate] = []
    for event in events:
        if event.measure in ("tariff_increase", "tariff_decrease"):
            host = next(
                (
                    e
                    for e in events
                    if e.measure in _TARIFF_LIKE
                    and (
                        not event.implementer
                        or not e.implementer
                        or set(event.implementer) <= set(e.implementer) | set(e.affected)
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
    candidates: list[_Candidate] = []
    order = 0
    for in_title, part in ((True, title), (False, text)):
        if not part:
            continue
        for sentence in split_sentences(part):
            order += 1
            if len(sentence) > 2000:
                sentence = sentence[:2000]  # a run-on "sentence" (a table, a list) is not prose
            cand = _candidate(sentence, order, base)
            if (
                cand is not None
                and candidates
                and not (cand.implementer or cand.affected or cand.products)
                and _CONTINUATION_RE.match(sentence)
            ):
                cand = None  # "The duties will take effect from March 7": more about the last one
            if cand is not None:
                cand.in_title = in_title
                candidates.append(cand)
            elif candidates and not in_title:
                _continue(candidates[-1], sentence, base)
    return tuple(_event(c) for c in _combine(candidates))


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
