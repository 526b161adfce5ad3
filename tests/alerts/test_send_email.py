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
from sqlalchemy.engine import Engine

from alerts.render import TITLE_CAP, AlertItem, render_instant
from alerts.rules import Document, parse
from alerts.send import DeliveryError, send

USER = "alerts"
PASSWORD = "s3cret-Pa55word"


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []
        self.raw: list[bytes] = []  # each message as it went over the wire

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        self.raw.append(envelope.content)
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


# ------------------------------------------------------------------------------------ e-mail's limits

#: RFC 5322 section 2.1.1: a line of a message MUST be at most 998 characters (plus CRLF).
RFC5322_LINE = 998
#: Gmail clips a message whose HTML is over 102 KB ("[Message clipped] View entire message").
GMAIL_CLIP_BYTES = 102 * 1024


def test_a_hostile_5500_character_title_makes_one_safe_subject_line(smtp_server: tuple[int, _Inbox]) -> None:
    """Line breaks in a title must not start headers of their own (a Bcc, a second body), and a title
    thousands of characters long must not make a subject no client shows or a line RFC 5322 forbids."""
    from dataclasses import replace

    port, inbox = smtp_server
    title = "Zölle\r\nBcc: victim@evil.example\r\n\r\n<b>forged body</b>\u2028 " + "tariffs 関税 " * 550
    assert len(title) > 5500
    send(_url(port), render_instant(replace(_item(), title=title)), channel="ops-mail")

    ((_from, rcpt, mail),) = inbox.messages
    assert rcpt == ["ops@example.org"]
    assert mail["Bcc"] is None
    assert len(mail.get_all("Subject") or []) == 1
    subject = str(mail["Subject"])
    assert subject.startswith("[tradewatch: Tariffs & duties] Zölle Bcc: victim@evil.example <b>forged body")
    assert len(subject) <= TITLE_CAP
    assert subject.endswith("…")
    html_part = mail.get_body(preferencelist=("html",))
    assert html_part is not None
    assert ("tariffs 関税 " * 550).strip() in html_part.get_content()  # the body keeps the whole title
    assert max(len(line) for line in inbox.raw[0].splitlines()) <= RFC5322_LINE


def test_a_digest_too_big_for_one_email_is_split_keeping_every_article_once(
    smtp_server: tuple[int, _Inbox], engine: Engine
) -> None:
    """A daily digest of 400 articles: several e-mails, none clipped by Gmail, none with a line over
    RFC 5322's limit, every article in exactly one of them, every outbox row marked sent."""
    from sqlmodel import Session, select

    from flows.outbox import deliver_pending
    from storage import repo
    from storage.models import Delivery

    port, inbox = smtp_server
    body = "Officials said the new tariffs " + "on steel and aluminium imports " * 6 + "would rise."
    match = parse("tariffs").match(Document("", body))
    assert match is not None
    urls = [f"https://news.example.com/2026/{n:04d}/" + "story-with-a-long-slug-" * 3 for n in range(400)]
    with Session(engine) as session:
        (feed,) = repo.sync_feeds(session, [repo.FeedSpec("Wire", "https://news.example.com/feed")])
        (rule,) = repo.sync_rules(
            session, [repo.RuleSpec("Tariffs", "tariffs", ("ops-mail",), mode="digest")]
        ).values()
        ids = repo.insert_articles(
            session,
            [
                repo.NewArticle(
                    canonical_url=url,
                    url=url,
                    entry_key=url,
                    feed_id=feed.id,
                    title=f"Ordinary story {n}: ministers meet again over tariffs on steel and aluminium",
                    text=body,
                )
                for n, url in enumerate(urls)
            ],
        )
        for url in urls:
            assert rule.id is not None
            repo.enqueue_delivery(
                session,
                article_id=ids[url],
                rule_id=rule.id,
                channel="ops-mail",
                mode="digest",
                match_field=match.field,
                match_sentence=match.sentence,
                match_start=match.hit_start,
                match_end=match.hit_end,
            )
        session.commit()

    report = deliver_pending(engine, lambda _name: _url(port), modes=["digest"], period_label="daily digest")

    assert len(inbox.messages) == report.messages > 1
    htmls = []
    for (_from, _rcpt, mail), raw in zip(inbox.messages, inbox.raw, strict=True):
        html_part = mail.get_body(preferencelist=("html",))
        assert html_part is not None
        htmls.append(str(html_part.get_content()))
        assert len(htmls[-1].encode()) < GMAIL_CLIP_BYTES
        assert max(len(line) for line in raw.splitlines()) <= RFC5322_LINE
    for url in urls:  # every article in exactly one e-mail (linked from its title and its address)
        assert [html.count(f'href="{url}"') for html in htmls].count(2) == 1
        assert sum(html.count(url) for html in htmls) == 3
    subjects = [str(mail["Subject"]) for _f, _r, mail in inbox.messages]
    parts = len(subjects)
    assert [s.split(":")[0] for s in subjects] == [
        f"[tradewatch digest] daily digest (part {n} of {parts})" for n in range(1, parts + 1)
    ]
    with Session(engine) as session:
        assert {row.status for row in session.exec(select(Delivery))} == {"sent"}
    assert report.sent == len(urls)
