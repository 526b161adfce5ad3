"""SIGKILL at random points: after a clean rerun every article is stored once and every alert sent once.

The process killed is a plain pipeline run (`flows.run.plan_run` and `run_ingest`, then `flows.outbox`: the
functions `flows.ingest` wraps in Prefect tasks, with production's extraction process pool) forked by
`tests/faults/driver.py --serve`: Prefect's ephemeral start-up costs ~7 s per process and the imports alone
~1.6 s, which twenty runs cannot afford inside the suite's budget. Each run is its own process (own engine,
sockets, SQLite connections, extraction workers), killed with a real SIGKILL at a delay drawn from a seeded
RNG (``TRADEWATCH_FAULT_SEED`` reproduces a failure): every other run at any point of its polling (workers
starting, fetch, extraction, storing), the others while they send alerts, timed from the driver's
``stored`` line: sending is a few percent of a run, and with the workers' start-up in every run twenty
delays drawn over the whole run all landed before the first message was sent.

The one documented duplicate is the send-then-crash window: the SMTP server accepted a message and the
process died before marking its row ``sent``. The test detects each such case precisely — right after a
kill, a row still in ``sending`` whose message the sink already holds — and allows exactly one extra copy
of exactly those messages; every other alert must arrive exactly once.
"""

from __future__ import annotations

import os
import random
import re
import select as io_select
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlmodel import Session, col, select

from flows.outbox import CLAIM_LEASE
from storage.db import make_engine
from storage.migrate import current_revision, head_revision
from storage.models import AlertRule, Article, Delivery
from tests.faults.conftest import (
    PROJECT_ROOT,
    CorpusSite,
    Received,
    SinkServer,
    run_driver,
    store_state,
    summary_of,
    write_config,
)

SEED = int(os.environ.get("TRADEWATCH_FAULT_SEED", "20240917"))
# The full check (CI, `make test-slow`): 4 episodes, each on a fresh database, of 5 runs killed in a row
# and one clean rerun, 20 kills in all, about 4 minutes. `make test` runs one episode of 2 kills (one while
# polling, one while sending), so the default suite still kills the production path.
FULL = (4, 5)
QUICK = (1, 2)
# Before each run the feed publishes 8 more articles (copies of the demo corpus under new URLs), so every
# run has fresh work to be killed in: fetch, extract, store, 8 alert e-mails (two channels), plus what its
# predecessors left behind.
# group = "article": the big feed lists the same demo pages under distinct URLs, which stories would
# group into one alert each; this test is about every article's alert surviving kills exactly once.
RULES = """
[[rules]]
name = "desk-words"
query = "tariff OR tariffs OR duties OR budget OR traders"
channels = ["desk-email", "ops-email"]
group = "article"
"""
SMTP_DELAY = 0.02  # per message at the sink
PAGE_DELAY = 0.05  # per article page at the site
RUN_INTERVAL = timedelta(minutes=15).total_seconds()
assert timedelta(seconds=RUN_INTERVAL) > CLAIM_LEASE
_HREF = re.compile(r'href="([^"]+)"')


@dataclass(frozen=True)
class Run:
    killed: bool
    summary: str  # the run's summary line ("" when killed)
    stored_after: float | None  # seconds from start to "everything stored, sending now" (None: not reached)
    took: float


