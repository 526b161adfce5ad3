"""The trade-events part of `tradewatch report` and the run artifact: an event table and a country-pair view.

Kept apart from ``reports.report`` so that each part of the report stays readable; the escaping rules are the
same (every field may quote a stranger's article: titles, products, the event line itself).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alerts.escape import html_text as _h
from alerts.escape import markdown_text as _md
from alerts.escape import markdown_url as _md_url
from alerts.escape import safe_url

if TYPE_CHECKING:  # annotations only: `tradewatch --help` must not load SQLAlchemy
    from storage.stats import CountryPair, EventRow

#: How many events the report's table lists (the country-pair view counts them all).
EVENT_ROWS = 50
#: How many country pairs the pair view lists.
PAIR_ROWS = 30


def _rate(event: EventRow) -> str:
    if event.rate_from and event.rate_to:
        return f"{event.rate_from} → {event.rate_to}"
    return event.rate_to or ""


def _when(event: EventRow) -> str:
    if event.effective:
        return f"effective {event.effective.isoformat()}"
    if event.announced:
        return f"announced {event.announced.isoformat()}"
    return ""


def _measures(pair: CountryPair) -> str:
    return ", ".join(
        f"{name.replace('_', ' ')} ×{n}" if n > 1 else name.replace("_", " ") for name, n in pair.measures
    )


def events_html(events: list[EventRow], pairs: list[CountryPair]) -> list[str]:
    """Two report sections: the events found (newest articles first) and who did what to whom."""
    out = ['<section id="trade-events"><h2>Trade events</h2>']
    if events:
        out.append(
            "<table><thead><tr><th>who → whom</th><th>measure</th><th>products</th><th>rate</th>"
            "<th>when</th><th>article</th></tr></thead><tbody>"
        )
        for e in events[:EVENT_ROWS]:
            url = safe_url(e.url)
            title = _h(e.title or "(untitled)")
            link = (
                f'<a href="{_h(url)}" rel="noopener noreferrer nofollow" target="_blank">{title}</a>'
                if url
                else title
            )
            who = ", ".join(e.implementer) or "?"
            if e.affected:
                who += " → " + ", ".join(e.affected)
            out.append(
                f"<tr><td>{_h(who)}</td><td>{_h(e.measure.replace('_', ' '))}</td>"
                f"<td>{_h(', '.join(e.products))}</td><td>{_h(_rate(e))}</td><td>{_h(_when(e))}</td>"
                f'<td>{link}<br><span class="meta">{_h(e.feed)}</span></td></tr>'
            )
        out.append("</tbody></table>")
        if len(events) > EVENT_ROWS:
            out.append(
                f'<p class="meta">{len(events) - EVENT_ROWS} more: '
                "<code>tradewatch articles list --json --country CODE</code></p>"
            )
    else:
        out.append('<p class="none">No trade event was reported in this period.</p>')
    out += ["</section>", '<section id="country-pairs"><h2>Who did what to whom</h2>']
    if pairs:
        out.append(
            '<table><thead><tr><th>implementer</th><th>affected</th><th class="num">events</th>'
            "<th>measures</th></tr></thead><tbody>"
        )
        for p in pairs[:PAIR_ROWS]:
            out.append(
                f"<tr><td>{_h(p.implementer)}</td><td>{_h(p.affected or '(not named)')}</td>"
                f'<td class="num">{p.events}</td><td>{_h(_measures(p))}</td></tr>'
            )
        out.append("</tbody></table>")
    else:
        out.append('<p class="none">No trade event was reported in this period.</p>')
    out.append("</section>")
    return out


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
            f"| {_md(p.implementer)} | {_md(p.affected or '(not named)')} | {p.events} "
            f"| {_md(_measures(p))} |"
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
