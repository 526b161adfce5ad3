"""Bad input: 60+ malformed feeds and pages through the real parsers, renderers and the whole pipeline.

Each input must give a classified error (`StageError` with a reason) or sane output, never another
exception; and whatever reaches an alert (titles, links, matched sentences chosen by strangers) must be
escaped: no ``<script``, no ``javascript:`` link, no tag we did not write, no Slack mention or link
smuggled in. Inputs are generated here (the 10 MB page at test time); nothing large is committed.
"""

from __future__ import annotations

import codecs
import gzip
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import TypeVar

import pytest
from sqlmodel import Session, select

from alerts.render import AlertItem, Message, render_digest, render_instant
from alerts.rules import Document, parse, prepare
from extractors.article import extract
from extractors.errors import StageError
from extractors.feeds import parse_feed
from flows.settings import load_settings
from storage.db import make_engine
from storage.models import Article
from tests.faults.conftest import SinkServer, store_state, write_config
from tests.faults.driver import run
from tests.httpserver import HTTPTestServer

BASE = "http://news.example.com"
HOSTILE_TITLE = (
    '<script>alert("t")</script><img src=x onerror=alert(1)> <!channel> <@U123|boss> '
    "<https://evil.example|click me> *bold* `code` \u202eevil\u202c Tariffs & <b>duties</b>"
)
MATCH_ALL = parse("tariff OR tariffs OR duties OR trade OR the OR a")


def rss(items: str, *, decl: str = '<?xml version="1.0" encoding="utf-8"?>', title: str = "Feed") -> bytes:
    return f'{decl}<rss version="2.0"><channel><title>{title}</title>{items}</channel></rss>'.encode()


def item(title: str, link: str = f"{BASE}/a.html", description: str = "Tariffs rose.") -> str:
    return f"<item><title>{title}</title><link>{link}</link><description>{description}</description></item>"


def atom(entries: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        f"{entries}</feed>"
    ).encode()


def _nested_xml(depth: int) -> bytes:
    return rss(item("Deep " + "<x>" * depth + "tariffs" + "</x>" * depth))


