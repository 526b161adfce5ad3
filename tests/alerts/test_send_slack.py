"""Slack alerts through apprise's Slack plugin aimed at a local HTTP server: the exact JSON Slack gets."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from apprise.plugins.slack import NotifySlack
from sqlalchemy.engine import Engine

from alerts.render import AlertItem, render_instant
from alerts.rules import Document, parse
from alerts.send import DeliveryError, send

TOKENS = ("T1SECRETAA", "B2SECRETBB", "C3SECRETCCCCCCCCCCCCCCCC")
# footer/image off: the payload is then exactly what we render, with nothing apprise-version-specific in it.
SLACK_URL = "slack://{}/{}/{}?footer=no&image=no".format(*TOKENS)


class _Recorder:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.status = 200
        self.reply = b"ok"
        self.refused: list[str] = []


#: Slack's documented Block Kit limits (api.slack.com/reference/block-kit/blocks, /messaging/webhooks):
#: at most 50 blocks in a message, 3,000 characters of text in a section, 150 in a header.
SLACK_MAX_BLOCKS = 50
SLACK_SECTION_TEXT = 3000
SLACK_HEADER_TEXT = 150


def slack_refusal(payload: dict[str, Any]) -> str | None:
    """What Slack's webhook answers (HTTP 400 and this body) for a payload over its limits, or None."""
    blocks = list(payload.get("blocks") or [])
    for attachment in payload.get("attachments") or []:
        blocks.extend(attachment.get("blocks") or [])
    if len(blocks) > SLACK_MAX_BLOCKS:
        return "invalid_blocks"
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if block.get("type") == "section" and not 1 <= len(text) <= SLACK_SECTION_TEXT:
            return "invalid_blocks"
        if block.get("type") == "header" and not 1 <= len(text) <= SLACK_HEADER_TEXT:
            return "invalid_blocks"
    if not blocks and not payload.get("text"):
        return "no_text"
    return None


@pytest.fixture
def slack_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Recorder]:
    recorder = _Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            payload = json.loads(self.rfile.read(length))
            recorder.requests.append((self.path, payload))
            status, reply = recorder.status, recorder.reply
            refusal = slack_refusal(payload)
            if refusal is not None:  # exactly as Slack: 400 with the error code as a plain-text body
                recorder.refused.append(refusal)
                status, reply = 400, refusal.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    # Slack's servers cannot exist offline: redirect the plugin's webhook base to ours.
    monkeypatch.setattr(NotifySlack, "webhook_url", f"http://127.0.0.1:{server.server_port}/services")
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()


def _item(url: str = "https://news.example.com/a?id=1&x=|>") -> AlertItem:
    doc = Document(
        title="Tariffs <!channel> & <@U123> | news",
        text="Officials said <script>alert(1)</script> tariffs & quotas rise.",
        source="Wire <b>",
    )
    return AlertItem(
        title=doc.title,
        url=url,
        source=doc.source,
        published=datetime(2026, 3, 4, 5, 6, tzinfo=UTC),
        trade_score=0.5,
        rules=(("Tariffs", parse("tariffs").match(doc)), ("Quotas", parse("quota").match(doc))),
    )


def test_slack_receives_one_block_message_with_escaped_mrkdwn(slack_server: _Recorder) -> None:
    send(SLACK_URL, render_instant(_item()), channel="trade-desk")

    assert len(slack_server.requests) == 1
    path, payload = slack_server.requests[0]
    assert path == "/services/{}/{}/{}".format(*TOKENS)
    expected_text = (
        "<https://news.example.com/a?id=1&amp;x=%7C%3E|Tariffs &lt;!channel&gt; &amp; &lt;@U123&gt; | news>\n"
        "Wire &lt;b&gt; · 2026-03-04 05:06 UTC · trade score 0.50\n"
        "Rules: Tariffs, Quotas\n"
        "*Tariffs*: Officials said &lt;script&gt;alert(1)&lt;/script&gt; *tariffs* &amp; quotas rise.\n"
        "*Quotas*: Officials said &lt;script&gt;alert(1)&lt;/script&gt; tariffs &amp; *quotas* rise."
    )
    assert payload == {
        "attachments": [
            {
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": expected_text}}],
                "color": "#3AA3E3",
            }
        ]
    }


