"""Send one rendered alert `Message` to one apprise URL, turning apprise's silent False into a DeliveryError.

Body format by URL scheme
-------------------------
- ``mailto://`` / ``mailtos://``: the HTML part. apprise 2.0's e-mail plugin (``plugins/email/base.py``,
  ``prepare_emails``) then sends ``multipart/alternative`` with a ``text/plain`` part that *apprise* derives
  from our HTML (``convert_between(HTML, TEXT)``); it offers no way to pass our own plain-text part, so
  `Message.body_text` is not used for e-mail. The subject is `Message.title`.
- ``slack://``: `Message.body_markdown` (already Slack mrkdwn, already escaped), sent unconverted
  (``body_format=None`` is apprise's pass-through) in a Block Kit ``mrkdwn`` section: we switch the plugin to
  blocks because its legacy attachment mode re-escapes ``&`` (our ``&amp;`` would show as ``&amp;amp;``) and
  turns ``&lt;!channel&gt;`` written by a stranger back into a real ``<!channel>`` ping. No header block:
  the body opens with the linked article title (and a Slack header is limited to 150 characters).
- anything else: `Message.body_text` as plain text.

E-mail through a plain SMTP server on a custom port (no TLS), as the demo and tests use::

    mailto://USER:PASSWORD@127.0.0.1:2525?smtp=127.0.0.1&mode=insecure&from=alerts@example.com&to=ops@example.org

``mode=insecure`` (apprise's ``SecureMailMode.INSECURE``) disables STARTTLS; without it apprise insists on
STARTTLS. ``USER:PASSWORD@`` may be left out for a server without AUTH (apprise logs in only when both
are set).
Use ``mailtos://`` with ``mode=ssl`` or ``mode=starttls`` for a real provider.

Secrets
-------
apprise URLs carry passwords and tokens, and apprise (and urllib3 under it) log them at DEBUG ("Slack POST
URL: https://hooks.slack.com/services/T/B/C", requests' exception text). A filter installed on the
``apprise`` and ``urllib3`` loggers rewrites every record before any handler sees it: the password,
user, token-bearing host, path segments and query values of every URL being sent right now are replaced
by ``***``, then every URL left is cut to its scheme and server (`extractors.redact.redact_url`). While a
send runs, the ``apprise`` logger is lowered to DEBUG so we can read *why* it failed (apprise only
returns False); the filter keeps those extra DEBUG records from propagating to the application's handlers.
`DeliveryError` messages are built from the channel name and a short reason we choose ("smtp connect
failed", "http 500"), never from apprise's text.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import apprise

from alerts.render import EMAIL_DIGEST_CHARS, SLACK_SECTION_CHARS, Message
from extractors.redact import HOST_IS_SERVER, redact_text, redact_url

__all__ = ["DeliveryError", "digest_limit", "send"]

# Path segments and query values shorter than this are words like "services" or "yes", not tokens;
# replacing them would garble log lines without protecting anything. Passwords are scrubbed at any length.
_MIN_SECRET_LEN = 4
# HTTP statuses worth retrying: rate limit, request timeout, and every 5xx.
_TRANSIENT_HTTP = frozenset({408, 425, 429})
# SMTP reply codes 4xx are temporary by RFC 5321; 5xx are permanent.
_SMTP_PERMANENT_AUTH = ("(535", "(534", "(530", "Authentication", "authentication")

# apprise logs everything through this one logger (apprise/logger.py LOGGER_NAME).
_APPRISE_LOGGER = "apprise"
_HTTP_ERROR_RE = re.compile(r"error=(\d{3})")
_SMTP_REFUSED_RE = re.compile(r"was refused: (\d{3})")


class DeliveryError(Exception):
    """A message that did not reach its channel. `transient` says whether retrying later can help."""

    def __init__(self, channel: str, reason: str, *, transient: bool) -> None:
        self.channel = channel
        self.reason = reason
        self.transient = transient
        kind = "transient" if transient else "permanent"
        super().__init__(f"delivery to {channel or 'channel'} failed ({kind}): {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle as cls(*args); ours takes named parts, and Prefect pickles a failed task's error.
        return (_delivery_error, (self.channel, self.reason, self.transient))


def _delivery_error(channel: str, reason: str, transient: bool) -> DeliveryError:
    return DeliveryError(channel, reason, transient=transient)


def _secrets_of(url: str) -> set[str]:
    """Every piece of an apprise URL that may be a credential."""
    found = {url}
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if parts.password:
            found.update({parts.password, unquote(parts.password)})
        if parts.username and len(parts.username) >= _MIN_SECRET_LEN:
            found.update({parts.username, unquote(parts.username)})
        host = parts.hostname or ""
        if scheme not in HOST_IS_SERVER and len(host) >= _MIN_SECRET_LEN:
            found.add(host)
            found.add(parts.netloc.rsplit("@", 1)[-1])
        for segment in parts.path.split("/"):
            if len(segment) >= _MIN_SECRET_LEN:
                found.update({segment, unquote(segment)})
        for _, value in parse_qsl(parts.query):
            if len(value) >= _MIN_SECRET_LEN:
                found.add(value)
    except ValueError:
        pass
    return {s for s in found if s}


class _Guard(logging.Filter):
    """Scrubs apprise/urllib3 records and collects them for the send that is running on this thread."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.secrets: dict[int, set[str]] = {}  # send id -> secrets, for every send in flight
        self.active = 0
        self.saved_level = logging.NOTSET
        self.local = threading.local()

    def scrub(self, text: str) -> str:
        with self.lock:
            secrets = sorted({s for group in self.secrets.values() for s in group}, key=len, reverse=True)
        for secret in secrets:  # longest first, so a whole URL goes before its parts
            text = text.replace(secret, "***")
        return redact_text(text, keep_path=False)

    def filter(self, record: logging.LogRecord) -> bool:
        message = self.scrub(record.getMessage())
        record.msg, record.args = message, None
        if record.exc_info is not None:  # tracebacks carry exception text with URLs: drop them
            record.exc_info, record.exc_text = None, None
        captured: list[tuple[int, str]] | None = getattr(self.local, "records", None)
        if captured is not None:
            captured.append((record.levelno, message))
        if record.name == _APPRISE_LOGGER and self.active:
            # We lowered the level to read DEBUG; let only what the app asked for reach its handlers.
            return record.levelno >= self.app_level
        return True

    @property
    def app_level(self) -> int:
        if self.saved_level != logging.NOTSET:
            return self.saved_level
        parent = logging.getLogger(_APPRISE_LOGGER).parent
        return parent.getEffectiveLevel() if parent is not None else logging.WARNING

    @contextmanager
    def sending(self, url: str) -> Iterator[list[tuple[int, str]]]:
        key = id(object())
        apprise_logger = logging.getLogger(_APPRISE_LOGGER)
        with self.lock:
            self.secrets[key] = _secrets_of(url)
            if self.active == 0:
                self.saved_level = apprise_logger.level
                apprise_logger.setLevel(logging.DEBUG)
            self.active += 1
        records: list[tuple[int, str]] = []
        self.local.records = records
        try:
            yield records
        finally:
            self.local.records = None
            with self.lock:
                self.active -= 1
                if self.active == 0:
                    apprise_logger.setLevel(self.saved_level)
                del self.secrets[key]


