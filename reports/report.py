"""The report: what the pipeline found in a period, as one self-contained HTML file or markdown.

The HTML file has no scripts and loads nothing: styles are inline, the charts are inline SVG drawn here,
and a Content-Security-Policy forbids everything else, so the file can be mailed, archived or opened from
a shared drive and looks the same everywhere. Titles and URLs come from strangers' feeds: every one is
escaped, and only http(s) URLs become links.

The markdown form is for the Prefect UI (the daily digest run publishes it as an artifact). Prefect 3.9's
UI renders ``![alt](data:image/...)`` images — the V2 markdown renderer explicitly allows ``data:image/``
in ``img src`` and V1 passes it through; both were checked in Chromium, each chart shown at 720 px — so
the charts are the same SVGs embedded as data URIs, followed by a table with a unicode bar column so the
numbers are readable where images are not shown (e-mail, a terminal).
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from alerts.escape import html_text as _h
from alerts.escape import markdown_text as _md
from alerts.escape import markdown_url as _md_url
from alerts.escape import safe_url
from extractors.redact import redact_text, redact_url
from reports.events import events_html, events_json, events_markdown

if TYPE_CHECKING:  # imported where used, so that `tradewatch --help` does not load SQLAlchemy
    from sqlmodel import Session

    from storage.stats import CountryPair, EventRow, RuleCount, TradeArticle

#: How many headlines the report lists, and how many rules and sources the tables show.
HEADLINES = 25
#: Chart geometry in CSS pixels. The per-day chart is fixed; the per-source chart grows by one row per feed.
CHART_WIDTH = 720
DAY_CHART_HEIGHT = 240
SOURCE_ROW_HEIGHT = 26
SOURCE_CHART_PADDING = 14
#: The report window the daily digest publishes: a week, so the per-day chart shows a trend.
DAILY_REPORT_WINDOW = timedelta(days=7)
# --- data --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedTrouble:
    """A feed that needs a person: failing (with the reason) or silent for longer than its usual rhythm."""

    name: str
    url: str
    state: str  # "failing" | "silent"
    consecutive_failures: int
    reason: str | None
    last_error: str | None
    last_success_at: datetime | None
    latest_article_at: datetime | None


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows; built once, rendered as HTML, markdown or JSON."""

    since: datetime
    now: datetime
    articles_stored: int
    trade: list[TradeArticle]
    per_day: list[tuple[date, int]]
    per_source: list[tuple[str, int]]
    rules: list[RuleCount]
    troubled: list[FeedTrouble]
    alerts_sent: int
    events: list[EventRow] = field(default_factory=list)
    pairs: list[CountryPair] = field(default_factory=list)

    @property
    def headlines(self) -> list[TradeArticle]:
        """The newest trade news, one line per story: other outlets' copies are counted, not repeated."""
        from storage import stats

        return stats.one_per_story(self.trade)[:HEADLINES]

    def as_json(self) -> dict[str, Any]:
        """The report for scripts: the same numbers, ISO 8601 times, no markup."""
        return {
            "since": _iso(self.since),
            "now": _iso(self.now),
            "articles_stored": self.articles_stored,
            "trade_articles": len(self.trade),
            "alerts_sent": self.alerts_sent,
            "per_day": [{"day": d.isoformat(), "trade_articles": n} for d, n in self.per_day],
            "per_source": [{"feed": name, "trade_articles": n} for name, n in self.per_source],
            "rules": [
                {
                    "rule": r.rule,
                    "query": r.query,
                    "active": r.active,
                    "articles": r.articles,
                    "sent": r.sent,
                    "pending": r.pending,
                    "failed": r.failed,
                }
                for r in self.rules
            ],
            "feeds_in_trouble": [
                {
                    "name": t.name,
                    "url": t.url,
                    "state": t.state,
                    "consecutive_failures": t.consecutive_failures,
                    "reason": t.reason,
                    "last_error": t.last_error,
                    "last_success_at": _iso(t.last_success_at),
                    "latest_article_at": _iso(t.latest_article_at),
                }
                for t in self.troubled
            ],
            "headlines": [
                {
                    "title": a.title,
                    "url": a.url,
                    "feed": a.feed,
                    "published_at": _iso(a.published_at),
                    "found_at": _iso(a.found_at),
                    "trade_score": a.trade_score,
                    "story_id": a.story_id,
                    "outlets": a.outlets,
                }
                for a in self.headlines
            ],
            **events_json(self.events, self.pairs),
        }


