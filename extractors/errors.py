"""Errors raised while turning web bytes into data, named by stage and classified by reason.

An orchestrated pipeline needs exceptions, not ``None``: the flow decides retries from ``transient``
and stores ``reason`` so operators see *why* a feed or page failed.

    TradewatchError
    └── StageError (stage, url, reason, transient)
        ├── FetchError        stage="fetch"    dns, connect, timeout, tls, http_status, blocked,
        │                                      too_large, truncated, redirect, forbidden_address, bad_scheme,
        │                                      content_type, robots
        ├── FeedError         stage="feed"     not_a_feed, parse, encoding
        └── ExtractionError   stage="extract"  not_html, empty, no_content, paywall, consent
"""

from __future__ import annotations

from typing import Any

from extractors.redact import redact_text, redact_url


class TradewatchError(Exception):
    """Base of every error tradewatch raises on purpose."""


class StageError(TradewatchError):
    """A failure at one pipeline stage for one URL, with a machine-readable reason.

    ``transient`` is True when trying again later may succeed (timeouts, 5xx, 429); the flow retries
    only those, never a 404 or a parse error.

    The URL and every URL quoted in the message are redacted here (``extractors.redact``): these errors
    are logged, stored as a feed's ``last_error`` and shown in reports, and feed URLs can carry tokens.
    """

    stage: str = "unknown"

    def __init__(self, reason: str, url: str | None, message: str, *, transient: bool = False) -> None:
        self.reason = reason
        self.url = redact_url(url) if url and "://" in url else url
        self.message = redact_text(message)
        self.transient = transient
        super().__init__(f"[{self.stage}:{reason}] {self.url or '<no url>'}: {self.message}")

    def __reduce__(self) -> tuple[Any, ...]:
        """Survive pickling (extraction runs in worker processes): rebuild from the fields, not ``args``."""
        return (_rebuild, (type(self), dict(self.__dict__)))


def _rebuild(cls: type[StageError], state: dict[str, Any]) -> StageError:
    error = cls.__new__(cls)
    StageError.__init__(error, state["reason"], state["url"], state["message"], transient=state["transient"])
    error.__dict__.update(state)
    return error


class FetchError(StageError):
    """The bytes could not be fetched (network, HTTP status, safety policy, size cap)."""

    stage = "fetch"

    def __init__(
        self,
        reason: str,
        url: str | None,
        message: str,
        *,
        transient: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason, url, message, transient=transient)
        self.status = status
        self.retry_after = retry_after


class FeedError(StageError):
    """The bytes were fetched but are not a usable feed."""

    stage = "feed"


class ExtractionError(StageError):
    """The page was fetched but holds no article text worth storing."""

    stage = "extract"
