"""One escaping module (alerts/escape.py): alerts, the report and the run artifact link the same URLs.

Issue 20: alerts linked ``https://host/a<TAB>b`` (after collapsing the tab to a space) and a URL hiding a
right-to-left override (after removing it), the report refused both, and the run artifact linked any
string starting with http. A link must go where it says, so all three now refuse them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alerts.escape import markdown_text, safe_url, slack_text
from alerts.render import AlertItem, render_instant
from reports.events import artifact_section

LINKED = ["https://news.example.com/steel?id=7", "http://example.org/a_(b)"]
REFUSED = [
    "https://news.example.com/a\tb",
    "https://news.example.com/a b",
    "https://news.example.com/\u202egnp.exe",
    "https://news.example.com/a\u200bb",
    "https://news.example.com/a\nb",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "//news.example.com/relative",
    "",
]


def _alert_html(url: str) -> str:
    item = AlertItem("Steel duties", url, "Wire", datetime(2026, 5, 6, tzinfo=UTC), 0.8, (("Steel", None),))
    return render_instant(item).body_html


@pytest.mark.parametrize("url", LINKED)
def test_a_safe_url_is_linked_by_the_alert_and_the_artifact(url: str) -> None:
    assert safe_url(url) == url
    assert "<a href=" in _alert_html(url)
    assert "](" in artifact_section([("EU raises steel duties", url)])[-1]


@pytest.mark.parametrize("url", REFUSED)
def test_an_unsafe_url_is_linked_by_neither(url: str) -> None:
    assert safe_url(url) is None
    assert "<a href=" not in _alert_html(url)
    assert "](" not in artifact_section([("EU raises steel duties", url)])[-1]


def test_markdown_and_slack_text_cannot_form_links_or_mentions() -> None:
    assert markdown_text("[click](javascript:x) <b>|</b>\n# heading") == (
        "\\[click\\](javascript:x) \\<b\\>\\|\\</b\\> \\# heading"
    )
    assert (
        slack_text("<!channel> & <https://evil|bank>") == "&lt;!channel&gt; &amp; &lt;https://evil|bank&gt;"
    )
