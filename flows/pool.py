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

CPU deadline. A pool built with ``cpu_seconds`` gives each job that much CPU time (a job may bring its own
deadline instead: ``run(..., cpu_seconds=)``, which a feed's parse does): the worker arms a
one-shot ``ITIMER_PROF`` timer before the job, and its SIGPROF handler raises :class:`JobTimeout` in the
job, which goes back to the caller like any other exception while the worker carries on with the next
one. (A hostile page made trafilatura run for 58 to 149 s.) A signal handler runs between Python
bytecodes, so a C call that never returns would not see it; for that the worker also lowers its own
``RLIMIT_CPU`` to ``BACKSTOP_FACTOR`` times the deadline past what it has used, and the kernel ends it with
SIGXCPU: that job fails with JobTimeout too, and the pool breaks as for any dead worker.
:func:`run_in_thread` gives a job run in a thread (the fallback once the pool broke, and thread-pool runs)
the same deadline, in wall-clock time, by raising JobTimeout in that thread.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ctypes
import fcntl
import math
import multiprocessing
import os
import pickle
import resource
import signal
import struct
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

T = TypeVar("T")

#: Linux's fcntl to resize a pipe (public in the fcntl module since Python 3.10; absent elsewhere). A page
#: is ~170 KB and a pipe holds 64 KB by default, so a job would take several write/read rounds between
#: the two processes; at 1 MiB it is written in one go.
_F_SETPIPE_SZ: int | None = getattr(fcntl, "F_SETPIPE_SZ", None)
_PIPE_BYTES = 1 << 20

#: Our framing, written and read by both ends (the pool and ``serve``): an 8-byte big-endian length, then
#: the pickle. Both ends use the pipes' raw file descriptors; nothing depends on how
#: ``multiprocessing.Connection`` frames its own messages.
_FRAME = struct.Struct("!Q")

#: A job stuck in C code past this many times its CPU deadline is ended by the kernel (RLIMIT_CPU).
BACKSTOP_FACTOR = 3
#: A job in a thread gets this many times the CPU deadline in wall-clock time: a thread shares the CPU
#: with the event loop and other threads, so its wall-clock time overstates its CPU time.
THREAD_WALL_FACTOR = 3


class JobTimeout(BaseException):
    """A job used more than its CPU deadline and was stopped; the worker that ran it carries on.

    A BaseException, as KeyboardInterrupt is, because it is raised wherever the job happens to be:
    libraries that catch ``Exception`` (feedparser records any parser error and carries on) must not
    swallow it and keep going.
    """


def _on_sigprof(signum: int, frame: object) -> None:
    raise JobTimeout("the job used up its CPU time")


def _arm(cpu_seconds: float) -> None:
    """Start the job's CPU clock, and the kernel's backstop well beyond it."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    soft = math.ceil(used + cpu_seconds * BACKSTOP_FACTOR) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(
            resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard)
        )
    signal.setitimer(signal.ITIMER_PROF, cpu_seconds)


def _job_reply(fn: Callable[..., Any], args: tuple[Any, ...], cpu_seconds: float | None) -> bytes:
    """Run one job (under its CPU deadline) and pickle ``(ok, value)`` for the caller."""
    try:
        try:
            if cpu_seconds:
                _arm(cpu_seconds)
            value = fn(*args)
        finally:
            if cpu_seconds:  # disarm before pickling: the reply is not the job's time
                signal.setitimer(signal.ITIMER_PROF, 0)
        return pickle.dumps((True, value), pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:  # the caller gets the exception, as with ProcessPoolExecutor
        try:
            return pickle.dumps((False, exc), pickle.HIGHEST_PROTOCOL)
        except Exception:  # an exception that cannot be pickled: send what can be said about it
            return pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


def serve(
    jobs: Connection,
    results: Connection,
    initializer: Callable[[], None] | None,
    cpu_seconds: float | None = None,
) -> None:
    """A worker's main loop: run each job it is sent, send back ``(ok, value)``, until the pipe closes.

    ``cpu_seconds`` is the pool's deadline; a job may come with its own (``ProcessPool.run``).
    """
    if initializer is not None:
        initializer()
    signal.signal(signal.SIGPROF, _on_sigprof)  # any job may come with a deadline of its own
    with contextlib.suppress(ValueError, OSError):  # a backstop kill must not write a core file
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    while True:
        message = _read_frame(jobs.fileno())
        if message is None:  # the pool closed the job pipe: shutting down
            return
        fn, args, deadline = pickle.loads(message)  # noqa: S301  (written by the pool that started us)
        reply = _job_reply(fn, args, deadline or cpu_seconds)
        try:
            _write_all(results.fileno(), _FRAME.pack(len(reply)) + reply)
        except OSError:  # the pool has closed its end (shutting down): nobody is waiting for this
            return


def _read_exactly(fd: int, size: int) -> bytes | None:
    """``size`` bytes from a blocking pipe, or None at its end (a frame cut short counts as the end)."""
    parts: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, _PIPE_BYTES))
        if not chunk:
            return None
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def _read_frame(fd: int) -> bytes | None:
    """The next message the pool sent, or None once it has closed the pipe."""
    header = _read_exactly(fd, _FRAME.size)
    if header is None:
        return None
    (size,) = _FRAME.unpack(header)
    return _read_exactly(fd, size)


def _write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to a blocking pipe (a single write may take only part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _ThreadJob:
    """One call in a thread with a wall-clock deadline, after which JobTimeout is raised in that thread.

    CPython can raise an exception in another thread (``PyThreadState_SetAsyncExc``); like a signal
    handler it takes effect between bytecodes. A lock orders "finished" against "expired", and a pending
    exception is cleared when the call ends, so it can never land in the executor's own code.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()
        self.ident: int | None = None
        self.finished = False

    def _expire(self) -> None:
        with self.lock:
            if not self.finished and self.ident is not None:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(self.ident), ctypes.py_object(JobTimeout)
                )

    def call(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        self.ident = threading.get_ident()
        timer = threading.Timer(self.seconds, self._expire)
        timer.daemon = True
        try:
            timer.start()
            return fn(*args)
        finally:
            timer.cancel()
            with self.lock:
                self.finished = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.ident), None)


