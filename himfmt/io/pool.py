"""Worker pools: spawned only when the work pays for them, and never outliving the process that started them.

Workers are always spawned, so they inherit no state (output never depends
on it). A pool costs a second or so before its first result (each worker
imports the codecs and receives the job's shared state), which a small job
never wins back: :func:`parallel_map` starts in the calling process, times
the first items, and starts a pool for the rest only when the rest would
take longer in this process than :data:`POOL_PAYS_AFTER` seconds. Every
worker dies with its parent (Linux's ``PR_SET_PDEATHSIG``; elsewhere a
thread that watches the parent), ignores Ctrl-C (the parent decides), and
is stopped as soon as the parent stops early: it unwinds the file it was
writing (no temporary file is left) and exits, so nothing is written after
the job is over.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import Any, Callable, Iterable, Iterator, TypeVar

from himfmt.io.images import one_codec_thread
from himfmt.io.memory import tune_malloc

STANDARD = ("spawn", "fork", "forkserver")
# Serial work left, in seconds, above which a pool of two or more workers wins: about twice the start of a
# pool whose workers import the codecs (bench/pool.py prints that cost and the small-job comparison;
# docs/performance.md holds the figures).
POOL_PAYS_AFTER = 2.5
PR_SET_PDEATHSIG = 1
T = TypeVar("T")
R = TypeVar("R")


def worker_count(workers: int) -> int:
    """``workers=0`` means one per core."""
    return int(workers) or (os.cpu_count() or 1)


def die_with_parent(parent: int) -> None:
    """Make this process end when ``parent`` does, however it ends (SIGKILL included)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError):

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)


class WorkerStop(BaseException):
    """Raised in a worker by SIGTERM: its writes unwind (temporary files removed), then the worker exits."""


def _stop(signum: int, frame: Any) -> None:
    raise WorkerStop


class _Chunk:
    """``fn`` over a chunk of items, as a worker runs it: stopped by :class:`WorkerStop`, the worker exits
    instead of taking the next chunk."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    def __call__(self, items: list[Any]) -> list[Any]:
        try:
            return [self.fn(item) for item in items]
        except WorkerStop:
            os._exit(1)


def _worker_start(parent: int, setup: Callable[..., Any] | None, setup_args: tuple[Any, ...]) -> None:
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    tune_malloc()
    one_codec_thread()
    if setup is not None:
        setup(*setup_args)


def spawn_pool(workers: int, setup: Callable[..., Any] | None = None, setup_args: tuple[Any, ...] = ()) -> ProcessPoolExecutor:
    """A pool of spawned processes that die with this one, also from inside a launcher's worker.

    A spawned child re-applies its parent's default start method; inside a
    joblib (loky) worker that is 'loky', which a fresh interpreter does not
    know, so the default is set back to 'spawn' first.
    """
    if multiprocessing.get_start_method(allow_none=True) not in (None, *STANDARD):
        multiprocessing.set_start_method("spawn", force=True)
    return ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_start, initargs=(os.getpid(), setup, setup_args)
    )


def stop_now(pool: ProcessPoolExecutor, grace: float = 3.0) -> None:
    """Stop the pool's workers now (the job is over: they must write nothing more): each unwinds the file it
    is writing and exits; one still running after ``grace`` seconds is killed."""
    procs = list(getattr(pool, "_processes", {}).values())
    for proc in procs:
        proc.terminate()
    deadline = time.monotonic() + grace
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
    pool.shutdown(wait=False)  # (cancelling the futures too races the pool's manager thread: InvalidStateError)


def parallel_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    n: int,
    workers: int,
    setup: Callable[..., Any] | None = None,
    setup_args: tuple[Any, ...] = (),
) -> Iterator[R]:
    """``fn`` over ``items`` (``n`` of them), results in order; see the module docstring.

    ``setup(*setup_args)`` prepares the state ``fn`` reads: it runs once here
    and once in each worker, so large shared state travels once per worker,
    not once per item. ``fn`` and the items are pickled to the workers.
    """
    if setup is not None:
        setup(*setup_args)
    it = iter(items)
    start, done = time.perf_counter(), 0
    for item in it:
        yield fn(item)
        done += 1
        left = n - done
        if workers > 1 and left > 1 and left * (time.perf_counter() - start) / done > POOL_PAYS_AFTER:
            break
    else:
        return
    pool = spawn_pool(min(workers, left), setup, setup_args)
    try:
        yield from _ordered(pool, _Chunk(fn), it, max(1, min(16, left // (workers * 8))), 4 * workers)
    except BaseException:
        stop_now(pool)
        raise
    pool.shutdown(wait=True)


def _ordered(pool: ProcessPoolExecutor, run: _Chunk, items: Iterator[T], chunk: int, window: int) -> Iterator[Any]:
    """Results in order, with at most ``window`` chunks in flight: the items are read as the work goes, and
    nothing is cancelled when the caller stops (Python 3.11's pool then breaks on cancelled work)."""
    pending: deque[Future[list[Any]]] = deque()
    while True:
        part = list(islice(items, chunk))
        if part:
            pending.append(pool.submit(run, part))
        if pending and (len(pending) >= window or not part):
            yield from pending.popleft().result()
        elif not part:
            return
