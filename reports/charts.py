"""The report's charts as inline SVG: trade articles per day (vertical bars) and per source (horizontal).

Drawn here rather than by a plotting library: a few rectangles and labels, no script, no external font or
stylesheet, so the same markup works inline in the HTML file and as a data: image in the Prefect UI.
Feed names are strangers' text: every label is escaped (``alerts.escape``).
"""

from __future__ import annotations

import base64
import math
from datetime import date

from alerts.escape import html_text as _h

#: Chart geometry in CSS pixels. The per-day chart is fixed; the per-source chart grows by one row per feed.
CHART_WIDTH = 720
DAY_CHART_HEIGHT = 240
SOURCE_ROW_HEIGHT = 26
SOURCE_CHART_PADDING = 14

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


def data_uri(svg: str) -> str:
    """The SVG as a data: URI, for markdown images (the Prefect UI renders them)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
