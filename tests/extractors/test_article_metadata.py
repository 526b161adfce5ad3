"""Metadata of extracted articles: title, author, published date, language and canonical URL.

Each source is tested alone (meta tags, JSON-LD, what a reader sees) and in conflict, because pages
disagree with themselves and the flow stores whichever value wins.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from extractors.article import extract

BODY = (
    "<p>The finance ministry said on Friday that exports of steel fell for a third month as tariffs in the "
    "United States and the European Union took effect, and that it expected a modest recovery next year.</p>"
    "<p>Officials said talks with both partners would resume in the spring, and that quotas for the coming "
    "year would be published by the end of the month after consultations with producers.</p>"
)


def page(head: str = "", body_top: str = "", *, lang: str | None = "en") -> str:
    lang_attr = f' lang="{lang}"' if lang else ""
    return (
        f"<!DOCTYPE html><html{lang_attr}><head><meta charset='utf-8'>{head}</head><body>"
        f"<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        f"<article>{body_top}{BODY}</article><footer>Contact us</footer></body></html>"
    )


def test_meta_tags_give_title_author_date_and_canonical() -> None:
    html = page(
        "<title>Steel exports fall | Daily Metal</title>"
        '<meta property="og:title" content="Steel exports fall for a third month">'
        '<meta name="author" content="Hana Kim">'
        '<meta property="article:published_time" content="2026-02-03T08:15:00+09:00">'
        '<link rel="canonical" href="/news/steel-exports">'
    )
    article = extract(html, url="https://metal.example/news/steel-exports?utm_source=feed")
    assert article.title == "Steel exports fall for a third month"
    assert article.author == "Hana Kim"
    assert article.published == datetime(2026, 2, 3, 8, 15, tzinfo=timezone(timedelta(hours=9)))
    assert article.canonical_url == "https://metal.example/news/steel-exports"
    assert article.url == "https://metal.example/news/steel-exports?utm_source=feed"


def test_json_ld_wins_over_meta_tags_and_lists_every_author() -> None:
    json_ld = (
        '<script type="application/ld+json">{"@context":"https://schema.org","@graph":['
        '{"@type":"WebSite","name":"Daily Metal"},'
        '{"@type":"NewsArticle","headline":"Steel exports fall again",'
        '"author":[{"@type":"Person","name":"Hana Kim"},{"@type":"Person","name":"Lee Min"}],'
        '"datePublished":"2026-02-03T08:15:00+09:00"}]}</script>'
    )
    html = page(json_ld + '<meta name="author" content="Desk"><meta property="og:title" content="Other">')
    article = extract(html)
    assert article.title == "Steel exports fall again"
    assert article.author == "Hana Kim, Lee Min"
    assert article.published == datetime(2026, 2, 2, 23, 15, tzinfo=UTC)


def test_json_ld_in_utc_keeps_the_publishers_offset_from_the_meta_tag() -> None:
    head = (
        '<script type="application/ld+json">{"@type":"Article","headline":"x y z",'
        '"datePublished":"2026-02-02T23:15:00Z"}</script>'
        '<meta property="article:published_time" content="2026-02-03T08:15:00+09:00">'
    )
    published = extract(page(head)).published
    assert published == datetime(2026, 2, 2, 23, 15, tzinfo=UTC)
    assert published is not None
    assert published.utcoffset() == timedelta(hours=9)


def test_broken_json_ld_is_ignored_not_fatal() -> None:
    head = '<script type="application/ld+json">{"@type": "NewsArticle", "headline": </script>'
    head += '<meta property="og:title" content="Fallback title">'
    assert extract(page(head)).title == "Fallback title"


def test_visible_byline_and_printed_date_when_the_page_has_no_metadata() -> None:
    top = (
        "<h1>Steel exports fall</h1>"
        '<div class="byline">By <a href="/staff/hana">Hana Kim</a> · '
        "<span>Updated 3 February 2026</span></div>"
    )
    article = extract(page(body_top=top))
    assert article.title == "Steel exports fall"
    assert article.author == "Hana Kim"
    assert article.published == datetime(2026, 2, 3, tzinfo=UTC)


def test_time_element_gives_the_date() -> None:
    top = '<h1>Steel</h1><time datetime="2026-02-03T10:00:00-05:00">Feb 3</time>'
    assert extract(page(body_top=top)).published == datetime(2026, 2, 3, 15, 0, tzinfo=UTC)


def test_date_without_offset_is_taken_as_utc() -> None:
    head = '<meta property="article:published_time" content="2026-02-03 10:00:00">'
    published = extract(page(head)).published
    assert published == datetime(2026, 2, 3, 10, 0, tzinfo=UTC)


def test_title_tag_loses_its_site_name() -> None:
    head = "<title>Steel exports fall for a third month - Daily Metal</title>"
    head += '<meta property="og:site_name" content="Daily Metal">'
    assert extract(page(head)).title == "Steel exports fall for a third month"


def test_headline_is_not_repeated_as_the_first_paragraph() -> None:
    top = "<h1>Steel exports fall for a third month</h1>"
    head = '<meta property="og:title" content="Steel exports fall for a third month">'
    text = extract(page(head, top)).text
    assert not text.startswith("Steel exports fall")
    assert text.startswith("The finance ministry said")


SHORT = "<article><p>Steel: 4.2 million tonnes, down 3% on May 2026 figures (provisional).</p></article>"


def test_language_from_html_lang_region_dropped_when_the_text_is_inconclusive() -> None:
    assert extract(f'<html lang="de-DE"><body>{SHORT}</body></html>').language == "de"


def test_language_from_og_locale_when_html_has_no_lang() -> None:
    html = f'<html><head><meta property="og:locale" content="fr_FR"></head><body>{SHORT}</body></html>'
    assert extract(html).language == "fr"


def test_language_guessed_from_the_text_when_undeclared() -> None:
    assert extract(page(lang=None)).language == "en"
    german = (
        "<p>Die Regierung hat am Freitag mitgeteilt, dass die Exporte von Stahl im dritten Monat gesunken "
        "sind, weil die Zölle in den Vereinigten Staaten in Kraft getreten sind und nicht aufgehoben "
        "wurden. Die Hersteller erwarten für das nächste Jahr eine leichte Erholung.</p>"
    )
    assert extract(f"<html><body><article>{german}</article></body></html>").language == "de"
    japanese = "<p>日本の鉄鋼輸出は三か月連続で減少したと財務省が金曜日に発表した。米国の関税が影響した。</p>"
    assert extract(f"<html><body><article>{japanese}</article></body></html>").language == "ja"


def test_the_texts_language_wins_over_a_wrong_declaration() -> None:
    # Site templates declare one language for every page; the English body here is what gets classified.
    assert extract(page(lang="de")).language == "en"


def test_missing_metadata_is_none_not_invented() -> None:
    article = extract(f"<html><body>{SHORT}</body></html>")
    assert article.author is None
    assert article.published is None
    assert article.canonical_url is None
    assert article.language is None


def test_author_url_in_meta_is_not_a_name() -> None:
    head = '<meta property="article:author" content="https://facebook.com/dailymetal">'
    assert extract(page(head)).author is None


def test_an_author_bio_box_is_not_taken_for_a_byline() -> None:
    bio = (
        '<div class="author-box"><p class="author-bio">Hana Kim covers steel and trade policy from Seoul.</p>'
        "</div>"
    )
    assert extract(page(body_top=bio)).author is None
    byline = '<div class="byline">By Diego Soto and Ana de la Cruz</div>'
    assert extract(page(body_top=byline)).author == "Diego Soto and Ana de la Cruz"


def test_placeholder_date_is_skipped_for_the_next_source() -> None:
    head = (
        '<meta property="article:published_time" content="0001-01-01T00:00:00Z">'
        '<meta name="date" content="2019-11-19">'
    )
    assert extract(page(head)).published == datetime(2019, 11, 19, tzinfo=UTC)


def test_title_escaped_twice_by_the_cms_is_decoded() -> None:
    head = '<meta property="og:title" content="Steel review &amp;#8211; prices slide">'
    assert extract(page(head)).title == "Steel review – prices slide"


def test_byline_followed_by_a_date_without_separator() -> None:
    top = '<div class="byline">Associated Press November 19, 2019</div>'
    article = extract(page(body_top=top))
    assert article.author == "Associated Press"
    assert article.published == datetime(2019, 11, 19, tzinfo=UTC)


def test_comment_form_name_field_is_not_the_author() -> None:
    form = (
        '<div id="respond"><form><p class="comment-form-author"><label>Name (required)</label>'
        '<input name="author"></p></form></div>'
    )
    html = f"<html><body><article>{BODY}</article>{form}</body></html>"
    assert extract(html).author is None
