"""``bootstrap()``: resample clusters within groups, refit, and collect the replicates.

The pipeline: check the model and its unit rows -> per-group cluster sums
(:mod:`.resample`) -> the sample search (if any) -> replicates, each with
its own seed spawned from ``seed`` (:mod:`.replicate`) -> a
:class:`~psychonetrics.resampling.result.BootstrapResult`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .._arg import choice
from .._warn import warn
from ..exceptions import ConvergenceWarning
from ..report.progress import Progress
from .replicate import Outcome, ReplicateContext, Search, run_replicates
from .resample import GroupResampler, SeriesResampler
from .result import BootstrapResult, Failure

if TYPE_CHECKING:
    from ..interface import FittedModel

SEARCHES = ("prune", "stepup", "modelsearch")
SeedLike = int | np.random.SeedSequence | np.random.Generator | None


def bootstrap(
    model: "FittedModel",
    *,
    n_boot: int = 1000,
    seed: SeedLike = None,
    jobs: int | None = None,
    search: str | Callable[["FittedModel"], "FittedModel"] | None = None,
    search_options: Mapping[str, Any] | None = None,
    progress: bool | None = None,
) -> BootstrapResult:
    """Cluster bootstrap: resample clusters with replacement within each group and refit the model.

    Parameters
    ----------
    model : Model
        The model to bootstrap (fitted first when it is not), built from a
        DataFrame: the bootstrap resamples the unit rows of whole clusters.
    n_boot : int
        Number of bootstrap replicates.
    seed : int, numpy SeedSequence or Generator, optional
        Seed of the replicates: each replicate draws from its own seed,
        spawned from this one, so the result does not depend on ``jobs``.
        Default: fresh entropy (recorded in ``result.seed``).
    jobs : int, optional
        Processes to use (default: every available CPU core); ``1`` runs in
        this process.
    search : {"prune", "stepup", "modelsearch"} or callable, optional
        A search applied to every replicate (and to the sample), for the
        stability of a searched network: a verb name (options in
        ``search_options``) or a function from a fitted model to a fitted
        model, e.g. ``lambda m: m.prune(alpha=0.01)``.  (A function must be
        picklable where worker processes are spawned rather than forked:
        on Windows and macOS, define it at module level.)
    search_options : mapping, optional
        Keyword arguments of the ``search`` verb (e.g. ``{"alpha": 0.05}``).
    progress : bool, optional
        Show a progress line (default: when stderr is a terminal).

    Returns
    -------
    BootstrapResult
        Estimates of every successful replicate, bootstrap SEs, percentile
        intervals (``confint()``), edge stability (``edges()``) and the
        failed replicates with their reasons.

    Raises
    ------
    ValueError
        The model's statistics hold no unit rows (computed out of core with
        DuckDB or Spark, or loaded from a file).

    Warns
    -----
    ConvergenceWarning
        When replicates fail (do not converge or raise an error): they are
        counted in ``n_failed``, listed in ``failures`` and left out of every
        summary.

    Notes
    -----
    Replicate b draws, in every group g, J_g cluster indices uniformly with
    replacement; a cluster drawn k times enters the sample as k distinct
    clusters.  The sample's statistics are sums of per-cluster quantities
    (size, mean, within cross-product) computed once, so no replicate passes
    over the unit rows (with missing values the replicate also carries the
    drawn clusters' rows for the per-cluster likelihood).  Each refit starts
    from the sample estimates and skips the saturated and baseline models
    and, without a search, the standard errors.  The bootstrap SE is the
    standard deviation (divisor B - 1) of the successful replicates; the
    interval is the percentile interval.

    Fixed covariates (``fixed_x``) keep the moments of the full sample in
    every replicate (for within-only and cluster-level covariates the other
    estimates do not depend on them), and standardized data
    (``standardize=``) are not re-standardized per replicate.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> mod = pn.ml_lvm(pn.datasets.seed_example(), "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6",
    ...                 clusters="cluster").runmodel()
    >>> boot = pn.bootstrap(mod, n_boot=50, seed=1, jobs=1)
    >>> boot.n_success + boot.n_failed
    50
    >>> list(boot.confint().columns)
    ['var1', 'op', 'var2', 'matrix', 'row', 'col', 'group', 'par', 'est', 'se_boot', 'lower', 'upper']
    """
    from .._pool import default_jobs
    from ..interface import FittedModel

    if not isinstance(model, FittedModel):
        raise TypeError(f"`model`: expected a psychonetrics Model, got {type(model).__name__}.")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"`n_boot`: expected a positive integer (number of replicates), got {n_boot!r}.")
    if jobs is None:
        jobs = default_jobs()
    if isinstance(jobs, bool) or not isinstance(jobs, (int, np.integer)) or jobs < 1:
        raise ValueError(f"`jobs`: expected a positive integer (number of processes), got {jobs!r}.")
    if progress is not None and not isinstance(progress, bool):
        raise TypeError(f"`progress`: expected True, False or None, got {type(progress).__name__}.")
    _require_units(model)
    search_fn, search_label = _resolve_search(search, search_options)
    root = _seed_sequence(seed)
    if not model.computed:
        model = model.runmodel()
    if not model.converged:
        raise ValueError("`model`: the model did not converge; bootstrapping its estimates is meaningless (fix the "
                         "model first).")

    # complete-data ML reads only the statistics; a search refits with standard errors, robust ones need rows
    keep_units = model.estimator.per_cluster or (search_fn is not None and model.estimator.robust)
    resamplers = tuple(SeriesResampler(st) if st.series is not None else GroupResampler.of(st, keep_units=keep_units)
                       for st in model.stats)
    searched_model = None
    if search_fn is not None:
        searched_model = search_fn(model)
        _check_searched(searched_model, model)
    context = ReplicateContext(model, resamplers, search_fn)
    tasks = list(enumerate(root.spawn(int(n_boot))))
    jobs = min(int(jobs), int(n_boot))

    outcomes: list[Outcome] = []
    started = time.monotonic()
    with Progress("bootstrap", enabled=progress) as bar:
        failed = 0
        for part in run_replicates(context, tasks, jobs=jobs):
            outcomes.extend(part)
            failed += sum(o.failed for o in part)
            bar.update(f"{len(outcomes)}/{n_boot} refits" + (f", {failed} failed" if failed else ""))
    seconds = time.monotonic() - started
    outcomes.sort(key=lambda o: o.index)

    good = [o for o in outcomes if not o.failed]
    failures = tuple(Failure(o.index, o.reason) for o in outcomes if o.failed)
    estimates = (np.vstack([o.estimates for o in good]) if good  # type: ignore[misc]
                 else np.zeros((0, model.npar)))
    searched_values = None
    if search_fn is not None:
        searched_values = (np.vstack([o.values for o in good]) if good  # type: ignore[misc]
                           else np.zeros((0, model.table.n_rows)))
    result = BootstrapResult(
        model=model, estimates=estimates, replicates=np.asarray([o.index for o in good], dtype=np.int64),
        failures=failures, n_boot=int(n_boot), seed=_entropy(root), jobs=jobs,
        seconds=seconds, search=search_label, searched_model=searched_model, searched_values=searched_values)
    if failures:
        kinds = ", ".join(f"{k}: {v}" for k, v in result.failure_counts().items())
        warn(
            f"{len(failures)} of {n_boot} bootstrap refits failed ({kinds}; first: replicate {failures[0].replicate}, "
            f"{failures[0].reason}); they are left out of the standard errors and intervals "
            "(see `result.failures`).", ConvergenceWarning)
    return result


def _require_units(model: "FittedModel") -> None:
    missing = [st.group for st in model.stats if st.units is None]
    if missing:
        where = "" if len(model.stats) == 1 else f" (groups {', '.join(repr(g) for g in missing)})"
        raise ValueError(
            f"`model`: the bootstrap resamples the unit rows of whole clusters, and this model's statistics{where} "
            "hold none (they were computed out of core, with DuckDB or Spark, or loaded from a file); build the "
            "model from a DataFrame of the rows."
        )


def _resolve_search(search: str | Callable[["FittedModel"], "FittedModel"] | None,
                    options: Mapping[str, Any] | None) -> tuple[Search | None, str | None]:
    """The search as a function of a fitted model, and how it is described."""
    if search is None:
        if options:
            raise ValueError("`search_options`: given without a `search`.")
        return None, None
    if isinstance(search, str):
        choice("search", search, SEARCHES)
        kwargs = dict(options or {})
        if "verbose" in kwargs:
            raise ValueError("`search_options`: 'verbose' is not an option of a bootstrapped search.")
        if search == "modelsearch":
            kwargs.setdefault("jobs", 1)  # replicates already run on every core
        from .. import search as searches

        verb = getattr(searches, search)
        _check_keywords(verb, kwargs)
        label = search + (f"({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})" if kwargs else "()")
        return _Verb(search, kwargs), label
    if callable(search):
        if options:
            raise ValueError("`search_options`: only for a search given by name; pass the options inside "
                             "the function.")
        return search, getattr(search, "__name__", type(search).__name__)
    raise TypeError(f"`search`: expected one of {', '.join(map(repr, SEARCHES))} or a function of a model, "
                    f"got {type(search).__name__}.")


def _check_keywords(verb: Callable[..., Any], kwargs: Mapping[str, Any]) -> None:
    import inspect

    allowed = {name for name, p in inspect.signature(verb).parameters.items() if p.kind is p.KEYWORD_ONLY}
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise TypeError(f"`search_options`: {', '.join(map(repr, unknown))} not options of {verb.__name__} "
                        f"(options: {', '.join(sorted(allowed - {'verbose'}))}).")


class _Verb:
    """A search verb by name with its options (picklable, unlike a lambda)."""

    def __init__(self, name: str, kwargs: dict[str, Any]) -> None:
        self.name, self.kwargs = name, kwargs

    def __call__(self, model: "FittedModel") -> "FittedModel":
        from .. import search as searches

        return getattr(searches, self.name)(model, verbose=False, **self.kwargs)


def _check_searched(searched: object, model: "FittedModel") -> None:
    from ..interface import FittedModel

    if not isinstance(searched, FittedModel):
        raise TypeError(f"`search`: must return a fitted Model, returned {type(searched).__name__}.")
    if searched.table.n_rows != model.table.n_rows or searched.table.specs != model.table.specs:
        raise ValueError("`search`: must return a model with the same matrices as its input (a search that "
                         "fixes or frees elements).")
    if not searched.computed:
        raise ValueError("`search`: must return a fitted model (call `runmodel()` at its end).")


def _seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(0, 2**63)))
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`seed`: expected a non-negative integer, a numpy SeedSequence or Generator, or None, "
                         f"got {seed!r}.")
    return np.random.SeedSequence(int(seed))


def _entropy(root: np.random.SeedSequence) -> int | tuple[int, ...]:
    """The entropy of ``root`` as given to SeedSequence (an int, or a tuple of ints)."""
    entropy = root.entropy
    if isinstance(entropy, (int, np.integer)):
        return int(entropy)
    return tuple(int(e) for e in entropy)  # type: ignore[union-attr]


__all__ = ["bootstrap"]