FEEDS: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "whitespace": lambda: b" \n\t  \r\n",
    "plain text": lambda: b"this is not a feed, just words about tariffs",
    "unclosed tags": lambda: b'<?xml version="1.0"?><rss><channel><title>x<item><title>y',
    "truncated mid item": lambda: rss(item("Tariffs") * 3)[:-60],
    "nul bytes": lambda: rss(item("Tar\x00iffs \x00 rise", description="a\x00b")),
    "control chars": lambda: rss(item("Tariffs \x01\x02\x1b[31m red \x7f")),
    "numeric refs to controls": lambda: rss(item("Tariffs &#0; &#x1; &#xD800; &#x1F600;")),
    "undefined entity": lambda: rss(item("Tariffs &nbsp; &bogus; &amp;")),
    "latin-1 bytes declared utf-8": lambda: rss(item("Zölle für Stahl")).replace(
        "Zölle für".encode(), "Zölle für".encode("latin-1")
    ),
    "cp1252 smart quotes declared utf-8": lambda: rss(item("\u201cTariffs\u201d")).replace(
        "\u201cTariffs\u201d".encode(), "\u201cTariffs\u201d".encode("cp1252")
    ),
    "utf-16 with bom": lambda: (
        codecs.BOM_UTF16_LE
        + rss(item("Tariffs"), decl='<?xml version="1.0" encoding="utf-16"?>').decode().encode("utf-16-le")
    ),
    "utf-16 without bom": lambda: (
        rss(item("Tariffs"), decl='<?xml version="1.0"?>').decode().encode("utf-16-le")
    ),
    "bom disagrees with declaration": lambda: (
        codecs.BOM_UTF8 + rss(item("Tariffs"), decl='<?xml version="1.0" encoding="iso-8859-1"?>')
    ),
    "unknown encoding": lambda: rss(item("Tariffs"), decl='<?xml version="1.0" encoding="x-bogus-42"?>'),
    "shift_jis declared, utf-8 sent": lambda: rss(
        item("関税 tariffs"), decl='<?xml version="1.0" encoding="shift_jis"?>'
    ),
    "billion laughs": lambda: (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
            for i in range(1, 10)
        )
        + b']><rss version="2.0"><channel><title>&lol9;</title></channel></rss>'
    ),
    "xxe file": lambda: (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<rss version="2.0"><channel><title>&xxe;</title>' + item("&xxe;").encode() + b"</channel></rss>"
    ),
    "xxe http": lambda: (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/x">]>'
        b'<rss version="2.0"><channel>' + item("&xxe; tariffs").encode() + b"</channel></rss>"
    ),
    "deeply nested xml": lambda: _nested_xml(5000),
    "html in title (escaped)": lambda: rss(item("&lt;script&gt;alert(1)&lt;/script&gt; Tariffs")),
    "html in title (cdata)": lambda: rss(item(f"<![CDATA[{HOSTILE_TITLE}]]>")),
    "html in description": lambda: rss(
        item("Tariffs", description="<![CDATA[<script>alert(1)</script><a href='javascript:x'>x</a>]]>")
    ),
    "javascript: link": lambda: rss(item("Tariffs", link="javascript:alert(document.cookie)")),
    "data: link": lambda: rss(item("Tariffs", link="data:text/html,<script>alert(1)</script>")),
    "vbscript and file links": lambda: rss(
        item("Tariffs a", link="vbscript:msgbox(1)") + item("Tariffs b", link="file:///etc/passwd")
    ),
    "relative link": lambda: rss(item("Tariffs", link="/relative/path.html")),
    "missing link": lambda: rss("<item><title>Tariffs</title><description>no link</description></item>"),
    "link with markup": lambda: rss(item("Tariffs", link=f'{BASE}/a.html?"><script>x</script>')),
    "link with spaces and newlines": lambda: rss(item("Tariffs", link=f"  \n {BASE}/a b.html \n")),
    "slack mention and link in title": lambda: rss(item("&lt;!channel&gt; &lt;https://evil|x&gt; tariffs")),
    "bidi override title": lambda: rss(item("Tariffs \u202egnp.exe\u202c and \u2066duties\u2069")),
    "title 1 MB": lambda: rss(item("Tariffs " * 125_000)),
    "3000 items": lambda: rss("".join(item(f"Tariffs {i}", f"{BASE}/{i}.html") for i in range(3000))),
    "gzip bytes": lambda: gzip.compress(rss(item("Tariffs"))),
    "png bytes": lambda: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    "html page served as feed": lambda: b"<!DOCTYPE html><html><body><h1>Tariffs</h1></body></html>",
    "json: invalid": lambda: b'{"version": "https://jsonfeed.org/version/1.1", "items": [',
    "json: items not a list": lambda: json.dumps(
        {"version": "https://jsonfeed.org/version/1", "items": 5}
    ).encode(),
    "json: hostile fields": lambda: json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": HOSTILE_TITLE,
            "items": [
                {
                    "id": 1,
                    "url": "javascript:alert(1)",
                    "title": HOSTILE_TITLE,
                    "content_html": "<script>x</script>",
                },
                {"id": {"nested": [1, 2]}, "url": f"{BASE}/ok.html", "title": ["not", "a", "string"]},
                {"id": "3", "url": f"{BASE}/n.html", "title": None, "content_text": "\x00tariffs"},
            ],
        }
    ).encode(),
    "atom: xml:base javascript": lambda: atom(
        '<entry xml:base="javascript:alert(1)//"><title>Tariffs</title><link href="x"/><id>1</id></entry>'
    ),
    "atom: html title type": lambda: atom(
        '<entry><title type="html">&lt;script&gt;x&lt;/script&gt;Tariffs</title>'
        f'<link href="{BASE}/t.html"/><id>t</id></entry>'
    ),
    "atom: xhtml title with script": lambda: atom(
        '<entry><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><script>x</script>Tariffs</div>'
        f'</title><link href="{BASE}/x.html"/><id>x</id></entry>'
    ),
}


def _page(body: str, head: str = "<title>Tariffs page</title>") -> bytes:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>".encode()


PARAGRAPHS = "".join(
    f"<p>Officials said the new tariffs on steel imports would rise by {i} percent next year, "
    "according to the trade ministry, which published the schedule on Monday.</p>"
    for i in range(8)
)