def build_report(session: Session, since: datetime, now: datetime) -> ReportData:
    """Query the store for the period [since, now)."""
    from storage import stats

    trade = stats.trade_articles(session, since, now)
    events = stats.trade_events(session, since, now)
    troubled = [
        FeedTrouble(
            name=h.feed.name,
            url=redact_url(h.feed.url),  # reports are shared and archived; feed URLs may carry tokens
            state="failing" if h.feed.consecutive_failures else "silent",
            consecutive_failures=h.feed.consecutive_failures,
            reason=h.feed.last_error_reason if h.feed.consecutive_failures else None,
            last_error=redact_text(h.feed.last_error or "") or None if h.feed.consecutive_failures else None,
            last_success_at=h.feed.last_success_at,
            latest_article_at=h.latest_article_at,
        )
        for h in stats.feeds_in_trouble(session, now)
    ]
    return ReportData(
        since=since,
        now=now,
        articles_stored=stats.articles_stored(session, since, now),
        trade=trade,
        per_day=stats.per_day(trade, since, now),
        per_source=stats.per_source(trade),
        rules=stats.rule_counts(session, since, now),
        troubled=troubled,
        alerts_sent=stats.alerts_sent(session, since, now),
        events=events,
        pairs=stats.country_pairs(events),
    )


def report_for(database_url: str, since: datetime, now: datetime) -> ReportData:
    """Open the store, build the report, close the store (the engine is never shared or global)."""
    from sqlmodel import Session

    from storage.db import init_db, make_engine

    engine = make_engine(database_url)
    try:
        init_db(engine)
        with Session(engine) as session:
            return build_report(session, since, now)
    finally:
        engine.dispose()


def report_markdown_for(settings_database_url: str, since: datetime, now: datetime) -> str:
    """The markdown report for a database, for the daily flow's Prefect artifact."""
    return render_markdown(report_for(settings_database_url, since, now))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# --- charts ------------------------------------------------------------------------------------------

_BAR = "#2563eb"
_INK = "#1f2937"
_MUTED = "#6b7280"
_GRID = "#e5e7eb"


def _svg_open(width: int, height: int, label: str, chart_id: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{chart_id}" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{_h(label)}" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12">'
        f'<title>{_h(label)}</title><rect width="{width}" height="{height}" fill="#ffffff"/>'
    )


def _empty(width: int, height: int, message: str) -> str:
    return (
        f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" fill="{_MUTED}">'
        f"{_h(message)}</text>"
    )


def source_chart_height(sources: int) -> int:
    """Height of the per-source chart for this many feeds (one row for the empty message)."""
    return SOURCE_CHART_PADDING * 2 + SOURCE_ROW_HEIGHT * max(1, sources)


