"""E-mail alerts through apprise to a real SMTP server (aiosmtpd) on 127.0.0.1: what the reader receives."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from alerts.render import AlertItem, render_instant
from alerts.rules import Document, parse
from alerts.send import DeliveryError, send

USER = "alerts"
PASSWORD = "s3cret-Pa55word"


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and (auth_data.password == PASSWORD.encode())
    )
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd sends the 535 reply itself


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, _Inbox]]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticate,
        auth_require_tls=False,  # plain local SMTP, as in the demo; production uses mailtos://
    )
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def _url(port: int, password: str = PASSWORD) -> str:
    return (
        f"mailto://{USER}:{password}@127.0.0.1:{port}"
        "?smtp=127.0.0.1&mode=insecure&from=alerts@example.com&to=ops@example.org"
    )


def _item() -> AlertItem:
    doc = Document(
        title="EU <script>alert(1)</script> & steel",
        text="Brussels said duties on <b>steel</b> imports & tariffs rise today.",
        source="Trade <Feed>",
    )
    match = parse("tariff").match(doc)
    return AlertItem(
        title=doc.title,
        url="https://news.example.com/a?id=1&ref=rss",
        source=doc.source,
        published=datetime(2026, 3, 4, 5, 6, tzinfo=UTC),
        trade_score=0.91,
        rules=(("Tariffs & duties", match),),
    )


def test_alert_arrives_with_subject_addresses_and_escaped_html_and_text_parts(
    smtp_server: tuple[int, _Inbox],
) -> None:
    port, inbox = smtp_server
    message = render_instant(_item())

    send(_url(port), message, channel="ops-mail")

    assert len(inbox.messages) == 1
    mail_from, rcpt, mail = inbox.messages[0]
    assert mail_from == "alerts@example.com"
    assert rcpt == ["ops@example.org"]
    assert mail["Subject"] == "[tradewatch: Tariffs & duties] EU <script>alert(1)</script> & steel"
    assert "ops@example.org" in mail["To"]
    assert "alerts@example.com" in mail["From"]
    assert mail.get_content_type() == "multipart/alternative"
    html_part = mail.get_body(preferencelist=("html",))
    text_part = mail.get_body(preferencelist=("plain",))
    assert html_part is not None
    assert text_part is not None
    html = html_part.get_content().replace("\r\n", "\n")  # SMTP transfers CRLF line ends
    assert html.strip() == message.body_html.strip()
    assert '<a href="https://news.example.com/a?id=1&amp;ref=rss">' in html
    assert "EU &lt;script&gt;alert(1)&lt;/script&gt; &amp; steel</a>" in html
    assert "<script>" not in html
    assert "Trade &lt;Feed&gt;" in html
    assert "<mark><strong>tariffs</strong></mark>" in html
    # apprise derives the plain-text alternative from our HTML: readable, markup gone, the text is there.
    text = text_part.get_content()
    assert "tariffs rise today" in text
    assert "<mark>" not in text


def test_smtp_server_down_is_transient_and_never_shows_the_password(caplog: pytest.LogCaptureFixture) -> None:
    port = _free_port()  # nothing listens here
    caplog.set_level(logging.DEBUG)

    with pytest.raises(DeliveryError) as caught:
        send(_url(port), render_instant(_item()), channel="ops-mail")

    error = caught.value
    assert error.transient is True
    assert error.reason == "smtp connect failed"
    assert error.channel == "ops-mail"
    assert PASSWORD not in str(error)
    assert str(port) not in str(error)
    assert PASSWORD not in caplog.text


def test_wrong_password_is_permanent_and_not_retried(smtp_server: tuple[int, _Inbox]) -> None:
    port, inbox = smtp_server

    with pytest.raises(DeliveryError) as caught:
        send(_url(port, password="wrong-Pa55word"), render_instant(_item()), channel="ops-mail")

    assert caught.value.reason == "smtp authentication failed"
    assert caught.value.transient is False
    assert "wrong-Pa55word" not in str(caught.value)
    assert inbox.messages == []


def test_invalid_url_is_permanent_and_redacted() -> None:
    with pytest.raises(DeliveryError) as caught:
        send("nosuchscheme://token-abcdef@host", render_instant(_item()), channel="x")

    assert caught.value.transient is False
    assert "token-abcdef" not in str(caught.value)


def test_delivery_error_survives_pickling() -> None:
    """Prefect pickles a failed task's exception; the retry decision (transient) must survive it."""
    import pickle

    copy = pickle.loads(pickle.dumps(DeliveryError("ops", "smtp connect failed", transient=True)))
    assert (copy.channel, copy.reason, copy.transient, str(copy)) == (
        "ops",
        "smtp connect failed",
        True,
        "delivery to ops failed (transient): smtp connect failed",
    )


def test_the_plain_text_part_carries_the_article_link(smtp_server: tuple[int, _Inbox]) -> None:
    """apprise builds the text part from our HTML: the address must be in the text, not only in an href."""
    port, inbox = smtp_server
    send(_url(port), render_instant(_item()), channel="desk")
    (_from, _rcpt, mail) = inbox.messages[0]
    text = mail.get_body(preferencelist=("plain",))
    assert text is not None
    assert "https://news.example.com/a?id=1&ref=rss" in text.get_content()
