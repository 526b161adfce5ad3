"""Issue 7, "Runs on a schedule, from the Prefect UI": a person runs the manual ingest from the Prefect UI.

Everything is real and started here: ``prefect server start`` on a free 127.0.0.1 port with its own
PREFECT_HOME and SQLite database, the bundled demo site and SMTP sink, ``tradewatch serve`` (the installed
console script, as the README says) serving the deployments in a subprocess, and Debian's Chromium driven
by Playwright (never a Playwright browser download; ``scripts/ensure-chromium.sh`` installs it). The test
clicks Deployments → ingest-manual → Run → Quick run, follows the run until it is Completed, and checks
what the operator relies on: the demo articles are stored, the run has its ``ingest-summary`` artifact
and its logs on its run page (the CLI once set PREFECT_LOGGING_LEVEL=WARNING for every run `serve`
started: "This run did not produce any logs"), the alert was e-mailed once. The run page is saved to
``screenshots/prefect-ui-run.png``.
"""

from __future__ import annotations

import inspect
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlmodel import Session, select

from flows.demo import DEMO_SITE, PROJECT_ROOT, SmtpSink, render_demo_config, serve_site, smtp_sink
from flows.ingest import ingest
from storage.db import make_engine
from storage.models import Article

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

BIN = Path(sys.executable).parent  # the virtualenv running the tests has prefect and python
SCREENSHOTS = PROJECT_ROOT / "screenshots"
LABELS = tomllib.loads((DEMO_SITE / "expected" / "labels.toml").read_text(encoding="utf-8"))
DEPLOYMENT = "ingest/ingest-manual"
STARTUP_TIMEOUT = 180.0  # the machine is shared and slow; a cold `prefect server start` takes 10-30 s
RUN_TIMEOUT = 180.0
UI_TIMEOUT_MS = 60_000
TERMINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@dataclass
class Proc:
    """A subprocess started by this test, in its own process group, with its output in a log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 60) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return f"--- last {lines} lines of {self.name} output ({self.log}) ---\n" + "\n".join(
            text.splitlines()[-lines:]
        )

    def stop(self) -> None:
        if self.popen.poll() is None:
            for sig, wait in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
                try:
                    os.killpg(self.popen.pid, sig)  # the group of the process started here, and its children
                except ProcessLookupError:
                    break
                try:
                    self.popen.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        else:  # the leader is gone; its children may not be
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGKILL)


@contextmanager
def started(name: str, args: list[str], env: dict[str, str], log: Path) -> Iterator[Proc]:
    """Start ``args`` with output to ``log``; it is stopped when the block ends, however it ends."""
    with log.open("wb") as out:
        popen = subprocess.Popen(
            args, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    proc = Proc(name, popen, log)
    try:
        yield proc
    finally:
        proc.stop()


def wait_until(what: str, ready: Callable[[], bool], proc: Proc, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            status = proc.popen.returncode
            pytest.fail(f"{proc.name} exited with status {status} before {what}\n{proc.tail()}")
        try:
            if ready():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{what} did not happen within {timeout:.0f} s\n{proc.tail()}")


def api(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request to the Prefect REST API (never through a proxy: it is on 127.0.0.1)."""
    return httpx.request(method, url, timeout=10, trust_env=False, **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env() -> dict[str, str]:
    """This environment without any Prefect or tradewatch settings that could point elsewhere.

    Everything talks over 127.0.0.1, which must never go through a proxy configured for the registries.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TRADEWATCH_"))}
    no_proxy = ",".join(filter(None, ["127.0.0.1,localhost", env.get("NO_PROXY") or env.get("no_proxy")]))
    return {**env, "NO_PROXY": no_proxy, "no_proxy": no_proxy}


@dataclass
class Stack:
    """Everything the UI test talks to."""

    ui_url: str
    api_url: str
    server: Proc
    serve: Proc
    sink: SmtpSink
    config: Path
    database_url: str


@pytest.fixture(scope="module")
def stack(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A Prefect server, the demo site and SMTP sink, and the served tradewatch deployments."""
    tmp = tmp_path_factory.mktemp("prefect-ui")
    port = free_port()
    ui_url = f"http://127.0.0.1:{port}"
    api_url = f"{ui_url}/api"
    server_env = {
        **base_env(),
        "PREFECT_HOME": str(tmp / "prefect-home"),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{tmp / 'prefect.db'}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": api_url,
        "PREFECT_UI_API_URL": api_url,
        "PREFECT_UI_URL": ui_url,
    }
    database_url = f"sqlite:///{tmp / 'tw.db'}"
    with ExitStack() as stack:
        server = stack.enter_context(
            started(
                "prefect server",
                [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                server_env,
                tmp / "prefect-server.log",
            )
        )
        wait_until(
            "the Prefect server answered /api/health",
            lambda: api("GET", f"{api_url}/health").status_code == 200,
            server,
            STARTUP_TIMEOUT,
        )
        base_url = stack.enter_context(serve_site(port=0))
        sink = stack.enter_context(smtp_sink())
        config = render_demo_config(base_url, sink.port, database_url, tmp / "tradewatch.toml")
        serve = stack.enter_context(
            started(
                "tradewatch serve",
                [str(BIN / "tradewatch"), "serve", "--config", str(config)],
                # The runner looks for scheduled runs every 10 s by default; 2 s keeps the test short.
                {**server_env, "PREFECT_RUNNER_POLL_FREQUENCY": "2"},
                tmp / "serve.log",
            )
        )
        wait_until(
            f"the {DEPLOYMENT} deployment was registered by tradewatch serve",
            lambda: api("GET", f"{api_url}/deployments/name/{DEPLOYMENT}").status_code == 200,
            serve,
            STARTUP_TIMEOUT,
        )
        yield Stack(ui_url, api_url, server, serve, sink, config, database_url)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh, empty browser context (no stored UI preferences) for each test."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    try:
        yield page
    finally:
        context.close()


@contextmanager
def screenshot_on_failure(page: Page, name: str) -> Iterator[None]:
    try:
        yield
    except BaseException:
        SCREENSHOTS.mkdir(exist_ok=True)
        with suppress(Exception):  # the original failure is what matters
            page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
        raise


def open_manual_deployment(page: Page, stack: Stack) -> None:
    """From the UI's home page: Deployments in the sidebar, then the ingest-manual deployment."""
    page.goto(stack.ui_url, wait_until="domcontentloaded")
    page.get_by_role("link", name="Deployments", exact=True).first.click()
    page.get_by_role("link", name="ingest-manual", exact=True).click()
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_visible()


def flow_run(stack: Stack, run_id: str) -> dict[str, Any]:
    response = api("GET", f"{stack.api_url}/flow_runs/{run_id}")
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def _slug(article: Article) -> str:
    return article.url.rsplit("/", 1)[-1].removesuffix(".html")


def test_quick_run_from_the_ui_ingests_the_demo_and_leaves_its_summary(stack: Stack, page: Page) -> None:
    with screenshot_on_failure(page, "prefect-ui-failure.png"):
        open_manual_deployment(page, stack)
        page.get_by_role("button", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Quick run").click()
        # The UI confirms with a toast whose "View run" link opens the new flow run.
        page.get_by_role("link", name="View run").click()
        page.wait_for_url(re.compile(r"/runs/flow-run/[0-9a-f-]{36}"))
        match = re.search(r"/runs/flow-run/([0-9a-f-]{36})", page.url)
        assert match is not None
        run_id = match.group(1)

        deadline = time.monotonic() + RUN_TIMEOUT
        run = flow_run(stack, run_id)
        while run["state_type"] not in TERMINAL_STATES and time.monotonic() < deadline:
            time.sleep(1)
            run = flow_run(stack, run_id)
        assert run["state_type"] == "COMPLETED", (
            f"the flow run {run['name']!r} ended {run['state_name']!r} "
            f"({(run.get('state') or {}).get('message')}) after {RUN_TIMEOUT:.0f} s at most\n"
            f"{stack.serve.tail(80)}"
        )
        deployment = api("GET", f"{stack.api_url}/deployments/name/{DEPLOYMENT}").json()
        assert run["deployment_id"] == deployment["id"], "the run belongs to the ingest-manual deployment"
        assert run["parameters"] == {"config": str(stack.config)}

        # The page itself shows the outcome: the state badge, and the run's artifact in its tab.
        # The UI polls the run's state; the badge can lag the API by a poll interval on a loaded machine.
        expect(page.get_by_text("Completed", exact=True).first).to_be_visible(timeout=30_000)
        page.get_by_role("tab", name="Artifacts").click()
        expect(page.get_by_text("ingest-summary", exact=True)).to_be_visible()
        expect(page.get_by_text(f"new_articles={len(LABELS)}").first).to_be_visible()
        # The run's own log lines, on its Logs tab: the poll task's INFO line and tradewatch's own logger.
        page.get_by_role("tab", name="Logs").click()
        expect(page.get_by_text("This run did not produce any logs")).to_have_count(0)
        expect(
            page.get_by_text(re.compile(r"polling \d+ feed\(s\) with \d+ rule\(s\)")).first
        ).to_be_visible()
        page.get_by_role("tab", name="Artifacts").click()
        # For the picture: the same page opened afresh (no toast over it), its timeline drawn.
        page.reload()
        with suppress(PlaywrightTimeoutError):  # the UI polls; idle is likely, not guaranteed
            page.wait_for_load_state("networkidle", timeout=15_000)
        # The UI polls the run's state; the badge can lag the API by a poll interval on a loaded machine.
        expect(page.get_by_text("Completed", exact=True).first).to_be_visible(timeout=30_000)
        expect(page.get_by_text("ingest-summary", exact=True)).to_be_visible()
        page.wait_for_timeout(2000)  # the timeline is a canvas; give it a moment to paint
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "prefect-ui-run.png"))

    engine = make_engine(stack.database_url)
    with Session(engine) as session:
        stored = [_slug(a) for a in session.exec(select(Article))]
    engine.dispose()
    assert sorted(stored) == sorted(LABELS), "each demo article is stored exactly once"

    response = api(
        "POST", f"{stack.api_url}/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [run_id]}}}
    )
    response.raise_for_status()
    artifacts = {a["key"]: a for a in response.json()}
    assert "ingest-summary" in artifacts, f"artifacts of the run: {sorted(artifacts)}"
    summary = artifacts["ingest-summary"]
    assert summary["type"] == "markdown"
    assert f"new_articles={len(LABELS)}" in summary["data"]
    assert "alerts_sent=1" in summary["data"]

    logs = api(
        "POST",
        f"{stack.api_url}/logs/filter",
        json={"logs": {"flow_run_id": {"any_": [run_id]}}, "limit": 200},
    )
    logs.raise_for_status()
    messages = [entry["message"] for entry in logs.json()]
    assert any(m.startswith("polling ") for m in messages), f"the run's logs: {messages}"
    assert any("Finished in state Completed" in m for m in messages), f"the run's logs: {messages}"

    deadline = time.monotonic() + 10
    while not stack.sink.messages and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(stack.sink.messages) == 1, "the one matching article is e-mailed once"
    assert "Trade Talks with Japan" in stack.sink.messages[0]["Subject"]


def documented_parameters() -> dict[str, str]:
    """The ``Args:`` section of the ingest flow's docstring: parameter name → description."""
    doc = inspect.getdoc(ingest.fn) or ""
    params: dict[str, str] = {}
    current = ""
    for line in doc.split("Args:", 1)[1].splitlines()[1:]:
        if match := re.match(r"^    (\w+): (.+)$", line):
            current = match.group(1)
            params[current] = match.group(2).strip()
        elif current and line.startswith("        "):
            params[current] += " " + line.strip()
        else:
            break
    return params


def test_custom_run_form_shows_each_parameter_with_its_documented_description(
    stack: Stack, page: Page
) -> None:
    params = documented_parameters()
    assert set(params) == set(inspect.signature(ingest.fn).parameters), "every parameter is documented"
    with screenshot_on_failure(page, "prefect-ui-custom-run-failure.png"):
        open_manual_deployment(page, stack)
        page.get_by_role("button", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Custom run").click()
        expect(page.get_by_role("heading", name="Parameters")).to_be_visible()
        for name, description in params.items():
            expect(page.get_by_text(f"{name} (Optional)", exact=True)).to_be_visible()
            expect(page.get_by_text(description, exact=True)).to_be_visible()
        # The deployment's own parameter (the configuration path) is filled in.
        expect(page.locator("textarea").first).to_have_value(str(stack.config))
