"""Model search: prune, stepup and the combined modelsearch of psychonetrics.

Each returns a new fitted model.  Searches print progress on a terminal
(quiet otherwise) and can be interrupted with Ctrl-C, returning the best
model so far with a warning.  A candidate whose refit fails or does not
converge is skipped; the skips are reported once at the end.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .._arg import choice
from .._pool import default_jobs
from .._warn import warn
from ..exceptions import ConvergenceWarning, PsychonetricsWarning
from ..fitting.run import feasible
from ..inference.modindices import modification_indices
from ..inference.padjust import P_ADJUST_METHODS, p_adjust
from ..partable import edit
from ..report.progress import Progress
from .parallel import CandidateFitter

if TYPE_CHECKING:
    from ..interface import FittedModel
    from ..partable.table import ParTable

log = logging.getLogger("psychonetrics.search")
CRITERIA = ("bic", "aic", "ebic", "chisq")


class SearchWarning(PsychonetricsWarning):
    """A model search skipped candidates or was interrupted."""


def network_matrices(model: "FittedModel") -> list[str]:
    """The model's network matrices whose edges a search tests (see :meth:`Family.networks`)."""
    return [net.matrix for net in model.family.networks() if net.estimated]


def _criterion(model: "FittedModel", criterion: str) -> float:
    fit = model.fit()
    key = {"bic": "bic", "aic": "aic.ll", "ebic": "ebic.5", "chisq": "chisq"}[criterion]
    return float(fit[key])