def test_slacks_own_https_webhook_address_gets_the_same_escaped_blocks(slack_server: _Recorder) -> None:
    """The address Slack shows a user is https://hooks.slack.com/services/...: apprise takes it for the
    Slack plugin, and it must get the escaped mrkdwn block, not the plain text (where <!channel> pings)."""
    from alerts.send import digest_limit

    native = "https://hooks.slack.com/services/{}/{}/{}?footer=no&image=no".format(*TOKENS)
    send(SLACK_URL, render_instant(_item()), channel="trade-desk")
    send(native, render_instant(_item()), channel="trade-desk")

    (_, via_scheme), (path, via_https) = slack_server.requests
    assert path == "/services/{}/{}/{}".format(*TOKENS)
    assert via_https == via_scheme
    assert "&lt;!channel&gt;" in via_https["attachments"][0]["blocks"][0]["text"]["text"]
    assert digest_limit(native) == digest_limit(SLACK_URL) == ("slack", 3000)


def test_javascript_url_is_not_a_link_in_slack(slack_server: _Recorder) -> None:
    send(SLACK_URL, render_instant(_item(url="javascript:alert(1)")), channel="trade-desk")

    text = slack_server.requests[0][1]["attachments"][0]["blocks"][0]["text"]["text"]
    first_line = text.splitlines()[0]
    assert first_line == "Tariffs &lt;!channel&gt; &amp; &lt;@U123&gt; | news (javascript:alert(1))"


@pytest.mark.parametrize(
    ("status", "reason", "transient"),
    [(500, "http 500", True), (429, "http 429", True), (404, "http 404", False), (403, "http 403", False)],
)
def test_slack_http_errors_become_delivery_errors(
    slack_server: _Recorder, status: int, reason: str, transient: bool
) -> None:
    slack_server.status = status
    slack_server.reply = b"no_service"

    with pytest.raises(DeliveryError) as caught:
        send(SLACK_URL, render_instant(_item()), channel="trade-desk")

    assert (caught.value.reason, caught.value.transient) == (reason, transient)
    assert caught.value.channel == "trade-desk"