PAGES: dict[str, Callable[[], bytes]] = {
    "empty page": lambda: b"",
    "whitespace page": lambda: b"   \n\n  ",
    "nul bytes in page": lambda: _page("<article>" + PARAGRAPHS.replace("steel", "st\x00eel") + "</article>"),
    "binary page": lambda: bytes(range(256)) * 64,
    "only script": lambda: _page("<script>document.write('tariffs')</script>"),
    "script inside article": lambda: _page(
        f"<article>{PARAGRAPHS}<script>alert('x')</script><p>More <script>evil()</script> text.</p></article>"
    ),
    "javascript: links in content": lambda: _page(
        f"<article>{PARAGRAPHS}<p><a href='javascript:alert(1)'>click</a> and "
        "<a href='data:text/html,x'>data</a></p></article>"
    ),
    "hostile title tag": lambda: _page(PARAGRAPHS, head=f"<title>{HOSTILE_TITLE}</title>"),
    "hostile og:title": lambda: _page(
        PARAGRAPHS, head=f'<meta property="og:title" content="{HOSTILE_TITLE.replace(chr(34), "&quot;")}">'
    ),
    "hostile h1": lambda: _page(f"<article><h1>{HOSTILE_TITLE}</h1>{PARAGRAPHS}</article>"),
    "entities": lambda: _page(
        "<article>" + PARAGRAPHS + "<p>&amp;lt;script&amp;gt; &lt;script&gt;alert(1)&lt;/script&gt; &bogus; "
        "&#0; &#x110000; &#xD800; &nbsp;&mdash;&euro;</p></article>"
    ),
    "deeply nested divs": lambda: _page("<div>" * 5000 + PARAGRAPHS + "</div>" * 5000),
    "deeply nested unclosed": lambda: _page("<div><span><b><i>" * 3000 + PARAGRAPHS),
    "unclosed everything": lambda: b"<html><body><article><p>Tariffs rise <p>again <div><table><tr><td>x",
    "unterminated comment": lambda: _page(f"{PARAGRAPHS}<!-- never closed <p>hidden tariffs</p>"),
    "cdata in html": lambda: _page(f"<article><![CDATA[<script>x</script>]]>{PARAGRAPHS}</article>"),
    "svg and iframe": lambda: _page(
        f"<article><svg onload=alert(1)><script>x</script></svg><iframe src='javascript:x'></iframe>"
        f"<object data='javascript:x'></object>{PARAGRAPHS}</article>"
    ),
    "meta refresh javascript": lambda: _page(
        PARAGRAPHS, head="<meta http-equiv='refresh' content='0;url=javascript:alert(1)'><title>T</title>"
    ),
    "wrong meta charset": lambda: _page(
        PARAGRAPHS + "<p>Zölle und Gebühren</p>", head='<meta charset="shift_jis">'
    ),
    "utf-16 page with bom": lambda: codecs.BOM_UTF16_LE + _page(PARAGRAPHS).decode().encode("utf-16-le"),
    "latin-1 without declaration": lambda: (
        _page(PARAGRAPHS + "<p>Zölle für Stahl</p>").decode().encode("latin-1")
    ),
    "huge attribute": lambda: _page(f"<article data-x='{'a' * 2_000_000}'>{PARAGRAPHS}</article>"),
    "10k tiny paragraphs": lambda: _page("<article>" + "<p>tariff</p>" * 10_000 + "</article>"),
    "bidi and zero-width": lambda: _page(PARAGRAPHS.replace("tariffs", "tar\u200biffs \u202eevil\u202c")),
    "10 MB single line": lambda: _page(
        "<article><p>"
        + "Tariff talks continue and officials said more on trade. " * 180_000
        + "</p></article>"
    ),
}


