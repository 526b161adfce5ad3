"""Decode the bytes of an HTML page into text, the way a browser would choose the encoding.

Order (the WHATWG "encoding sniffing" order, with a detector as the last resort): byte-order mark, the
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

__all__ = ["decode_html", "normalize_charset"]

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


def normalize_charset(label: str | None) -> str | None:
    """Return a Python codec name for a charset label, or None when the label names no known codec."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = _WHATWG_ALIASES.get(name, name)
    try:
        codec = codecs.lookup(name)
    except LookupError:
        return None
    # A page cannot really be UTF-16 once it has been labelled in ASCII-compatible markup (HTML spec).
    if codec.name.startswith("utf-16"):
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
    best = charset_normalizer.from_bytes(data).best()
    if best is not None:
        return str(best)
    return data.decode("cp1252", errors="replace")
