"""Refit many candidate models of one base model, on every CPU core.

A search step proposes candidates that differ from the current model only
in their parameter table (an edge fixed or freed).  :class:`CandidateFitter`
fits those tables in worker processes that hold the base model (its data and
cached reference fits) from the start, so a task ships only a table and
returns only the estimates.  Every worker uses one BLAS thread: with small
matrices, several BLAS threads per process on shared cores cost far more
than they gain.
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from .._threads import single_threaded_blas
from ..exceptions import PsychonetricsWarning
from ..partable.table import ParTable

if TYPE_CHECKING:
    from ..fitting.run import Estimates
    from ..interface import FittedModel

_BASE: "FittedModel | None" = None  # the base model of a worker process (set once by its initializer)


def _fit_table(base: "FittedModel", table: ParTable) -> "Estimates | None":
    """Fit ``base`` with ``table``, quietly; None when the fit fails or does not converge."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PsychonetricsWarning)
        try:
            fitted = base.with_table(table).runmodel(verbose=False)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            return None
    return fitted.fitted if fitted.converged else None


def _init_worker(base: "FittedModel") -> None:
    global _BASE
    _BASE = base
    single_threaded_blas().__enter__()  # for the life of this worker process


def _work(table: ParTable) -> "Estimates | None":
    assert _BASE is not None
    return _fit_table(_BASE, table)


def default_jobs() -> int:
    """Worker processes to use: the CPU cores available to this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


class CandidateFitter:
    """Fits candidate tables of ``base`` (serially when ``jobs`` is 1).

    Use as a context manager so the worker processes end with the search.
    """

    def __init__(self, base: "FittedModel", *, jobs: int) -> None:
        if not isinstance(jobs, (int, np.integer)) or jobs < 1:
            raise ValueError(f"`jobs`: expected a positive integer (number of processes), got {jobs!r}.")
        self.base = base
        self.jobs = int(jobs)
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "CandidateFitter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=context,
                                             initializer=_init_worker, initargs=(self.base,))
        return self._pool

    def fit(self, tables: Sequence[ParTable]) -> list["FittedModel | None"]:
        """Fitted models for ``tables`` (None where a fit failed or did not converge)."""
        if self.jobs == 1 or len(tables) < 2:
            results = [_fit_table(self.base, t) for t in tables]
        else:
            results = list(self._executor().map(_work, tables))
        return [None if est is None else self._model(est) for est in results]

    def _model(self, est: "Estimates") -> "FittedModel":
        return replace(self.base.with_table(est.table), fitted=est, starts="values")