def day_chart_svg(per_day: list[tuple[date, int]]) -> str:
    """Vertical bars, one per UTC day, zero days included; count above each bar when there is room."""
    width, height = CHART_WIDTH, DAY_CHART_HEIGHT
    left, right, top, bottom = 40, 10, 20, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [_svg_open(width, height, "Trade articles per day", "chart-per-day")]
    peak = max((n for _, n in per_day), default=0)
    if not per_day or peak == 0:
        parts.append(_empty(width, height, "No trade articles in this period"))
        return "".join(parts) + "</svg>"
    step = _nice_step(peak)
    top_value = step * math.ceil(peak / step)
    for tick in range(0, top_value + 1, step):
        y = top + plot_h - plot_h * tick / top_value
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{_GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{_MUTED}">{tick}</text>'
        )
    slot = plot_w / len(per_day)
    bar_w = max(1.0, slot * 0.7)
    label_every = max(1, math.ceil(len(per_day) / 12))
    for i, (day, count) in enumerate(per_day):
        x = left + i * slot + (slot - bar_w) / 2
        bar_h = plot_h * count / top_value
        y = top + plot_h - bar_h
        if count:
            parts.append(
                f'<rect class="bar" data-label="{day.isoformat()}" data-count="{count}" x="{x:.1f}" '
                f'y="{y:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" fill="{_BAR}" rx="2">'
                f"<title>{day.isoformat()}: {count} trade article(s)</title></rect>"
            )
            if slot >= 18:
                parts.append(
                    f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                    f'fill="{_INK}">{count}</text>'
                )
        if i % label_every == 0:
            parts.append(
                f'<text x="{left + i * slot + slot / 2:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle" fill="{_MUTED}">{day:%b %d}</text>'
            )
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="{_MUTED}"/>'
    )
    return "".join(parts) + "</svg>"


def source_chart_svg(per_source: list[tuple[str, int]]) -> str:
    """Horizontal bars, one row per feed, longest first; feed names are stranger-supplied and escaped."""
    width, height = CHART_WIDTH, source_chart_height(len(per_source))
    label_w, right = 240, 50
    plot_w = width - label_w - right
    parts = [_svg_open(width, height, "Trade articles per source", "chart-per-source")]
    peak = max((n for _, n in per_source), default=0)
    if peak == 0:
        parts.append(_empty(width, height, "No trade articles in this period"))
        return "".join(parts) + "</svg>"
    for i, (name, count) in enumerate(per_source):
        y = SOURCE_CHART_PADDING + i * SOURCE_ROW_HEIGHT
        bar_w = max(2.0, plot_w * count / peak)
        short = name if len(name) <= 36 else name[:35] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + SOURCE_ROW_HEIGHT / 2 + 4:.1f}" text-anchor="end" '
            f'fill="{_INK}">{_h(short)}<title>{_h(name)}</title></text>'
            f'<rect class="bar" data-label="{_h(name)}" data-count="{count}" x="{label_w}" y="{y + 4}" '
            f'width="{bar_w:.1f}" height="{SOURCE_ROW_HEIGHT - 8}" fill="{_BAR}" rx="2">'
            f"<title>{_h(name)}: {count} trade article(s)</title></rect>"
            f'<text x="{label_w + bar_w + 6:.1f}" y="{y + SOURCE_ROW_HEIGHT / 2 + 4:.1f}" '
            f'fill="{_INK}">{count}</text>'
        )
    return "".join(parts) + "</svg>"


def _nice_step(peak: int) -> int:
    """A grid step of 1, 2 or 5 × 10^k giving at most five lines."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            if peak / (factor * magnitude) <= 5:
                return factor * magnitude
        magnitude *= 10


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


# --- rendering ---------------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2937;
       background: #f9fafb; margin: 0; }
main { max-width: 780px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 10px; }
.period { color: #6b7280; margin: 0 0 20px; }
.totals { display: flex; flex-wrap: wrap; gap: 12px; }
.card { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 10px 14px;
        min-width: 110px; }
.card b { display: block; font-size: 24px; }
.card span { color: #6b7280; font-size: 13px; }
.card.bad b { color: #b91c1c; }
.chart-box { display: inline-block; background: #fff; border: 1px solid #e5e7eb; border-radius: 8px;
             overflow: hidden; max-width: 100%; }
svg.chart { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #e5e7eb; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; font-size: 13px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 13px; background: #f3f4f6; padding: 1px 4px; border-radius: 4px; word-break: break-word; }
.none { color: #6b7280; font-style: italic; }
ol.headlines { padding-left: 22px; }
ol.headlines li { margin: 0 0 8px; }
.meta { color: #6b7280; font-size: 13px; }
.state-failing { color: #b91c1c; font-weight: 600; }
.state-silent { color: #b45309; font-weight: 600; }
footer { color: #6b7280; font-size: 13px; margin-top: 40px; }
"""

