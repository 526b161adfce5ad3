"""Stranger text into HTML, Slack mrkdwn and markdown, and which URLs may become links: the one module.

Alert messages (``alerts.render``), the report (``reports``) and doctor's test message (``flows.doctor``)
all place feed-supplied text in markup; each used to carry its own escapers, and the two ``safe_url``
disagreed (one linked ``https://host/a<TAB>b`` after collapsing the tab, the other refused it; one
linked a URL hiding a right-to-left override, the other removed it first). Every caller now uses these.

- ``clean``: one line of stranger text, control, bidirectional-override and invisible characters dropped.
- ``html_text``: ``html.escape`` with quotes, since values also land in attributes.
- ``slack_text``: exactly the three characters Slack documents (``&``, ``<``, ``>``), so stranger text can
  never form a link, a ``<!channel>`` mention or a user ping; ``slack_url`` for the URL of ``<url|label>``.
- ``markdown_text``: one line, markdown's active characters backslash-escaped (no links, emphasis, tables
  or HTML of its own); ``markdown_url`` for the target of ``[label](url)``.
- ``safe_url``: the URL when a browser may follow it: absolute http(s), and not one character a browser
  would silently drop or reorder (whitespace, controls, invisible or bidi characters), so what is shown is
  what is followed.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

__all__ = ["clean", "html_text", "markdown_text", "markdown_url", "safe_url", "slack_text", "slack_url"]

#: C0 and C1 controls (tab and newline are whitespace, collapsed by ``clean``), bidi marks and overrides,
#: zero-width and invisible characters, tag characters: none of them belongs in a title or a URL.
UNSAFE_CHARS = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff"
    r"\U000e0000-\U000e007f]"
)
_WHITESPACE = re.compile(r"\s+")
_MARKDOWN_ACTIVE = "\\`*_[]<>|!#"


def clean(value: str) -> str:
    """One line of stranger text: unsafe characters dropped, whitespace (newlines too) collapsed."""
    return _WHITESPACE.sub(" ", UNSAFE_CHARS.sub("", value)).strip()


def html_text(value: object) -> str:
    return html.escape(str(value), quote=True)


def slack_text(value: str) -> str:
    """Slack mrkdwn text escaping, exactly the three characters Slack documents."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_url(url: str) -> str:
    """A URL safe inside ``<url|label>``: ``|`` would end the URL, ``>`` would end the link."""
    return url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E").replace("&", "&amp;")


def markdown_text(text: str) -> str:
    """Stranger-supplied text in markdown: one line, no table breaks, no links or HTML of its own."""
    flat = " ".join(text.split())
    for ch in _MARKDOWN_ACTIVE:
        flat = flat.replace(ch, "\\" + ch)
    return flat


def markdown_url(url: str) -> str:
    """A (safe) URL as the target of ``[label](url)``: brackets and angle brackets percent-encoded."""
    return url.replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")


def safe_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) URL a browser may follow as shown; None for anything else."""
    if not url or _WHITESPACE.search(url) or UNSAFE_CHARS.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url
