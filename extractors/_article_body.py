"""Find the article body in a parsed page and turn it into clean paragraphs.

The sequence, each stage working on the one tree parsed by ``extractors.article``:
1. structure guard: a page with more than MAX_ELEMENTS elements is refused as ``too_complex`` before any
   extractor runs (trafilatura's cost grows faster than the page; a real article has a few thousand);
2. site rules: remove known junk blocks; if the site's body selector matches, extract from that block only;
3. candidate bodies (see ``extractors._article_choice``): trafilatura's own extractor in precision mode over
   the page; the densest text container of the page and its same-styled siblings, read on their own; and,
   only when those two leave no credible body, a stub or one unrelated to the headline, trafilatura with its
   bundled readability/justext fallback;
4. each candidate rendered as paragraphs (a list item, a quoted paragraph, a table row: one paragraph each),
   runs of link-only paragraphs dropped, boilerplate paragraphs dropped by phrase data, and the text cut at
   an end-of-article marker ("Leave a Comment", "Related Stories", ...) found in its last part;
5. the choice between the candidates, on agreement and on independent evidence (the feed entry's title and
   summary, the page's headline and description), never on size alone.
"""

from __future__ import annotations

import re
from copy import deepcopy
from urllib.parse import urlsplit

import trafilatura
from lxml import etree, html
from trafilatura.settings import Document

from extractors._article_choice import Candidate, Choice, Evidence, Judge, choose, shingles
from extractors._article_data import SiteRule, boilerplate_regex, default_rule, site_rule, tail_regex
from extractors.errors import ExtractionError

# An end-of-article marker only cuts when it sits past this share of the text: a "Related" heading in the
# first half is an inline box (its links were already removed), and cutting there would lose the article.
TAIL_START_SHARE = 0.5

# Pages with more elements than this are refused as too_complex: the largest of 743 real news pages in the
# benchmark sets has 2,214; trafilatura took 1 s on 20,000 one-word paragraphs, 4 s on 50,000 and 14 s on
# 100,000 (its cost grows faster than the page).
MAX_ELEMENTS = 20_000

# The dense block (see _dense_containers): text runs shorter than this are captions and buttons, containers
# with less than this are asides. When trafilatura reads the block back with less than 1/PLAIN_RATIO of its
# running text, the text sits loose between images and links, and is read as it is (_plain_paragraphs).
DENSE_MIN_RUN_CHARS = 40
DENSE_MIN_CONTAINER_CHARS = 400
PLAIN_RATIO = 1.5

# Link-only paragraphs (see _drop_link_runs): links shorter than this are "Home" or "PDF", not headlines; a
# run this long is a list of other stories.
LINK_MIN_CHARS = 15
LINK_RUN_MIN = 3
# Characters a link-only block may hold beyond its link before its text is compared at all.
LINK_BLOCK_SLACK = 3

# Characters trimmed from both ends of a paragraph before matching boilerplate, so "Share:" and "• Share"
# and "Required fields are marked *" match the plain phrases in the data file.
_TRIM = " \t\n.:;,!?|•·*›»«-–—_()[]"
_INLINE_TAGS = frozenset(
    [
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "big",
        "br",
        "cite",
        "code",
        "del",
        "dfn",
        "em",
        "font",
        "i",
        "ins",
        "kbd",
        "mark",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "sup",
        "time",
        "tt",
        "u",
        "var",
    ]
)
_PARAGRAPH_TAGS = frozenset(
    ["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dd", "dt", "blockquote", "pre", "figcaption"]
)
# Class/id fragments of comment threads (WordPress, Disqus, forum software, news CMS "conversation" blocks).
_DISCUSSION_MARKERS = ("comment", "disqus", "respond", "discussion", "conversation", "reply", "replies")
# Blocks the plain reading of a rescued container skips: they never hold the article's sentences.
_SKIP_IN_PLAIN = frozenset(
    ["form", "figure", "figcaption", "button", "nav", "aside", "iframe", "svg", "select"]
)
# Elements whose own text is never running text (their tail still is).
_NOT_TEXT = frozenset(
    ["script", "style", "noscript", "template", "textarea", "option", "select", "title", "head"]
)
_FIND_LINKS = etree.XPath(f"//a[@href][string-length(normalize-space(.)) >= {LINK_MIN_CHARS}]")
# Link text is not running text (a list of 5,000 headline links can be a page's largest block, never its
# body), nor is text in the blocks HTML marks as navigation, asides, footers and forms (a mega-menu that
# describes each section in a sentence).
_FIND_TEXT_RUNS = etree.XPath(
    f"//text()[string-length(normalize-space(.)) >= {DENSE_MIN_RUN_CHARS}]"
    "[not(ancestor::a or ancestor::nav or ancestor::aside or ancestor::footer)]"
)
_TEXT_LENGTH = etree.XPath("string-length(normalize-space(.))")
_COUNT_ELEMENTS = etree.XPath("count(//*)")
# Inline spans that trafilatura's precision mode would discard as page chrome because of their class or
# style ("link", "bottom", a border), although inside a sentence they hold words of it: CBS wraps in-text
# links in <span class="link">, and the sentence lost "the NFL will fine Rudolph".
_FIND_INLINE_CHROME = etree.XPath(
    # //span[ancestor::p] rather than //p//span: libxml2 evaluates the latter in quadratic time on pages
    # with tens of thousands of paragraphs (a 40k-paragraph page took seconds).
    r"//span[ancestor::p][re:test(@class, '(^|\s)(link|bottom)(\s|$)') or contains(@style, 'border')]",
    namespaces={"re": "http://exslt.org/regular-expressions"},
)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")
_BLANKS = re.compile(r"\s*\n\s*")


