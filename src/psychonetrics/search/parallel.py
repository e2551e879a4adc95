"""Refit many candidate models of one base model, on every CPU core.

A search step proposes candidates that differ from the current model only
in their parameter table (an edge fixed or freed).  :class:`CandidateFitter`
fits those tables in the package's worker pool (:mod:`psychonetrics._pool`),
whose workers hold the base model (its data and cached reference fits) from
the start, so a task ships only a table and returns only the estimates.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from .._pool import submit, worker_pool
from ..exceptions import PsychonetricsWarning
from ..partable.table import ParTable

if TYPE_CHECKING:
    from ..fitting.run import Estimates
    from ..interface import FittedModel

def _fit_table(base: "FittedModel", table: ParTable) -> "Estimates | None":
    """Fit ``base`` with ``table``, quietly; None when the fit fails or does not converge."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PsychonetricsWarning)
        try:
            fitted = base.with_table(table).runmodel(verbose=False)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            return None
    return fitted.fitted if fitted.converged else None


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
            self._pool = worker_pool(self.base, jobs=self.jobs)
        return self._pool

    def fit(self, tables: Sequence[ParTable]) -> list["FittedModel | None"]:
        """Fitted models for ``tables`` (None where a fit failed or did not converge)."""
        if self.jobs == 1 or len(tables) < 2:
            results = [_fit_table(self.base, t) for t in tables]
        else:
            pool = self._executor()
            results = [future.result() for future in [submit(pool, _fit_table, t) for t in tables]]
        return [None if est is None else self._model(est) for est in results]

    def _model(self, est: "Estimates") -> "FittedModel":
        return replace(self.base.with_table(est.table), fitted=est, starts="values")