class _Tags(HTMLParser):
    """Every tag and attribute in an HTML body, to compare with the ones our renderer writes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


OUR_TAGS = {"div", "p", "a", "br", "strong", "mark", "h2"}
_SLACK_ANGLE = re.compile(r"<([^>]*)>")


def assert_safe(message: Message) -> None:
    """Nothing a stranger wrote can become markup, a script, a link target or a Slack mention."""
    for body in (message.body_html, message.body_markdown, message.body_text, message.title):
        assert "\x00" not in body
        assert "\u202e" not in body
    for markup in (message.body_html, message.body_markdown):  # plain text and subject are not markup
        assert "<script" not in markup.lower()
    parser = _Tags()
    parser.feed(message.body_html)
    for tag, attrs in parser.tags:
        assert tag in OUR_TAGS, (tag, message.body_html[:300])
        for name, value in attrs:
            assert name == "href", (tag, name)
            assert value is not None
            assert value.startswith(("http://", "https://")), value
    for inner in _SLACK_ANGLE.findall(message.body_markdown):  # only our own <http…|label> links
        assert re.match(r"https?://[^|<>]+\|", inner), inner
    assert "javascript:" not in message.body_markdown.split("|")[0].lower()


def _alert(title: str, url: str, text: str, source: str = "Feed <b>name</b>") -> None:
    prepared = prepare(Document(title=title, text=text, source=source))
    match = MATCH_ALL.match(prepared)
    item_ = AlertItem(
        title=title,
        url=url,
        source=source,
        published=datetime(2026, 1, 1, tzinfo=UTC),
        trade_score=0.9,
        rules=(("rule <i>one</i>", match),),
    )
    assert_safe(render_instant(item_))
    assert_safe(render_digest("daily <digest>", [item_, item_]))


T = TypeVar("T")


def _attempt(call: Callable[[], T]) -> T | StageError:
    """The result, or the classified error; any other exception fails the test."""
    try:
        return call()
    except StageError as exc:
        return exc


#: Inputs that still break a promise; strict, so each turns into a failure the day it is fixed.
def _cases(names: dict[str, Callable[[], bytes]]) -> list[str]:
    return sorted(names)


@pytest.mark.parametrize("name", _cases(FEEDS))
def test_malformed_feed_is_classified_or_sane_and_renders_safely(name: str) -> None:
    content = FEEDS[name]()
    parsed = _attempt(lambda: parse_feed(content, f"{BASE}/feed.xml"))
    if isinstance(parsed, StageError):
        assert parsed.stage == "feed"
        assert parsed.reason in {"not_a_feed", "parse", "encoding"}, parsed
        return
    for entry in parsed.entries[:50]:
        assert entry.url.startswith(("http://", "https://")), entry.url
        assert entry.link.startswith(("http://", "https://")), entry.link
        assert isinstance(entry.title, str)
        assert "\x00" not in entry.title + entry.summary
        assert entry.entry_key
        _alert(entry.title, entry.link, entry.summary)
    assert "root:" not in repr(parsed)  # no external entity was resolved


@pytest.mark.parametrize("name", _cases(PAGES))
def test_malformed_page_is_classified_or_sane_and_renders_safely(name: str) -> None:
    content = PAGES[name]()
    article = _attempt(lambda: extract(content, f"{BASE}/page.html"))
    if isinstance(article, StageError):
        assert article.stage == "extract"
        assert article.reason in {"not_html", "empty", "no_content", "paywall", "consent"}, article
        return
    assert article.text.strip()
    assert len(article.text) <= len(content)
    # article.text is plain text: a page *about* "<script>" keeps the words; escaping happens at render
    assert "\x00" not in article.text + (article.title or "")
    _alert(article.title or "untitled", f"{BASE}/page.html", article.text)


def test_the_corpus_is_at_least_fifty_inputs() -> None:
    assert len(FEEDS) + len(PAGES) >= 50


def test_hostile_feed_and_pages_through_the_pipeline_alert_safely(
    http_server: HTTPTestServer, faulty_sink: SinkServer, tmp_path: Path
) -> None:
    """The whole pipeline, real HTTP and SMTP: hostile titles and content are stored and alerted escaped."""
    pages = [
        "script inside article",
        "hostile title tag",
        "hostile h1",
        "entities",
        "javascript: links in content",
    ]
    items = (
        "".join(
            item(
                f"<![CDATA[{HOSTILE_TITLE} {n}]]>",
                http_server.url(f"/p{n}.html"),
                "<![CDATA[<script>x</script>]]>",
            )
            for n in range(len(pages))
        )
        + item("Tariffs js", "javascript:alert(1)")
        + item("Too big tariffs", http_server.url("/big.html"))
    )
    http_server.route("/feed.xml", 200, {"Content-Type": "application/rss+xml"}, rss(items))
    for n, name in enumerate(pages):
        http_server.route(f"/p{n}.html", 200, {"Content-Type": "text/html"}, PAGES[name]())
    http_server.route("/big.html", 200, {"Content-Type": "text/html"}, PAGES["10 MB single line"]())
    db = f"sqlite:///{tmp_path / 'tw.db'}"
    config = write_config(
        tmp_path / "tw.toml",
        database_url=db,
        feeds=[("hostile <b>feed</b>", http_server.url("/feed.xml"))],
        smtp_port=faulty_sink.port,
        # group = "article": the hostile pages share their body text, which stories would group into one
        # alert; this test wants every page's alert, each escaped.
        rules='\n[[rules]]\nname = "all"\nquery = "tariff OR tariffs OR trade"\nchannels = ["desk-email"]\n'
        'group = "article"\n',
    )
    (outcome,), report = run(load_settings(config))
    reasons = sorted(reason for _url, reason in outcome.article_failures)
    # the javascript: entry is counted as a bad link; the 10 MB page is over the 5 MiB page cap
    assert reasons == ["bad_link", "too_large"]
    engine = make_engine(db)
    state = store_state(engine)
    with Session(engine) as session:
        links = sorted(a.url for a in session.exec(select(Article)))
    engine.dispose()
    assert state.articles == len(pages) + 1  # the too-large page is stored once with its reason
    assert all(link.startswith("http://127.0.0.1:") for link in links)  # javascript: entry dropped
    received = faulty_sink.handler.settle(report.messages)
    assert len(received) == report.messages == state.deliveries["sent"] == len(pages) + 1
    for r in received:
        html_part = r.message.get_body(preferencelist=("html",))
        assert html_part is not None
        body = str(html_part.get_content())
        assert "<script" not in body.lower()
        assert 'href="javascript:' not in body.lower()
        parser = _Tags()
        parser.feed(body)
        assert {tag for tag, _ in parser.tags} <= OUR_TAGS | {"html", "head", "body", "meta"}