class ForkServer:
    """Client of `driver.py --serve`: start a run, wait for it up to a delay, SIGKILL it if still going."""

    def __init__(self, stderr: Path) -> None:
        self._err = stderr.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.driver", "--serve"],
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._err,
            bufsize=0,
        )
        self._buffer = b""
        assert self.readline(120) == "ready"

    def readline(self, timeout: float) -> str | None:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not io_select.select([self.proc.stdout], [], [], left)[0]:
                return None
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            assert chunk, "the fork server died"
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode().strip()

    def run(
        self,
        config: Path,
        *,
        kill_after: float | None = None,
        kill_after_stored: float | None = None,
        offset: float = 0.0,
    ) -> Run:
        """One run, SIGKILLed ``kill_after`` seconds after it started or ``kill_after_stored`` seconds after
        it said it had stored everything (so while it sends), if it is still going by then."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"run {config} {offset}\n".encode())
        started = self.readline(30)
        assert started is not None
        assert started.startswith("started "), started
        pid = int(started.split()[1])
        began = time.monotonic()
        deadline = None if kill_after is None else began + kill_after
        summary, killed, stored_after = "", False, None
        while True:
            left = 120.0 if deadline is None else deadline - time.monotonic()
            line = self.readline(max(left, 0.0))
            if line is None:
                assert deadline is not None, "a clean run did not finish within 120 s"
                os.kill(pid, signal.SIGKILL)
                killed = True
                deadline = None
                continue
            if line == "stored":
                stored_after = time.monotonic() - began
                if kill_after_stored is not None and not killed:
                    deadline = time.monotonic() + kill_after_stored
            elif line.startswith("summary: "):
                summary = line
            elif line.startswith("exited "):
                status = int(line.split()[2])
                assert status in (0, -signal.SIGKILL), f"run failed with {status}, see {self._err.name}"
                took = time.monotonic() - began
                return Run(killed and status == -signal.SIGKILL, summary, stored_after, took)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self._err.close()


def _stuck(database_url: str) -> set[tuple[str, str]]:
    """Outbox rows left in ``sending`` -> the (recipient, article URL) their message is sent as."""
    engine = make_engine(database_url)
    try:
        if "delivery" not in inspect(engine).get_table_names():  # killed before the schema existed
            return set()
        with Session(engine) as session:
            rows = session.exec(
                select(Delivery.channel, Article.url)
                .join(Article, col(Article.id) == col(Delivery.article_id))
                .where(col(Delivery.status) == "sending")
            ).all()
    finally:
        engine.dispose()
    return {(f"{channel.split('-')[0]}@tradewatch.example", url) for channel, url in rows}


def _key(received: Received) -> tuple[str, str]:
    html = received.message.get_body(preferencelist=("html",))
    assert html is not None
    match = _HREF.search(str(html.get_content()))
    assert match is not None
    return (received.to, match.group(1))


@pytest.mark.parametrize(
    ("episodes", "kills_per_episode"),
    [pytest.param(*QUICK, id="2-kills"), pytest.param(*FULL, id="20-kills", marks=pytest.mark.slow)],
)
def test_sigkill_at_random_points_loses_nothing_and_duplicates_only_in_the_window(
    corpus_site: CorpusSite, faulty_sink: SinkServer, tmp_path: Path, episodes: int, kills_per_episode: int
) -> None:
    rng = random.Random(SEED)
    sink = faulty_sink.handler
    sink.delay = SMTP_DELAY
    corpus_site.page_delay = PAGE_DELAY
    feeds = [("big", corpus_site.add_big_feed(kills_per_episode))]
    server = ForkServer(tmp_path / "driver.err")
    try:
        # The oracle: a clean run on its own database over one batch says what "everything, once" is.
        corpus_site.big_visible = 1
        ref_db = f"sqlite:///{tmp_path / 'reference.db'}"
        ref_config = write_config(
            tmp_path / "ref.toml", database_url=ref_db, feeds=feeds, smtp_port=faulty_sink.port, rules=RULES
        )
        ref = server.run(ref_config)
        assert ref.stored_after is not None
        # Half the kills land anywhere in polling (workers starting, fetch, extract, store), half while the
        # alerts go out: the outbox's crash window is milliseconds per message, a few percent of a run.
        ingest_time, deliver_time = ref.stored_after, ref.took - ref.stored_after
        batch = Counter(_key(r) for r in sink.settle())
        reference = store_state(make_engine(ref_db))
        assert "failures=0" in ref.summary, ref.summary
        assert not ref.killed
        assert reference.articles == 8
        assert reference.unclassified == 0
        assert set(reference.deliveries) == {"sent"}
        assert len(batch) == reference.deliveries["sent"] - 1  # japan-trade and any-trade-word: 1 message
        assert set(batch.values()) == {1}, batch
        copies = kills_per_episode
        expected = {(to, url.replace("-0.html", f"-{n}.html")) for to, url in batch for n in range(copies)}

        killed_runs = window_total = 0
        log: list[str] = []
        for episode in range(episodes):
            db = f"sqlite:///{tmp_path / f'episode{episode}.db'}"
            config = write_config(
                tmp_path / f"e{episode}.toml",
                database_url=db,
                feeds=feeds,
                smtp_port=faulty_sink.port,
                rules=RULES,
            )
            sink.received.clear()
            window: Counter[tuple[str, str]] = Counter()
            for attempt in range(kills_per_episode):
                corpus_site.big_visible = attempt + 1  # news arrived since the last run
                sending = attempt % 2 == 1
                delay = rng.uniform(0.0, deliver_time if sending else ingest_time)
                before = time.monotonic()
                # Scheduled runs are 15 minutes apart, longer than the claim lease: each run's delivery
                # clock moves on, so rows a killed predecessor left in "sending" are released and resent.
                killed = server.run(
                    config,
                    kill_after=None if sending else delay,
                    kill_after_stored=delay if sending else None,
                    offset=attempt * RUN_INTERVAL,
                ).killed
                killed_runs += killed
                # A message whose DATA reached the sink just before the kill is accepted a moment later.
                during = {_key(r) for r in sink.settle(quiet=SMTP_DELAY + 0.2) if r.at >= before}
                stuck = _stuck(db)
                window.update(stuck & during)  # accepted by the server, never marked sent: the window
                log.append(
                    f"episode {episode} run {attempt}: kill {delay:.2f}s after "
                    f"{'it stored everything' if sending else 'start'} killed={killed} "
                    f"stuck={len(stuck)} sent-then-killed={len(stuck & during)} sink={len(sink.received)}"
                )

            # The clean rerun, its delivery clock past the lease so rows a killed sender held are released.
            rerun = server.run(config, offset=kills_per_episode * RUN_INTERVAL)
            assert "failures=0" in rerun.summary, rerun.summary
            assert not rerun.killed
            got = Counter(_key(r) for r in sink.settle())
            state = store_state(make_engine(db))
            context = "\n".join(log)
            assert state.articles == state.distinct_urls == reference.articles * copies, context
            assert state.unclassified == 0, context
            assert state.deliveries == {"sent": reference.deliveries["sent"] * copies}, context
            assert set(got) == set(expected), context  # every due alert delivered ...
            for key, count in got.items():  # ... once, plus once per time it was caught in the window
                assert count == 1 + window[key], f"{key}: {count}\n{context}"
            window_total += sum(window.values())
    finally:
        server.close()
    assert killed_runs >= episodes * kills_per_episode // 2, "\n".join(log)
    print(f"\n{killed_runs} runs killed, {window_total} message(s) in the send-then-crash window")
    print("\n".join(log))


MIGRATION_KILLER = """
import os, signal, sys
from sqlalchemy import event
from storage.db import make_engine, init_db
engine = make_engine(sys.argv[1])
created = 0
@event.listens_for(engine, "after_cursor_execute")
def kill_after(conn, cursor, statement, *args):
    global created
    if statement.lstrip().upper().startswith("CREATE"):
        created += 1
        if created == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)