def _normalise(text: str) -> str:
    """Collapse runs of spaces, keep single line breaks (they mark <br> inside a paragraph)."""
    return _BLANKS.sub("\n", _SPACES.sub(" ", text)).strip()


def _element_text(element: etree._Element) -> str:
    """Text of a trafilatura XML element in document order, with <lb/> as a line break."""
    parts: list[str] = []

    def collect(node: etree._Element) -> None:
        if node.tag == "lb":
            parts.append("\n")
        elif node.text:
            parts.append(node.text)
        for child in node:
            collect(child)
            if child.tail:
                parts.append(child.tail)

    collect(element)
    return _normalise("".join(parts))


def _render(body: etree._Element) -> list[str]:
    """Paragraphs of trafilatura's XML body in document order: each paragraph, heading, list item, quoted
    paragraph and table row is one paragraph (table cells joined by " | ")."""
    paragraphs: list[str] = []
    for child in body:
        tag = child.tag
        if tag == "list":
            blocks = list(child.iter("item"))
        elif tag == "table":
            blocks = []
            for row in child.iter("row"):
                cells = [text for text in map(_element_text, row.iter("cell")) if text]
                if cells:
                    paragraphs.append(" | ".join(cells))
        elif tag == "quote" and len(child) and all(sub.tag in {"p", "quote"} for sub in child):
            blocks = list(child)
        else:
            blocks = [child]
        paragraphs.extend(text for text in map(_element_text, blocks) if text)
    return paragraphs


def _is_boilerplate(paragraph: str, pattern: re.Pattern[str]) -> bool:
    key = _SPACES.sub(" ", paragraph.replace("\n", " ")).strip(_TRIM)
    # A paragraph of punctuation only ("___", "* * *") is a section divider the author wrote: keep it.
    return bool(key) and pattern.fullmatch(key) is not None


def clean_paragraphs(paragraphs: list[str]) -> list[str]:
    """Remove boilerplate paragraphs and everything after an end-of-article marker near the end."""
    total = sum(len(p) for p in paragraphs) or 1
    seen = 0
    tail = tail_regex()
    for index, paragraph in enumerate(paragraphs):
        if seen / total >= TAIL_START_SHARE and _is_boilerplate(paragraph, tail):
            paragraphs = paragraphs[:index]
            break
        seen += len(paragraph)
    junk = boilerplate_regex()
    return [p for p in paragraphs if not _is_boilerplate(p, junk)]


def _apply_rules(tree: html.HtmlElement, rule: SiteRule) -> html.HtmlElement:
    """Remove the rule's junk blocks from ``tree`` and narrow it to the rule's body block when one matches."""
    for xpath in rule.junk:
        for element in xpath(tree):
            if isinstance(element, html.HtmlElement) and element.getparent() is not None:
                element.drop_tree()
    for xpath in rule.body:
        found = [e for e in xpath(tree) if isinstance(e, etree._Element)]
        if found:
            page = html.Element("html")
            body = etree.SubElement(page, "body")
            body.extend(deepcopy(element) for element in found)
            return page
    return tree


def _block_of(element: html.HtmlElement) -> html.HtmlElement | None:
    """The container a run of text counts for: the nearest block ancestor, and for a paragraph-like block
    the element holding the paragraphs (so an article's <p>s add up in their common parent)."""
    node: html.HtmlElement | None = element
    while node is not None and node.tag in _INLINE_TAGS:
        node = node.getparent()
    if node is not None and node.tag in _PARAGRAPH_TAGS:
        node = node.getparent()
    return node


