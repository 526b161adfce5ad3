"""The extraction worker pool: what a worker process loads and how it is scheduled."""

from __future__ import annotations

import os
import sys

import pytest

from flows.ingest import extraction_pool
from flows.workers import WORKER_NICENESS


def test_workers_load_the_extractor_but_not_prefect() -> None:
    """A worker that imported Prefect cost 3.5 s and 90 MB more per run, for nothing it uses."""
    with extraction_pool() as pool:
        probe = "[m in __import__('sys').modules for m in ('extractors.article', 'prefect')]"
        loaded = pool.submit(eval, probe)
        assert loaded.result(timeout=60) == [True, False]


def test_workers_run_at_lower_priority_than_the_event_loop() -> None:
    """When the machine is saturated, the process that fetches and stores gets the CPU first."""
    with extraction_pool() as pool:
        niceness = pool.submit(os.nice, 0).result(timeout=60)
    assert niceness == min(os.nice(0) + WORKER_NICENESS, 19)


@pytest.mark.skipif(sys.platform != "linux", reason="SCHED_BATCH is a Linux scheduling policy")
def test_workers_are_scheduled_as_batch_jobs() -> None:
    """A page handed to a worker must not preempt the event loop mid-burst (see flows.workers)."""
    with extraction_pool() as pool:
        policy = pool.submit(os.sched_getscheduler, 0).result(timeout=60)
    assert policy == os.SCHED_BATCH