def test_unreachable_slack_leaks_no_token_to_logs_or_errors(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A port nothing listens on: requests' exception text then quotes the URL path, which holds the tokens.
    monkeypatch.setattr(NotifySlack, "webhook_url", "http://127.0.0.1:9/services")
    caplog.set_level(logging.DEBUG)

    with pytest.raises(DeliveryError) as caught:
        send(SLACK_URL, render_instant(_item()), channel="trade-desk")

    assert caught.value.reason == "http connect failed"
    assert caught.value.transient is True
    assert "Socket Exception" in caplog.text  # apprise's reason did reach our logs...
    for token in TOKENS:  # ...but none of the secrets did
        assert token not in caplog.text
        assert token not in str(caught.value)


def test_apprise_debug_chatter_stays_out_of_an_app_logging_at_warning(
    slack_server: _Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    slack_server.status = 500
    before = logging.getLogger("apprise").level

    with pytest.raises(DeliveryError):
        send(SLACK_URL, render_instant(_item()), channel="trade-desk")

    apprise_records = [r for r in caplog.records if r.name == "apprise"]
    assert apprise_records  # the failure warning is kept...
    assert all(r.levelno >= logging.WARNING for r in apprise_records)  # ...the DEBUG we read is not
    assert logging.getLogger("apprise").level == before


# ------------------------------------------------------------------------------------------ Slack's limits


def _section_texts(recorder: _Recorder) -> list[str]:
    return [payload["attachments"][0]["blocks"][0]["text"]["text"] for _path, payload in recorder.requests]


def test_the_test_server_refuses_an_over_limit_section_as_slack_does(slack_server: _Recorder) -> None:
    from alerts.render import Message

    too_long = Message(title="t", body_text="x", body_html="x", body_markdown="x" * 3001)
    with pytest.raises(DeliveryError) as caught:
        send(SLACK_URL, too_long, channel="trade-desk")
    assert slack_server.refused == ["invalid_blocks"]
    assert (caught.value.reason, caught.value.transient) == ("http 400", False)


def test_a_5500_character_title_is_one_accepted_slack_message(slack_server: _Recorder) -> None:
    item = AlertItem(
        title="Tariffs " * 690,
        url="https://news.example.com/a?id=1",
        source="Wire",
        published=None,
        trade_score=0.5,
        rules=(("Tariffs", None),),
    )
    send(SLACK_URL, render_instant(item), channel="trade-desk")
    assert slack_server.refused == []
    (text,) = _section_texts(slack_server)
    assert text.startswith("<https://news.example.com/a?id=1|Tariffs Tariffs")


def test_an_article_matching_13_rules_is_one_accepted_slack_message(slack_server: _Recorder) -> None:
    body = " ".join(f"Officials said tariff{n} " + "rose again and again " * 14 + "today." for n in range(13))
    doc = Document(title="Tariffs everywhere", text=body)
    rules = tuple((f"rule {n}", parse(f"tariff{n}").match(doc)) for n in range(13))
    item = AlertItem(doc.title, "https://news.example.com/b", "Wire", None, 0.9, rules)
    send(SLACK_URL, render_instant(item), channel="trade-desk")
    assert slack_server.refused == []
    (text,) = _section_texts(slack_server)
    assert all(f"rule {n}" in text.splitlines()[2] for n in range(13))


def test_a_daily_digest_of_ten_articles_reaches_slack_in_accepted_parts_each_article_once(
    slack_server: _Recorder, engine: Engine
) -> None:
    from sqlmodel import Session, select

    from flows.outbox import deliver_pending
    from storage import repo
    from storage.models import Delivery

    body = "Officials said the new tariffs " + "on steel and aluminium imports " * 8 + "would rise."
    with Session(engine) as session:
        (feed,) = repo.sync_feeds(session, [repo.FeedSpec("Wire", "https://news.example.com/feed")])
        rules = repo.sync_rules(
            session,
            [repo.RuleSpec(name, "tariffs", ("desk",), mode="digest") for name in ("Tariffs", "Steel watch")],
        )
        urls = [f"https://news.example.com/2026/story-{n}" for n in range(10)]
        new = [
            repo.NewArticle(
                canonical_url=url,
                url=url,
                entry_key=url,
                feed_id=feed.id,
                title=f"Ordinary trade story {n}: ministers meet again over tariffs on steel",
                text=body,
            )
            for n, url in enumerate(urls)
        ]
        ids = repo.insert_articles(session, new)
        match = parse("tariffs").match(Document("", body))
        assert match is not None
        for url in urls:
            for rule in rules.values():
                assert rule.id is not None
                repo.enqueue_delivery(
                    session,
                    article_id=ids[url],
                    rule_id=rule.id,
                    channel="desk",
                    mode="digest",
                    match_field=match.field,
                    match_sentence=match.sentence,
                    match_start=match.hit_start,
                    match_end=match.hit_end,
                )
        session.commit()

    report = deliver_pending(engine, lambda _name: SLACK_URL, modes=["digest"], period_label="daily digest")

    assert slack_server.refused == []
    texts = _section_texts(slack_server)
    assert len(texts) == report.messages > 1
    for url in urls:  # every article in exactly one part, under both its rules
        assert [text.count(f"<{url}|") for text in texts].count(2) == 1
        assert sum(text.count(f"<{url}|") for text in texts) == 2
    assert [text.splitlines()[0] for text in texts] == [
        f"*tradewatch digest — daily digest (part {n} of {len(texts)})*" for n in range(1, len(texts) + 1)
    ]
    with Session(engine) as session:
        assert {row.status for row in session.exec(select(Delivery))} == {"sent"}
    assert report.sent == 20
