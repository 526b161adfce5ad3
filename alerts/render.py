"""Alert message rendering: one article (or a digest of many) into e-mail HTML, plain text and Slack mrkdwn.

Pure: builds strings, sends nothing. Everything that comes from a feed (title, URL, source name, matched
sentence) is written by strangers, so every such field goes through exactly one escaper for its target
format, after control and bidirectional-override characters are removed:

- HTML: `html.escape` (quotes too, since values also land in attributes); links only for http(s) URLs.
- Slack mrkdwn: ``&``, ``<``, ``>`` become entities (Slack's documented escaping), so stranger text can never
  form a link, a ``<!channel>`` mention or a user ping. Links are ``<url|label>`` with ``|``, ``<`` and ``>``
  percent-encoded inside the URL so the label cannot be hijacked.
- Plain text: no markup; the hit is emphasised with ``*`` as e-mail readers expect.

Rule names come from our own configuration and are escaped anyway (they are displayed, and cheap to escape).

Channel limits. A message a channel refuses is an alert lost, and a 400 for our own payload is our bug, so
every message is made to fit before it is sent, never by dropping an article:

- Slack: a section block's text is at most ``SLACK_SECTION_CHARS`` (3,000) characters, and it is the one
  block our Slack body goes in (no header block; a header is at most 150 characters). An instant alert
  fits by construction: a long title is cut (the link stays whole), matched sentences that do not fit
  are replaced by the names of their rules, and the text is cut at a safe point as a last resort. A
  digest is split by `digest_parts` into several messages, each its own delivery, so that a failure of
  one never re-sends another.
- E-mail: the subject is one line (stranger text has its line breaks and controls removed, so it can
  never start a header of its own) of at most ``TITLE_CAP`` characters, which the mail library folds
  into lines within RFC 5322's limits; bodies go out quoted-printable, whose lines are short whatever
  the text. A digest is split by `digest_parts` into e-mails of at most ``EMAIL_DIGEST_CHARS`` of HTML:
  Gmail clips a message past 102 KB ("[Message clipped]", the rest one click away and easy to miss), and
  SMTP servers refuse messages over their size limit (often 10 MB) with a permanent 552, which would lose
  the whole digest.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from alerts.escape import UNSAFE_CHARS, clean, html_text, safe_url, slack_text, slack_url
from alerts.rules import Match
from extractors.redact import redact_text, redact_url

__all__ = ["AlertItem", "Message", "StoryNote", "digest_parts", "render_digest", "render_instant"]

# Subject lines beyond this are cut by most mail clients and by Slack notifications anyway.
TITLE_CAP = 200
# Slack's documented limit on a section block's text (https://api.slack.com/reference/block-kit/blocks).
SLACK_SECTION_CHARS = 3000
# A headline in a Slack message is cut to this many characters: a 5,500-character title is not a
# headline, and the link it labels must stay whole within the section's 3,000.
SLACK_TITLE_CHARS = 300
# Classifier evidence quoted beside the trade score: enough to explain it, short enough for one line.
EVIDENCE_SHOWN = 3
# A link is only written when its URL is at most this long; a longer one is shown cut, as text.
SLACK_URL_CHARS = 1500
# Characters of HTML in one digest e-mail: under Gmail's 102 KB clipping point once the plain-text
# alternative and the headers are added, and far under any SMTP server's size limit.
EMAIL_DIGEST_CHARS = 60_000
# Product name at the head of subjects, so alerts can be filtered in a mail client.
PRODUCT = "tradewatch"
# An alert lists at most this many other outlets of its story; the rest are counted.
STORY_SOURCES_SHOWN = 10
# Trade-event lines ("US → CA · anti-dumping duty · …") per article: an instant alert lists this many, a
# digest entry fewer; each line is capped, so a story listing twenty measures stays one screen long and
# far inside Slack's and e-mail's limits.
EVENT_LINES = 5
DIGEST_EVENT_LINES = 2
EVENT_LINE_CAP = 200

# C0/C1 control characters and the Unicode bidi embedding/override/isolate controls: the latter can make a
# title display reversed ("Trojan Source" style) and so mislead the reader about what they click. Also the
# invisible ones (zero-width space, word joiner, BOM, Unicode tag characters), which hide text from the
# reader; the joiners U+200C/U+200D stay, as Persian, Indic scripts and emoji need them.


@dataclass(frozen=True)
class StoryNote:
    """The other outlets carrying an alert's story, and why their articles were taken for copies."""

    copies: tuple[tuple[str, str, str, str], ...]  # (source, title, url, why joined), in the order found
    outlets: int  # distinct outlets carrying the story, this article's included
    follow_up: bool = False  # this message is the story's "also reported by" follow-up


