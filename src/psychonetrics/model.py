"""The immutable Model: specification + statistics + (after ``runmodel``) estimates.

Every verb returns a new Model and leaves its input untouched::

    mod = pn.ml_lvm(data, lambda_=pattern, clusters="school")
    fitted = mod.runmodel()          # mod is still unfitted
    pruned = fitted.prune(alpha=0.05)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._arg import choice, optional_flag
from ._threads import single_threaded_blas
from .data.stats import TwoLevelStats
from .estimators import Estimator
from .exceptions import NotFittedError
from .families.base import Family
from .families.ml_lvm.exogenous import Exogenous
from .fitting.reference import ReferenceFits, reference_fits
from .fitting.run import Estimates, data_start, estimate
from .fitting.saturated import MomentsFit
from .inference.parameters import parameter_frame
from .partable.table import ParTable

if TYPE_CHECKING:
    from .report.summary import Summary

@dataclass(frozen=True, eq=False)
class Model:
    """A two-level model. Build it with :func:`psychonetrics.ml_lvm` and its wrappers.

    Attributes
    ----------
    family : Family
        The model family (``ml_lvm`` or ``ml_varcov``) with its covariance types.
    table : ParTable
        The parameter table (estimates in its free rows after fitting).
    stats : tuple of TwoLevelStats
        Statistics of every group.
    estimator : Estimator
        How the model is estimated (:mod:`psychonetrics.estimators`: ``ML``,
        ``FIML``, ``MLR``), resolved from the ``estimator=`` argument.
    information : {"observed", "expected"}
        Information matrix of the standard errors (the sandwich's bread when robust).
    optimizer : str
    fitted : Estimates or None
        Optimizer result, covariance of the estimates and SEs; None until ``runmodel()``.
    reference : ReferenceFits or None
        Saturated and baseline fits of the same data (cached across verbs).
    wrapper : str
        Name of the function that built the model (``"ml_lnm"``, ...).

    Examples
    --------
    Every verb returns a new model:

    >>> import psychonetrics as pn
    >>> data = pn.datasets.seed_example()
    >>> mod = pn.ml_lnm(data, "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6", clusters="cluster")
    >>> fitted = mod.runmodel()
    >>> mod.computed, fitted.computed, fitted.converged
    (False, True, True)
    >>> print(round(fitted.fit()["chisq"], 2), fitted.npar)
    15.92 28
    >>> fitted.getmatrix("omega_zeta_between").round(3)
    array([[ 0.   , -0.167],
           [-0.167,  0.   ]])
    >>> no_edge = fitted.fixpar("omega_zeta_between", "F2", "F1", 0.0).runmodel()
    >>> table = pn.compare(free=fitted, fixed=no_edge)
    >>> table[["model", "DF", "Chisq_diff", "p_value"]].round(3)
       model  DF  Chisq_diff  p_value
    0   free  20         NaN      NaN
    1  fixed  21        0.96    0.327
    """

    family: Family
    table: ParTable
    stats: tuple[TwoLevelStats, ...]
    estimator: Estimator
    optimizer: str = "default"
    information: str = "expected"
    fitted: Estimates | None = None
    reference: ReferenceFits | None = None
    wrapper: str = "ml_lvm"
    identification: str = "loadings"
    equal: tuple[str, ...] = ()
    verbose: bool = False
    use_reference: bool = True
    starts: str = "data"
    exogenous: Exogenous | None = None
    saturated_fit: MomentsFit | None = None
    _fit_cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    # ------------------------------------------------------------- basics
    @property
    def computed(self) -> bool:
        """Whether the model has been fitted."""
        return self.fitted is not None

    @property
    def converged(self) -> bool:
        """Whether the optimizer converged (False for an unfitted model)."""
        return self.fitted is not None and self.fitted.result.converged

    @property
    def robust(self) -> bool:
        """Cluster-robust (sandwich) standard errors and the Yuan-Bentler scaled chi-square (``MLR``)."""
        return self.estimator.robust

    @property
    def n_clusters(self) -> int:
        return self.family.n_clusters(self.stats)

    @property
    def n_units(self) -> int:
        return sum(s.n_units for s in self.stats)

    @property
    def group_labels(self) -> tuple[str, ...]:
        return self.table.group_labels

    @property
    def npar(self) -> int:
        return self.table.n_free

    @property
    def nobs(self) -> int:
        """Sample moments: per group one mean per variable and vech of Sigma_W and Sigma_B over each level's
        variables."""
        moments = len(self.stats) * self.family.n_moments()
        return moments - (self.exogenous.n_moments if self.exogenous is not None else 0)

    def _require_fit(self, what: str) -> Estimates:
        if self.fitted is None:
            raise NotFittedError(f"`{what}()` reads estimates, and this model is not fitted yet; call "
                                 "`runmodel()` first (e.g. `model = model.runmodel()`).")
        return self.fitted

    # --------------------------------------------------------------- verbs
    def runmodel(self, *, verbose: bool | None = None, reference: bool | None = None) -> "Model":
        """Fit the model; returns a new Model.

        Parameters
        ----------
        verbose : bool, optional
            Say which estimator runs (default: the model's ``verbose``).
        reference : bool, optional
            Fit the saturated and baseline models (once; they are cached and
            carried by every verb).  They give chi-square, CFI, TLI, RMSEA and
            the start values of network, precision and Cholesky blocks.
            ``False`` skips them (fit measures that need them are NaN);
            default: the model's setting (``True`` unless a previous
            ``runmodel(reference=False)`` turned it off).
        """
        verbose, reference = optional_flag("verbose", verbose), optional_flag("reference", reference)
        verbose = self.verbose if verbose is None else verbose
        use_reference = self.use_reference if reference is None else reference
        if verbose:
            print(f"Estimating {self.wrapper} with {self.estimator.describe(self.stats)}...")
        ref = self.reference
        if ref is None and use_reference and self.family.references().saturated:
            with single_threaded_blas():
                ref = reference_fits(self.family, self.stats, estimator=self.estimator,
                                     saturated=self.saturated_fit)
        saturated = ref.saturated.moments if ref is not None else (
            self.saturated_fit.moments if self.saturated_fit is not None else None)
        if self.starts == "data":  # the data's start first, then (if it does not converge) the table's values
            table = data_start(self.family, self.table, self.stats, saturated)
            further = lambda: [self.table.start_vector()]  # noqa: E731
        else:  # the table's values first, then the data's start, as a new model has
            table = self.table
            further = lambda: [data_start(self.family, self.table, self.stats, saturated).start_vector()]  # noqa: E731
        from .report.progress import Progress

        with Progress(f"fitting {self.wrapper}") as progress, single_threaded_blas():
            fitted = estimate(self.family, table, self.stats, estimator=self.estimator, optimizer=self.optimizer,
                              information=self.information, progress=progress,
                              further_starts=further)
        model = replace(self, table=fitted.table, fitted=fitted, reference=ref, verbose=verbose,
                        use_reference=use_reference, starts="values")
        from .inference.diagnostics import warn_problems

        warn_problems(model)
        return model

    def problems(self) -> list:
        """What is improper about the fitted solution (see :mod:`psychonetrics.inference.diagnostics`): one
        :class:`~psychonetrics.inference.diagnostics.Problem` per element or block; ``parameters()`` shows
        them in its ``note`` column."""
        self._require_fit("problems")
        cached = self._fit_cache.get("problems")
        if cached is None:
            from .inference.diagnostics import diagnose

            cached = self._fit_cache["problems"] = diagnose(self)
        return list(cached)

    def with_table(self, table: ParTable, *, starts: str | None = None) -> "Model":
        """An unfitted copy with a new parameter table (same data and cached reference fits).

        Parameters
        ----------
        table : ParTable
            The new table (same matrices).
        starts : {"values", "data"}, optional
            ``"values"``: the table's free values are the start values of the
            next ``runmodel()``; ``"data"``: starts from the data (the
            saturated model); default: as this model (the estimates of a
            fitted model, the data for an unfitted one).
        """
        if starts is not None:
            choice("starts", starts, ("values", "data"))
        return replace(self, table=table, fitted=None, starts=self.starts if starts is None else starts)

    def fixpar(self, matrix: str, row: int | str, col: int | str = 1, value: float = 0.0, *,
               group: int | str | None = None) -> "Model":
        """Fix one element (1-based row/col or labels) at ``value``; returns a new, unfitted model."""
        from .partable import edit

        rows = edit.element_rows(self.table, matrix, row, col, group)
        return self.with_table(edit.fix(self.table, rows, value))

    def freepar(self, matrix: str, row: int | str, col: int | str = 1, *, start: float | None = None,
                group: int | str | None = None) -> "Model":
        """Free one element (in every group unless ``group``); returns a new, unfitted model."""
        from .partable import edit

        rows = edit.element_rows(self.table, matrix, row, col, group)
        return self.with_table(edit.free(self.table, rows, start))

    def groupequal(self, matrix: str, row: int | str, col: int | str = 1) -> "Model":
        """Constrain one element equal across groups; returns a new, unfitted model."""
        from .partable import edit

        return self.with_table(edit.group_equal(self.table, edit.element_rows(self.table, matrix, row, col)))

    def groupfree(self, matrix: str, row: int | str, col: int | str = 1) -> "Model":
        """Remove the equality of one element across groups; returns a new, unfitted model."""
        from .partable import edit

        return self.with_table(edit.group_free(self.table, edit.element_rows(self.table, matrix, row, col)))

    def MIs(self) -> pd.DataFrame:  # noqa: N802 - psychonetrics' name
        """Modification indices of every fixed element (sorted by MI); ``parameters(mi=True)`` adds them to
        the parameter table."""
        self._require_fit("MIs")
        from .inference.modindices import modification_indices

        if "mi" not in self._fit_cache:
            self._fit_cache["mi"] = modification_indices(self)
        return self._fit_cache["mi"].copy()

    def _mi_columns(self) -> pd.DataFrame:
        """The MI columns of ``MIs()``, one row per matrix element (keys: matrix, row, col, group)."""
        frame = self.MIs()
        cols = [c for c in ("mi", "pmi", "epc", "mi_equal", "pmi_equal", "mi_free", "pmi_free", "epc_free")
                if c in frame]
        return frame.groupby(["matrix", "row", "col", "group"], as_index=False)[cols].first()

    def prune(self, *, alpha: float = 0.01, adjust: str = "none", matrices: Sequence[str] | None = None,
              recursive: bool = False, verbose: bool | None = None) -> "Model":
        """Fix non-significant network edges (or elements of ``matrices``) at zero and refit."""
        from .search import prune

        return prune(self, alpha=alpha, adjust=adjust, matrices=matrices, recursive=recursive, verbose=verbose)

    def stepup(self, *, alpha: float = 0.01, criterion: str = "bic", matrices: Sequence[str] | None = None,
               mi: str = "mi", verbose: bool | None = None) -> "Model":
        """Free the element with the largest significant MI while the criterion improves."""
        from .search import stepup

        return stepup(self, alpha=alpha, criterion=criterion, matrices=matrices, mi=mi, verbose=verbose)

    def modelsearch(self, *, criterion: str = "bic", prunealpha: float = 0.01, addalpha: float = 0.01,
                    matrices: Sequence[str] | None = None, verbose: bool | None = None, screen: int = 12,
                    jobs: int | None = None) -> "Model":
        """Add/remove search on ``criterion`` that refits its candidates (see :func:`psychonetrics.modelsearch`)."""
        from .search import modelsearch

        return modelsearch(self, criterion=criterion, prunealpha=prunealpha, addalpha=addalpha,
                           matrices=matrices, verbose=verbose, screen=screen, jobs=jobs)

    def bootstrap(self, *, n_boot: int = 1000, seed: Any = None, jobs: int | None = None, search: Any = None,
                  search_options: dict[str, Any] | None = None, progress: bool | None = None) -> Any:
        """Cluster bootstrap: resample clusters within groups and refit (see :func:`psychonetrics.bootstrap`)."""
        from .resampling import bootstrap

        return bootstrap(self, n_boot=n_boot, seed=seed, jobs=jobs, search=search, search_options=search_options,
                         progress=progress)

    def confint(self, *, level: float = 0.95) -> pd.DataFrame:
        """Wald confidence intervals of the free parameters."""
        from scipy import stats as sps

        self._require_fit("confint")
        if not 0 < level < 1:
            raise ValueError(f"`level`: expected a confidence level between 0 and 1, got {level!r}.")
        frame = self.parameters()
        frame = frame.loc[~frame["fixed"]].drop_duplicates("par")
        z = sps.norm.ppf(0.5 + level / 2)
        lo, hi = f"lower {100 * (1 - level) / 2:g}%", f"upper {100 * (1 + level) / 2:g}%"
        out = frame[["var1", "op", "var2", "est", "se", "matrix", "row", "col", "group", "par"]].copy()
        out[lo] = out["est"] - z * out["se"]
        out[hi] = out["est"] + z * out["se"]
        return out.reset_index(drop=True)

    def plot(self, matrix: str | Sequence[str] | None = None, *, group: int | str | None = None,
             significant: bool = False, alpha: float = 0.01, filename: str | None = None, **kwargs: Any) -> Any:
        """Network plot of ``omega_*`` matrices (default: every network matrix side by side).

        ``significant=True`` draws only edges with p < ``alpha``.  The nodes of
        each panel are the rows of its matrix, less the phantoms of a
        level-specific model (observed covariates of regressions): the levels'
        latent networks may differ in size.  Needs matplotlib.
        """
        self._require_fit("plot")
        from .report.network import plot_model

        return plot_model(self, matrix, group=group, significant=significant, alpha=alpha, filename=filename,
                          **kwargs)

    # ------------------------------------------------------------- results
    def fit(self) -> pd.Series:
        """Fit measures (logl, chisq, df, CFI, TLI, RMSEA, AIC, BIC, ...) as a Series (see
        :mod:`psychonetrics.inference.fitmeasures`)."""
        self._require_fit("fit")
        if "fit" not in self._fit_cache:
            from .inference.fitmeasures import model_fit

            self._fit_cache["fit"] = model_fit(self)
        return self._fit_cache["fit"].copy()

    def parameters(self, *, standardized: bool = False, mi: bool = False) -> pd.DataFrame:
        """Estimates with standard errors, z and p-values, one row per matrix element.

        ``standardized=True`` gives the std.all solution per level with
        delta-method standard errors instead.  ``mi=True`` adds the columns
        of ``MIs()`` (``mi``, ``pmi``, ``epc``, and in multi-group models
        ``mi_equal``, ``mi_free``, ...), NaN for free elements; the columns
        never depend on whether ``MIs()`` ran before.
        """
        self._require_fit("parameters")
        if standardized and mi:
            raise ValueError("`mi`: modification indices go with the unstandardized parameters; "
                             "use `parameters(mi=True)` without `standardized=True`.")
        if standardized:
            from .inference.standardize import standardized_solution

            return standardized_solution(self.family, self.table, self.fitted.vcov)  # type: ignore[union-attr]
        se = self.fitted.se if self.fitted is not None else None
        frame = parameter_frame(self.table, se, self.family.describe(self.table))
        problems = self.problems()
        notes = {(p.matrix, p.row + 1, p.col + 1, self.group_labels[p.group]): p.kind for p in problems or []}
        frame["note"] = [notes.get(key, "") for key in zip(frame["matrix"], frame["row"], frame["col"], frame["group"])]
        if self.fitted is not None:
            frame.attrs["information"] = self.fitted.information_kind
            frame.attrs["se"] = self.estimator.se_label(self.fitted.information_kind)
            frame.attrs["robust"] = self.fitted.robust
        if mi:
            attrs = frame.attrs
            frame = frame.merge(self._mi_columns(), on=["matrix", "row", "col", "group"], how="left")
            frame.attrs = attrs
        return frame

    def getmatrix(self, matrix: str, *, group: int | str | None = None, threshold: bool = False,
                  alpha: float = 0.01, adjust: str = "none") -> Any:
        """A model or derived matrix (``lambda``, ``sigma_zeta_within``, ``omega_zeta_between``,
        ``sigma_within``, ``mu``, ``sigma_eta_between``, ...).

        With several groups and no ``group``, a dict keyed by group label.
        ``threshold=True`` sets free elements whose (``adjust``-ed) p-value
        exceeds ``alpha`` to zero (model matrices only).
        """
        self._require_fit("getmatrix")
        if group is None and len(self.stats) > 1:
            return {label: self.getmatrix(matrix, group=label, threshold=threshold, alpha=alpha, adjust=adjust)
                    for label in self.group_labels}
        g = self.group_index(group)
        mats = self.table.matrices(self.table.value, g)
        if matrix in mats:
            if threshold:
                from .inference.thresholds import thresholded

                return thresholded(self, matrix, g, alpha=alpha, adjust=adjust)
            return mats[matrix]
        if threshold:
            raise ValueError(f"`threshold`: {matrix!r} is derived, not a model matrix; it has no p-values.")
        derived = self.family.derived(mats)
        if matrix in derived:
            return derived[matrix]
        raise ValueError(
            f"`matrix`: {matrix!r} is not a matrix of this model (model matrices: {', '.join(mats)}; "
            f"derived: {', '.join(sorted(derived))})."
        )

    def group_index(self, group: int | str | None) -> int:
        """Position (0-based) of ``group``: a group label, an index, or None for the first group."""
        if group is None:
            return 0
        labels = self.group_labels
        if isinstance(group, str):
            if group not in labels:
                raise ValueError(f"`group`: {group!r} is not a group (groups: {', '.join(labels)}).")
            return labels.index(group)
        if isinstance(group, (int, np.integer)) and 0 <= int(group) < len(labels):
            return int(group)
        raise ValueError(f"`group`: expected a group label or an index 0..{len(labels) - 1}, got {group!r}.")

    # -------------------------------------------------------------- output
    def __repr__(self) -> str:
        from .report.printing import model_text

        return model_text(self)

    __str__ = __repr__

    def _repr_html_(self) -> str:
        from .report.printing import model_html

        return model_html(self)

    def summary(self) -> "Summary":
        """The printed model followed by its parameters grouped by matrix.

        Returns a :class:`~psychonetrics.report.summary.Summary`: ``print()``
        gives the text, Jupyter displays it as tables.
        """
        self._require_fit("summary")
        from .report.summary import summarize

        return summarize(self)


__all__ = ["Model"]
