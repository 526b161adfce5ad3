"""The extraction worker pool: what a worker process loads and how it is scheduled."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from typing import Any

import pytest

from flows.run import extraction_pool
from flows.workers import WORKER_NICENESS


def _in_a_worker(fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` in a worker of the pool the ingest flow uses."""

    async def go() -> Any:
        async with extraction_pool() as pool:
            return await pool.run(fn, *args)

    return asyncio.run(go())


def test_workers_load_the_extractor_but_not_prefect() -> None:
    """A worker that imported Prefect cost 3.5 s and 90 MB more per run, for nothing it uses."""
    probe = "[m in __import__('sys').modules for m in ('extractors.article', 'prefect')]"
    assert _in_a_worker(eval, probe) == [True, False]


def test_workers_run_at_lower_priority_than_the_event_loop() -> None:
    """When the machine is saturated, the process that fetches and stores gets the CPU first."""
    assert _in_a_worker(os.nice, 0) == min(os.nice(0) + WORKER_NICENESS, 19)


@pytest.mark.skipif(sys.platform != "linux", reason="SCHED_BATCH is a Linux scheduling policy")
def test_workers_are_scheduled_as_batch_jobs() -> None:
    """A page handed to a worker must not preempt the event loop mid-burst (see flows.workers)."""
    assert _in_a_worker(os.sched_getscheduler, 0) == os.SCHED_BATCH