@dataclass(frozen=True)
class AlertItem:
    """One article that matched one or more rules for one channel."""

    title: str
    url: str
    source: str
    published: datetime | None
    trade_score: float | None
    rules: tuple[tuple[str, Match | None], ...]  # (rule name, match)
    events: tuple[str, ...] = ()  # one line per trade event (classifiers.events.describe)
    story: StoryNote | None = None
    # Why the classifier called it trade news, strongest first, e.g. "tariffs in headline": a reader
    # who sees a surprising score can judge the verdict without opening the database.
    evidence: tuple[str, ...] = ()


_FIELD_NAMES = {"title": "headline", "lede": "lede", "body": "body"}


def evidence_lines(evidence: Sequence[Any]) -> tuple[str, ...]:
    """The stored verdict's reasons *for* trade, strongest first, as "tariffs in headline".

    Only positive items: a reader asks why an alert was called trade news; the false-friend context
    that lowered the score is in `articles show`. Rows written before evidence was stored, or by a
    hand edit, may hold anything, so anything that is not a well-formed item is skipped.
    """
    best: dict[str, tuple[float, str]] = {}
    for ev in evidence:
        if not isinstance(ev, dict):
            continue
        phrase, where, weight = ev.get("phrase"), ev.get("field"), ev.get("weight")
        count = ev.get("count", 1)
        if not isinstance(phrase, str) or not phrase or not isinstance(weight, int | float) or weight <= 0:
            continue
        strength = float(weight) * (count if isinstance(count, int) and count > 0 else 1)
        line = f"{phrase} in {_FIELD_NAMES.get(str(where), 'text')}"
        if phrase not in best or strength > best[phrase][0]:
            best[phrase] = (strength, line)
    ranked = sorted(best.values(), key=lambda sl: -sl[0])
    return tuple(line for _, line in ranked[:EVIDENCE_SHOWN])


@dataclass(frozen=True)
class Message:
    """One message in every format a channel may want; `alerts.send` picks the one for the URL scheme."""

    title: str
    body_text: str
    body_html: str
    body_markdown: str


# ------------------------------------------------------------------------------------------ cleaning


def _subject(value: str) -> str:
    text = clean(value)
    return text if len(text) <= TITLE_CAP else text[: TITLE_CAP - 1].rstrip() + "…"


def _when(published: datetime | None) -> str:
    """Published time in UTC; a naive time is taken as UTC (that is how storage keeps it)."""
    if published is None:
        return ""
    if published.tzinfo is not None:
        published = published.astimezone(UTC)
    return published.strftime("%Y-%m-%d %H:%M UTC")


def _sentence_parts(match: Match) -> tuple[str, str, str]:
    """(before, hit, after) of the matched sentence, each cleaned, so each format can emphasise the hit."""
    s = match.sentence
    return (
        UNSAFE_CHARS.sub("", s[: match.hit_start]),
        UNSAFE_CHARS.sub("", s[match.hit_start : match.hit_end]),
        UNSAFE_CHARS.sub("", s[match.hit_end :]),
    )


# ------------------------------------------------------------------------------------------ escapers


