"""Guess the language of a text, cheaply and without dependencies: the one detector of the product.

The extractor stores the guess as the article's language (when the page's text is conclusive; else the
language the page declares), and the classifier reads that language rather than guessing again; for a
text without one (a headline alone, a labels file) it calls the same function. Two detectors used to
disagree: the extractor said None for a Russian article the classifier called ``ru``.

Two signals: the Unicode script of the letters (Cyrillic means Russian, kana Japanese, hangul Korean, ...)
and, for Latin script, hits of each language's commonest function words (``data/language_detect.toml``).
Unsure is None: the extractor then keeps the page's declared language, and the classifier reads unsure as
English, because a false "non-English" silently hides an article from users while a false "English"
merely lets the trade classifier look at it.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections import Counter
from functools import cache

from extractors._article_data import DATA_DIR

__all__ = ["detect_language"]

# Only the start of a text is examined: the language of a news article is settled within its first
# paragraphs, and scanning a 50 kB body for function words would dominate the classifier's cost.
SAMPLE_CHARS = 1200

# A non-Latin script must own at least this share of the letters before the text counts as written in it;
# English articles quote names in other scripts, and a few such letters must not flip the verdict.
SCRIPT_SHARE = 0.5

# A Latin-script language must show at least this many function-word hits, and beat English by
# LANGUAGE_MARGIN times, before the text is called non-English (the classifier's rule, tuned so that
# English quoting foreign names stays English). English itself needs MIN_ENGLISH_HITS hits and
# ENGLISH_LEAD times the best other language: a short or ambiguous text (a table caption, a headline in
# capitals) is None, "unsure", and each caller decides what unsure means (below).
MIN_FOREIGN_HITS = 4
LANGUAGE_MARGIN = 1.5
MIN_ENGLISH_HITS = 8
ENGLISH_LEAD = 2.0

_WORD = re.compile(r"[^\W\d_]+")
_LETTER = re.compile(r"[^\W\d_]")
_NON_ASCII_LETTER = re.compile(r"[^\W\d_\x00-\x7f]")

# Unicode character-name prefixes → language code reported for texts written mostly in that script.
_SCRIPTS: tuple[tuple[str, str], ...] = (
    ("HIRAGANA", "ja"),
    ("KATAKANA", "ja"),
    ("CJK", "zh"),
    ("HANGUL", "ko"),
    ("CYRILLIC", "ru"),
    ("ARABIC", "ar"),
    ("HEBREW", "he"),
    ("GREEK", "el"),
    ("DEVANAGARI", "hi"),
    ("THAI", "th"),
)


@cache
def _function_words() -> dict[str, tuple[str, ...]]:
    """Map each function word to the languages that list it (inverted, so one lookup per word)."""
    raw = (DATA_DIR / "language_detect.toml").read_text(encoding="utf-8")
    index: dict[str, list[str]] = {}
    for code, words in tomllib.loads(raw)["languages"].items():
        for word in words:
            index.setdefault(word, []).append(code)
    return {word: tuple(codes) for word, codes in index.items()}


def _script_language(sample: str) -> str | None:
    """Name the non-Latin script that dominates the letters, if one does."""
    # Regexes find the letters in C; only the (few, in English) non-ASCII letters are named one by one.
    foreign = _NON_ASCII_LETTER.findall(sample)
    if not foreign:
        return None
    letters = len(_LETTER.findall(sample))
    scripts: Counter[str] = Counter()
    for char in foreign:
        name = unicodedata.name(char, "")
        for prefix, code in _SCRIPTS:
            if name.startswith(prefix):
                scripts[code] += 1
                break
    if not letters or not scripts:
        return None
    # Japanese mixes kanji with kana; any real share of kana means Japanese rather than Chinese.
    if scripts["ja"] and scripts["ja"] >= 0.1 * letters:
        return "ja"
    code, count = scripts.most_common(1)[0]
    if code == "ja":
        code = "zh"
    total_script = sum(scripts.values())
    return code if total_script >= SCRIPT_SHARE * letters and count else None


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when no language clearly leads."""
    sample = text[:SAMPLE_CHARS]
    script = _script_language(sample)
    if script is not None:
        return script
    hits: Counter[str] = Counter()
    index = _function_words()
    for word in _WORD.findall(sample.lower()):
        codes = index.get(word)
        if codes:
            for code in codes:
                hits[code] += 1
    english = hits.pop("en", 0)
    code, count = hits.most_common(1)[0] if hits else ("", 0)
    if count >= MIN_FOREIGN_HITS and count > LANGUAGE_MARGIN * english:
        return code
    if english >= MIN_ENGLISH_HITS and english > ENGLISH_LEAD * count:
        return "en"
    return None
