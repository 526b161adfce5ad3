"""Decode fetched bytes into text: one reading of charset labels and one detector, for pages and feeds.

Both decoders share the label table (WHATWG: ``x-sjis`` is Shift_JIS, ``iso-8859-1`` and ``us-ascii`` are
windows-1252, ``gb2312`` is GB18030), the byte-order marks and the detector, so a label that works for a
page works for a feed (``x-sjis`` used to be refused for feeds and read for pages).

Pages (``decode_html``), in the WHATWG "encoding sniffing" order, a detector as the last resort: BOM, the
charset the HTTP response declared, a ``<meta charset>`` in the first bytes, strict UTF-8, then
charset-normalizer. A declared charset that cannot decode the bytes is ignored rather than trusted, because
servers mislabel pages far more often than they serve invalid UTF-8 -- with one exception: a page declared
UTF-8 whose multi-byte sequences are mostly valid is UTF-8 with a few bad bytes (a truncated character, a
pasted windows-1252 quote), and decodes as UTF-8 with U+FFFD for those bytes. Handing it to the detector
garbled the whole text instead (a Polish page came back as Mac-Roman: "atak√≥w" for "ataków").
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

from extractors.errors import FeedError

__all__ = ["decode_feed", "decode_html", "detect_encoding", "normalize_charset"]

# The HTML spec only looks for <meta charset> in the first 1024 bytes; real pages put long inline scripts and
# styles first, so look further. Cheap: a regex over a few KB.
META_PRESCAN_BYTES = 8192

# WHATWG maps these labels to windows-1252, which is a superset of latin-1 over the printable range; decoding
# a page labelled "iso-8859-1" as cp1252 gets curly quotes and dashes right.
_WHATWG_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "windows-1252": "cp1252",
    "x-sjis": "shift_jis",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "utf8": "utf-8",
    "unicode": "utf-8",
}

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts with the UTF-16 LE BOM
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# A page declared UTF-8 is decoded as UTF-8 with replacement when its valid non-ASCII characters outnumber
# its invalid bytes this many times. A windows-1252 page mislabelled UTF-8 has almost no valid multi-byte
# sequence (each accented letter is one invalid byte), so it still goes to the detector.
UTF8_VALID_PER_INVALID = 2

_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""",
    re.IGNORECASE,
)


def normalize_charset(label: str | None, *, markup: bool = True) -> str | None:
    """Return a Python codec name for a charset label, or None when the label names no known codec.

    ``markup`` (HTML) reads a UTF-16 label as UTF-8, as browsers do: a page whose ASCII-compatible markup
    says UTF-16 cannot be UTF-16. An XML feed may really be UTF-16 without a byte-order mark.
    """
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = _WHATWG_ALIASES.get(name, name)
    try:
        codec = codecs.lookup(name)
    except LookupError:
        return None
    # A page cannot really be UTF-16 once it has been labelled in ASCII-compatible markup (HTML spec).
    if markup and codec.name.startswith("utf-16"):
        return "utf-8"
    return codec.name


def _try_decode(data: bytes, codec: str | None) -> str | None:
    if codec is None:
        return None
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _mostly_utf8(data: bytes) -> str | None:
    """``data`` decoded as UTF-8 with replacement, when its invalid bytes are strays among valid text."""
    text = data.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd") - data.count("\ufffd".encode())
    valid = sum(1 for char in text if char >= "\x80") - text.count("\ufffd")
    return text if valid >= UTF8_VALID_PER_INVALID * invalid else None


def _decode_declared(data: bytes, label: str | None) -> str | None:
    codec = normalize_charset(label)
    text = _try_decode(data, codec)
    if text is None and codec == "utf-8":
        text = _mostly_utf8(data)
    return text


