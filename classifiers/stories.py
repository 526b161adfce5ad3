"""Is this article another outlet's copy of a story already stored? Fingerprints and an explained verdict.

One wire story is republished by many outlets under different URLs, GUIDs and edited titles. This
module turns an extracted article into a ``Fingerprint`` (a MinHash signature of its body's word
shingles, LSH band keys to find candidates by index, its cleaned title, and the numbers and dates of
its lead) and compares two fingerprints into a ``Decision`` that says whether they are one story and
why, in words a person can check. It is pure: storage keeps the band keys in an indexed table and asks
this module about the few candidates they find (see ``storage.repo.assign_stories``).

Precision comes first: a follow-up ("tariffs take effect" after "tariffs announced") shares a topic,
names and background paragraphs with the first report, and must still be a story of its own, so that
its alert is sent. The rules, in order (thresholds below, measured by bench/stories.py):

1. Published more than ``MAX_PUBLISHED_GAP`` apart → different (a wire copy is republished within hours).
2. Leads that pin different numbers or days (each lead has one the other text never mentions) → different.
3. Body Jaccard ≥ ``SAME_JACCARD`` → same: most words in the same order (edited title, added boilerplate,
   reordered paragraphs, light rewording).
4. The shorter body almost contained in the longer (containment ≥ ``SAME_CONTAINMENT``) *and* the
   longer one's lead found at the head of the shorter → same: a truncated copy (a byline or teaser
   added above it does not hide the lead). A follow-up that quotes the first report as background is the
   longer one and has a lead of its own, so it fails this rule.
5. With no usable body on either side (a page that failed, a title-only brief): titles alike
   (≥ ``SAME_TITLE``) and long enough to be specific → same.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tomllib
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from typing import Any, Literal

import numpy as np
from rapidfuzz import fuzz

#: Stored with every fingerprint. Signatures made with other parameters (or another hash) cannot be
#: compared; storage compares such old rows by title only. Bump it whenever anything below changes
#: what a signature or band key is.
VERSION = "stories-1"

#: Words per shingle. Three words keep word order (a reordered paragraph still shares all its inner
#: shingles) while a rewording touches only the shingles around the changed word.
SHINGLE_WORDS = 3
#: MinHash size and its split into LSH bands: BANDS x ROWS = NUM_PERM. A pair with Jaccard J shares at
#: least one band with probability 1 - (1 - J^ROWS)^BANDS: 0.996 at J=0.5, 0.68 at J=0.3 (truncated
#: copies), 0.005 at J=0.05 (unrelated articles on the same topic), so candidates stay few.
BANDS = 42
ROWS = 3
NUM_PERM = BANDS * ROWS
#: The title index: word sets of cleaned titles, for articles with no body to shingle.
TITLE_BANDS = 8
TITLE_ROWS = 2
#: A body shorter than this many words is not a body (a feed summary, a photo caption, a paywall
#: teaser): such an article is compared by title.
MIN_BODY_WORDS = 40
#: The lead: the first words of the body, where a news story says what happened and when; a copy's lead
#: is looked for in the first HEAD_WORDS words of the other article, past any byline or teaser on top.
LEAD_WORDS = 60
HEAD_WORDS = 150

#: Decision thresholds (see the module docstring), chosen with bench/stories.py on its "tune" half and
#: confirmed on the other (BENCHMARKS.md). Every point of the sweep (Jaccard 0.3-0.6, containment
#: 0.6-0.9) kept precision at 1.000 there, so these sit where they keep a margin without the date rule:
#: the hand-written follow-ups, which reuse half of the first report, measure Jaccard 0.26-0.37,
#: containment 0.43-0.55 and lead 0.00-0.26. Lowering containment from 0.8 to 0.7 took recall on tune
#: from 0.920 to 0.944 (truncated copies with boilerplate added).
SAME_JACCARD = 0.5
SAME_CONTAINMENT = 0.7
SAME_LEAD = 0.5
SAME_TITLE = 0.9
MIN_TITLE_WORDS = 5
MAX_PUBLISHED_GAP = timedelta(days=4)

#: The MinHash family is fixed by this seed: changing it changes every signature (bump VERSION).
_SEED = 20261124

Basis = Literal["body", "title"]


@dataclass(frozen=True)
class Fingerprint:
    """What storage keeps of an article to recognise its copies (a few hundred bytes, no text)."""

    version: str
    basis: Basis  # "body": shingles of the text; "title": too little text, compared by title
    signature: bytes  # NUM_PERM little-endian uint32 MinHash values; empty for the title basis
    shingles: int  # distinct shingles in the body (the set size, for containment)
    lead: bytes  # uint32 hashes of the shingles of the first HEAD_WORDS words, in text order
    title: str  # cleaned, case-folded title
    key_terms: tuple[str, ...]  # numbers and day/month names of the title and lead
    terms: tuple[str, ...]  # numbers and day/month names of the whole text
    band_keys: tuple[int, ...]  # signed 64-bit LSH keys to store: body bands (if any), then title bands
    probe_keys: tuple[int, ...] = ()  # the keys to look up candidates with (see ``fingerprint``)

    def as_json(self) -> dict[str, Any]:
        """The parts storage keeps as JSON (the binary parts go in their own columns)."""
        return {"key_terms": list(self.key_terms), "terms": list(self.terms)}


@dataclass(frozen=True)
class Decision:
    """Whether two articles report one story, the similarity that decided, and why, for a person."""

    same: bool
    similarity: float  # the measure the deciding rule used, in [0, 1]
    reason: str


# --- data ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Data:
    prefixes: tuple[re.Pattern[str], ...]
    suffixes: tuple[re.Pattern[str], ...]
    stopwords: frozenset[str]
    date_words: frozenset[str]


@functools.cache
def _data() -> _Data:
    raw = tomllib.loads(
        resources.files("classifiers").joinpath("data/stories.toml").read_text(encoding="utf-8")
    )
    titles, dates = raw["titles"], raw["dates"]
    return _Data(
        prefixes=tuple(re.compile(p, re.IGNORECASE) for p in titles["prefixes"]),
        suffixes=tuple(re.compile(p, re.IGNORECASE) for p in titles["suffixes"]),
        stopwords=frozenset(titles["stopwords"]),
        date_words=frozenset(dates["words"]),
    )


@functools.cache
def _permutations(count: int, seed: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The ``count`` affine maps h -> a*h + b (mod 2^32, ``a`` odd) of the MinHash family.

    Drawn exactly as datasketch draws its "affine32" scheme, so a signature here is bit for bit
    ``datasketch.MinHash(num_perm=count, seed=seed, scheme="affine32")`` fed the same 32-bit values
    (tests/classifiers/test_stories.py checks it). numpy's legacy ``RandomState`` never changes its
    stream, so stored signatures stay comparable across numpy versions.
    """
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, count, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, count, dtype=np.uint32)
    return a, b