async def run_in_thread(
    executor: Executor | None, cpu_seconds: float | None, fn: Callable[..., T], *args: Any
) -> T:
    """``fn(*args)`` in ``executor`` (None: the loop's default one), stopped with JobTimeout after
    ``THREAD_WALL_FACTOR * cpu_seconds`` of wall-clock time (no deadline when ``cpu_seconds`` is None)."""
    loop = asyncio.get_running_loop()
    if not cpu_seconds:
        return await loop.run_in_executor(executor, fn, *args)
    job = _ThreadJob(cpu_seconds * THREAD_WALL_FACTOR)
    return await loop.run_in_executor(executor, job.call, fn, args)


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

    def __init__(
        self,
        workers: int,
        initializer: Callable[[], None] | None = None,
        depth: int = 2,
        *,
        cpu_seconds: float | None = None,
    ) -> None:
        self._size = workers
        self._initializer = initializer
        self.cpu_seconds = cpu_seconds
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
                target=serve,
                args=(jobs_read, results_write, self._initializer, self.cpu_seconds),
                daemon=True,
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
                if _F_SETPIPE_SZ is not None:
                    with contextlib.suppress(OSError):  # above the system's pipe limit: keep the default
                        fcntl.fcntl(fd, _F_SETPIPE_SZ, _PIPE_BYTES)
            loop.add_reader(results_read.fileno(), self._on_readable, worker)

    def pids(self) -> list[int]:
        """The workers' process ids (tests kill one to check that a dead worker breaks the pool)."""
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    async def run(self, fn: Callable[..., T], *args: Any, cpu_seconds: float | None = None) -> T:
        """Run ``fn(*args)`` in a worker and return its result, or raise its exception; ``cpu_seconds``
        overrides the pool's CPU deadline for this job (a feed is given longer than a page)."""
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
            payload = pickle.dumps((fn, args, cpu_seconds), pickle.HIGHEST_PROTOCOL)
            future: asyncio.Future[tuple[bool, Any]] = asyncio.get_running_loop().create_future()
            worker.waiting.append(future)
            worker.outbox += _FRAME.pack(len(payload))
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
            if worker.process.exitcode == -signal.SIGXCPU and worker.waiting:
                # The kernel's backstop ended a job stuck in C code: that job was over its deadline.
                first = worker.waiting.popleft()
                if not first.done():
                    first.set_exception(JobTimeout("killed by RLIMIT_CPU, far over its CPU deadline"))
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
        """The first whole frame's message, removed from ``inbox``; None until one has fully arrived."""
        if len(inbox) < _FRAME.size:
            return None
        (size,) = _FRAME.unpack_from(inbox)
        start = _FRAME.size
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
