"""Take the secrets out of URLs before they are shown: the one redaction rule for feed, page and channel URLs.

Feed URLs sometimes carry credentials (``https://user:pw@host/feed?token=…``: private feeds, paid wires)
and apprise channel URLs always do (``slack://T/B/C``, ``mailto://user:pw@smtp…``,
``https://hooks.slack.com/services/T/B/C``). Every URL that reaches a log line, an error stored for
display, a report, an artifact or an e-mail passes through :func:`redact_url`; free text that may quote
URLs (exception messages, a stored ``last_error``) through :func:`redact_text`, which applies the same
function to each URL in it. A leaf module with nothing but the standard library, so every package can use
it: ``extractors`` for fetch errors, ``alerts`` for channel URLs and apprise's logs, ``flows`` for logs,
``feeds status`` and reports. :class:`RedactingFilter` applies it to every record of the loggers it is
installed on, tracebacks included, so a log line (and Prefect's copy of it) never needs a call site to
remember; :func:`redact_log_records` applies it to every record a process creates, whichever library
logs it (httpx logs each request's full URL at INFO), and is what the application installs.

What is kept, and why:

- scheme, host and (for web URLs) port: enough to tell which site or server is meant;
- the path of a web URL (``keep_path=True``, the default): it tells two feeds of one site apart, and
  feeds put their tokens in the userinfo or the query, which go;
- nothing after the host of a channel URL (``keep_path=False``): apprise puts tokens in the path;
- for schemes whose "host" is itself a token (``slack://``, ``discord://``, ``tgram://``...), ``***``.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

__all__ = ["RedactingFilter", "redact_log_records", "redact_text", "redact_url"]

#: Schemes whose host part names a server (shown); for every other scheme the host is a credential
#: (apprise's ``slack://TokenA/...``, ``discord://WebhookID/...``) and is hidden.
HOST_IS_SERVER = frozenset(
    {"http", "https", "mailto", "mailtos", "json", "jsons", "xml", "xmls", "form", "forms", "ftp", "ftps"}
    # Database URLs (``[database] url``): the server and database name are shown, the password (in the
    # userinfo, or libpq's ``?password=``) is not. SQLAlchemy's own hide_password missed the query.
    | {"sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"}
)
#: What an unparseable URL becomes: nothing of it is shown, since we cannot tell its secrets apart.
UNPARSEABLE = "<unparseable url>"
#: A URL inside free text: a scheme, ``://`` and everything up to whitespace, a quote or an angle bracket,
#: but for the punctuation that ends a sentence or closes a parenthesis ("failed (https://h/f?t=1): 503"),
#: which stays in the text.
URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,15}://[^\s'\"<>]*[^\s'\"<>.,;:!?)\]}]")


def redact_url(url: str, *, keep_path: bool = True) -> str:
    """The URL without userinfo, query values or fragment: ``https://host:8443/feed.xml?…``.

    ``keep_path=False`` is for channel (apprise) URLs, whose path holds tokens: ``mailto://smtp.example``,
    ``https://hooks.slack.com``, ``slack://***``. Idempotent: a redacted URL redacts to itself.
    """
    text = url.strip()
    scheme, sep, _rest = text.partition("://")
    if not sep or not re.fullmatch(r"[a-zA-Z][a-zA-Z0-9+.-]*", scheme):
        return UNPARSEABLE
    scheme = scheme.lower()
    if scheme not in HOST_IS_SERVER:
        return f"{scheme}://***"
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # a bracketed host that is not IPv6, a port out of range, NFKC-invalid characters
        return f"{scheme}://{UNPARSEABLE}"
    if ":" in host:
        host = f"[{host}]"
    if not keep_path:
        return f"{scheme}://{host}"
    netloc = f"{host}:{port}" if port is not None else host
    query = "?…" if parts.query else ""
    return f"{scheme}://{netloc}{parts.path}{query}"  # by hand: urlunsplit drops sqlite:////abs's slashes


def redact_text(text: str, *, keep_path: bool = True) -> str:
    """Free text with every URL in it redacted by :func:`redact_url`; the rest of the text unchanged."""
    if "://" not in text:
        return text
    return URL_IN_TEXT.sub(lambda m: redact_url(m.group(), keep_path=keep_path), text)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the URLs in a record's message and traceback before any handler.

    Install it on each logger that may quote a URL (``log.addFilter(RedactingFilter())``): filters run for
    the records created on their own logger, before propagation, so Prefect's API handler and the console
    both get the redacted text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        return True


class _RedactingFactory:
    """A log record factory that redacts each record as it is created (see `redact_log_records`)."""

    def __init__(self, wrapped: Callable[..., logging.LogRecord]) -> None:
        self.wrapped = wrapped
        self.redact = RedactingFilter()

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.wrapped(*args, **kwargs)
        # A record whose arguments do not format is left as it is: logging reports it when it is emitted.
        with contextlib.suppress(Exception):
            self.redact.filter(record)
        return record


def redact_log_records() -> None:
    """Redact every log record this process creates from now on, whatever logger it comes from.

    A filter on a logger sees only that logger's own records, and a library may log a URL on one we never
    thought of (httpx: ``HTTP Request: GET https://user:pw@host/feed?token=…`` at INFO). The record
    factory sees them all, before any handler, Prefect's API handler included. Installed by the
    application (``flows``), not by a library; calling it again does nothing.
    """
    current = logging.getLogRecordFactory()
    if not isinstance(current, _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(current))
