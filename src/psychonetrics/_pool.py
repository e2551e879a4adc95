"""One process pool for the work that runs on every core: search candidates and bootstrap replicates.

A pool's workers receive a *context* once, at start-up (the base model of a
search, the resampling context of a bootstrap: data and cached reference
fits), so a task ships only its own small arguments and returns small
results.  Every worker uses one BLAS thread: with small matrices, several
BLAS threads per process on shared cores cost far more than they gain.
Workers are forked where the platform allows it (no pickling of the
context) and spawned elsewhere.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ._threads import single_threaded_blas

_CONTEXT: Any = None  # the context of a worker process (set once by its initializer)


def default_jobs() -> int:
    """Worker processes to use: the CPU cores available to this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _init_worker(context: Any) -> None:
    global _CONTEXT
    _CONTEXT = context
    single_threaded_blas().__enter__()  # for the life of this worker process


def _call(task: tuple[Callable[[Any, Any], Any], Any]) -> Any:
    function, argument = task
    return function(_CONTEXT, argument)


def worker_pool(context: Any, *, jobs: int) -> ProcessPoolExecutor:
    """A pool of ``jobs`` worker processes that hold ``context``; submit work with :func:`submit`."""
    methods = multiprocessing.get_all_start_methods()
    mp_context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    return ProcessPoolExecutor(max_workers=jobs, mp_context=mp_context, initializer=_init_worker,
                               initargs=(context,))


def submit(pool: ProcessPoolExecutor, function: Callable[[Any, Any], Any], argument: Any) -> Any:
    """Run ``function(context, argument)`` in a worker of ``pool`` (``function`` must be a module-level
    function, so that it pickles by name); returns the future."""
    return pool.submit(_call, (function, argument))


__all__ = ["default_jobs", "worker_pool", "submit"]
