"""The trade-events part of the report and the run artifact: an event table and a country-pair view.

The HTML sections are the template ``templates/events.html`` (autoescaped); this module gives it the
words (who → whom, rate, when, measures) and writes the markdown and JSON forms. Every field may quote a
stranger's article (titles, products, the event line itself): markdown goes through ``alerts.escape``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alerts.escape import markdown_text as _md
from alerts.escape import markdown_url as _md_url
from alerts.escape import safe_url

if TYPE_CHECKING:  # annotations only: `tradewatch --help` must not load SQLAlchemy
    from storage.stats import CountryPair, EventRow

#: How many events the report's table lists (the country-pair view counts them all).
EVENT_ROWS = 50
#: How many country pairs the pair view lists.
PAIR_ROWS = 30


def who(event: EventRow) -> str:
    """ "US → CN": the implementers, and the affected jurisdictions when named."""
    text = ", ".join(event.implementer) or "?"
    if event.affected:
        text += " → " + ", ".join(event.affected)
    return text


def rate(event: EventRow) -> str:
    """ "10% → 25%", or the one rate stated."""
    if event.rate_from and event.rate_to:
        return f"{event.rate_from} → {event.rate_to}"
    return event.rate_to or ""


def when(event: EventRow) -> str:
    """When it applies, in words: "effective 2025-06-01" or "announced ..."."""
    if event.effective:
        return f"effective {event.effective.isoformat()}"
    if event.announced:
        return f"announced {event.announced.isoformat()}"
    return ""


def measures(pair: CountryPair) -> str:
    """The measures of a country pair, most frequent first: "tariff increase ×2, export ban"."""
    return ", ".join(
        f"{name.replace('_', ' ')} ×{n}" if n > 1 else name.replace("_", " ") for name, n in pair.measures
    )


def events_markdown(events: list[EventRow], pairs: list[CountryPair]) -> list[str]:
    """The same two sections in markdown, for the Prefect artifact."""
    lines = ["## Trade events", ""]
    if events:
        lines += ["| event | article |", "|---|---|"]
        for e in events[:EVENT_ROWS]:
            url = safe_url(e.url)
            title = _md(e.title or "(untitled)")
            link = f"[{title}]({url.replace('(', '%28').replace(')', '%29')})" if url else title
            lines.append(f"| {_md(e.summary)} | {link} |")
    else:
        lines.append("_No trade event was reported in this period._")
    lines += ["", "## Who did what to whom", ""]
    if pairs:
        lines += ["| implementer | affected | events | measures |", "|---|---|---:|---|"]
        lines += [
            f"| {_md(p.implementer)} | {_md(p.affected or '(not named)')} | {p.events} | {_md(measures(p))} |"
            for p in pairs[:PAIR_ROWS]
        ]
    else:
        lines.append("_No trade event was reported in this period._")
    return lines


def events_json(events: list[EventRow], pairs: list[CountryPair]) -> dict[str, Any]:
    return {
        "trade_events": [
            {
                "line": e.summary,
                "measure": e.measure,
                "implementer": list(e.implementer),
                "affected": list(e.affected),
                "products": list(e.products),
                "rate_from": e.rate_from,
                "rate_to": e.rate_to,
                "announced": e.announced.isoformat() if e.announced else None,
                "effective": e.effective.isoformat() if e.effective else None,
                "title": e.title,
                "url": e.url,
                "feed": e.feed,
            }
            for e in events
        ],
        "country_pairs": [
            {
                "implementer": p.implementer,
                "affected": p.affected or None,
                "events": p.events,
                "measures": dict(p.measures),
            }
            for p in pairs
        ],
    }


def artifact_section(lines: list[tuple[str, str]]) -> list[str]:
    """The ingest-summary artifact's section: each new trade event as one line, linked to its article."""
    if not lines:
        return []
    out = ["", "## Trade events", ""]
    for line, url in lines[:EVENT_ROWS]:
        safe = safe_url(url)
        shown = f"[{_md(line)}]({_md_url(safe)})" if safe else _md(line)
        out.append(f"- {shown}")
    if len(lines) > EVENT_ROWS:
        out.append(f"- … and {len(lines) - EVENT_ROWS} more")
    return out
