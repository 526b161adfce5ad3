"""The report as one self-contained HTML file (a jinja2 template, autoescaped) or as markdown.

The HTML file has no scripts and loads nothing: styles are inline, the charts are inline SVG
(``reports.charts``), and a Content-Security-Policy forbids everything else, so the file can be mailed,
archived or opened from a shared drive and looks the same everywhere. Titles and URLs come from strangers'
feeds: the template escapes every value (autoescape), and only ``safe_url`` URLs become links.

The markdown form is for the Prefect UI (the daily digest run publishes it as an artifact). Prefect 3.9's
UI renders ``![alt](data:image/...)`` images — the V2 markdown renderer explicitly allows ``data:image/``
in ``img src`` and V1 passes it through; both were checked in Chromium, each chart shown at 720 px — so
the charts are the same SVGs embedded as data URIs, followed by a table with a unicode bar column so the
numbers are readable where images are not shown (e-mail, a terminal).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from alerts.escape import markdown_text as _md
from alerts.escape import markdown_url as _md_url
from alerts.escape import safe_url
from reports import events as event_parts
from reports.charts import data_uri, day_chart_svg, source_chart_svg
from reports.data import ReportData, report_for
from reports.events import events_markdown

if TYPE_CHECKING:
    from jinja2 import Environment
    from markupsafe import Markup

    from storage.stats import TradeArticle

#: Nothing may load or run: the report is data, and a stranger's title must never become a script.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else "never"


def period_text(data: ReportData) -> str:
    return f"{data.since:%Y-%m-%d %H:%M} – {data.now:%Y-%m-%d %H:%M} UTC"


def _outlets(article: TradeArticle) -> str:
    """The " · also N other outlets" note of a story several outlets carried (see `tradewatch stories`)."""
    others = article.outlets - 1
    if others <= 0:
        return ""
    return f" · story {article.story_id}, also {others} other outlet{'' if others == 1 else 's'}"


def _link(url: str | None, label: str) -> Markup:
    """``label`` as a link to ``url`` when it is safe to follow, else as text; both escaped."""
    from markupsafe import Markup, escape

    safe = safe_url(url)
    if safe is None:
        return escape(label)
    return Markup('<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>').format(
        safe, label
    )


@cache
def _environment() -> Environment:
    """The template environment: autoescape on for every template, whatever its name."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    environment = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.globals.update(
        when=_when,
        link=_link,
        outlets=_outlets,
        event_who=event_parts.who,
        event_rate=event_parts.rate,
        event_when=event_parts.when,
        pair_measures=event_parts.measures,
        event_rows=event_parts.EVENT_ROWS,
        pair_rows=event_parts.PAIR_ROWS,
    )
    return environment


def render_html(data: ReportData) -> str:
    """The whole report as one HTML document with inline CSS and SVG; no scripts, nothing fetched."""
    from markupsafe import Markup

    from storage import stats

    cards = [
        (len(data.trade), "trade articles found", False),
        (len(data.per_source), "sources", False),
        (data.articles_stored, "articles stored", False),
        (data.alerts_sent, "alerts sent", False),
        (len(data.troubled), "feeds in trouble", bool(data.troubled)),
    ]
    headlines = data.headlines
    return (
        _environment()
        .get_template("report.html")
        .render(
            data=data,
            csp=Markup(CSP),  # noqa: S704 (our constant)
            period=period_text(data),
            cards=cards,
            # Built and escaped by reports.charts (labels are strangers' feed names): the one safe markup.
            day_chart=Markup(day_chart_svg(data.per_day)),  # noqa: S704
            source_chart=Markup(source_chart_svg(data.per_source)),  # noqa: S704
            headlines=headlines,
            more=len(stats.one_per_story(data.trade)) - len(headlines),
        )
    )


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
        f"![Trade articles per day]({data_uri(day_chart_svg(data.per_day))})",
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
            f"![Trade articles per source]({data_uri(source_chart_svg(data.per_source))})",
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


def report_markdown_for(database_url: str, since: datetime, now: datetime) -> str:
    """The markdown report for a database, for the daily flow's Prefect artifact."""
    return render_markdown(report_for(database_url, since, now))
