"""A plain (Prefect-free) ingest run for the fault suite: the same pipeline functions `flows.ingest` calls.

The SIGKILL scenario starts this as a subprocess twenty-odd times and kills it at random points; Prefect's
ephemeral start-up (about 7 s per process) would spend the suite's whole time budget before any work began,
and the stage order and failure policy under test live in `flows.process` and `flows.outbox`, not in the
Prefect wrapper. It prints ``ready`` once imports are done (so kill delays measure work, not imports) and a
``summary:`` line at the end like `tradewatch run`.

    python -m tests.faults.driver --config tw.toml [--deliver-at-offset SECONDS] [--no-deliver]
    python -m tests.faults.driver --serve      # fork server, see `serve`
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable
from datetime import timedelta

from classifiers.load import load_classifier
from flows.demo import DEMO_SITE
from flows.outbox import DeliveryReport, deliver_pending
from flows.process import FeedOutcome, failures_by_reason
from flows.run import open_store, plan_run, run_ingest
from flows.settings import Settings, load_settings
from storage.models import utcnow

DEMO_ARTICLES = DEMO_SITE / "articles"


def run(
    settings: Settings,
    *,
    deliver: bool = True,
    deliver_offset: float = 0.0,
    on_stored: Callable[[], None] | None = None,
) -> tuple[list[FeedOutcome], DeliveryReport]:
    """One ingest run as `flows.ingest.ingest` makes it: `plan_run` and `run_ingest` (every feed polled,
    pages extracted in production's process pool), then the instant alerts sent. ``on_stored`` is
    called between the two, when everything is stored and nothing sent yet."""
    engine = open_store(settings)
    try:
        outcomes = run_ingest(plan_run(engine, settings))
        if on_stored is not None:
            on_stored()
        report = DeliveryReport()
        if deliver:
            now = utcnow() + timedelta(seconds=deliver_offset)
            report = deliver_pending(engine, settings.channel_url, modes=["instant"], now=now)
        return outcomes, report
    finally:
        engine.dispose()


def summary_line(outcomes: list[FeedOutcome], report: DeliveryReport) -> str:
    reasons = failures_by_reason(outcomes)
    return (
        f"summary: feeds={len(outcomes)} new_articles={sum(o.new_articles for o in outcomes)} "
        f"trade={sum(len(o.trade_articles) for o in outcomes)} alerts_sent={report.messages} "
        f"failures={sum(reasons.values())} retrying={report.retrying} reasons={dict(sorted(reasons.items()))}"
    )


def _warm_up() -> None:
    """Load what the first run would load lazily (classifier data, extractor rules), before any fork."""
    from extractors.article import extract

    load_classifier(None).classify("warm up", "tariffs on steel")
    page = (DEMO_ARTICLES / "trade-talks-japan.html").read_bytes()
    extract(page, "http://127.0.0.1/articles/trade-talks-japan.html")


def serve() -> int:
    """Fork server: import once, then fork one real child process per ``run CONFIG OFFSET`` line on stdin.

    Writes ``started PID`` when the child exists, ``stored`` when its run has stored everything and starts
    sending, and ``exited PID STATUS`` (negative: killed by that signal) when it is gone, so the test can
    SIGKILL the child at a random moment without paying the interpreter and import start-up (~1.6 s here)
    for each of the twenty runs. The child is an ordinary process running the pipeline on its own engine,
    file descriptors and sockets, with its own extraction workers (production's pool, started with its
    first page); SIGKILL ends it as it would end a `tradewatch run` during a deploy, and its workers
    leave when their job pipe closes.
    """
    out = sys.stdout
    _warm_up()
    print("ready", file=out, flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] != "run":
            print(f"error unknown command {parts[0]}", file=out, flush=True)
            continue
        config, offset = parts[1], float(parts[2]) if len(parts) > 2 else 0.0
        pid = os.fork()
        if pid == 0:  # the child: one run, then leave without running the parent's cleanup
            code = 1
            try:
                settings = load_settings(config)
                outcomes, report = run(
                    settings, deliver_offset=offset, on_stored=lambda: print("stored", file=out, flush=True)
                )
                for error in report.errors:
                    print(f"delivery error: {error}", file=sys.stderr, flush=True)
                print(summary_line(outcomes, report), file=out, flush=True)
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stderr.flush()
                os._exit(code)
        print(f"started {pid}", file=out, flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exited {pid} {os.waitstatus_to_exitcode(status)}", file=out, flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    if (argv if argv is not None else sys.argv[1:]) == ["--serve"]:
        return serve()
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--deliver-at-offset", type=float, default=0.0, help="clock offset for delivery (s)")
    parser.add_argument("--no-deliver", action="store_true")
    args = parser.parse_args(argv)
    settings = load_settings(args.config)
    print("ready", flush=True)
    outcomes, report = run(settings, deliver=not args.no_deliver, deliver_offset=args.deliver_at_offset)
    for error in report.errors:
        print(f"delivery error: {error}", file=sys.stderr)
    print(summary_line(outcomes, report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
