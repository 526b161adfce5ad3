"""Bring every date and delay that comes from outside into a sane range before any arithmetic is done on it.

Strangers write publication dates (``9999-12-31T23:59:59-12:00``, year 1), cache lifetimes
(``Cache-Control: max-age=99999999999999999999``), ``<ttl>`` minutes and ``Retry-After`` seconds. Taken as
they are, they overflow ``datetime`` arithmetic (``now + timedelta(...)``), fail a database INSERT, or
park a feed for ten thousand years. So each one passes through this module where it enters:
``extractors.feeds`` (entry dates, ``<ttl>``), ``extractors.http`` (``max-age``, ``Retry-After``) and
``flows.process`` (a page's own published date, the next poll time).

The bounds are policy, chosen to be generous to real data and harmless for absurd data:

- a date may be at most ``MAX_FUTURE`` ahead of now (clocks and time zones are often hours off; further
  than a day is a wrong date, and "now" is the latest an article we just fetched can really be from) and
  at most ``MAX_PAST`` behind (archives of old articles are real; year 1 is not);
- a delay a server asks for is at most ``MAX_DELAY``: a feed that asks to be left alone for a year is
  still polled weekly, so a typo on its side cannot silence it for good.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

__all__ = ["MAX_DELAY", "MAX_FUTURE", "MAX_PAST", "clamp_datetime", "clamp_delay", "parse_count"]

MAX_FUTURE = timedelta(days=1)
MAX_PAST = timedelta(days=100 * 365)
MAX_DELAY = timedelta(days=7)

#: Longest run of digits read as a number: enough for any real value in seconds or bytes, and far below
#: Python's 4,300-digit limit on ``int()`` (which raises ValueError past it).
MAX_DIGITS = 18
_HUGE: int = 10**MAX_DIGITS


def clamp_datetime(value: datetime | None, now: datetime | None = None) -> datetime | None:
    """``value`` in UTC, moved into [now − MAX_PAST, now + MAX_FUTURE]; a naive value is taken as UTC.

    Comparing first and converting after: converting ``9999-12-31T23:59:59-12:00`` to UTC is what
    overflows, and the comparison does not.
    """
    if value is None:
        return None
    current = now or datetime.now(UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    latest, earliest = current + MAX_FUTURE, current - MAX_PAST
    if value > latest:
        return latest.astimezone(UTC)
    if value < earliest:
        return earliest.astimezone(UTC)
    return value.astimezone(UTC)


def clamp_delay(seconds: float | None, maximum: timedelta = MAX_DELAY) -> float | None:
    """Seconds in [0, ``maximum``]; None (absent) and NaN (meaningless) give None."""
    if seconds is None or math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), maximum.total_seconds())


def parse_count(text: str) -> int | None:
    """A non-negative decimal integer from a header or feed field, or None; absurdly long numbers are
    read as "very large" (10**MAX_DIGITS) rather than raising, so callers' caps apply to them."""
    digits = text.strip()
    if not digits.isascii() or not digits.isdigit():
        return None
    if len(digits.lstrip("0")) > MAX_DIGITS:
        return _HUGE
    return int(digits)
