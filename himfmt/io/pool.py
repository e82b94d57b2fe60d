"""Worker pools: always spawned, so workers inherit no state (output never depends on it)."""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable

from .memory import tune_malloc

STANDARD = ("spawn", "fork", "forkserver")


def spawn_pool(workers: int, initializer: Callable[..., Any] = tune_malloc, initargs: tuple[Any, ...] = ()) -> ProcessPoolExecutor:
    """A pool of spawned processes, also from inside a launcher's worker.

    A spawned child re-applies its parent's default start method; inside a
    joblib (loky) worker that is 'loky', which a fresh interpreter does not
    know, so the default is set back to 'spawn' first.
    """
    if multiprocessing.get_start_method(allow_none=True) not in (None, *STANDARD):
        multiprocessing.set_start_method("spawn", force=True)
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=initializer, initargs=initargs)