_GUARD = _Guard()
for _name in (_APPRISE_LOGGER, "urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry"):
    logging.getLogger(_name).addFilter(_GUARD)


def _reason(scheme: str, records: list[tuple[int, str]]) -> tuple[str, bool]:
    """A short reason and whether it is transient, from what apprise logged (it only returns False)."""
    text = "\n".join(message for _, message in records)
    if scheme in ("mailto", "mailtos"):
        refused = _SMTP_REFUSED_RE.search(text)
        if refused:
            code = int(refused.group(1))
            return f"smtp recipient refused ({code})", code < 500
        if "Connection error while submitting email" in text:
            if any(marker in text for marker in _SMTP_PERMANENT_AUTH):
                return "smtp authentication failed", False
            if "STARTTLS" in text or "SSL" in text:
                return "smtp tls failed", True
            return "smtp connect failed", True
        if "There are no Email recipients" in text:
            return "no e-mail recipients in the URL", False
        if "failed" in text:
            return "smtp send failed", True
    status = _HTTP_ERROR_RE.search(text)
    if status:
        code = int(status.group(1))
        return f"http {code}", code >= 500 or code in _TRANSIENT_HTTP
    if "Connection error" in text or "Socket Exception" in text:
        return "http connect failed", True
    return "notification failed", True


