"""Golden tests over hand-written pages: each extracts to exactly the text in its .txt file.

The pages reproduce layouts that leak boilerplate into naive extractors: a WordPress post with a comment
thread and form, a related-posts box and a share bar inside the body; a news CMS page with a video player,
an advertisement slot, a "Read more" link box and a newsletter form in the middle of the article; a page
whose promos are plain paragraphs ("READ MORE:", "Story continues below advertisement", "Related Stories").
Lists and block quotes inside the body must survive, one paragraph per item.

The ``trap-*`` pages are wrong-block traps: beside a short article sits a block that holds more running text
than the article and that a "densest container" rescue took for the body -- a reader-comment thread, a rail
of related stories with summaries, a list of other stories, a mega-menu that describes each section, an ad
tag written out as text, a publisher's customer-service box. Each must come out as its article and nothing
else: a wrong block is stored, classified and quoted in alerts as if it were the article.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.article import extract

PAGES_DIR = Path(__file__).parent / "pages"
PAGES = sorted(PAGES_DIR.glob("*.html"))

LEAKS = (
    "Leave a Reply",
    "Your email address will not be published",
    "Related",
    "Read more",
    "READ MORE",
    "Latest Videos",
    "Advertisement",
    "advertisement",
    "Sign up",
    "Share this",
    "thoughts on",
    "Proudly powered",
    "Watch:",
)


def test_every_golden_page_has_its_expected_text() -> None:
    assert PAGES, "no golden pages found"
    for page in PAGES:
        assert page.with_suffix(".txt").exists(), page.name


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_golden_page_extracts_exactly(page: Path) -> None:
    expected = page.with_suffix(".txt").read_text(encoding="utf-8").strip()
    article = extract(page.read_bytes(), url=f"https://site.example/{page.stem}")
    assert article.text == expected


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_golden_page_leaks_no_boilerplate(page: Path) -> None:
    text = extract(page.read_bytes(), url=f"https://site.example/{page.stem}").text
    for phrase in LEAKS:
        assert phrase not in text, phrase


def test_lists_and_quotes_keep_one_paragraph_per_item() -> None:
    text = extract((PAGES_DIR / "news-cms-video.html").read_bytes()).text
    paragraphs = text.split("\n\n")
    assert "reviewing contracts signed below market prices;" in paragraphs
    assert "“The curbs did what they were meant to do.”" in paragraphs


def test_extraction_is_deterministic() -> None:
    data = (PAGES_DIR / "wordpress-comments.html").read_bytes()
    assert extract(data) == extract(data)


def test_a_run_of_headline_links_inside_the_body_is_removed() -> None:
    prose = "".join(
        f"<p>Paragraph {n}: the ministry said soybean shipments to China rose in the second quarter, "
        "helped by lower freight costs and a weaker dollar.</p>"
        for n in range(3)
    )
    link = '<li><a href="/story/{n}">Other story number {n} about something else</a></li>'
    links = "<ul>" + "".join(link.format(n=n) for n in range(3)) + "</ul>"
    last = "<p>Last paragraph of the story, after the list of links.</p>"
    text = extract(f"<html><body><article>{prose}{links}{last}</article></body></html>").text
    assert "Other story number" not in text
    assert text.startswith("Paragraph 0:")
    assert text.endswith("Last paragraph of the story, after the list of links.")


def test_a_run_of_headline_links_separated_by_line_breaks_is_removed() -> None:
    # Older news CMSs list other stories as links in one table cell, one per <br>: no link has a block of
    # its own, yet each line of the reading is nothing but a link's text.
    prose = "".join(
        f"<p>Paragraph {n}: the minister said talks on the steel quota would resume next week in Ottawa, "
        "after a pause of three months.</p>"
        for n in range(4)
    )
    headlines = "".join(f'<a href="/h/{n}">Headline number {n} from another desk</a><br>' for n in range(5))
    page = (
        f"<html><body><table><tr><td>{prose}<p>Top stories</p>{headlines}"
        '<a href="/more">More...</a></td></tr></table></body></html>'
    )
    text = extract(page).text
    assert "Headline number" not in text
    assert text.startswith("Paragraph 0:")


def test_lines_that_merely_contain_links_are_kept() -> None:
    prose = "".join(
        f'<p>Paragraph {n}: <a href="/s/{n}">the ministry said</a> soybean shipments to China rose, helped '
        "by lower freight costs.</p>"
        for n in range(5)
    )
    text = extract(f"<html><body><article>{prose}</article></body></html>").text
    assert text.count("the ministry said soybean shipments") == 5


def test_words_in_styled_inline_links_stay_in_the_sentence() -> None:
    prose = "".join(
        f"<p>Paragraph {n}: exporters said container rates from Shanghai to Rotterdam rose again this "
        "week as carriers rerouted ships around the Cape of Good Hope.</p>"
        for n in range(3)
    )
    sentence = (
        '<p>The regulator has reported that <span class="link"><a href="/x">the carriers will be fined</a>'
        "</span> for the delays.</p>"
    )
    text = extract(f"<html><body><article>{prose}{sentence}{prose}</article></body></html>").text
    assert "The regulator has reported that the carriers will be fined for the delays." in text


def test_text_loose_in_its_container_is_not_lost() -> None:
    # Deal pages put sentences straight into a <section>, after a linked image, with no <p> around them;
    # trafilatura alone returns nothing for this page.
    runs = "".join(
        f"<h2>Console bundle {n} for $29{n}</h2>"
        f'<a href="/go/{n}"><output class="image"><img src="/i/{n}.jpg"></output></a>'
        f"Deal {n}: the retailer cut the price of the bundle to its lowest level this year.<p></p>"
        for n in range(8)
    )
    html = (
        "<html><body><nav><a href='/'>Home</a> <a href='/deals'>Deals</a></nav>"
        f"<main><section class='article-page'>{runs}</section></main>"
        "<footer><p>About us. Careers. Privacy.</p></footer></body></html>"
    )
    expected = [
        line
        for n in range(8)
        for line in (
            f"Console bundle {n} for $29{n}",
            f"Deal {n}: the retailer cut the price of the bundle to its lowest level this year.",
        )
    ]
    assert extract(html).text.split("\n\n") == expected


def test_nested_inline_markup_keeps_word_order() -> None:
    prose = "".join(
        f"<p>Paragraph {n}: freight rates on the main Asia to Europe routes rose for a fifth week.</p>"
        for n in range(3)
    )
    nested = "<p>Shippers <b>said <i>the surcharge</i> would</b> stay until June.</p>"
    text = extract(f"<html><body><article>{prose}{nested}</article></body></html>").text
    assert "Shippers said the surcharge would stay until June." in text