def decode_html(data: bytes, declared: str | None = None) -> str:
    """Decode page bytes to text; ``declared`` is the charset of the HTTP Content-Type header, if any.

    Never raises on undecodable bytes: the last resort decodes as windows-1252 with replacement, because a
    page with a few mojibake characters is still worth extracting.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace")
    text = _decode_declared(data, declared)
    if text is not None:
        return text
    match = _META_CHARSET.search(data[:META_PRESCAN_BYTES])
    if match is not None:
        text = _decode_declared(data, match.group(1).decode("ascii", "ignore"))
        if text is not None:
            return text
    text = _try_decode(data, "utf-8")
    if text is not None:
        return text
    detected = detect_encoding(data)
    if detected is not None:
        return data.decode(detected, errors="replace")
    return data.decode("cp1252", errors="replace")


# charset-normalizer scores within this distance count as a tie (short Latin texts often tie).
DETECTION_TIE = 0.01


def detect_encoding(data: bytes) -> str | None:
    """charset-normalizer's guess; among tied Latin guesses windows-1252, the web's commonest legacy
    encoding (short Portuguese text ties cp1250 with cp1252, and cp1250 turns õ into ő)."""
    results = charset_normalizer.from_bytes(data[: 512 * 1024])
    best = results.best()
    if best is None or not best.encoding:
        return None
    tied = [
        normalize_charset(m.encoding, markup=False)
        for m in results
        if abs(m.chaos - best.chaos) < DETECTION_TIE and abs(m.coherence - best.coherence) < DETECTION_TIE
    ]
    if "cp1252" in tied:
        return "cp1252"
    return normalize_charset(best.encoding, markup=False) or best.encoding


# --------------------------------------------------------------------------------------------- feeds

_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?\?>", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""", re.IGNORECASE)
# Labels that name (near-)Western single-byte encodings (all read as windows-1252, see the label table).
_WESTERN = frozenset({"cp1252", "iso8859-1", "ascii"})
# Python's cp1252 refuses the five bytes windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D);
# latin-1 reads every byte, so a Western feed with one of them is still read as declared.
_STRICT_FALLBACK = {"cp1252": "latin-1"}


def decode_feed(data: bytes, charset: str | None = None) -> tuple[str, str, list[str]]:
    """Feed bytes → (text, codec used, warnings).

    Order: byte-order mark; the HTTP charset and the XML prolog's ``encoding`` (a declaration that does not
    decode the bytes cleanly is passed over, and a Western single-byte declaration loses to bytes that are
    valid UTF-8, the commonest server mistake); UTF-8; the detector. Raises FeedError("encoding") only
    when the bytes decode under nothing plausible.
    """
    warnings: list[str] = []
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, "replace"), codec, warnings
    declared: list[str] = []
    http_codec = normalize_charset(charset, markup=False)
    if charset and http_codec is None:
        warnings.append(f"unknown charset {charset!r} in Content-Type ignored")
    decl = _XML_DECL.match(data[:1024])
    if decl:
        m = _XML_ENCODING.search(decl.group(0))
        if m:
            prolog_codec = normalize_charset(m.group(1).decode("ascii"), markup=False)
            if prolog_codec is None:
                warnings.append(f"unknown encoding {m.group(1).decode('ascii')!r} in XML prolog ignored")
            elif prolog_codec not in declared:
                declared.append(prolog_codec)
    if http_codec is not None and http_codec not in declared:
        declared.insert(0, http_codec)
    # UTF-16 declared without a BOM is read as such; everything else is ASCII-compatible.
    utf8 = _try_decode(data, "utf-8")
    for codec in declared:
        if codec in _WESTERN and utf8 is not None and not data.isascii():
            return utf8, "utf-8", warnings
        for candidate in (codec, _STRICT_FALLBACK.get(codec)):
            text = _try_decode(data, candidate)
            if text is not None:
                return text, candidate or codec, warnings
        warnings.append(f"declared encoding {codec} does not decode the feed")
    if utf8 is not None:
        return utf8, "utf-8", warnings
    detected = detect_encoding(data)
    if detected is not None:
        text = data.decode(detected, "replace")
        warnings.append(f"encoding detected as {detected}")
        return text, detected, warnings
    if declared:
        warnings.append(f"decoded as {declared[0]} with replacement characters")
        return data.decode(declared[0], "replace"), declared[0], warnings
    raise FeedError("encoding", None, "bytes decode under no declared or detectable encoding")