def _refit(model: "FittedModel") -> "FittedModel | None":
    """Fit quietly; None when the fit fails or does not converge."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PsychonetricsWarning)
        try:
            fitted = model.runmodel(verbose=False)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            return None
    return fitted if fitted.converged else None


def _tested(model: "FittedModel", matrices: Sequence[str] | None) -> list[str]:
    names = list(matrices) if matrices is not None else network_matrices(model)
    if not names:
        raise ValueError(
            "`matrices`: this model has no network (omega) matrix; name the matrices to search, "
            "e.g. matrices=['lambda']."
        )
    known = {s.name for s in model.table.specs}
    bad = [n for n in names if n not in known]
    if bad:
        raise ValueError(f"`matrices`: {bad} are not matrices of this model.")
    return names


def _pvalues(model: "FittedModel", matrices: Sequence[str], adjust: str) -> tuple[np.ndarray, np.ndarray]:
    """Free table rows of ``matrices`` (first row per parameter, off-diagonal) and their adjusted p-values."""
    table = model.table
    names = table.names()
    rows = [int(i) for i in table.free_rows
            if names[i] in matrices and table.specs[table.matrix[i]].tested(table.row[i], table.col[i])]
    rows_arr = np.asarray(rows, dtype=np.int64)
    if rows_arr.size == 0:
        return rows_arr, np.zeros(0)
    se = model.fitted.se[table.par[rows_arr] - 1]  # type: ignore[union-attr]
    from scipy import stats as sps

    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * sps.norm.sf(np.abs(table.value[rows_arr] / se))
    return rows_arr, p_adjust(p, adjust)


def _in_degenerate_blocks(model: "FittedModel", rows: np.ndarray) -> np.ndarray:
    """Whether each table row lies in a network block reported as near-singular (see
    :func:`~psychonetrics.inference.diagnostics.degenerate_blocks`)."""
    from ..inference.diagnostics import degenerate_blocks

    if rows.size == 0:
        return np.zeros(0, dtype=bool)
    table = model.table
    singular = degenerate_blocks(model.problems(), table)
    return np.array([(int(table.group[i]), table.specs[table.matrix[i]].block) in singular for i in rows], dtype=bool)


def prune(model: "FittedModel", *, alpha: float = 0.01, adjust: str = "none", matrices: Sequence[str] | None = None,
          recursive: bool = False, verbose: bool | None = None) -> "FittedModel":
    """Fix every non-significant free element of ``matrices`` at zero and refit.

    Parameters
    ----------
    alpha : float
        Significance level of the Wald tests (with the cluster-robust
        sandwich SEs for an MLR model).
    adjust : str
        p-value adjustment across the tested elements (R's ``p.adjust`` methods).
    matrices : sequence of str, optional
        Matrices to prune (default: the ``omega_*`` network matrices present).
    recursive : bool
        Repeat until nothing is removed.
    verbose : bool, optional
        Print what is removed (default: the model's ``verbose``).

    Returns
    -------
    Model
        A new, fitted model (``model`` is left unchanged).

    Examples
    --------
    >>> import psychonetrics as pn
    >>> data = pn.datasets.seed_example()
    >>> ggm = pn.ml_ggm(data, clusters="cluster").runmodel()
    >>> pruned = pn.prune(ggm, alpha=0.01)
    >>> print(int(ggm.fit()["df"]), int(pruned.fit()["df"]))
    0 21
    """
    choice("adjust", adjust, P_ADJUST_METHODS)
    if not 0 < alpha < 1:
        raise ValueError(f"`alpha`: expected a level between 0 and 1, got {alpha!r}.")
    if not model.computed:
        model = model.runmodel()
    tested = _tested(model, matrices)
    verbose = model.verbose if verbose is None else verbose
    current = model
    try:
        while True:
            rows, p = _pvalues(current, tested, adjust)
            untested = rows[np.isnan(p)]
            degenerate = untested[_in_degenerate_blocks(current, untested)]
            untested = np.setdiff1d(untested, degenerate)
            if degenerate.size:
                names = ", ".join(_element(current.table, i) for i in degenerate[:8])
                names += " ..." if degenerate.size > 8 else ""
                warn(f"prune: {degenerate.size} edge(s) of near-singular networks have no standard error (the data "
                     f"do not identify them at this boundary) and are removed with the non-significant ones: {names}; "
                     "stepup can test them again by their modification indices in the pruned model.", SearchWarning)
            if untested.size:
                names = ", ".join(_element(current.table, i) for i in untested[:8])
                names += " ..." if untested.size > 8 else ""
                warn(f"prune: {untested.size} element(s) have no standard error and are kept untested: {names}.",
                     SearchWarning)
            drop = np.concatenate([rows[p > alpha], degenerate])
            if drop.size == 0:
                return current
            table = current.table
            par_drop = np.unique(table.par[drop])
            all_rows = np.flatnonzero(np.isin(table.par, par_drop))
            what = [f"{table.names()[i]}[{table.row[i] + 1},{table.col[i] + 1}]" for i in drop]
            msg = f"prune: removing {len(what)} element(s): {', '.join(what)}"
            log.info(msg)
            if verbose:
                print(msg)
            candidate = current.with_table(edit.fix(table, all_rows, 0.0))
            refit = _refit(candidate)
            if refit is None:
                warn("prune: the pruned model did not converge; returning the model before this step.",
                     ConvergenceWarning)
                return current
            current = refit
            if not recursive:
                return current
    except KeyboardInterrupt:
        warn("prune interrupted; returning the last fitted model.", SearchWarning)
        return current


def _candidates(model: "FittedModel", matrices: Sequence[str], mi: str, alpha: float):  # noqa: ANN202
    mis = modification_indices(model, matrices=matrices)
    col = {"mi": "mi", "mi_equal": "mi_equal"}[mi]
    if col not in mis:
        raise ValueError("`mi`: 'mi_equal' needs a multi-group model.")
    sel = mis[mis["matrix"].isin(matrices) & mis[col].notna()].copy()
    from scipy import stats as sps

    sel["p_use"] = sps.chi2.sf(sel[col].to_numpy(dtype=float), 1)
    sel = sel[sel["p_use"] < alpha].sort_values(col, ascending=False)
    return sel


def _robustly_significant(refit: "FittedModel", row, mi: str, alpha: float) -> bool:  # noqa: ANN001
    """For a robust (MLR) model: whether the freed element's Wald test with the sandwich SE is significant at
    ``alpha`` (the MI that nominated it is not robust); always True for other models."""
    if not refit.robust:
        return True
    group = None if mi == "mi_equal" or refit.table.n_groups == 1 else row["group"]
    rows = edit.element_rows(refit.table, row["matrix"], int(row["row"]), int(row["col"]), group=group)
    par = refit.table.par[rows]
    par = par[par > 0]
    if par.size == 0:
        return False
    se = refit.fitted.se[par[0] - 1]  # type: ignore[union-attr]
    from scipy import stats as sps

    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * sps.norm.sf(abs(refit.table.value[rows[0]] / se))
    return bool(p < alpha)


def _free_candidate(model: "FittedModel", row, mi: str) -> "FittedModel":  # noqa: ANN001
    group = None if mi == "mi_equal" else row["group"]
    rows = edit.element_rows(model.table, row["matrix"], int(row["row"]), int(row["col"]),
                             group=group if model.table.n_groups > 1 else None)
    epc = row.get("epc", np.nan)
    shared = mi == "mi_equal"
    if not np.isfinite(epc):
        return model.with_table(edit.free(model.table, rows, None, shared=shared))
    # start at the expected parameter change, shortened until the model stays in its parameter space (an EPC
    # beyond +-1 for a partial correlation, say); the current value (0) always does
    for start in float(epc) * 0.5 ** np.arange(6):
        table = edit.free(model.table, rows, start, shared=shared)
        if feasible(model.family, table, model.stats, estimator=model.estimator):
            return model.with_table(table)
    return model.with_table(edit.free(model.table, rows, None, shared=shared))


def stepup(model: "FittedModel", *, alpha: float = 0.01, criterion: str = "bic", matrices: Sequence[str] | None = None,
           mi: str = "mi", verbose: bool | None = None) -> "FittedModel":
    """Free, one at a time, the fixed element with the largest significant MI while ``criterion`` improves.

    Default matrices: the network (omega) matrices and ``lambda``.
    ``mi="mi_equal"`` (multi-group) frees an element in all groups as one
    parameter constrained equal across groups.

    Parameters
    ----------
    model : Model
        Fitted (or specified: it is fitted first) model.
    alpha : float
        An element is a candidate when the p-value of its MI is below
        ``alpha``; for an MLR model the freed element must also be
        significant by its robust (sandwich) Wald test in the refitted model,
        since the MI assumes normality.
    criterion : {"bic", "aic", "ebic", "chisq"}
        A candidate is kept only when it lowers this criterion.
    matrices : sequence of str, optional
        Matrices searched (default: the ``omega_*`` matrices and ``lambda``).
    mi : {"mi", "mi_equal"}
    verbose : bool, optional

    Returns
    -------
    Model
        A new, fitted model.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> data = pn.datasets.seed_example()
    >>> pruned = pn.ml_ggm(data, clusters="cluster").runmodel().prune(alpha=0.01)
    >>> added = pn.stepup(pruned, alpha=0.01)
    >>> print(int(pruned.fit()["df"]), int(added.fit()["df"]))
    21 20
    """
    choice("criterion", criterion, CRITERIA)
    choice("mi", mi, ("mi", "mi_equal"))
    if not model.computed:
        model = model.runmodel()
    if matrices is None:
        matrices = network_matrices(model) + (["lambda"] if "lambda" in model.table.spec_index else [])
    tested = _tested(model, matrices)
    verbose = model.verbose if verbose is None else verbose
    current, best = model, _criterion(model, criterion)
    progress = Progress("stepup")
    skipped = 0
    try:
        while True:
            cands = _candidates(current, tested, mi, alpha)
            improved = False
            for _, row in cands.iterrows():
                refit = _refit(_free_candidate(current, row, mi))
                if refit is None:
                    skipped += 1
                    continue
                if not _robustly_significant(refit, row, mi, alpha):
                    continue
                value = _criterion(refit, criterion)
                if value < best:
                    msg = f"stepup: freed {row['matrix']}[{row['row']},{row['col']}] ({criterion} {best:.2f} -> {value:.2f})"
                    log.info(msg)
                    if verbose:
                        print(msg)
                    progress.update(msg)
                    current, best, improved = refit, value, True
                break
            if not improved:
                break
    except KeyboardInterrupt:
        warn("stepup interrupted; returning the best model so far.", SearchWarning)
    finally:
        progress.close()
    if skipped:
        warn(f"stepup: {skipped} candidate fit(s) failed or did not converge and were skipped.", SearchWarning)
    return current


def modelsearch(model: "FittedModel", *, criterion: str = "bic", prunealpha: float = 0.01, addalpha: float = 0.01,
                matrices: Sequence[str] | None = None, verbose: bool | None = None, max_steps: int = 200,
                screen: int = 12, jobs: int | None = None) -> "FittedModel":
    """Combined add/remove search: a local search on ``criterion`` that refits its candidates.

    Every step ranks the candidate moves, removing a tested free element
    whose p-value exceeds ``prunealpha`` (largest p first) or freeing a
    fixed one whose modification index is significant at ``addalpha``
    (largest MI first), refits the best ``screen`` of each kind from the
    current estimates (on ``jobs`` processes) and takes the move that
    improves ``criterion`` most; it stops when no refitted move improves it.
    The search runs from two starting points, the model as given and the
    result of ``prune`` followed by ``stepup`` (at the same levels), and
    returns the better end point, so it never ends worse than that sequence.

    Parameters
    ----------
    model : Model
        Fitted (or specified: it is fitted first) model.
    criterion : {"bic", "aic", "ebic", "chisq"}
    prunealpha, addalpha : float
        Levels for removing and adding elements.
    matrices : sequence of str, optional
        Matrices searched (default: the ``omega_*`` network matrices).
    verbose : bool, optional
        Print every step.
    max_steps : int
        Steps per starting point.
    screen : int
        Candidates of each kind (removal, addition) refitted per step.
    jobs : int, optional
        Processes that refit candidates (default: every available core).

    Returns
    -------
    Model
        A new, fitted model.

    Notes
    -----
    psychonetrics' ``modelsearch`` refits candidates too; screening the
    moves by p-value and modification index keeps the cost of a step
    independent of the number of elements.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> data = pn.datasets.seed_example()
    >>> ggm = pn.ml_ggm(data, clusters="cluster").runmodel()
    >>> best = pn.modelsearch(ggm, jobs=1)
    >>> print(int(best.fit()["df"]), round(best.fit()["bic"], 1))
    19 10414.9
    """
    choice("criterion", criterion, CRITERIA)
    for name, value in (("prunealpha", prunealpha), ("addalpha", addalpha)):
        if not 0 < value < 1:
            raise ValueError(f"`{name}`: expected a level between 0 and 1, got {value!r}.")
    if not isinstance(screen, (int, np.integer)) or screen < 1:
        raise ValueError(f"`screen`: expected a positive integer, got {screen!r}.")
    if not model.computed:
        model = model.runmodel()
    tested = _tested(model, matrices)
    verbose = model.verbose if verbose is None else verbose
    progress = Progress("modelsearch")
    skipped = [0]
    results: list[tuple[float, "FittedModel"]] = []
    try:
        with CandidateFitter(model, jobs=default_jobs() if jobs is None else jobs) as fitter:
            second = None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PsychonetricsWarning)
                try:
                    second = stepup(prune(model, alpha=prunealpha, matrices=tested), alpha=addalpha,
                                    criterion=criterion, matrices=tested)
                except (ValueError, np.linalg.LinAlgError):
                    second = None
            for label, start in (("model", model), ("prune + stepup", second)):
                if start is None or not start.converged:
                    continue
                end = _local_search(start, fitter, tested, criterion=criterion, prunealpha=prunealpha,
                                    addalpha=addalpha, screen=int(screen), max_steps=max_steps, verbose=verbose,
                                    progress=progress, label=label, skipped=skipped, found=results)
                results.append((_criterion(end, criterion), end))
    except KeyboardInterrupt:
        warn("modelsearch interrupted; returning the best model so far.", SearchWarning)
    finally:
        progress.close()
    if skipped[0]:
        warn(f"modelsearch: {skipped[0]} candidate fit(s) failed or did not converge and were skipped.",
             SearchWarning)
    if not results:
        return model
    return min(results, key=lambda item: item[0])[1]


def _local_search(current: "FittedModel", fitter: CandidateFitter, tested: Sequence[str], *, criterion: str,
                  prunealpha: float, addalpha: float, screen: int, max_steps: int, verbose: bool,
                  progress: Progress, label: str, skipped: list[int], found: list) -> "FittedModel":
    """Best-improvement local search from ``current`` (see :func:`modelsearch`)."""
    best = _criterion(current, criterion)
    found.append((best, current))  # the best so far survives an interruption
    for step in range(max_steps):
        moves: list[tuple[str, "ParTable", object]] = []
        rows, p = _pvalues(current, tested, "none")
        table = current.table
        order = np.argsort(-np.nan_to_num(p, nan=1.0), kind="stable")
        for i in order[:screen]:
            if not p[i] > prunealpha:
                break
            row = rows[i]
            moves.append((f"remove {_element(table, row)}",
                          edit.fix(table, np.flatnonzero(table.par == table.par[row]), 0.0), None))
        for _, cand in _candidates(current, tested, "mi", addalpha).head(screen).iterrows():
            moves.append((f"add {cand['matrix']}[{cand['row']},{cand['col']}]",
                          _free_candidate(current, cand, "mi").table, cand))
        if not moves:
            break
        fits = fitter.fit([t for _, t, _ in moves])
        scored = []
        for (what, _, cand), refit in zip(moves, fits):
            if refit is None:
                skipped[0] += 1
                continue
            if cand is not None and not _robustly_significant(refit, cand, "mi", addalpha):
                continue
            scored.append((_criterion(refit, criterion), what, refit))
        if not scored:
            break
        value, what, refit = min(scored, key=lambda t: t[0])
        if not value < best - 1e-9 * max(1.0, abs(best)):
            break
        msg = f"modelsearch ({label}) step {step + 1}: {what} ({criterion} {best:.2f} -> {value:.2f})"
        log.info(msg)
        if verbose:
            print(msg)
        progress.update(msg)
        current, best = refit, value
        found.append((best, current))
    return current


def _element(table: "ParTable", row: int) -> str:
    return f"{table.names()[row]}[{table.row[row] + 1},{table.col[row] + 1}]"