def _cut(text: str, limit: int) -> str:
    """``text`` at most ``limit`` characters, ending with "…" when cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def _slack_link(url: str, label: str) -> str:
    if len(url) > SLACK_URL_CHARS:  # too long to link within the section: show where it goes, as text
        return slack_text(f"{_cut(label, SLACK_TITLE_CHARS)} ({_cut(url, 200)})")
    return f"<{slack_url(url)}|{slack_text(_cut(label, SLACK_TITLE_CHARS))}>"


_OPEN_LINK = re.compile(r"<[^>]*$")
_OPEN_ENTITY = re.compile(r"&[a-z]*$")


def fit_slack(text: str, limit: int = SLACK_SECTION_CHARS) -> str:
    """Slack mrkdwn cut to ``limit`` characters at a safe point, never inside a ``<url|label>`` link or an
    ``&amp;`` entity (a half link or entity would show as junk); "…" marks the cut."""
    if len(text) <= limit:
        return text
    cut = _OPEN_ENTITY.sub("", _OPEN_LINK.sub("", text[: limit - 1]))
    return cut.rstrip() + "…"


# --------------------------------------------------------------------------------------------- parts


@dataclass(frozen=True)
class _Format:
    """How one output format writes the pieces of a message."""

    escape: Callable[[str], str]
    link: Callable[[str, str], str]  # (url, label) -> link, both raw; url already checked http(s)
    emphasis: Callable[[str], str]  # escaped text -> emphasised
    strong: Callable[[str], str]
    line_break: str


_TEXT = _Format(
    escape=lambda v: v,
    link=lambda url, label: f"{label}\n{url}",
    emphasis=lambda v: f"*{v}*",
    strong=lambda v: v,
    line_break="\n",
)
_HTML = _Format(
    escape=html_text,
    # The address is shown as well as linked: mail clients (and apprise, which derives the e-mail's
    # plain-text part from this HTML) would otherwise drop it from the text version.
    link=lambda url, label: (
        f'<a href="{html_text(url)}">{html_text(label)}</a><br>\n'
        f'<a href="{html_text(url)}">{html_text(url)}</a>'
    ),
    emphasis=lambda v: f"<mark><strong>{v}</strong></mark>",
    strong=lambda v: f"<strong>{v}</strong>",
    line_break="<br>\n",
)
_SLACK = _Format(
    escape=slack_text,
    link=_slack_link,
    emphasis=lambda v: f"*{v}*",
    strong=lambda v: f"*{v}*",
    line_break="\n",
)


def _headline(item: AlertItem, fmt: _Format) -> str:
    """The article title as a link (http/https only), else the title and the raw URL as text."""
    title = clean(item.title) or "(untitled)"
    url = safe_url(item.url)
    if url is not None:
        return fmt.link(url, title)
    shown = _cut(clean(item.url), 500)
    return fmt.escape(f"{title} ({shown})" if shown else title)


def _facts(item: AlertItem) -> str:
    """Source · published · trade score, raw (escaped by the caller)."""
    parts = []
    if clean(item.source):
        parts.append(clean(item.source))
    if item.published is not None:
        parts.append(_when(item.published))
    if item.trade_score is not None:
        reasons = [r for r in (_cut(clean(e), 60) for e in item.evidence[:EVIDENCE_SHOWN]) if r]
        because = f" ({', '.join(reasons)})" if reasons else ""
        parts.append(f"trade score {item.trade_score:.2f}{because}")
    return " · ".join(parts)


def _event_lines(item: AlertItem, fmt: _Format, limit: int) -> list[str]:
    """The article's trade events, one escaped line each; the overflow is counted, not listed."""
    lines = []
    for line in item.events[:limit]:
        text = clean(line)
        if len(text) > EVENT_LINE_CAP:
            text = text[: EVENT_LINE_CAP - 1].rstrip() + "…"
        lines.append(fmt.escape(f"Event: {text}"))
    if len(item.events) > limit:
        lines.append(fmt.escape(f"… and {len(item.events) - limit} more events"))
    return lines


def _quote(match: Match, fmt: _Format) -> str:
    before, hit, after = _sentence_parts(match)
    return fmt.escape(before) + fmt.emphasis(fmt.escape(hit)) + fmt.escape(after)


def _rule_line(name: str, match: Match | None, fmt: _Format) -> str:
    head = fmt.strong(fmt.escape(clean(name)))
    if match is None:
        return head
    where = "" if match.field == "body" else f" (in {match.field})"
    return f"{head}{fmt.escape(where)}: {_quote(match, fmt)}"


def _story_lines(note: StoryNote | None, fmt: _Format) -> list[str]:
    """The "also reported by" lines: one per other outlet's copy, with the similarity that joined it."""
    if note is None or not note.copies:
        return []
    others = note.outlets - 1
    head = f"Also reported by {others} other outlet{'' if others == 1 else 's'}:" if others > 0 else "Also:"
    lines = [fmt.strong(fmt.escape(head))]
    for source, title, url, why in note.copies[:STORY_SOURCES_SHOWN]:
        safe = safe_url(url)
        label = f"{clean(source)}: {clean(title)}" if clean(source) else clean(title) or "(untitled)"
        link = fmt.link(safe, label).replace("\n", " ") if safe else fmt.escape(label)
        lines.append("• " + link + (fmt.escape(f" ({clean(why)})") if clean(why) else ""))
    if len(note.copies) > STORY_SOURCES_SHOWN:
        lines.append(fmt.escape(f"… and {len(note.copies) - STORY_SOURCES_SHOWN} more"))
    return lines