init_db(engine)
"""


def test_sigkill_during_the_first_migration_leaves_a_database_the_next_run_can_use(
    corpus_site: CorpusSite, faulty_sink: SinkServer, tmp_path: Path
) -> None:
    """Found by this suite: each CREATE TABLE used to commit on its own, so a kill here bricked the file."""
    for nth in (3,):
        db = f"sqlite:///{tmp_path / f'm{nth}.db'}"
        proc = subprocess.run(
            [sys.executable, "-c", MIGRATION_KILLER, db, str(nth)], cwd=PROJECT_ROOT, capture_output=True
        )
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        engine = make_engine(db)
        assert current_revision(engine) is None
        feeds = list(zip(["rss", "atom"], corpus_site.feed_urls(), strict=True))
        config = write_config(
            tmp_path / f"m{nth}.toml", database_url=db, feeds=feeds, smtp_port=faulty_sink.port, rules=RULES
        )
        sink = faulty_sink.handler
        sink.received.clear()
        out, _ = run_driver(config)
        assert current_revision(engine) == head_revision()
        assert summary_of(out)["new_articles"] == "8"
        state = store_state(engine)
        with Session(engine) as session:
            rules = len(session.exec(select(AlertRule)).all())
        engine.dispose()
        assert (state.articles, state.unclassified, rules) == (8, 0, 2)
        assert len(sink.settle()) == state.deliveries["sent"] - 1  # japan: two rules, one message
        assert set(state.deliveries) == {"sent"}
