"""The extraction process pool, driven by the run's event loop instead of helper threads.

``concurrent.futures.ProcessPoolExecutor`` moves every job through two helper threads in the calling
process (a manager that matches jobs to workers, a feeder that pickles and writes them), and hands each
result to the event loop through a third hop. For an ingest that sends every page (about 170 KB) to a
worker, those threads cost about 0.4 ms of CPU per article, and each hop needs the GIL, which the event
loop holds while it fetches and stores. Here the event loop writes a job straight into the worker's
pipe and reads the result when the pipe is readable: no threads, no GIL hand-offs, one wake-up per
result.

A worker runs one job at a time; each is given ``depth`` jobs at most, so the next page is already in
its pipe when it finishes one. Results come back in the order the jobs were sent, so matching them to
their callers is a queue per worker.

A worker that dies (the OOM killer, a crash in a C library on a hostile page) breaks the pool, as it
does ``ProcessPoolExecutor``: its jobs in flight and every later call fail with ``BrokenProcessPool``,
and the caller falls back to extracting in its own process.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import multiprocessing
import os
import pickle
import struct
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

T = TypeVar("T")

#: Linux's fcntl to resize a pipe. A page is ~170 KB and a pipe holds 64 KB by default, so a job would
#: take several write/read rounds between the two processes; at 1 MiB it is written in one go.
_F_SETPIPE_SZ = 1031
_PIPE_BYTES = 1 << 20

#: multiprocessing.Connection's framing, which the worker side uses: a 4-byte big-endian signed length,
#: or -1 followed by an 8-byte length for messages of 2 GiB or more.
_SHORT = struct.Struct("!i")
_LONG = struct.Struct("!Q")


def serve(jobs: Connection, results: Connection, initializer: Callable[[], None] | None) -> None:
    """A worker's main loop: run each job it is sent, send back ``(ok, value)``, until the pipe closes."""
    if initializer is not None:
        initializer()
    while True:
        try:
            message = jobs.recv_bytes()
        except EOFError:
            return
        fn, args = pickle.loads(message)  # noqa: S301  (written by the pool that started us)
        try:
            reply = pickle.dumps((True, fn(*args)), pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # the caller gets the exception, as with ProcessPoolExecutor
            try:
                reply = pickle.dumps((False, exc), pickle.HIGHEST_PROTOCOL)
            except Exception:  # an exception that cannot be pickled: send what can be said about it
                reply = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        try:
            results.send_bytes(reply)
        except OSError:  # the pool has closed its end (shutting down): nobody is waiting for this
            return


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    jobs: Connection  # our write end of its job pipe
    results: Connection  # our read end of its result pipe
    waiting: collections.deque[asyncio.Future[Any]] = field(default_factory=collections.deque)
    outbox: bytearray = field(default_factory=bytearray)
    inbox: bytearray = field(default_factory=bytearray)
    writing: bool = False


class ProcessPool:
    """A fixed set of worker processes, fed by the event loop that sends them their first job.

    Use it as ``async with ProcessPool(...)`` and call ``await pool.run(fn, *args)`` from that one loop;
    ``fn`` and its arguments are pickled, so ``fn`` must be importable by name. The workers are started
    with "spawn" (forking a process that runs Prefect's threads can copy a held lock into the child) when
    the first job arrives. Needs a selector event loop (POSIX): the pipes are watched with ``add_reader``.
    """

    def __init__(self, workers: int, initializer: Callable[[], None] | None = None, depth: int = 2) -> None:
        self._size = workers
        self._initializer = initializer
        self._capacity = asyncio.Semaphore(workers * depth)
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop that started the workers
        self._broken: str | None = None
        self._closed = False
        self._workers: list[_Worker] = []

    def _start(self) -> None:
        """Start the workers, on the first job: a run whose feeds have nothing new spawns no process."""
        self._loop = loop = asyncio.get_running_loop()
        context = multiprocessing.get_context("spawn")
        for _ in range(self._size):
            jobs_read, jobs_write = context.Pipe(duplex=False)
            results_read, results_write = context.Pipe(duplex=False)
            process = context.Process(
                target=serve, args=(jobs_read, results_write, self._initializer), daemon=True
            )
            try:
                process.start()
            finally:
                jobs_read.close()  # the child has its own copies (or never started)
                results_write.close()
            worker = _Worker(process, jobs_write, results_read)
            self._workers.append(worker)
            for fd in (jobs_write.fileno(), results_read.fileno()):
                os.set_blocking(fd, False)
                with contextlib.suppress(OSError):  # not Linux, or above the system's pipe limit
                    fcntl.fcntl(fd, _F_SETPIPE_SZ, _PIPE_BYTES)
            loop.add_reader(results_read.fileno(), self._on_readable, worker)

    def pids(self) -> list[int]:
        """The workers' process ids (tests kill one to check that a dead worker breaks the pool)."""
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in a worker and return its result, or raise its exception."""
        async with self._capacity:
            if self._broken is not None:
                raise BrokenProcessPool(self._broken)
            if self._closed:
                raise RuntimeError("the process pool is closed")
            if not self._workers:
                try:
                    self._start()
                except BaseException as exc:
                    self._break(f"could not start the extraction workers: {exc}")
                    raise BrokenProcessPool(self._broken) from exc
            worker = min(self._workers, key=lambda w: len(w.waiting))
            payload = pickle.dumps((fn, args), pickle.HIGHEST_PROTOCOL)
            future: asyncio.Future[tuple[bool, Any]] = asyncio.get_running_loop().create_future()
            worker.waiting.append(future)
            if len(payload) < 0x7FFFFFFF:
                worker.outbox += _SHORT.pack(len(payload))
            else:
                worker.outbox += _SHORT.pack(-1) + _LONG.pack(len(payload))
            worker.outbox += payload
            del payload
            self._flush(worker)
            ok, value = await future
        if ok:
            return value  # type: ignore[no-any-return]
        raise value

    def _flush(self, worker: _Worker) -> None:
        """Write as much of the worker's outbox as its pipe takes; wait for writability for the rest."""
        try:
            while worker.outbox:
                sent = os.write(worker.jobs.fileno(), worker.outbox)
                del worker.outbox[:sent]
        except BlockingIOError:
            pass
        except OSError as exc:  # the worker has gone (EPIPE): its reader will see the EOF too
            self._break(f"could not send a job to extraction worker {worker.process.pid}: {exc}")
            return
        loop = asyncio.get_running_loop()
        if worker.outbox and not worker.writing:
            loop.add_writer(worker.jobs.fileno(), self._flush, worker)
            worker.writing = True
        elif not worker.outbox and worker.writing:
            loop.remove_writer(worker.jobs.fileno())
            worker.writing = False

    def _on_readable(self, worker: _Worker) -> None:
        try:
            data = os.read(worker.results.fileno(), 1 << 20)
        except BlockingIOError:
            return
        except OSError as exc:
            data = b""
            reason = str(exc)
        else:
            reason = ""
        if not data:
            worker.process.join(timeout=1)
            detail = f"exit code {worker.process.exitcode}" + (f", {reason}" if reason else "")
            self._break(f"extraction worker {worker.process.pid} died ({detail})")
            return
        worker.inbox += data
        while True:
            message = self._next_message(worker.inbox)
            if message is None:
                return
            future = worker.waiting.popleft()
            if not future.done():  # its caller may have been cancelled
                future.set_result(pickle.loads(message))  # noqa: S301  (written by our own worker)

    @staticmethod
    def _next_message(inbox: bytearray) -> bytes | None:
        if len(inbox) < _SHORT.size:
            return None
        (size,) = _SHORT.unpack_from(inbox)
        start = _SHORT.size
        if size == -1:
            if len(inbox) < start + _LONG.size:
                return None
            (size,) = _LONG.unpack_from(inbox, start)
            start += _LONG.size
        if len(inbox) < start + size:
            return None
        message = bytes(inbox[start : start + size])
        del inbox[: start + size]
        return message

    def _break(self, reason: str) -> None:
        """A worker is gone: fail every job in flight, and every later one, as ProcessPoolExecutor does."""
        if self._broken is None:
            self._broken = reason
        for worker in self._workers:
            while worker.waiting:
                future = worker.waiting.popleft()
                if not future.done():
                    future.set_exception(BrokenProcessPool(reason))
        self._stop_watching()

    def _stop_watching(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        for worker in self._workers:
            with contextlib.suppress(OSError, ValueError):  # ValueError: a pipe we have already closed
                loop.remove_reader(worker.results.fileno())
            if worker.writing:
                with contextlib.suppress(OSError, ValueError):
                    loop.remove_writer(worker.jobs.fileno())
                worker.writing = False

    def close(self, timeout: float = 5.0) -> None:
        """Stop the workers and wait for them; kill any still busy after ``timeout`` seconds.

        Closing both pipes is the signal: an idle worker reads the end of its job pipe and returns, a busy
        one finds its result pipe closed when it finishes the job in hand, and returns too.
        """
        if self._closed:
            return
        self._closed = True
        self._stop_watching()
        for worker in self._workers:
            for future in worker.waiting:
                future.cancel()
            worker.waiting.clear()
            worker.jobs.close()
            worker.results.close()
        for worker in self._workers:
            worker.process.join(timeout)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout)

    async def __aenter__(self) -> ProcessPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