# --- text ------------------------------------------------------------------------------------------

# Words, and CJK characters one by one (those scripts do not separate words with spaces).
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]|\w+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def tokens(text: str) -> list[str]:
    """Case-folded word tokens; punctuation, spacing and markup differences between outlets vanish.

    Text with no CJK character (most of it) is split by ``\\w+`` alone, the same tokens at a fifth less
    cost than trying the CJK class at every position.
    """
    folded = text.casefold()
    return (_TOKEN if _CJK.search(folded) else _WORD).findall(folded)


def clean_title(title: str) -> str:
    """The title without desk tags ("UPDATE 2-") or the outlet's name ("- Reuters"), case-folded."""
    data = _data()
    text = " ".join(title.split())
    changed = True
    while changed:
        changed = False
        for pattern in data.prefixes:
            stripped = pattern.sub("", text, count=1)
            if stripped != text and stripped:
                text, changed = stripped, True
        for pattern in data.suffixes:
            stripped = pattern.sub("", text, count=1)
            # Only a short tail is an outlet's name: keep it when little of the title would remain.
            if stripped != text and len(stripped.split()) >= 4:
                text, changed = stripped, True
    return " ".join(tokens(text))


def _terms(words: Iterable[str]) -> tuple[str, ...]:
    """Numbers (thousands separators dropped) and day/month names among ``words``: when an event is."""
    dates = _data().date_words
    return tuple(sorted(dates.intersection(words)))


