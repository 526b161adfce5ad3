"""Serve every tradewatch deployment from one process: the single-machine alternative to work pools.

Run with ``tradewatch serve --config PATH`` (or ``python deployments/serve.py PATH``) next to a running
``prefect server start``; the same four deployments as ``deployments/prefect.yaml``, with the same
names, schedules and parameters, appear in the Prefect UI and can be run from there.
"""

from __future__ import annotations

import sys
from typing import Any

from prefect import serve

from flows.ingest import deliver, ingest
from flows.outbox import DAILY_DIGEST_CRON, HOURLY_DIGEST_CRON

INGEST_EVERY_SECONDS = 15 * 60


def deployments(config: str | None) -> list[Any]:
    """The deployments, parameterised with the configuration path; shared with the browser test."""
    base = {"config": config} if config else {}
    return [
        ingest.to_deployment(
            name="ingest-scheduled",
            interval=INGEST_EVERY_SECONDS,
            parameters={**base, "due_only": True},
            concurrency_limit=1,
            description="Polls due feeds every 15 minutes and sends instant alerts.",
            tags=["tradewatch"],
        ),
        ingest.to_deployment(
            name="ingest-manual",
            parameters=base,
            concurrency_limit=1,
            description="Polls every feed now: Run → Quick run, or Custom run to pick feeds or a dry run.",
            tags=["tradewatch"],
        ),
        ingest.to_deployment(
            name="ingest-shard",
            parameters=base,
            description="Polls one shard of the feeds for a sharded ingest run (started by run_deployment).",
            tags=["tradewatch", "shard"],
        ),
        deliver.to_deployment(
            name="digest-hourly",
            cron=HOURLY_DIGEST_CRON,
            parameters={**base, "mode": "hourly"},
            description="Sends the hourly digest of matches, one message per channel.",
            tags=["tradewatch"],
        ),
        deliver.to_deployment(
            name="digest-daily",
            cron=DAILY_DIGEST_CRON,
            parameters={**base, "mode": "daily"},
            description="Sends the daily digest of matches, one message per channel.",
            tags=["tradewatch"],
        ),
    ]


def main(config: str | None = None) -> None:
    """Block serving the deployments until interrupted."""
    serve(*deployments(config))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