def _dense_containers(tree: html.HtmlElement) -> tuple[list[html.HtmlElement], int]:
    """The block holding most running text, plus every block styled like it (same tag and class, and a
    parent of the same tag and class); and the running text they hold, in characters.

    Running text is counted in text runs of DENSE_MIN_RUN_CHARS or more, whether in <p>s or in a <div>
    broken by <br>s. Magazine layouts (Wired, Condé Nast) split one article body into several sibling
    containers around ads; the siblings share the body's class, which is what identifies them here.
    """
    scores: dict[html.HtmlElement, int] = {}
    for text in _FIND_TEXT_RUNS(tree):  # filtered in libxml2: Python sees only the few long runs
        element = text.getparent()
        if element is None:
            continue
        if text.is_tail:
            element = element.getparent()
        elif element.tag in _NOT_TEXT:
            continue
        block = _block_of(element) if element is not None else None
        if block is not None:
            scores[block] = scores.get(block, 0) + len(text.strip())
    if not scores:
        return [], 0
    ranked = sorted(scores, key=scores.__getitem__, reverse=True)
    best = next((block for block in ranked if not _in_discussion(block)), None)
    if best is None:
        return [], 0
    signature = _signature(best)
    chosen = [
        element
        for element, size in scores.items()
        if size >= DENSE_MIN_CONTAINER_CHARS and _signature(element) == signature
    ]
    members = set(chosen)
    # A container nested in another chosen one is already part of it, and pages repeat whole blocks (an
    # AMP or print copy hidden by CSS): either way the text would come out twice.
    seen: set[str] = set()
    unique = []
    for element in chosen:
        text = element.text_content()
        if text not in seen and not any(a in members for a in element.iterancestors()):
            seen.add(text)
            unique.append(element)
    return unique, sum(scores[element] for element in unique)


def _in_discussion(element: html.HtmlElement) -> bool:
    """Whether the block sits in a comment thread: reader comments are often denser than a short article."""
    node: html.HtmlElement | None = element
    while node is not None:
        marker = f"{node.get('class', '')} {node.get('id', '')}".lower()
        if any(word in marker for word in _DISCUSSION_MARKERS):
            return True
        node = node.getparent()
    return False


def _signature(element: html.HtmlElement) -> tuple[object, ...]:
    """Tag and class of an element and of its parent: the body's parts share it, while comment texts that
    reuse the body's class ("content") sit in a differently styled parent."""
    parent = element.getparent()
    if parent is None:
        return (element.tag, element.get("class"))
    return (element.tag, element.get("class"), parent.tag, parent.get("class"))


def _headline_links(tree: html.HtmlElement) -> list[tuple[html.HtmlElement, str]]:
    """The page's links with headline-length text (LINK_MIN_CHARS or more), with that text normalised."""
    found = []
    for link in _FIND_LINKS(tree):
        text = _normalise(link.text_content())
        if len(text) >= LINK_MIN_CHARS:
            found.append((link, text))
    return found


def _link_only_texts(links: list[tuple[html.HtmlElement, str]]) -> frozenset[str]:
    """Texts of blocks (list items, paragraphs, headings) that consist of one link and nothing else.

    Such blocks in a row are a list of other stories ("Moon Rush: Private Lunar Lander Plans" ...) that
    trafilatura passes through as paragraphs once the links are flattened to text. Each block's text length
    is measured once, in libxml2, however many links it holds: rebuilding a block's text for each of its
    5,000 links took minutes.
    """
    texts: set[str] = set()
    block_lengths: dict[etree._Element, int] = {}
    for link, text in links:
        block = link.getparent()
        while block is not None and block.tag in _INLINE_TAGS:
            block = block.getparent()
        if block is None:
            continue
        length = block_lengths.get(block)
        if length is None:
            length = block_lengths[block] = int(_TEXT_LENGTH(block))
        # libxml2 leaves no-break spaces in: a block "<a>...</a>&nbsp;" is a few characters longer
        if length - int(_TEXT_LENGTH(link)) <= LINK_BLOCK_SLACK and _normalise(block.text_content()) == text:
            texts.add(text)
    return frozenset(texts)


def _judge(links: list[tuple[html.HtmlElement, str]]) -> Judge:
    """What the choice needs to know about the page's headline-length links: their texts, and their
    shingles (to tell a list of links from prose that cites a few)."""
    texts = frozenset(text for _, text in links)
    return Judge(frozenset(shingle for text in texts for shingle in shingles(text)), texts)


def _drop_link_runs(paragraphs: list[str], link_texts: frozenset[str]) -> list[str]:
    """Remove runs of LINK_RUN_MIN or more consecutive link-only paragraphs (related-story lists); a single
    link paragraph ("Get it on Amazon for $39.99", a product name) is kept."""
    kept: list[str] = []
    run: list[str] = []
    for paragraph in [*paragraphs, ""]:
        if paragraph and paragraph in link_texts:
            run.append(paragraph)
            continue
        if len(run) < LINK_RUN_MIN:
            kept.extend(run)
        run = []
        if paragraph:
            kept.append(paragraph)
    return kept


