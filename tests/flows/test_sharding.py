"""A sharded ingest: the parent run fans feeds out by host to flow runs of the ingest-shard deployment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL
from sqlmodel import Session, select

from flows.demo import PROJECT_ROOT, SmtpSink, render_demo_config
from flows.ingest import ingest, shard_of
from storage.db import make_engine
from storage.models import AlertRule, Article, Feed


def _shards_splitting(hosts: list[str]) -> int:
    """The smallest shard count that puts these hosts in different shards (so the test really fans out)."""
    for count in range(2, 20):
        if len({shard_of(f"http://{h}/", count) for h in hosts}) == len(hosts):
            return count
    raise AssertionError("no shard count separates the hosts")


def test_a_host_maps_to_one_shard_in_every_process_so_two_workers_never_poll_it_at_once() -> None:
    """Per-host politeness across workers rests on this: the shard is a function of the host alone, the
    same in every process (Python's own str hash is salted per process and would split a host)."""
    feeds = [
        "http://example.com/rss",
        "https://www.example.com/atom.xml",
        "https://example.com:8443/other",
        "http://news.example.org/feed",
        "http://127.0.0.1:8000/feeds/rss.xml",
    ]
    here = [shard_of(url, 7) for url in feeds]
    assert here[0] == here[1] == here[2], "scheme, www. and port do not move a host to another shard"
    code = f"from flows.ingest import shard_of; print([shard_of(u, 7) for u in {feeds!r}])"
    for seed in ("1", "2"):
        elsewhere = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=PROJECT_ROOT,
        )
        assert elsewhere.stdout.strip() == str(here)
    spread = {shard_of(f"http://host{i}.example/feed", 7) for i in range(200)}
    assert spread == set(range(7)), "200 hosts use every one of 7 shards"


@pytest.fixture
def served(demo_site: str, sink: SmtpSink, tmp_path: Path) -> Iterator[Path]:
    """The demo config with its feeds on two host names; the deployments served against the harness."""
    config = render_demo_config(demo_site, sink.port, f"sqlite:///{tmp_path / 'tw.db'}", tmp_path / "tw.toml")
    text = config.read_text(encoding="utf-8")
    port = demo_site.rsplit(":", 1)[1]
    text = text.replace(f"{demo_site}/feeds/atom.xml", f"http://localhost:{port}/feeds/atom.xml")
    config.write_text(text, encoding="utf-8")
    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
    }
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "deployments" / "serve.py"), str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with get_client(sync_client=True) as client:
                try:
                    client.read_deployment_by_name("ingest/ingest-shard")
                    break
                except Exception:
                    time.sleep(0.5)
        else:
            raise AssertionError("deployments were not served:\n" + (tmp_path / "serve.log").read_text())
        yield config
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


# The whole fan-out through Prefect: a served `ingest-shard` deployment in its own process, run_deployment,
# waiting for the shard runs and summing their work: about 45 s of the default suite's budget, so it runs
# in `make test-slow` (CI). The default suite keeps the partition test above and the served deployments
# of tests/e2e/test_prefect_ui.py.
@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_sharded_run_spreads_hosts_over_shard_runs_and_sums_their_work(served: Path, sink: SmtpSink) -> None:
    shards = _shards_splitting(["127.0.0.1", "localhost"])
    engine = make_engine(f"sqlite:///{served.parent / 'tw.db'}")

    # A sharded dry run stores nothing either, not even the feed and rule rows (its parent used to).
    dry = ingest(config=str(served), shards=shards, dry_run=True)
    assert (dry.dry_run, dry.feeds, dry.alerts_sent) == (True, 2, 0)
    with Session(engine) as session:
        assert (session.exec(select(Feed)).all(), session.exec(select(AlertRule)).all()) == ([], [])

    summary = ingest(config=str(served), shards=shards)

    assert (summary.feeds, summary.new_articles, summary.trade, summary.failures) == (2, 8, 4, 0)
    assert summary.alerts_sent == 1
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("ingest/ingest-shard")
        runs = client.read_flow_runs()
    shard_runs = [r for r in runs if r.deployment_id == deployment.id and not r.parameters["dry_run"]]
    assert len(shard_runs) == 2
    assert all(r.state is not None and r.state.is_completed() for r in shard_runs)
    assert sorted(len(r.parameters["feeds"]) for r in shard_runs) == [1, 1]
    with Session(engine) as session:
        assert len(session.exec(select(Article)).all()) == 8
    engine.dispose()
    deadline = time.monotonic() + 5
    while not sink.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sink.messages) == 1