def _numbers(text: str) -> set[str]:
    out = set()
    for raw in _NUMBER.findall(text):
        value = raw.replace(",", "")
        if "." in value:
            value = value.rstrip("0").rstrip(".")
        out.add(value.lstrip("0") or "0")
    return out


def _lead_text(text: str) -> str:
    return " ".join(text.split(maxsplit=LEAD_WORDS)[:LEAD_WORDS])


# --- hashing ---------------------------------------------------------------------------------------

_MASK32 = np.uint64(0xFFFFFFFF)
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9))


def _word_hashes(words: Sequence[str]) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """CRC-32 of each word: cheap, and the same in every process (unlike ``hash()``)."""
    return np.fromiter(map(zlib.crc32, map(str.encode, words)), np.uint64, len(words))


def _shingle_hashes(
    word_hashes: np.ndarray[Any, np.dtype[np.uint64]], *, distinct: bool = True
) -> np.ndarray[Any, Any]:
    """32-bit hashes of every run of SHINGLE_WORDS words (fewer words: one shingle of them all), distinct
    and sorted, or in text order with ``distinct=False``.

    The words of a shingle are combined with odd multipliers in numpy, so an article costs one hash per
    word and no Python work per shingle.
    """
    if not len(word_hashes):
        return np.zeros(0, dtype=np.uint32)
    k = min(SHINGLE_WORDS, len(word_hashes))
    count = len(word_hashes) - k + 1
    combined = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(k):
            combined = combined * _MIX[offset % len(_MIX)] + word_hashes[offset : offset + count]
    folded = ((combined >> np.uint64(32)) ^ (combined & _MASK32)).astype(np.uint32)
    return np.unique(folded) if distinct else folded


