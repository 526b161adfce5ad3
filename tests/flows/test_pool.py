"""The event-loop-driven process pool that extracts pages (flows.pool)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from concurrent.futures.process import BrokenProcessPool

import psutil
import pytest

from flows.pool import ProcessPool


class Unpicklable(Exception):
    """An exception carrying something pickle refuses (a lock), as a C extension's error might."""

    def __init__(self) -> None:
        import threading

        super().__init__("holds a lock")
        self.lock = threading.Lock()


def raise_unpicklable() -> None:
    raise Unpicklable()


def sleep_then(seconds: float, value: int) -> int:
    time.sleep(seconds)
    return value


def test_results_reach_their_own_callers_whatever_order_jobs_finish_in() -> None:
    """Two workers, two jobs queued on each, slow and fast jobs mixed: nobody gets another's result."""

    async def go() -> list[int]:
        async with ProcessPool(2) as pool:
            jobs = [pool.run(sleep_then, 0.05 if i % 3 == 0 else 0.0, i) for i in range(24)]
            return list(await asyncio.gather(*jobs))

    assert asyncio.run(go()) == list(range(24))


def test_pages_bigger_than_a_pipe_go_both_ways_intact() -> None:
    """A job and a result of several MB cross pipes that hold 64 KB to 1 MB at a time."""
    payload = os.urandom(3 << 20)

    async def go() -> bytes:
        async with ProcessPool(1) as pool:
            return await pool.run(bytes, payload)

    assert asyncio.run(go()) == payload


def test_a_job_s_exception_is_raised_to_its_caller_and_the_pool_carries_on() -> None:
    async def go() -> tuple[str, str, int]:
        async with ProcessPool(1) as pool:
            with pytest.raises(ValueError, match="invalid literal") as bad_input:
                await pool.run(int, "not a number")
            with pytest.raises(RuntimeError, match="Unpicklable: holds a lock") as odd:
                await pool.run(raise_unpicklable)
            return str(bad_input.value), str(odd.value), await pool.run(int, "7")

    *_errors, after = asyncio.run(go())
    assert after == 7


def test_no_process_starts_until_the_first_job() -> None:
    """A scheduled run whose feeds have nothing new must not pay for spawning workers."""

    async def go() -> tuple[list[int], list[int]]:
        async with ProcessPool(2) as pool:
            before = pool.pids()
            await pool.run(int)
            return before, pool.pids()

    before, after = asyncio.run(go())
    assert before == []
    assert len(after) == 2


def test_a_dead_worker_fails_the_jobs_in_flight_and_every_later_one() -> None:
    """As with ProcessPoolExecutor: the caller learns the pool is broken and extracts elsewhere."""

    async def go() -> tuple[list[BaseException | int], str]:
        async with ProcessPool(1) as pool:
            await pool.run(int)
            in_flight = [asyncio.ensure_future(pool.run(sleep_then, 5, 1)) for _ in range(2)]
            await asyncio.sleep(0.2)
            (pid,) = pool.pids()
            os.kill(pid, signal.SIGKILL)
            results = await asyncio.gather(*in_flight, return_exceptions=True)
            with pytest.raises(BrokenProcessPool) as later:
                await pool.run(int)
            return results, str(later.value)

    results, later = asyncio.run(go())
    assert all(isinstance(r, BrokenProcessPool) for r in results)
    assert "died (exit code -9)" in str(results[0])
    assert "died (exit code -9)" in later


def test_a_cancelled_caller_does_not_shift_the_results_of_the_next() -> None:
    async def go() -> int:
        async with ProcessPool(1) as pool:
            first = asyncio.ensure_future(pool.run(sleep_then, 0.3, 1))
            second = asyncio.ensure_future(pool.run(sleep_then, 0.0, 2))
            await asyncio.sleep(0.1)
            first.cancel()
            return await second

    assert asyncio.run(go()) == 2


def test_closing_stops_every_worker_even_one_busy_with_a_long_job() -> None:
    async def go() -> list[int]:
        pool = ProcessPool(2)
        await pool.run(int)
        pids = pool.pids()
        stuck = asyncio.ensure_future(pool.run(sleep_then, 60, 1))
        await asyncio.sleep(0.2)
        pool.close(timeout=0.5)
        with pytest.raises(asyncio.CancelledError):  # as ProcessPoolExecutor.shutdown(cancel_futures=True)
            await stuck
        return pids

    pids = asyncio.run(go())
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie" for pid in pids)