def _instant_body(item: AlertItem, fmt: _Format, names: list[str] | None = None) -> str:
    lines = [_headline(item, fmt)]
    facts = _facts(item)
    if facts:
        lines.append(fmt.escape(facts))
    lines.extend(_event_lines(item, fmt, EVENT_LINES))
    listed = names if names is not None else [clean(n) for n, _ in item.rules]
    label = "Rule" if len(listed) == 1 else "Rules"
    lines.append(fmt.escape(f"{label}: ") + fmt.escape(", ".join(listed)))
    lines.extend(_rule_line(name, match, fmt) for name, match in item.rules)
    lines.extend(_story_lines(item.story, fmt))
    return fmt.line_break.join(lines)


def _rule_names(item: AlertItem) -> list[str]:
    return list(dict.fromkeys(clean(name) for name, _ in item.rules))


def _slack_instant(item: AlertItem) -> str:
    """The instant alert in Slack mrkdwn, within one section block: matched sentences that do not fit are
    left out from the last one back (their rules are still named on the "Rules:" line)."""
    body = _instant_body(item, _SLACK)
    rules = item.rules
    while len(body) > SLACK_SECTION_CHARS and rules:
        rules = rules[:-1]
        shown = dataclasses.replace(item, rules=rules)
        left = len(item.rules) - len(rules)
        body = _instant_body(shown, _SLACK, names=_rule_names(item)) + slack_text(
            f"\n… and {left} more matched sentence{'s' if left > 1 else ''}, not shown here"
        )
    return fit_slack(body)


def render_instant(item: AlertItem) -> Message:
    """One article matching one or more rules for one channel, as one message listing every rule."""
    names = ", ".join(_rule_names(item))
    title = _subject(f"[{PRODUCT}: {names}] {item.title}")
    if item.story is not None and item.story.follow_up:
        title = _subject(f"[{PRODUCT}: {names}] Now {item.story.outlets} outlets: {item.title}")
    text = _instant_body(item, _TEXT)
    body_html = "<div>\n<p>" + _instant_body(item, _HTML) + "</p>\n</div>\n"
    return Message(
        title=title, body_text=text + "\n", body_html=body_html, body_markdown=_slack_instant(item)
    )


# ------------------------------------------------------------------------------------------- digests


def _group(items: Sequence[AlertItem]) -> dict[str, list[tuple[AlertItem, Match | None]]]:
    """Rule name -> its articles, rules in order of first appearance; an article may sit under several."""
    groups: dict[str, list[tuple[AlertItem, Match | None]]] = {}
    for item in items:
        seen: set[str] = set()
        for name, match in item.rules:
            key = clean(name)
            if key in seen:
                continue
            seen.add(key)
            groups.setdefault(key, []).append((item, match))
    return groups


def _digest_entry(item: AlertItem, match: Match | None, fmt: _Format, bullet: str) -> str:
    line = bullet + _headline(item, fmt).replace("\n", " ")
    facts = _facts(item)
    if item.story is not None and item.story.outlets > 1:
        facts = f"{facts} · {item.story.outlets} outlets" if facts else f"{item.story.outlets} outlets"
    if facts:
        line += fmt.escape(f" ({facts})")
    for event in _event_lines(item, fmt, DIGEST_EVENT_LINES):
        line += fmt.line_break + "   " + event
    if match is not None:
        line += fmt.line_break + "   " + _quote(match, fmt)
    return line


def _digest_body(groups: dict[str, list[tuple[AlertItem, Match | None]]], fmt: _Format) -> str:
    blocks = []
    for name, entries in groups.items():
        count = f" ({len(entries)})"
        lines = [fmt.strong(fmt.escape(name + count))]
        lines.extend(_digest_entry(item, match, fmt, "• ") for item, match in entries)
        blocks.append(fmt.line_break.join(lines))
    if not blocks:
        blocks.append(fmt.escape("No new matching articles."))
    return (fmt.line_break * 2).join(blocks)


