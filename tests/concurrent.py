"""Start several installed `tradewatch run`s on one configuration at the same moment, as two schedulers
(or a schedule and a person in the UI) would, against the Prefect API of the current test harness."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_at_once(config: Path, runs: int = 2, timeout: float = 240) -> list[tuple[int, str, str]]:
    """(exit code, stdout, stderr) of each run, all started before any is waited for."""
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    script = str(Path(sys.executable).with_name("tradewatch"))
    started = [
        subprocess.Popen(
            [script, "run", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(runs)
    ]
    outputs = [run.communicate(timeout=timeout) for run in started]
    return [(run.returncode, out, err) for run, (out, err) in zip(started, outputs, strict=True)]
