"""Run progress as feeds complete: a Prefect progress artifact for the UI, listeners for the CLI.

The flow runs in the CLI's own process, so the CLI subscribes a listener (a rich progress bar on a
terminal, plain lines otherwise) for the duration of its call; scheduled runs have no listener and
only update the artifact. Artifact updates are API calls, so they are throttled.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flows.process import FeedOutcome

log = logging.getLogger("tradewatch.progress")

Listener = Callable[[FeedOutcome, int, int], None]
_listeners: list[Listener] = []

#: At most one artifact update per this many seconds (plus the final one): a thousand feeds must not
#: cost a thousand API calls.
ARTIFACT_UPDATE_SECONDS = 2.0


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Call ``listener(outcome, done, total)`` for every feed finished while the block runs."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


class RunProgress:
    """The callback handed to ``process_feeds``: fans out to listeners and the progress artifact."""

    def __init__(self, total: int, *, artifact: bool = True) -> None:
        self.total = total
        self._artifact_id: Any = None
        self._last_update = 0.0
        if artifact and total:
            try:
                from prefect.artifacts import create_progress_artifact

                self._artifact_id = create_progress_artifact(
                    progress=0.0, key="ingest-progress", description=f"feeds polled of {total}"
                )
            except Exception as exc:  # no API (plain local run): progress still reaches listeners
                log.debug("no progress artifact: %s", exc)

    def __call__(self, outcome: FeedOutcome, done: int, total: int) -> None:
        for listener in list(_listeners):
            listener(outcome, done, total)
        now = time.monotonic()
        if self._artifact_id is None or (done < total and now - self._last_update < ARTIFACT_UPDATE_SECONDS):
            return
        self._last_update = now
        try:
            from prefect.artifacts import update_progress_artifact

            update_progress_artifact(self._artifact_id, progress=100.0 * done / total)
        except Exception as exc:
            log.debug("progress artifact update failed: %s", exc)
