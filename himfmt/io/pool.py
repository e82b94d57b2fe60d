"""Worker pools: always spawned, so workers inherit no state (output never depends on it)."""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterable, Iterator, TypeVar

from .memory import tune_malloc

STANDARD = ("spawn", "fork", "forkserver")
T = TypeVar("T")
R = TypeVar("R")


def worker_count(workers: int) -> int:
    """``workers=0`` means one per core."""
    return int(workers) or (os.cpu_count() or 1)


def spawn_pool(workers: int, initializer: Callable[..., Any] = tune_malloc, initargs: tuple[Any, ...] = ()) -> ProcessPoolExecutor:
    """A pool of spawned processes, also from inside a launcher's worker.

    A spawned child re-applies its parent's default start method; inside a
    joblib (loky) worker that is 'loky', which a fresh interpreter does not
    know, so the default is set back to 'spawn' first.
    """
    if multiprocessing.get_start_method(allow_none=True) not in (None, *STANDARD):
        multiprocessing.set_start_method("spawn", force=True)
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=initializer, initargs=initargs)


def parallel_map(fn: Callable[[T], R], items: Iterable[T], n: int, workers: int,
                 initializer: Callable[..., Any] = tune_malloc, initargs: tuple[Any, ...] = ()) -> Iterator[R]:
    """``fn`` over ``items`` (``n`` of them), results in order: in this process for one worker or one item,
    else across spawned workers, in chunks small enough that every worker stays busy on a small job.

    ``fn`` and the items are pickled to the workers; ``initializer(*initargs)`` runs once in each (in
    this process too), so large shared state travels once per worker, not once per item.
    """
    if workers <= 1 or n < 2:
        initializer(*initargs)
        yield from map(fn, items)
        return
    with spawn_pool(workers, initializer, initargs) as pool:
        yield from pool.map(fn, items, chunksize=max(1, min(16, n // (workers * 8))))
