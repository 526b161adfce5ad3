"""The checks of ``tradewatch doctor``: can this installation run? Configuration, database, channels, feeds.

Each check is one row of a table (plain text, no colour, so it reads the same in a terminal, a log or CI):

    check     target                     status  detail
    config    tradewatch.toml            ok      2 feeds, 1 channel, 1 rule
    database  sqlite:///data/tw.db       ok      at head revision 9ae6711efacd
    channel   desk-email                 ok      mailto://127.0.0.1; test message sent
    feed      Demo Business Desk (RSS)   ok      HTTP 200, 5 entries

Exit status: 0 when every check passed, 1 when any failed, 2 when the configuration itself is unusable
(nothing else can be checked then). ``--send-test`` sends a real test message to every channel;
without it a channel is only resolved (``env:`` and ``secret:`` references read). ``--json`` prints the
rows as a JSON array. Secrets never appear: channel URLs are shown as scheme and server only, database
URLs and feed URLs through ``extractors.redact`` (no password, no query values).

The command (``cli/doctor.py``) only prints; the checks are here, plain functions usable on their own.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from alerts.escape import html_text, slack_text
from flows.settings import ConfigError, Settings

__all__ = ["Check", "render_table", "run_checks"]

#: A doctor run should answer quickly even when a feed host is down.
FEED_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Check:
    """One row of the report."""

    check: str
    target: str
    status: str  # ok | failed | warning
    detail: str

    @property
    def ok(self) -> bool:
        return self.status != "failed"


def _database_checks(settings: Settings) -> list[Check]:
    from sqlalchemy import text

    from extractors.redact import redact_url
    from storage.db import make_engine
    from storage.migrate import current_revision, head_revision

    shown = redact_url(settings.database.url)
    try:
        engine = make_engine(settings.database.url)
    except Exception as exc:
        return [Check("database", shown, "failed", f"cannot build an engine: {_short(exc)}")]
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current, head = current_revision(engine), head_revision()
    except Exception as exc:
        return [Check("database", shown, "failed", f"unreachable: {_short(exc)}")]
    finally:
        engine.dispose()
    if current == head:
        return [Check("database", shown, "ok", f"reachable, at head revision {head}")]
    if current is None:
        detail = f"reachable, no schema yet (head is {head}); run `tradewatch db upgrade` or a first run"
        return [Check("database", shown, "warning", detail)]
    detail = f"reachable, at revision {current} but head is {head}; run `tradewatch db upgrade`"
    return [Check("database", shown, "failed", detail)]


def _channel_checks(settings: Settings, send_test: bool) -> list[Check]:
    from alerts.render import Message
    from alerts.send import DeliveryError, send
    from extractors.redact import redact_url

    rows = []
    for name in sorted(settings.channels):
        try:
            url = settings.channel_url(name)
        except ConfigError as exc:
            rows.append(Check("channel", name, "failed", str(exc)))
            continue
        shown = _with_port(redact_url(url, keep_path=False), url)
        if not send_test:
            rows.append(
                Check("channel", name, "ok", f"{shown}; resolved (use --send-test to send a message)")
            )
            continue
        message = Message(
            title="tradewatch doctor: test message",
            body_text=f"This is a test message from `tradewatch doctor` for the channel {name}.\n",
            body_html=f"<p>This is a test message from <code>tradewatch doctor</code> for the channel "
            f"{html_text(name)}.</p>\n",
            body_markdown="This is a test message from `tradewatch doctor` for the channel "
            f"{slack_text(name)}.",
        )
        try:
            send(url, message, channel=name)
        except DeliveryError as exc:
            rows.append(Check("channel", name, "failed", f"{shown}; {exc.reason}"))
        except Exception as exc:  # apprise surprises must not end the report
            rows.append(Check("channel", name, "failed", f"{shown}; {type(exc).__name__}"))
        else:
            rows.append(Check("channel", name, "ok", f"{shown}; test message sent"))
    return rows


async def _feed_checks(settings: Settings) -> list[Check]:
    from extractors.errors import StageError
    from extractors.feeds import parse_feed
    from extractors.http import Fetcher
    from extractors.redact import redact_url

    async def one(fetcher: Fetcher, name: str, url: str) -> Check:
        try:
            async with asyncio.timeout(FEED_TIMEOUT_S):
                response = await fetcher.fetch_feed(url)
            parsed = parse_feed(
                response.content, response.url, charset=response.charset, content_type=response.content_type
            )
        except StageError as exc:
            return Check("feed", name, "failed", f"{redact_url(url)}: {exc.reason}: {exc.message}")
        except TimeoutError:
            return Check(
                "feed", name, "failed", f"{redact_url(url)}: timeout: no answer in {FEED_TIMEOUT_S:g} s"
            )
        detail = f"{redact_url(url)}: HTTP {response.status}, {len(parsed.entries)} entries"
        if not parsed.entries:
            return Check("feed", name, "warning", detail)
        return Check("feed", name, "ok", detail)

    async with Fetcher(settings.fetch.policy()) as fetcher:
        return list(await asyncio.gather(*(one(fetcher, f.name, f.url) for f in settings.feeds)))


def run_checks(settings: Settings, *, source: str, send_test: bool = False) -> list[Check]:
    """Every check for a loaded configuration, in table order."""
    counts = (
        f"{len(settings.feeds)} feed(s), {len(settings.channels)} channel(s), {len(settings.rules)} rule(s)"
    )
    rows = [Check("config", source, "ok", counts)]
    rows += _database_checks(settings)
    rows += _channel_checks(settings, send_test)
    rows += asyncio.run(_feed_checks(settings))
    return rows


def render_table(rows: list[Check]) -> str:
    """A plain-text table, columns padded to their widest cell; no colour or box characters."""
    header = ("check", "target", "status", "detail")
    cells = [header, *[(r.check, _one_line(r.target), r.status, _one_line(r.detail)) for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(3)]
    lines = []
    for row in cells:
        lines.append(
            "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
        )
    return "\n".join(line.rstrip() for line in lines)


def _with_port(shown: str, url: str) -> str:
    """The redacted channel with its port: ``mailto://127.0.0.1:8025`` says which server was tried."""
    from urllib.parse import urlsplit

    try:
        port = urlsplit(url.strip()).port
    except ValueError:
        return shown
    return f"{shown}:{port}" if port and not shown.endswith("***") else shown


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _short(exc: BaseException) -> str:
    """The first line of an exception, which for SQLAlchemy errors is the driver's own message."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}"[:300]
