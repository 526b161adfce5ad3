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


@pytest.fixture
def slack_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Recorder]:
    recorder = _Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            recorder.requests.append((self.path, json.loads(self.rfile.read(length))))
            self.send_response(recorder.status)
            self.send_header("Content-Length", str(len(recorder.reply)))
            self.end_headers()
            self.wfile.write(recorder.reply)

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
