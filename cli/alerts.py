"""`tradewatch alerts`: the outbox (what was sent, what waits, what failed) and sending what is due.

`status` only reads the store; `send` writes (it marks deliveries sent), so it migrates first as a run does.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from cli.common import ConfigOption, fail, group, iso, settings_for, store


def _next_digest(mode: str, now: datetime) -> datetime:
    """The next run of the hourly or daily digest deployment after ``now`` (UTC)."""
    from flows.outbox import DAILY_DIGEST_HOUR, HOURLY_DIGEST_MINUTE

    if mode == "hourly":
        at = now.replace(minute=HOURLY_DIGEST_MINUTE, second=0, microsecond=0)
        return at if at > now else at + timedelta(hours=1)
    at = now.replace(hour=DAILY_DIGEST_HOUR, minute=0, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


def _when(row: dict[str, Any], now: datetime) -> str:
    """When a delivery goes, in words: a digest with its next scheduled run, an instant alert's retry."""
    if row["status"] == "sent":
        return f"sent {(row['sent_at'] or '')[:16].replace('T', ' ')}"
    if row["status"] == "failed":
        return "given up (8 attempts); it will not be retried"
    if row["mode"] in ("hourly", "daily"):
        at = _next_digest(row["mode"], now)
        return (
            f"{row['mode']} digest: {at:%Y-%m-%d %H:%M} UTC under `tradewatch serve`, "
            f"or now with `tradewatch alerts send --digest {row['mode']}`"
        )
    due = row["next_attempt_at"]
    if not due or datetime.fromisoformat(due).replace(tzinfo=UTC) <= now:
        return "instant: due now; the next `tradewatch run` or `tradewatch alerts send` sends it"
    return f"instant: retry after {due[:16].replace('T', ' ')} UTC (`tradewatch run` or `alerts send`)"


def alerts_status(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Counts and rows as JSON, for scripts.")] = False,
    all_rows: Annotated[
        bool, typer.Option("--all", help="Also list sent alerts, not only pending/failed.")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 50,
) -> None:
    """Outbox counts by status, then each alert waiting or given up: mode, when it goes, last error."""
    import shutil
    import textwrap

    from sqlmodel import Session

    from storage import repo

    with store(settings_for(config), write=False) as engine, Session(engine) as session:
        counts = repo.delivery_counts(session)
        statuses = () if all_rows else ("pending", "sending", "failed")
        views = repo.list_deliveries(session, statuses=statuses, limit=limit)
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = [
        {
            "id": v.delivery.id,
            "status": v.delivery.status,
            "rule": v.rule,
            "channel": v.delivery.channel,
            "mode": v.delivery.mode,
            "attempts": v.delivery.attempts,
            "last_error": v.delivery.last_error,
            "next_attempt_at": iso(v.delivery.next_attempt_at),
            "sent_at": iso(v.delivery.sent_at),
            "article_title": v.article_title,
            "article_url": v.article_url,
        }
        for v in views
    ]
    for row in rows:
        row["goes"] = _when(row, now)
    if as_json:
        typer.echo(json.dumps({"counts": counts, "deliveries": rows}, ensure_ascii=False, indent=2))
        return
    typer.echo("outbox: " + (", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "empty"))
    # One block per alert, wrapped to the terminal (80 columns in a pipe): a table of seven columns,
    # two of them free text, was unreadable at 80.
    width = max(60, shutil.get_terminal_size((80, 24)).columns) if sys.stdout.isatty() else 80

    def wrapped(label: str, text: object) -> None:
        typer.echo(textwrap.fill(str(text), width, initial_indent=f"  {label}", subsequent_indent="    "))

    for row in rows:
        typer.echo(
            f"\n#{row['id']} {row['status']}: rule {row['rule']!r} -> {row['channel']}, "
            f"{row['mode']}, {row['attempts']} attempt(s)"
        )
        wrapped("article: ", row["article_title"] or row["article_url"] or "")
        wrapped("goes: ", row["goes"])
        if row["last_error"]:
            wrapped("last error: ", row["last_error"])


def alerts_send(
    config: ConfigOption = None,
    digest: Annotated[
        str | None,
        typer.Option(
            help="Also send the hourly or daily digest now (or 'all'): the way to send digests from cron "
            "without `tradewatch serve`."
        ),
    ] = None,
) -> None:
    """Send what waits in the outbox now: instant alerts that are due, and with --digest a digest."""
    from flows.outbox import deliver_pending
    from storage.models import utcnow

    digests = {None: [], "hourly": ["hourly"], "daily": ["daily"], "all": ["hourly", "daily"]}
    if digest not in digests:
        raise fail(f"--digest {digest!r}: use hourly, daily or all")
    settings = settings_for(config)
    with store(settings, write=True) as engine:
        for mode in ["instant", *digests[digest]]:
            label = f"{mode} digest, {utcnow():%Y-%m-%d %H:%M} UTC" if mode != "instant" else ""
            report = deliver_pending(engine, settings.channel_url, modes=[mode], period_label=label)
            typer.echo(
                f"{mode}: {report.messages} message(s) sent covering {report.sent} alert(s), "
                f"{report.retrying} to retry, {report.failed} given up"
            )
            for error in report.errors:
                typer.echo(f"  {error}", err=True)


def register(app: typer.Typer) -> None:
    """Add the `alerts` group to the tradewatch app."""
    alerts = group(
        app, "alerts", "The alert outbox: what was sent, what waits, what failed; send what is due."
    )
    alerts.command("status")(alerts_status)
    alerts.command("send")(alerts_send)
