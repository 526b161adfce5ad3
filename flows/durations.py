"""Durations as people write them in options and configuration: ``30m``, ``12h``, ``7d``, ``2w``.

One parser for every place a window is given (``--since`` of `articles list`, `rules test`, `report` and
`stories list`; ``[stories] window``), so each accepts and refuses the same strings. A zero window is
refused everywhere: ``--since 0d`` used to list nothing and exit 0 on some commands while others refused
it, and an empty window is never what was meant.
"""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"\s*(\d+)\s*([mhdw])\s*")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: str) -> timedelta:
    """``30m``, ``12h``, ``7d``, ``2w`` → a timedelta; ValueError naming the accepted forms otherwise."""
    match = _DURATION.fullmatch(value)
    if not match or int(match.group(1)) == 0:
        raise ValueError(
            f"{value!r} is not a duration; use a positive number and a unit, such as 30m, 12h, 7d or 2w"
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
