"""One bootstrap replicate: resample the clusters, refit, optionally search; and running many of them.

A replicate is a pure function of the bootstrapped model and its own seed
(a child of the bootstrap's seed sequence), so the results do not depend on
how replicates are spread over processes.  :class:`ReplicateRunner` runs
them in-process (``jobs=1``) or in the package's worker pool
(:mod:`psychonetrics._pool`), whose workers receive the resampling context
once, at start-up; a task ships a few seeds and returns a few estimate
vectors.  Every fit uses one BLAS thread.

A replicate is fitted as the sample was, by the model's own fitting path
(:func:`~psychonetrics.fitting.run.estimate`: its collapse and degeneracy
checks, its fallbacks and retries), with the sample estimates as the first
start (for :data:`FIRST_ITERATIONS` iterations: near an interior maximum they
converge in a few, while on a between level at its boundary they crawl) and
the replicate's own data-based start (the one ``runmodel`` takes for a new
model) as the next; it skips the saturated and baseline models
and, without a search, the standard errors: only the point estimates are
used.  Fisher scoring stops at a Newton decrement of :data:`REFIT_TOLERANCE`
(rather than the :data:`~psychonetrics.fitting.optimize.FIT_TOLERANCE` of a
model fit), which puts the estimates within about sqrt(2 x 1e-7) = 4.5e-4
standard errors of the maximum, far below the Monte Carlo error of any
bootstrap summary.  A search (``prune``, ...) needs
p-values, so with a search the refit is a full ``runmodel`` (still without
reference models).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from .._pool import submit, worker_pool
from .._threads import single_threaded_blas
from ..data.stats import TwoLevelStats
from ..exceptions import PsychonetricsWarning
from ..fitting.run import data_start, estimate
from ..linalg import FloatArray
from .resample import GroupResampler, SeriesResampler

if TYPE_CHECKING:
    from ..interface import FittedModel

Search = Callable[["FittedModel"], "FittedModel"]

#: Newton decrement (log-likelihood units) at which a bootstrap refit has converged.
REFIT_TOLERANCE = 1e-7
#: Fisher-scoring iterations from the sample estimates before a refit turns to the replicate's own start.
FIRST_ITERATIONS = 8


@dataclass(frozen=True)
class Outcome:
    """What one replicate returns.

    Attributes
    ----------
    index : int
        Replicate number (0-based).
    estimates : (n_free,) float array or None
        Free-parameter estimates of the refit; None when it failed.
    values : (n_rows,) float array or None
        With a search: the table values of the searched model (pruned elements are 0).
    reason : str
        Why the replicate failed ("" when it succeeded).
    """

    index: int
    estimates: FloatArray | None
    values: FloatArray | None = None
    reason: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.reason)


@dataclass(frozen=True, eq=False)
class ReplicateContext:
    """Everything a replicate needs: the fitted model, its per-group resamplers and the search."""

    model: "FittedModel"
    resamplers: tuple[GroupResampler | SeriesResampler, ...]
    search: Search | None = None

    def run(self, index: int, seed: np.random.SeedSequence) -> Outcome:
        """Resample, refit and search replicate ``index``; failures are returned, not raised."""
        rng = np.random.default_rng(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PsychonetricsWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                stats = tuple(r.draw(rng) for r in self.resamplers)
                return self._refit(index, stats)
            except Exception as exc:  # noqa: BLE001 - every failure is counted and reported with its type
                return Outcome(index, None, reason=f"error: {type(exc).__name__}: {exc}")

    def _refit(self, index: int, stats: tuple[TwoLevelStats, ...]) -> Outcome:
        model = self.model
        if self.search is None:
            # the model's own fitting path, from the sample estimates (a few iterations: enough near an interior
            # maximum) and then from the replicate's data, as runmodel starts a new model
            est = estimate(model.family, model.table, stats, estimator=model.estimator, optimizer=model.optimizer,
                           standard_errors=False, tol=REFIT_TOLERANCE, first_iterations=FIRST_ITERATIONS,
                           further_starts=lambda: [data_start(model.family, model.table, stats).start_vector()])
            if not est.result.converged or not np.isfinite(est.loglik):
                return Outcome(index, None, reason=f"not converged: {est.result.message}")
            return Outcome(index, np.asarray(est.result.x, dtype=float))
        sample = replace(model, stats=stats, fitted=None, reference=None, saturated_fit=None, use_reference=False,
                         starts="data", verbose=False)
        fitted = sample.runmodel(verbose=False, reference=False)
        if not fitted.converged:
            return Outcome(index, None, reason=f"not converged: {fitted.fitted.result.message}")  # type: ignore[union-attr]
        searched = self.search(fitted)
        if not getattr(searched, "converged", False):
            return Outcome(index, None, reason="search: the searched model did not converge")
        if searched.table.n_rows != model.table.n_rows:
            raise ValueError("the search returned a model with other matrices than the bootstrapped one")
        return Outcome(index, np.asarray(fitted.fitted.result.x, dtype=float),  # type: ignore[union-attr]
                       np.asarray(searched.table.value, dtype=float))

    def run_many(self, tasks: Sequence[tuple[int, np.random.SeedSequence]]) -> list[Outcome]:
        return [self.run(index, seed) for index, seed in tasks]


def _run_part(context: ReplicateContext, tasks: list[tuple[int, np.random.SeedSequence]]) -> list[Outcome]:
    return context.run_many(tasks)


def chunks(tasks: Sequence[tuple[int, np.random.SeedSequence]], jobs: int) -> list[list[tuple[int, np.random.SeedSequence]]]:
    """Split the tasks into chunks: about 8 per worker (for an even load), at most 50 replicates each
    (for progress)."""
    size = max(1, min(50, -(-len(tasks) // (8 * jobs))))
    return [list(tasks[k:k + size]) for k in range(0, len(tasks), size)]


def run_replicates(context: ReplicateContext, tasks: Sequence[tuple[int, np.random.SeedSequence]], *,
                   jobs: int) -> Iterator[list[Outcome]]:
    """Outcomes of ``tasks`` (index, seed), yielded chunk by chunk as they finish (in any order)."""
    parts = chunks(tasks, jobs)
    if jobs == 1 or len(parts) < 2:
        with single_threaded_blas():
            for part in parts:
                yield context.run_many(part)
        return
    with worker_pool(context, jobs=jobs) as pool:
        futures = [submit(pool, _run_part, part) for part in parts]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


__all__ = ["Outcome", "ReplicateContext", "run_replicates"]