def render_digest(period_label: str, items: Sequence[AlertItem]) -> Message:
    """One message per channel and period, grouped by rule name (an article under every rule it matched)."""
    period = clean(period_label)
    groups = _group(items)
    articles = len({(i.url, i.title) for i in items})
    noun = "article" if articles == 1 else "articles"
    title = _subject(f"[{PRODUCT} digest] {period}: {articles} {noun}, {len(groups)} rules")
    if len(groups) == 1:
        title = _subject(f"[{PRODUCT} digest] {period}: {articles} {noun}, 1 rule")
    heading = f"{PRODUCT} digest — {period}"
    text = heading + "\n\n" + _digest_body(groups, _TEXT) + "\n"
    body_html = f"<div>\n<h2>{html_text(heading)}</h2>\n<p>" + _digest_body(groups, _HTML) + "</p>\n</div>\n"
    markdown = fit_slack(f"*{slack_text(heading)}*\n\n" + _digest_body(groups, _SLACK))
    return Message(title=title, body_text=text, body_html=body_html, body_markdown=markdown)


#: Room kept in each digest part for its heading ("tradewatch digest — <period> (part 12 of 30)").
_DIGEST_HEADING_ROOM = 200

#: The formats a digest can be measured in, for `digest_parts`: Slack's mrkdwn, or the HTML of an e-mail.
DIGEST_FORMATS: dict[str, _Format] = {"slack": _SLACK, "html": _HTML}


def digest_parts(
    items: Sequence[AlertItem], limit: int = SLACK_SECTION_CHARS, *, fmt: str = "slack"
) -> list[list[AlertItem]]:
    """The digest's articles in consecutive parts whose rendering in ``fmt`` ("slack" or "html") fits
    ``limit`` characters, in order, each article in exactly one part; render each with `render_digest`.
    An article too big for a part of its own is alone in its part (and `render_digest` cuts its Slack
    text to fit).

    Sizes are measured once per (article, rule) entry and summed, with a rule's heading counted where
    the rule first appears in a part, so splitting a 1,000-article digest costs one rendering of each.
    """
    form = DIGEST_FORMATS[fmt]
    room = limit - _DIGEST_HEADING_ROOM
    gap = len(form.line_break)

    def heading(name: str) -> int:  # "*name (count)*" and the blank line before it
        return len(form.strong(form.escape(f"{name} (99999)"))) + 2 * gap

    parts: list[list[AlertItem]] = []
    current: list[AlertItem] = []
    used = 0
    rules_in_part: set[str] = set()
    for item in items:
        entries: dict[str, int] = {}
        for name, match in item.rules:
            key = clean(name)
            if key not in entries:
                entries[key] = len(_digest_entry(item, match, form, "• ")) + gap
        size = sum(entries.values()) + sum(heading(key) for key in entries if key not in rules_in_part)
        if current and used + size > room:
            parts.append(current)
            current, used, rules_in_part = [], 0, set()
            size = sum(entries.values()) + sum(heading(key) for key in entries)
        current.append(item)
        used += size
        rules_in_part |= entries.keys()
    if current or not parts:
        parts.append(current)
    return parts


# --------------------------------------------------------------------------------------- operators


def render_feed_trouble(name: str, url: str, reason: str, detail: str, failures: int) -> Message:
    """A note to the operator that a feed keeps failing: which feed, why, and how to look closer.

    The feed's name and URL come from configuration, but the error detail can quote a stranger's
    server, so every part is escaped like article fields; the URL, and any URL in the detail, is
    redacted, since a feed URL may carry a token and e-mail is stored in many places.
    """
    facts = [
        f"Feed: {clean(name)}",
        f"URL: {clean(redact_url(url))}",
        f"Failed {failures} times in a row; last reason: {clean(reason)}",
        f"Detail: {clean(redact_text(detail))[:500]}",
        "See `tradewatch feeds status`; polling continues with backoff.",
    ]
    return Message(
        title=_subject(f"[{PRODUCT}] feed failing: {name}"),
        body_text="\n".join(facts) + "\n",
        body_html="<div>\n<p>" + "<br>\n".join(html_text(f) for f in facts) + "</p>\n</div>\n",
        body_markdown="\n".join(slack_text(f) for f in facts),
    )
