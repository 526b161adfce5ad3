"""What runs in the extraction worker processes: start-up, and the CPU half of an article's path.

Kept free of Prefect, which workers never need (importing it cost each worker 3.5 s and 90 MB per run).
"""

from __future__ import annotations

import contextlib
import functools
import os
from datetime import datetime

from classifiers.events import TradeEvent, extract_events
from classifiers.load import load_classifier
from classifiers.stories import Fingerprint, fingerprint
from classifiers.verdict import Classifier, Verdict
from extractors.article import Article, extract
from extractors.clamp import clamp_datetime
from extractors.feeds import ParsedFeed, parse_feed

#: CPU seconds one page's extraction may take before it fails as ``too_complex``. The largest page we
#: fetch (5 MB of article text) took 2.8 s of CPU here; hostile pages took 58 to 149 s.
EXTRACTION_CPU_SECONDS = 10.0
#: A feed's parse may take this many times a page's CPU deadline (30 s by default) before the feed fails
#: as ``too_complex``. A feed is one document per poll, not one of hundreds, so it gets longer: a
#: 50,000-entry feed of 15.7 MB (over the default 10 MB cap) took 14.7 s of CPU here.
FEED_CPU_FACTOR = 3

#: How much lower than the run's own process the extraction workers are scheduled. When the machine is
#: saturated, the event loop that fetches pages and stores results gets the CPU as soon as it has work,
#: in one burst, instead of time-slicing with the workers (which also keeps its HTTP timeouts honest).
WORKER_NICENESS = 5


def start_worker() -> None:
    """Lower this worker's priority. (The extractor is already imported: this module imports it, and the
    pool imports this module to find its initializer, so it is loaded before the first page arrives.)

    Besides the lower priority, a worker is scheduled as a batch job (Linux ``SCHED_BATCH``): when a page
    arrives it waits for the running process's time slice to end instead of preempting it. Without that,
    every page handed over interrupted the event loop mid-burst, and both sides refilled their caches:
    the workers spent 12.1-12.5 ms of CPU per article against 10.9-11.1 ms for the same pages alone. With
    it, 2,000 articles went from 120 to 128 articles/s (median of 4 runs each, alternated, same corpus).
    """
    with contextlib.suppress(OSError):  # not permitted (some containers): stay at normal priority
        os.nice(WORKER_NICENESS)
    if hasattr(os, "sched_setscheduler"):  # Linux only; elsewhere the niceness alone applies
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


@functools.cache
def _classifier(model: str | None) -> Classifier:
    return load_classifier(model)


def analyse(
    content: bytes,
    url: str,
    charset: str | None,
    fallback_title: str,
    model: str | None,
    published_hint: datetime | None = None,
    entry_title: str | None = None,
    entry_summary: str | None = None,
) -> tuple[Article, Verdict, tuple[TradeEvent, ...], Fingerprint]:
    """Extract a page, classify it, find the trade events of a trade article, and fingerprint it (for
    stories), where the text was made.

    The classifier travels as its configuration (``model``: a model file, or None for the shipped
    lexicon) and is loaded once per process; pickling the lexicon or a model with every page would cost
    more than classifying. Classifying here rather than in the run's process took about 1 ms per article off
    the event loop's process, which on a saturated machine pays double for every millisecond of CPU; the
    same holds for trade events (about 1-2 ms per trade article, none for the rest). ``published_hint`` is
    the feed's date for the entry, used to resolve "on Wednesday" when the page states no date itself;
    ``entry_title`` and ``entry_summary`` are what the feed said about it, evidence for choosing the body.
    """
    article = extract(content, url, charset=charset, entry_title=entry_title, entry_summary=entry_summary)
    title = article.title or fallback_title
    verdict = _classifier(model).classify(title, article.text, language=article.language)
    events: tuple[TradeEvent, ...] = ()
    if verdict.is_trade:
        # The page's date is a stranger's (9999-12-31T23:59:59-12:00): clamped before any date arithmetic.
        published = clamp_datetime(article.published or published_hint)
        events = extract_events(title, article.text, published, language=article.language)
    return article, verdict, events, fingerprint(title, article.text)


def parse_feed_job(content: bytes, url: str, charset: str | None, content_type: str | None) -> ParsedFeed:
    """``parse_feed`` with positional arguments, as the pool sends jobs: a big feed is parsed in a worker,
    off the event loop and under the pool's CPU deadline."""
    return parse_feed(content, url, charset=charset, content_type=content_type)
