"""Prefect flows: ``ingest`` (poll, extract, classify, store, alert) and ``deliver`` (send the outbox).

Orchestration only: the work is in ``flows.process`` and the leaf packages. Tasks sit at coarse I/O
boundaries — one for the feed batch, one for delivery — because each task run costs the Prefect server
tens of milliseconds of CPU, far more than processing one article. Parameters are typed and documented
so the Prefect UI's "Custom run" form is meaningful, and each run leaves a markdown artifact.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import FlowRun
from pydantic import BaseModel
from sqlmodel import Session

from alerts.render import render_feed_trouble
from alerts.send import DeliveryError, send
from extractors.redact import RedactingFilter, redact_url
from flows.outbox import DeliveryReport, deliver_pending
from flows.process import FeedOutcome, failures_by_reason
from flows.progress import RunProgress
from flows.run import open_store, plan_run, run_ingest
from flows.settings import ConfigError, Settings, load_settings
from reports.events import artifact_section
from storage import repo
from storage.db import make_engine
from storage.models import utcnow

log = logging.getLogger("tradewatch.ingest")
log.addFilter(RedactingFilter())


class RunSummary(BaseModel):
    """The result of one ingest run; ``line()`` is the last line every CLI run prints."""

    feeds: int = 0
    new_articles: int = 0
    trade: int = 0
    alerts_sent: int = 0
    alerts_failed: int = 0
    alerts_retrying: int = 0
    alerts_waiting: int = 0
    failures: int = 0
    failures_by_reason: dict[str, int] = {}
    dry_run: bool = False

    def line(self) -> str:
        """``alerts_waiting`` counts every outbox row not yet sent (a retry, a digest, a channel whose
        variable is unset): ``alerts_sent=0`` alone read as "nothing matched"."""
        line = (
            f"summary: feeds={self.feeds} new_articles={self.new_articles} trade={self.trade} "
            f"alerts_sent={self.alerts_sent} alerts_waiting={self.alerts_waiting} failures={self.failures}"
        )
        return line + " (dry run: nothing stored or sent)" if self.dry_run else line


def _waiting_alerts(settings: Settings) -> int:
    """Outbox rows still to send, whatever their mode, for the summary line."""
    engine = make_engine(settings.database.url)
    try:
        with Session(engine) as session:
            counts = repo.delivery_counts(session)
    finally:
        engine.dispose()
    return counts.get("pending", 0) + counts.get("sending", 0)


@task(name="poll-feeds", cache_policy=NO_CACHE)
def poll_feeds(settings: Settings, feed_names: list[str], due_only: bool, dry_run: bool) -> list[FeedOutcome]:
    """Poll the selected feeds and store their new articles (one task for the whole batch)."""
    logger = get_run_logger()
    engine = open_store(settings)
    try:
        plan = plan_run(engine, settings, feed_names, due_only=due_only, dry_run=dry_run)
        logger.info("polling %d feed(s) with %d rule(s)", len(plan.feeds), len(plan.rules))
        outcomes = run_ingest(plan, on_feed_done=RunProgress(len(plan.feeds)))
    finally:
        engine.dispose()
    for outcome in outcomes:
        if outcome.status == "failed":
            logger.warning("feed %r failed: %s (%s)", outcome.name, outcome.reason, outcome.message)
        else:
            logger.info(
                "feed %r: %s, %d entries, %d new, %d trade",
                outcome.name,
                outcome.status,
                outcome.entries,
                outcome.new_articles,
                len(outcome.trade_articles),
            )
    return outcomes


@task(name="send-alerts", cache_policy=NO_CACHE)
def send_alerts(settings: Settings, modes: list[str], period_label: str = "") -> DeliveryReport:
    """Send due outbox rows for the given modes; failures stay queued for a later run."""
    engine = open_store(settings)
    report = deliver_pending(engine, settings.channel_url, modes=modes, period_label=period_label)
    if report.errors:  # each failure was logged once as a warning by tradewatch.deliver (an extra logger)
        get_run_logger().info("%d delivery error(s); the rows stay queued for a retry", len(report.errors))
    engine.dispose()
    return report


def tell_operator(settings: Settings, outcomes: list[FeedOutcome]) -> int:
    """Send the operator one note per feed whose failure streak just reached the threshold.

    "Just reached" (equal, not greater) means one note per streak, not one per run; a feed that
    recovers and fails again starts a new streak. A note that cannot be sent is logged, never fatal.
    """
    channel = settings.operator.channel
    if channel is None:
        return 0
    sent = 0
    for o in outcomes:
        if o.status != "failed" or o.failures_in_a_row != settings.operator.feed_failure_threshold:
            continue
        note = render_feed_trouble(o.name, o.url, o.reason or "unknown", o.message or "", o.failures_in_a_row)
        try:
            send(settings.channel_url(channel), note, channel=channel)
            sent += 1
        except (DeliveryError, ConfigError) as exc:
            log.warning("could not tell the operator about feed %r: %s", o.name, exc)
    return sent


def shard_of(url: str, shards: int) -> int:
    """Which shard polls a feed: by host, so one host is only ever fetched from one worker per cycle.

    That keeps per-host politeness (concurrency and delay, enforced per Fetcher) true across workers
    without a round-trip to a shared limiter for every request.
    """
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    return int(hashlib.sha1(host.encode(), usedforsecurity=False).hexdigest(), 16) % shards


def _wait_for_all(run_ids: list[Any], poll_seconds: float = 2.0) -> list[FlowRun]:
    """Block until every flow run is in a final state (the shards run on workers, not here)."""
    import time

    from prefect.client.orchestration import get_client

    pending = list(run_ids)
    done: dict[Any, FlowRun] = {}
    with get_client(sync_client=True) as client:
        while pending:
            for run_id in list(pending):
                run = client.read_flow_run(run_id)
                if run.state is not None and run.state.is_final():
                    done[run_id] = run
                    pending.remove(run_id)
            if pending:
                time.sleep(poll_seconds)
    return [done[run_id] for run_id in run_ids]


def _fan_out(
    settings: Settings,
    config: str | None,
    feeds: list[str],
    due_only: bool,
    dry_run: bool,
    deliver: bool,
    shards: int,
    shard_deployment: str,
) -> RunSummary:
    """Start one flow run of ``shard_deployment`` per non-empty shard, wait for all, then deliver once."""
    from prefect.deployments import run_deployment

    logger = get_run_logger()
    started = utcnow()
    engine = open_store(settings)
    due = plan_run(engine, settings, feeds, due_only=due_only, dry_run=dry_run, now=started).feeds
    groups: dict[int, list[str]] = {}
    for feed in due:
        groups.setdefault(shard_of(feed.url, shards), []).append(feed.url)
    runs = [
        run_deployment(
            name=shard_deployment,
            parameters={"config": config, "feeds": urls, "dry_run": dry_run, "deliver": False},
            flow_run_name=f"ingest shard {index + 1}/{shards} ({len(urls)} feeds)",
            timeout=0,
        )
        for index, urls in sorted(groups.items())
    ]
    logger.info("started %d shard run(s) for %d due feed(s)", len(runs), len(due))
    finished = _wait_for_all([cast(FlowRun, run).id for run in runs])
    failed_shards = [run.name for run in finished if not (run.state and run.state.is_completed())]
    report = send_alerts(settings, ["instant"]) if deliver and not dry_run else DeliveryReport()
    with Session(engine) as session:
        totals = repo.run_totals(session, started)
    engine.dispose()
    reasons = dict(totals.failures_by_reason)
    if failed_shards:
        reasons["shard_failed"] = len(failed_shards)
    summary = RunSummary(
        feeds=len(due),
        new_articles=totals.new_articles,
        trade=totals.trade,
        alerts_sent=report.messages,
        alerts_failed=report.failed,
        alerts_retrying=report.retrying,
        alerts_waiting=_waiting_alerts(settings),
        failures=sum(reasons.values()),
        failures_by_reason=reasons,
        dry_run=dry_run,
    )
    shard_lines = "\n".join(f"- {run.name}: {run.state.name if run.state else '?'}" for run in finished)
    create_markdown_artifact(
        key="ingest-summary",
        markdown=f"# tradewatch ingest (sharded)\n\n`{summary.line()}`\n\n## Shards\n\n{shard_lines}\n",
        description=summary.line(),
    )
    return summary


def _artifact(summary: RunSummary, outcomes: list[FeedOutcome], report: DeliveryReport) -> str:
    """The markdown the Prefect UI shows for the run: feeds, failures with reasons, trade articles, alerts."""
    lines = [
        "# tradewatch ingest",
        "",
        f"`{summary.line()}`",
        "",
        "| feed | status | entries | new | trade | failures |",
        "|---|---|---:|---:|---:|---|",
    ]
    for o in outcomes:
        reasons = Counter(r for _u, r in o.article_failures)
        failure = ", ".join(f"{r}×{n}" for r, n in reasons.items())
        if o.status == "failed":
            failure = f"**{o.reason}**: {_md(o.message or '')}"
        lines.append(
            f"| {_md(o.name)} | {o.status} | {o.entries} | {o.new_articles} "
            f"| {len(o.trade_articles)} | {failure} |"
        )
    trade = [t for o in outcomes for t in o.trade_articles]
    if trade:
        lines += ["", "## New trade articles", ""]
        lines += [f"- [{_md(title)}]({url.replace(')', '%29')})" for title, url in trade]
    lines += artifact_section([line for o in outcomes for line in o.trade_events])
    copies = [c for o in outcomes for c in o.story_copies]
    if copies:
        lines += ["", "## Copies of earlier stories (no new alert)", ""]
        lines += [
            f"- [{_md(title)}]({url.replace(')', '%29')}) joined story {story}: {_md(why)}"
            for title, url, story, why in copies
        ]
    lines += ["", f"**Alerts:** {report.messages} sent, {report.retrying} to retry, {report.failed} failed."]
    lines += [f"- {_md(error)}" for error in report.errors]
    return "\n".join(lines)


def _md(text: str) -> str:
    """Keep stranger-supplied text from breaking the markdown table or injecting links."""
    return (
        " ".join(text.split())
        .replace("|", "\\|")
        .replace("[", "\\[")
        .replace("]", "\\]")
        .replace("<", "&lt;")
    )


def _run_name() -> str:
    from prefect.runtime import flow_run

    params = flow_run.parameters
    # A feed chosen by URL is shown redacted: run names are stored and shown by Prefect.
    feeds = ",".join(redact_url(f) if "://" in f else f for f in params.get("feeds") or []) or "all"
    flags = "".join(
        [" due-only" if params.get("due_only") else "", " dry-run" if params.get("dry_run") else ""]
    )
    return f"ingest {feeds}{flags}"


@flow(name="ingest", flow_run_name=_run_name, log_prints=True)
def ingest(
    config: str | None = None,
    feeds: list[str] = [],  # noqa: B006  (Prefect copies parameters; a list shows as a list in the UI form)
    due_only: bool = False,
    dry_run: bool = False,
    deliver: bool = True,
    shards: int = 1,
    shard_deployment: str = "ingest/ingest-shard",
) -> RunSummary:
    """Poll feeds, store new articles with their trade verdicts, and send instant alerts.

    Args:
        config: Path of the TOML configuration (default: $TRADEWATCH_CONFIG or ./tradewatch.toml).
        feeds: Only these feeds, by name, URL or tag; empty means all configured feeds.
        due_only: Skip feeds whose next poll time has not come (scheduled runs); off polls everything.
        dry_run: Fetch, extract and classify, but store nothing and send nothing.
        deliver: Send pending instant alerts at the end of the run.
        shards: Split the feeds into this many flow runs of `shard_deployment`, so workers on several
            hosts share one poll cycle (1: poll everything in this run).
        shard_deployment: The deployment that polls one shard (see deployments/prefect.yaml).
    """
    settings = load_settings(config)
    if shards > 1:
        return _fan_out(settings, config, feeds, due_only, dry_run, deliver, shards, shard_deployment)
    outcomes = poll_feeds(settings, list(feeds or []), due_only, dry_run)
    report = send_alerts(settings, ["instant"]) if deliver and not dry_run else DeliveryReport()
    tell_operator(settings, outcomes)
    reasons = failures_by_reason(outcomes)
    summary = RunSummary(
        feeds=len(outcomes),
        new_articles=sum(o.new_articles for o in outcomes),
        trade=sum(len(o.trade_articles) for o in outcomes),
        alerts_sent=report.messages,
        alerts_failed=report.failed,
        alerts_retrying=report.retrying,
        alerts_waiting=_waiting_alerts(settings),
        failures=sum(reasons.values()),
        failures_by_reason=dict(reasons),
        dry_run=dry_run,
    )
    create_markdown_artifact(
        key="ingest-summary", markdown=_artifact(summary, outcomes, report), description=summary.line()
    )
    return summary


@flow(name="deliver", flow_run_name="deliver {mode}")
def deliver(
    config: str | None = None, mode: Literal["instant", "hourly", "daily"] = "instant"
) -> DeliveryReport:
    """Send pending alerts: instant ones left by an earlier failure, or an hourly/daily digest.

    Args:
        config: Path of the TOML configuration (default: $TRADEWATCH_CONFIG or ./tradewatch.toml).
        mode: Which outbox rows to send: "instant", or the "hourly"/"daily" digest.
    """
    settings = load_settings(config)
    label = f"{mode} digest, {utcnow():%Y-%m-%d %H:%M} UTC" if mode != "instant" else ""
    report = send_alerts(settings, [mode], label)
    if mode == "daily":
        from reports.data import DAILY_REPORT_WINDOW
        from reports.render import report_markdown_for

        now = utcnow()
        create_markdown_artifact(
            key="trade-report",
            markdown=report_markdown_for(settings.database.url, now - DAILY_REPORT_WINDOW, now),
            description="trade news, last 7 days",
        )
    create_markdown_artifact(
        key=f"deliver-{mode}",
        markdown=f"# tradewatch deliver ({mode})\n\n{report.messages} message(s) sent covering {report.sent} "
        f"alert(s); {report.retrying} to retry; {report.failed} failed.",
    )
    return report
