"""Start-up of the extraction worker processes (kept free of Prefect, which they never need)."""

from __future__ import annotations

import contextlib
import importlib
import os

#: How much lower than the run's own process the extraction workers are scheduled. When the machine is
#: saturated, the event loop that fetches pages and stores results gets the CPU as soon as it has work,
#: in one burst, instead of time-slicing with the workers (which also keeps its HTTP timeouts honest).
WORKER_NICENESS = 5


def start_worker() -> None:
    """Lower this worker's priority, then import the extractor before the first page arrives."""
    with contextlib.suppress(OSError):  # not permitted (some containers): stay at normal priority
        os.nice(WORKER_NICENESS)
    importlib.import_module("extractors.article")
