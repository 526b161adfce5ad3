"""Guess an article's language from its text when the page does not declare one.

Two cheap signals: the Unicode script of the letters (kana means Japanese, hangul Korean, ...), and for Latin
script the share of very frequent function words of each language (``data/language_stopwords.toml``). The
guess is None unless one language clearly leads: a wrong language would mislead the classifier more than a
missing one.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections import Counter
from functools import cache

from extractors._article_data import DATA_DIR

# Letters examined: enough to be stable, few enough to cost nothing on long articles.
SAMPLE_CHARS = 3000
# Latin-script guesses need this many function-word hits in the sample, this share of its words, and this
# lead over the runner-up; measured on short briefs, where a single stray "de" must not decide.
MIN_HITS = 8
MIN_SHARE = 0.08
MIN_LEAD = 2.0
# A script decides when it holds this share of the sample's letters.
SCRIPT_SHARE = 0.3

# Unicode character-name prefixes of scripts that name one language (or one dominant one).
_SCRIPTS = (
    ("HIRAGANA", "ja"),
    ("KATAKANA", "ja"),
    ("HANGUL", "ko"),
    ("THAI", "th"),
    ("GREEK", "el"),
    ("HEBREW", "he"),
    ("ARABIC", "ar"),
    ("DEVANAGARI", "hi"),
    ("CJK UNIFIED", "zh"),
)
_WORD = re.compile(r"[^\W\d_]+")


@cache
def _stopwords() -> dict[str, frozenset[str]]:
    with (DATA_DIR / "language_stopwords.toml").open("rb") as handle:
        return {code: frozenset(words) for code, words in tomllib.load(handle).items()}


def _script_language(sample: str) -> str | None:
    letters = [ch for ch in sample if ch.isalpha()]
    if not letters:
        return None
    counts: Counter[str] = Counter()
    for ch in letters:
        if ch < "\u0250":  # Latin: decided by words below
            continue
        name = unicodedata.name(ch, "")
        for prefix, code in _SCRIPTS:
            if name.startswith(prefix):
                counts[code] += 1
                break
    if counts["ja"]:  # Japanese mixes kana with CJK ideographs; any kana share means Japanese
        counts["ja"] += counts.pop("zh", 0)
    if not counts:
        return None
    code, count = counts.most_common(1)[0]
    return code if count >= SCRIPT_SHARE * len(letters) else None


def guess_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when no language clearly leads."""
    sample = text[:SAMPLE_CHARS]
    by_script = _script_language(sample)
    if by_script is not None:
        return by_script
    words = _WORD.findall(sample.lower())
    if not words:
        return None
    counts = Counter(words)
    hits = Counter({code: sum(counts[word] for word in stop) for code, stop in _stopwords().items()})
    ranked = hits.most_common(2)
    best_code, best = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0
    if best < MIN_HITS or best < MIN_SHARE * len(words) or best < MIN_LEAD * runner_up:
        return None
    return best_code