#: Slack's own webhook address: apprise takes ``https://hooks.slack.com/services/T/B/C`` (what Slack shows
#: a user) for a ``slack://T/B/C`` URL, and so must we, or its alerts would go out as unescaped text
#: with none of Slack's limits applied.
_SLACK_WEBHOOK_HOST = "hooks.slack.com"


def _kind(url: str) -> str:
    """The channel's kind: its scheme, with Slack's https webhook address counted as ``slack``."""
    try:
        parts = urlsplit(url.strip())
        scheme, host = parts.scheme.lower(), (parts.hostname or "")
    except ValueError:
        return ""
    if scheme in ("http", "https") and host == _SLACK_WEBHOOK_HOST:
        return "slack"
    return scheme


def _body_for(scheme: str, message: Message) -> tuple[str, str, apprise.NotifyFormat | None]:
    """(title, body, body_format) for a scheme; None means apprise's unconverted pass-through."""
    if scheme in ("mailto", "mailtos"):
        return message.title, message.body_html, apprise.NotifyFormat.HTML
    if scheme == "slack":
        return "", message.body_markdown, None
    return message.title, message.body_text, apprise.NotifyFormat.TEXT


def digest_limit(url: str) -> tuple[str, int] | None:
    """How big one digest message to this channel may be, as (the format it is measured in, the most
    characters of it), or None when apprise's own splitting is enough. Slack puts our body in one
    section block: 3,000 characters of mrkdwn. E-mail gets our HTML: ``EMAIL_DIGEST_CHARS`` of it."""
    scheme = _kind(url)
    if scheme == "slack":
        return "slack", SLACK_SECTION_CHARS
    if scheme in ("mailto", "mailtos"):
        return "html", EMAIL_DIGEST_CHARS
    return None


def send(url: str, message: Message, *, channel: str = "") -> None:
    """Deliver `message` to one apprise URL, or raise `DeliveryError` (which never quotes URL or secret)."""
    scheme = _kind(url)
    with _GUARD.sending(url) as records:
        try:
            plugin = apprise.Apprise.instantiate(url)
        except Exception:  # apprise raises assorted types for malformed URLs; their text contains the URL
            plugin = None
        if plugin is None:
            shown = redact_url(url, keep_path=False)
            raise DeliveryError(channel, f"invalid or unsupported apprise URL ({shown})", transient=False)
        if scheme == "slack" and hasattr(plugin, "use_blocks"):
            plugin.use_blocks = True  # see the module docstring: legacy mode mangles pre-escaped mrkdwn
        title, body, body_format = _body_for(scheme, message)
        try:
            # The plugin's own notify() runs on this thread (Apprise.notify() hands it to a worker thread),
            # so the records it logs land in this send's capture even when sends run concurrently.
            ok = bool(plugin.notify(body=body, title=title, body_format=body_format))
        except Exception as exc:  # the exception text may quote the URL: keep only its type
            raise DeliveryError(channel, f"apprise error ({type(exc).__name__})", transient=True) from None
    if not ok:
        reason, transient = _reason(scheme, records)
        raise DeliveryError(channel, reason, transient=transient)