#: Nothing may load or run: the report is data, and a stranger's title must never become a script.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else "never"


def period_text(data: ReportData) -> str:
    return f"{data.since:%Y-%m-%d %H:%M} – {data.now:%Y-%m-%d %H:%M} UTC"


def _headline_html(article: TradeArticle) -> str:
    url = safe_url(article.url)
    title = _h(article.title or "(untitled)")
    link = (
        f'<a href="{_h(url)}" rel="noopener noreferrer nofollow" target="_blank">{title}</a>'
        if url
        else title
    )
    return (
        f'<li>{link}<br><span class="meta">{_h(article.feed)} · published '
        f"{article.published_at:%Y-%m-%d %H:%M} UTC{_outlets(article)}</span></li>"
    )


def _outlets(article: TradeArticle) -> str:
    """The " · also N other outlets" note of a story several outlets carried (see `tradewatch stories`)."""
    others = article.outlets - 1
    if others <= 0:
        return ""
    return f" · story {article.story_id}, also {others} other outlet{'' if others == 1 else 's'}"


def render_html(data: ReportData) -> str:
    """The whole report as one HTML document with inline CSS and SVG; no scripts, nothing fetched."""
    cards = [
        (len(data.trade), "trade articles found", False),
        (len(data.per_source), "sources", False),
        (data.articles_stored, "articles stored", False),
        (data.alerts_sent, "alerts sent", False),
        (len(data.troubled), "feeds in trouble", bool(data.troubled)),
    ]
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>tradewatch report, {_h(period_text(data))}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        "<h1>Trade news report</h1>",
        f'<p class="period">{_h(period_text(data))}</p>',
        '<section class="totals">',
        *[
            f'<div class="card{" bad" if bad else ""}"><b>{value}</b><span>{label}</span></div>'
            for value, label, bad in cards
        ],
        "</section>",
        '<section id="per-day"><h2>Trade articles found per day</h2>',
        f'<div class="chart-box">{day_chart_svg(data.per_day)}</div>',
        "</section>",
        '<section id="per-source"><h2>Trade articles per source</h2>',
        f'<div class="chart-box">{source_chart_svg(data.per_source)}</div>',
        "</section>",
        '<section id="rules"><h2>Top matching rules</h2>',
    ]
    if data.rules:
        out.append(
            '<table><thead><tr><th>rule</th><th>query</th><th class="num">articles</th>'
            '<th class="num">sent</th><th class="num">waiting</th><th class="num">failed</th></tr></thead>'
            "<tbody>"
        )
        for r in data.rules:
            inactive = ' <span class="meta">(removed from configuration)</span>' if not r.active else ""
            out.append(
                f"<tr><td>{_h(r.rule)}{inactive}</td><td><code>{_h(r.query)}</code></td>"
                f'<td class="num">{r.articles}</td><td class="num">{r.sent}</td>'
                f'<td class="num">{r.pending}</td><td class="num">{r.failed}</td></tr>'
            )
        out.append("</tbody></table>")
    else:
        out.append('<p class="none">No rule matched an article in this period.</p>')
    out += ["</section>", '<section id="trouble"><h2>Feeds in trouble</h2>']
    if data.troubled:
        out.append(
            "<table><thead><tr><th>feed</th><th>state</th><th>why</th><th>last success</th>"
            "<th>newest article</th></tr></thead><tbody>"
        )
        for t in data.troubled:
            if t.state == "failing":
                state = f"failing ×{t.consecutive_failures}"
                why = f"<b>{_h(t.reason or 'error')}</b>: {_h(t.last_error or '')}"
            else:
                state, why = "silent", "no new article for much longer than this feed's usual gap"
            out.append(
                f"<tr><td>{_h(t.name)}<br><code>{_h(t.url)}</code></td>"
                f'<td class="state-{t.state}">{_h(state)}</td><td>{why}</td>'
                f"<td>{_when(t.last_success_at)}</td><td>{_when(t.latest_article_at)}</td></tr>"
            )
        out.append("</tbody></table>")
    else:
        out.append('<p class="none">All active feeds are polling normally.</p>')
    out.append("</section>")
    out += events_html(data.events, data.pairs)
    out += ['<section id="headlines"><h2>Latest trade headlines</h2>']
    if data.headlines:
        out.append('<ol class="headlines">')
        out += [_headline_html(a) for a in data.headlines]
        out.append("</ol>")
        from storage import stats

        more = len(stats.one_per_story(data.trade)) - len(data.headlines)
        if more > 0:
            out.append(f'<p class="meta">{more} more: <code>tradewatch articles list --trade-only</code></p>')
    else:
        out.append('<p class="none">No trade articles in this period.</p>')
    out += [
        "</section>",
        f"<footer>Generated by tradewatch at {_when(data.now)}.</footer>",
        "</main></body></html>",
    ]
    return "\n".join(out) + "\n"


