"""One ingest run as two plain functions: ``plan_run`` decides what the run does, ``run_ingest`` does it.

The Prefect task ``poll-feeds`` (``flows.ingest``) is these two calls and its log lines; the sharded
parent uses ``plan_run`` alone to split the due feeds; the fault suite (``tests/faults/driver.py``) calls
both with the same extraction pool, so what a SIGKILL interrupts there is the production path, not a copy
of it. No Prefect here: a run must work, and be killed, without an orchestrator.

    engine = open_store(settings)
    plan = plan_run(engine, settings, ["desk"], due_only=True)
    outcomes = run_ingest(plan)
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from classifiers.load import load_classifier
from extractors.http import Fetcher, FetchPolicy
from flows.pool import ProcessPool
from flows.process import (
    CompiledRule,
    FeedOutcome,
    ProgressCallback,
    RunContext,
    compile_rules,
    process_feeds,
)
from flows.settings import Settings
from flows.workers import EXTRACTION_CPU_SECONDS, start_worker
from storage import repo
from storage.db import init_db, make_engine
from storage.models import Feed, utcnow


@dataclass(frozen=True)
class RunPlan:
    """What one run will do: the feeds to poll and the rules to match, with everything the run needs
    from configuration, so ``run_ingest`` reads no settings of its own."""

    engine: Engine
    feeds: list[Feed]
    rules: list[CompiledRule]
    fetch: FetchPolicy
    max_articles_per_feed: int
    classifier_model: str | None
    story_window: timedelta
    dry_run: bool = False


def open_store(settings: Settings) -> Engine:
    """The run's engine, with the schema brought to head first (every run upgrades; see README)."""
    engine = make_engine(settings.database.url)
    init_db(engine)
    return engine


def plan_run(
    engine: Engine,
    settings: Settings,
    feed_names: Sequence[str] = (),
    *,
    due_only: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
) -> RunPlan:
    """Sync the configured feeds and rules into the store, prune the story index, and pick the feeds due.

    A dry run stores nothing, not even the feed and rule rows: they are flushed so the selection sees
    them, then rolled back, and the feeds come back detached with the values they were selected with.
    ``due_only`` honours each feed's next poll time (scheduled runs); otherwise every selected feed is
    polled. ``feed_names`` are names, URLs or tags; empty means every active feed.
    """
    now = now or utcnow()
    with Session(engine) as session:
        repo.sync_feeds(session, settings.feed_specs())
        rules = repo.sync_rules(session, settings.rule_specs())
        if dry_run:
            session.flush()
        else:  # band rows older than the window can match nothing: keep the index its size
            repo.prune_story_index(session, before=now - settings.stories.window_delta)
            session.commit()
        feeds = repo.due_feeds(session, now, names=list(feed_names), force=not due_only)
        compiled = compile_rules(list(rules.values()))
        if dry_run:
            session.expunge_all()  # detached with their loaded values, which the rollback leaves alone
            session.rollback()
    return RunPlan(
        engine=engine,
        feeds=feeds,
        rules=compiled,
        fetch=settings.fetch.policy(),
        max_articles_per_feed=settings.fetch.max_articles_per_feed,
        classifier_model=settings.classifier.model,
        story_window=settings.stories.window_delta,
        dry_run=dry_run,
    )


def extraction_pool() -> ProcessPool:
    """One extraction process per core: extraction is CPU-bound Python, which threads would serialise on
    the GIL while starving the event loop (HTTP, database) of it. The pool is fed by the run's event loop
    (see ``flows.pool``) and starts its workers with the first page, so a run with nothing new spawns none.

    The initializer lives in ``flows.workers``, which imports the extractor and classifier and nothing
    else: an initializer defined in a module that imports Prefect would make every worker import it
    (3.5 s and 90 MB more per worker, per run).
    """
    return ProcessPool(
        max(1, os.cpu_count() or 1), initializer=start_worker, cpu_seconds=EXTRACTION_CPU_SECONDS
    )


async def run_ingest_async(
    plan: RunPlan,
    *,
    pool: ProcessPool | Executor | None = None,
    on_feed_done: ProgressCallback | None = None,
) -> list[FeedOutcome]:
    """``run_ingest`` on the running event loop. ``pool`` is the caller's (left open); by default the run
    makes its own ``extraction_pool()`` and closes it at the end."""
    classifier = load_classifier(plan.classifier_model)
    own_pool = extraction_pool() if pool is None else None
    try:
        async with Fetcher(plan.fetch) as fetcher:
            ctx = RunContext(
                engine=plan.engine,
                fetcher=fetcher,
                classifier=classifier,
                rules=plan.rules,
                extract_pool=own_pool or pool,
                max_articles_per_feed=plan.max_articles_per_feed,
                dry_run=plan.dry_run,
                classifier_model=plan.classifier_model,
                story_window=plan.story_window,
            )
            return await process_feeds(ctx, plan.feeds, on_feed_done=on_feed_done)
    finally:
        if own_pool is not None:
            own_pool.close()


def run_ingest(
    plan: RunPlan,
    *,
    pool: ProcessPool | Executor | None = None,
    on_feed_done: ProgressCallback | None = None,
) -> list[FeedOutcome]:
    """Poll the plan's feeds, extract and classify their new articles in worker processes, store them and
    queue their alerts (the outbox; sending is ``flows.outbox.deliver_pending``). Never raises for a feed
    or page problem: each feed's outcome says what happened to it."""
    return asyncio.run(run_ingest_async(plan, pool=pool, on_feed_done=on_feed_done))