def _fmix32(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """MurmurHash3's 32-bit finalizer: spreads every input bit over the word before the affine maps."""
    h = values.astype(np.uint32)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


def _minhash(values: np.ndarray[Any, Any], count: int, seed: int) -> np.ndarray[Any, Any]:
    """The MinHash signature of a set of 32-bit values: per affine map, the least image of the set.

    Written in numpy rather than calling datasketch's ``update_batch``, which hashes each value through a
    Python call and cost as much as everything else here together.
    """
    if not len(values):
        return np.full(count, 0xFFFFFFFF, dtype="<u4")
    a, b = _permutations(count, seed)
    with np.errstate(over="ignore"):
        images = _fmix32(values).reshape(-1, 1) * a + b  # uint32 arithmetic wraps: mod 2^32
    signature: np.ndarray[Any, Any] = images.min(axis=0).astype("<u4")
    return signature


def _band_keys(values: np.ndarray[Any, Any], bands: int, rows: int, namespace: bytes) -> list[int]:
    """One signed 64-bit key per band: what an index can look up (BIGINT on PostgreSQL, INTEGER on SQLite)."""
    raw = np.ascontiguousarray(values, dtype="<u4").tobytes()
    width = rows * 4
    return [
        int.from_bytes(
            hashlib.blake2b(
                namespace + bytes([band]) + raw[band * width : (band + 1) * width], digest_size=8
            ).digest(),
            "little",
            signed=True,
        )
        for band in range(bands)
    ]


# --- fingerprints ----------------------------------------------------------------------------------


def fingerprint(title: str, text: str) -> Fingerprint:
    """The fingerprint of an article: a body signature when there is a body, always a title index.

    Title band keys live in two namespaces: an article with a body files its title bands under "t", one
    without under "T". A body looks up its body bands and "T" titles only (a body is never joined to
    another body by title, so titles that merely share words, common on a busy topic, are not even
    candidates); a title-only article looks up both title namespaces.

    CPU cost is one pass over the words plus a (NUM_PERM x shingles) numpy minimum, about half a
    millisecond for a long article; it runs in the extraction worker beside the trade verdict.
    """
    words = tokens(text)
    title_clean = clean_title(title)
    title_words = title_clean.split()
    lead_words = words[:LEAD_WORDS]
    title_numbers = _numbers(title_clean)
    key = title_numbers | _numbers(_lead_text(text)) | set(_terms(title_words + lead_words))
    every = title_numbers | _numbers(text) | set(_terms(title_words)) | set(_terms(words))
    band_keys: list[int] = []
    probe_keys: list[int] = []
    if len(words) >= MIN_BODY_WORDS:
        basis: Basis = "body"
        # Shingled once: the lead is the head of the text-order shingles (a body has at least
        # MIN_BODY_WORDS > SHINGLE_WORDS words), the signature's set is their distinct values.
        ordered = _shingle_hashes(_word_hashes(words), distinct=False)
        shingles = np.unique(ordered)
        signature = _minhash(shingles, NUM_PERM, _SEED)
        band_keys += _band_keys(signature, BANDS, ROWS, b"b")
        probe_keys += band_keys
        lead = ordered[: HEAD_WORDS - SHINGLE_WORDS + 1]
        size = len(shingles)
    else:
        basis, signature, lead, size = "title", np.zeros(0, dtype="<u4"), np.zeros(0, dtype="<u4"), 0
    title_set = sorted({w for w in title_words if w not in _data().stopwords})
    if title_set:
        title_values = _word_hashes(title_set).astype(np.uint32)
        title_sketch = _minhash(title_values, TITLE_BANDS * TITLE_ROWS, _SEED + 1)
        with_body = _band_keys(title_sketch, TITLE_BANDS, TITLE_ROWS, b"t")
        without_body = _band_keys(title_sketch, TITLE_BANDS, TITLE_ROWS, b"T")
        band_keys += with_body if basis == "body" else without_body
        probe_keys += without_body if basis == "body" else with_body + without_body
    return Fingerprint(
        version=VERSION,
        basis=basis,
        signature=np.ascontiguousarray(signature, dtype="<u4").tobytes(),
        shingles=size,
        lead=np.ascontiguousarray(lead, dtype="<u4").tobytes(),
        title=title_clean,
        key_terms=tuple(sorted(key)),
        terms=tuple(sorted(every)),
        band_keys=tuple(band_keys),
        probe_keys=tuple(probe_keys),
    )


# --- comparison ------------------------------------------------------------------------------------


def jaccard(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two bodies' shingle sets, from their signatures."""
    if not a or len(a) != len(b):
        return 0.0
    x, y = np.frombuffer(a, dtype="<u4"), np.frombuffer(b, dtype="<u4")
    return float(np.count_nonzero(x == y)) / len(x)


def containment(j: float, size_a: int, size_b: int) -> float:
    """How much of the smaller shingle set lies in the larger, from Jaccard and the two set sizes.

    |A ∩ B| = J (|A| + |B|) / (1 + J); divided by the smaller set. A truncated copy is contained in the
    full story (containment near 1) though its Jaccard is only its share of the length.
    """
    smaller = min(size_a, size_b)
    if smaller <= 0:
        return 0.0
    return min(1.0, j * (size_a + size_b) / (1.0 + j) / smaller)


def lead_overlap(longer: bytes, shorter: bytes) -> float:
    """Share of the longer article's lead shingles found in the shorter one's head (exact, not estimated)."""
    if not longer or not shorter:
        return 0.0
    head = np.frombuffer(shorter, dtype="<u4")
    lead = np.unique(np.frombuffer(longer, dtype="<u4")[: max(1, LEAD_WORDS - SHINGLE_WORDS + 1)])
    return float(np.isin(lead, head).mean())


def title_similarity(a: str, b: str) -> float:
    """Edit-based similarity of two cleaned titles, word order ignored, in [0, 1]."""
    if not a or not b:
        return 0.0
    return float(fuzz.token_sort_ratio(a, b)) / 100.0


def conflicting_terms(new: Fingerprint, old: Fingerprint) -> tuple[list[str], list[str]]:
    """Numbers/days each lead names that the other article never mentions (both non-empty: a conflict)."""
    new_only = sorted(set(new.key_terms) - set(old.terms))
    old_only = sorted(set(old.key_terms) - set(new.terms))
    return new_only, old_only


def compare(
    new: Fingerprint,
    old: Fingerprint,
    *,
    new_published: datetime | None = None,
    old_published: datetime | None = None,
) -> Decision:
    """Apply the rules of the module docstring, first that decides wins; the reason names the measure."""
    if new_published is not None and old_published is not None:
        gap = abs(new_published - old_published)
        if gap > MAX_PUBLISHED_GAP:
            return Decision(False, 0.0, f"published {gap.days} days apart")
    comparable = new.version == old.version == VERSION
    if comparable and new.basis == "body" and old.basis == "body":
        j = jaccard(new.signature, old.signature)
        c = containment(j, new.shingles, old.shingles)
        if j < SAME_JACCARD and c < SAME_CONTAINMENT:  # most candidates: decided by two numbers
            return Decision(False, j, f"body {j:.0%} alike, {c:.0%} contained")
        new_only, old_only = conflicting_terms(new, old)
        if new_only and old_only and j < 0.9:
            return Decision(
                False,
                j,
                f"different facts in the leads ({', '.join(new_only[:3])} vs {', '.join(old_only[:3])})",
            )
        if j >= SAME_JACCARD:
            return Decision(True, j, f"body {j:.0%} alike (shingled MinHash Jaccard)")
        longer, shorter = (new, old) if new.shingles >= old.shingles else (old, new)
        lead = lead_overlap(longer.lead, shorter.lead)
        if c >= SAME_CONTAINMENT and lead >= SAME_LEAD:
            which = "this article" if shorter is new else "the earlier one"
            return Decision(True, c, f"{which} is {c:.0%} contained in the other, same lead ({lead:.0%})")
        return Decision(False, j, f"body {j:.0%} alike, {c:.0%} contained, lead {lead:.0%}")
    new_only, old_only = conflicting_terms(new, old)
    title_sim = title_similarity(new.title, old.title)
    if new_only and old_only:
        return Decision(False, title_sim, "different numbers or days in the titles")
    if title_sim >= SAME_TITLE and min(len(new.title.split()), len(old.title.split())) >= MIN_TITLE_WORDS:
        return Decision(True, title_sim, f"titles {title_sim:.0%} alike (no body to compare)")
    return Decision(False, title_sim, f"titles {title_sim:.0%} alike")


def best_match(
    new: Fingerprint,
    candidates: Iterable[tuple[Any, Fingerprint, datetime | None]],
    *,
    new_published: datetime | None = None,
) -> tuple[Any, Decision] | None:
    """The candidate this article is most like among those judged the same story, or None.

    ``candidates`` are (key, fingerprint, published) triples; the key comes back untouched (storage
    passes article ids). Joining the *most* similar copy, not the first found, keeps a copy with the
    story it repeats when two stories on one topic are both in the window.
    """
    best: tuple[Any, Decision] | None = None
    for key, fp, published in candidates:
        decision = compare(new, fp, new_published=new_published, old_published=published)
        if decision.same and (best is None or decision.similarity > best[1].similarity):
            best = (key, decision)
    return best