def _bar(count: int, peak: int, width: int = 20) -> str:
    """A unicode bar for tables that are read where images are not shown."""
    if peak <= 0 or count <= 0:
        return ""
    eighths = round(width * 8 * count / peak)
    return "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]


def render_markdown(data: ReportData) -> str:
    """The report for a Prefect markdown artifact: chart images as data URIs, then the numbers as text."""
    peak_day = max((n for _, n in data.per_day), default=0)
    peak_source = max((n for _, n in data.per_source), default=0)
    lines = [
        "# Trade news report",
        "",
        f"{period_text(data)}",
        "",
        f"**{len(data.trade)} trade articles** from {len(data.per_source)} sources · "
        f"{data.articles_stored} articles stored · {data.alerts_sent} alerts sent · "
        f"feeds in trouble: {len(data.troubled)}",
        "",
        "## Trade articles found per day",
        "",
        f"![Trade articles per day]({_data_uri(day_chart_svg(data.per_day))})",
        "",
        "| day | trade articles | |",
        "|---|---:|---|",
        *[f"| {d:%a %Y-%m-%d} | {n} | {_bar(n, peak_day)} |" for d, n in data.per_day],
        "",
        "## Trade articles per source",
        "",
    ]
    if data.per_source:
        lines += [
            f"![Trade articles per source]({_data_uri(source_chart_svg(data.per_source))})",
            "",
            "| feed | trade articles | |",
            "|---|---:|---|",
            *[f"| {_md(name)} | {n} | {_bar(n, peak_source)} |" for name, n in data.per_source],
        ]
    else:
        lines.append("_No trade articles in this period._")
    lines += ["", "## Top matching rules", ""]
    if data.rules:
        lines += ["| rule | articles | sent | waiting | failed |", "|---|---:|---:|---:|---:|"]
        lines += [
            f"| {_md(r.rule)} | {r.articles} | {r.sent} | {r.pending} | {r.failed} |" for r in data.rules
        ]
    else:
        lines.append("_No rule matched an article in this period._")
    lines += ["", "## Feeds in trouble", ""]
    if data.troubled:
        lines += ["| feed | state | why | last success |", "|---|---|---|---|"]
        for t in data.troubled:
            if t.state == "failing":
                state, why = (
                    f"failing ×{t.consecutive_failures}",
                    f"**{_md(t.reason or 'error')}**: ",
                )
                why += _md(t.last_error or "")
            else:
                state, why = "silent", "no new article for much longer than usual"
            lines.append(f"| {_md(t.name)} | {state} | {why} | {_when(t.last_success_at)} |")
    else:
        lines.append("_All active feeds are polling normally._")
    lines += ["", *events_markdown(data.events, data.pairs)]
    lines += ["", "## Latest trade headlines", ""]
    if data.headlines:
        for a in data.headlines:
            url = safe_url(a.url)
            title = _md(a.title or "(untitled)")
            link = f"[{title}]({_md_url(url)})" if url else title
            lines.append(
                f"- {link} · {_md(a.feed)} · published {a.published_at:%Y-%m-%d %H:%M} UTC{_outlets(a)}"
            )
    else:
        lines.append("_No trade articles in this period._")
    return "\n".join(lines) + "\n"
