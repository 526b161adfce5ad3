"""decode_html picks the encoding a browser would: BOM, then HTTP charset, then <meta>, then detection."""

from __future__ import annotations

import codecs

import pytest

from extractors.article import extract
from extractors.encoding import decode_html, normalize_charset

TEXT = "Exportações de café caíram 5% — disse o ministério “ontem”."


def html(charset_meta: str = "") -> str:
    return f"<html><head>{charset_meta}<title>t</title></head><body><p>{TEXT}</p></body></html>"


def test_utf8_without_any_declaration() -> None:
    assert TEXT in decode_html(html().encode("utf-8"))


@pytest.mark.parametrize(
    ("bom", "codec"),
    [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")],
)
def test_byte_order_mark_wins_over_everything(bom: bytes, codec: str) -> None:
    data = bom + html('<meta charset="iso-8859-1">').encode(codec)
    decoded = decode_html(data, declared="windows-1252")
    assert TEXT in decoded
    assert not decoded.startswith("\ufeff")


def test_meta_charset_declares_windows_1252() -> None:
    data = html('<meta charset="windows-1252">').encode("cp1252")
    assert TEXT in decode_html(data)


def test_http_equiv_content_type_declares_the_charset() -> None:
    data = html('<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">').encode("cp1252")
    assert TEXT in decode_html(data)


def test_latin1_label_decodes_as_windows_1252_like_browsers() -> None:
    # Curly quotes and the em dash exist in windows-1252 only; pages labelled latin-1 use them all the time.
    data = html('<meta charset="latin-1">').encode("cp1252")
    assert "“ontem”" in decode_html(data)


def test_http_charset_wins_over_meta() -> None:
    data = html('<meta charset="utf-8">').encode("cp1252")
    assert TEXT in decode_html(data, declared="windows-1252")


def test_wrong_http_charset_is_ignored_when_it_cannot_decode() -> None:
    data = "<html><body><p>Пошлины на сталь</p></body></html>".encode()
    assert "Пошлины на сталь" in decode_html(data, declared="ascii-but-bogus")
    assert "Пошлины на сталь" in decode_html(data, declared="utf-8")


def test_shift_jis_from_meta() -> None:
    text = "日本の輸出は増加した"
    page = f'<html><head><meta charset="shift_jis"></head><body><p>{text}</p></body></html>'
    data = page.encode("shift_jis")
    assert text in decode_html(data)


def test_undeclared_legacy_encoding_is_detected() -> None:
    text = "Пошлины на импорт стали выросли, сообщило министерство торговли в понедельник утром. " * 5
    data = f"<html><body><p>{text}</p></body></html>".encode("windows-1251")
    assert "Пошлины на импорт стали" in decode_html(data)


def test_normalize_charset_labels() -> None:
    assert normalize_charset("ISO-8859-1") == "cp1252"
    assert normalize_charset(' "UTF8" ') == "utf-8"
    assert normalize_charset("no-such-charset") is None
    assert normalize_charset(None) is None


def test_extract_uses_the_http_charset_for_bytes() -> None:
    body = "".join(f"<p>{TEXT} Parágrafo {n} sobre as exportações brasileiras de café.</p>" for n in range(3))
    page = f"<html><body><article>{body}</article></body></html>".encode("cp1252")
    assert TEXT in extract(page, charset="windows-1252").text


def test_extract_decodes_bytes_by_their_declared_charset() -> None:
    body = "".join(f"<p>{TEXT} Parágrafo {n} sobre as exportações brasileiras de café.</p>" for n in range(3))
    page = f'<html><head><meta charset="windows-1252"></head><body><article>{body}</article></body></html>'
    assert TEXT in extract(page.encode("cp1252")).text


POLISH = "Rosja nasiliła ataków na ukraińską sieć energetyczną, podało ministerstwo w poniedziałek. " * 4


@pytest.mark.parametrize("where", ["http", "meta"])
def test_declared_utf8_with_one_invalid_byte_stays_utf8(where: str) -> None:
    # A truncated character in the middle of a UTF-8 page: charset-normalizer took the page for Mac-Roman
    # and garbled every Polish letter ("atak√≥w"). Only the bad byte may be lost.
    meta = '<meta charset="utf-8">' if where == "meta" else ""
    page = f"<html><head>{meta}</head><body><p>{POLISH}</p><p>Koniec.</p></body></html>".encode()
    damaged = page.replace(b"Koniec", b"Kon\xc4iec")  # a lead byte without its continuation
    decoded = decode_html(damaged, declared="utf-8" if where == "http" else None)
    assert POLISH in decoded
    assert "Kon\ufffdiec" in decoded


def test_windows_1252_page_mislabelled_utf8_is_not_decoded_as_utf8() -> None:
    # The other side of the rule above: every accented letter is an invalid UTF-8 byte here, so the label
    # is wrong rather than a byte, and the detector decides (no letter is replaced by U+FFFD).
    text = "Exportações de café caíram 5% — disse o ministério na segunda-feira à tarde. " * 5
    page = f'<html><head><meta charset="utf-8"></head><body><p>{text}</p></body></html>'
    decoded = decode_html(page.encode("cp1252"))
    assert "\ufffd" not in decoded
    assert "café caíram 5% — disse o ministério" in decoded


# --- pages and feeds read a charset label the same way (issue 20: one module, extractors/encoding.py) --

#: (label as servers write it, the codec the bytes are really in, text only that codec spells right)
LABELLED = [
    (
        "x-sjis",
        "shift_jis",
        "日本の輸出は前年比で増加した。経済産業省の貿易統計によると、半導体関連の出荷が伸びた。",
    ),
    (
        "Shift_JIS",
        "shift_jis",
        "日本の輸出は前年比で増加した。経済産業省の貿易統計によると、半導体関連の出荷が伸びた。",
    ),
    ("iso-8859-1", "cp1252", "Zölle auf Stahl: “Handelskrieg” – 5 € pro Tonne, sagt Müller"),
    ("latin1", "cp1252", "Zölle auf Stahl: “Handelskrieg” – 5 € pro Tonne, sagt Müller"),
    ("us-ascii", "cp1252", "Zölle auf Stahl: “Handelskrieg” – 5 € pro Tonne, sagt Müller"),
    ("gb2312", "gb18030", "中国海关总署公布的数据显示，今年前五个月进出口总值同比增长，其中出口增长较快。𠀀"),
]


@pytest.mark.parametrize(("label", "codec", "text"), LABELLED)
@pytest.mark.parametrize("where", ["http", "document"])
def test_a_page_and_a_feed_with_the_same_label_decode_the_same(
    label: str, codec: str, text: str, where: str
) -> None:
    from extractors.feeds import parse_feed

    page = f'<html><head><meta charset="{label}"><title>t</title></head><body><p>{text}</p></body></html>'
    feed = (
        f'<?xml version="1.0" encoding="{label}"?><rss version="2.0"><channel><title>{text}</title>'
        f"<item><title>{text}</title><link>http://e.com/a</link></item></channel></rss>"
    )
    if where == "http":  # the label only in Content-Type; the document itself declares nothing
        page = page.replace(f'<meta charset="{label}">', "")
        feed = feed.replace(f' encoding="{label}"', "")
    declared = label if where == "http" else None
    assert text in decode_html(page.encode(codec), declared=declared)
    parsed = parse_feed(feed.encode(codec), "https://e.com/feed", charset=declared)
    assert parsed.entries[0].title == text
    assert not [w for w in parsed.warnings if "unknown" in w or "detected" in w], parsed.warnings