def _trafilatura(
    tree: html.HtmlElement, url: str | None, *, precision: bool, fast: bool = False
) -> list[str]:
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        favor_precision=precision,
        fast=fast,
        include_comments=False,
        include_tables=True,
        with_metadata=False,
        deduplicate=False,
    )
    if not isinstance(document, Document) or document.body is None:
        return []
    return _render(document.body)


def _dense_block(tree: html.HtmlElement, url: str | None) -> list[str] | None:
    """The dense containers read on their own (None when the page has none).

    In balanced mode, since the block is already narrowed to running text, and without trafilatura's
    fallback extractors, which would only read the same block again. The block's text runs are read as
    they are instead when that reading falls far short of the block's running text, or merges it into one
    paragraph (sentences loose between images and links, after <br>s, are where trafilatura does not look).
    """
    containers, running_chars = _dense_containers(tree)
    if not containers:
        return None
    page = html.Element("html")
    body = etree.SubElement(page, "body")
    article = etree.SubElement(body, "article")
    article.extend(deepcopy(container) for container in containers)
    paragraphs = _trafilatura(page, url, precision=False, fast=True)
    read = sum(map(len, paragraphs))
    short = read * PLAIN_RATIO < running_chars
    if short or len(paragraphs) == 1:
        plain = [p for container in containers for p in _plain_paragraphs(container)]
        plain_chars = sum(map(len, plain))
        if short:
            better = plain_chars > read
        else:  # one merged paragraph: take the plain reading when it splits about the same text
            better = len(plain) > 1 and read / PLAIN_RATIO <= plain_chars <= read * PLAIN_RATIO
        if better:
            paragraphs = plain
    return paragraphs


def _plain_paragraphs(container: html.HtmlElement) -> list[str]:
    """The container's text split into paragraphs at block elements and line breaks; scripts, styles,
    forms and figures are skipped."""
    paragraphs: list[str] = []
    current: list[str] = []

    def flush() -> None:
        text = _normalise(" ".join(current).replace("\n", " "))
        if text:
            paragraphs.append(text)
        current.clear()

    def walk(element: html.HtmlElement) -> None:
        if element.tag in _NOT_TEXT or element.tag in _SKIP_IN_PLAIN:
            return
        block = element.tag not in _INLINE_TAGS or element.tag == "br"
        if block:
            flush()
        if element.text:
            current.append(element.text)
        for child in element:
            if isinstance(child.tag, str):
                walk(child)
            if child.tail:
                current.append(child.tail)
        if block:
            flush()

    walk(container)
    flush()
    return paragraphs


def _check_size(tree: html.HtmlElement, url: str | None) -> None:
    count = int(_COUNT_ELEMENTS(tree))  # counted in libxml2: no Python object per element
    if count > MAX_ELEMENTS:
        raise ExtractionError(
            "too_complex",
            url,
            f"the page has {count:,} HTML elements (more than {MAX_ELEMENTS:,}); no article needs that many",
        )


def choose_body(tree: html.HtmlElement, url: str | None, evidence: Evidence) -> Choice:
    """Build the candidate bodies of the page and choose one (see ``extractors._article_choice``).

    ``tree`` is modified (junk blocks removed): the caller parsed it for this call only.
    """
    _check_size(tree, url)
    tree = _apply_rules(tree, default_rule())
    host = urlsplit(url).hostname if url else None
    rule = site_rule(host)
    if rule is not None:
        tree = _apply_rules(tree, rule)
    for wrapper in _FIND_INLINE_CHROME(tree):
        wrapper.drop_tag()  # keep the words, lose the class that marks them as chrome
    links = _headline_links(tree)
    # A paragraph of the reading that is exactly one headline link's text is link-only too, wherever the
    # link sat: older CMSs put a list of other stories in one table cell, one link per <br>, so no link has
    # a block of its own. (L3S: 4 pages better, cfra.com 0.56 -> 0.93, none worse; Zyte: no page changed.)
    link_texts = _link_only_texts(links) | frozenset(text for _, text in links)

    def finish(name: str, paragraphs: list[str]) -> Candidate:
        return Candidate(name, clean_paragraphs(_drop_link_runs(paragraphs, link_texts)))

    primary = finish("trafilatura", _trafilatura(tree, url, precision=True, fast=True))
    dense = _dense_block(tree, url)
    block = finish("dense block", dense) if dense is not None else None
    fallback = lambda: finish("fallback", _trafilatura(tree, url, precision=True, fast=False))  # noqa: E731
    return choose(primary, block, fallback, evidence, _judge(links))


def extract_body(tree: html.HtmlElement, url: str | None, evidence: Evidence | None = None) -> list[str]:
    """The article's paragraphs, boilerplate removed; an empty list when the page has no credible body."""
    chosen = choose_body(tree, url, evidence or Evidence()).candidate
    return chosen.paragraphs if chosen is not None else []
