"""The exact likelihood of the multilevel VAR(1): ``estimator="FIML"`` of ``ml_var`` / ``ml_gvar``.

The lag pairs' pseudo-likelihood (:mod:`.family`) uses each beep twice and
drops every pair that touches a missing value.  This estimator maximizes the
exact normal likelihood of every observed value of every person's series
(:mod:`psychonetrics.likelihood.var1_exact`: the block-tridiagonal precision
of complete segments through their statistics, a Kalman filter over the
runs of partly observed beeps, the random intercept integrated out by a
p x p Woodbury step), under the same model and the same matrices.

Its phi is the model's own parameter vector psi = (mu, vec beta, vech
Sigma_zeta_within, vech Sigma_zeta_between) rather than the two-level
moments of lag pairs, so :class:`MlVarExact` returns d psi / d element.  It
has no expected information: it is fitted by BFGS from the lag pairs'
estimates with the observed information there as first metric
(:func:`~psychonetrics.fitting.optimize.quasi_newton`), and its standard
errors come from the observed information (differences of the analytic
gradient).  The lag pairs' expected information at the same parameters
(carried to psi through the lag-pair moments' Jacobian) stands in where an
expected information is asked for (the identification check of the
standard errors, the L-BFGS fallback's convergence test).  There is no saturated model over every occasion, so
chi-square and the fit indices built on it are unavailable; nested models
are compared by likelihood-ratio tests (:func:`psychonetrics.compare`).

Continuous time (unequal spacing) would enter here: with beeps at times
t_k, the transition over a gap dt is T = exp(A dt) and
Q = S0 - T S0 T' for a drift matrix A, so the transition classes of
:mod:`~psychonetrics.likelihood.var1_exact` (one per distinct gap) become one
per distinct dt, and the chain rule runs from (T_dt, Q_dt) to A through the
derivative of the matrix exponential (Van Loan's block exponential) instead
of through beta^d.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from ...data.stats import TwoLevelStats
from ...derivatives import DenseDerivatives, Elements
from ...estimators import Estimator
from ...likelihood import Route
from ...likelihood.statistics import information_expected_stats
from ...likelihood.var1_exact import (
    SeriesData,
    VarParameters,
    dloglik_var1,
    information_var1,
    loglik_var1,
    person_scores_var1,
    psi_size,
)
from ...linalg import FloatArray, vech_indices
from ...moments import Moments
from ..base import References
from .family import MlVar

if TYPE_CHECKING:
    from ...data.lag_rules import LagReport

UNAVAILABLE = ("the exact likelihood of every occasion has no saturated model (one would need a free covariance "
               "of all of a person's occasions); compare nested models by likelihood-ratio tests (pn.compare)")


class MlVarExact(MlVar):
    """:class:`MlVar` whose moments are its parameters psi, for the exact likelihood (see the module).

    ``series``: the groups' series (for the printout; the likelihood reads them from the statistics).
    """

    def __init__(self, nodes: Sequence[str], observed: Sequence[str], *, within: str = "cov", between: str = "cov",
                 report: "LagReport | None" = None, series: Sequence[SeriesData] = ()) -> None:
        super().__init__(nodes, observed, within=within, between=between, report=report)
        self.series = tuple(series)

    @property
    def n_phi(self) -> int:
        return psi_size(self.p)

    def implied(self, mats: dict[str, FloatArray]) -> VarParameters:  # type: ignore[override]
        sw = self._blocks["within"].sigma(mats)
        sb = self._blocks["between"].sigma(mats)
        return VarParameters(mats["mu"][:, 0], mats["beta"], 0.5 * (sw + sw.T), 0.5 * (sb + sb.T))

    def moments_and_derivatives(self, mats: dict[str, FloatArray], elements: Elements,  # type: ignore[override]
                                ) -> tuple[VarParameters, DenseDerivatives]:
        return self.implied(mats), self.derivatives(mats, elements)

    def derivatives(self, mats: dict[str, FloatArray], elements: Elements) -> DenseDerivatives:
        """d psi / d element: mu and beta are coordinates of psi; an element of a block moves vech of its
        covariance by the type's rank-2 derivative."""
        p = self.p
        n_vech = p * (p + 1) // 2
        jac = np.zeros((self.n_phi, elements.count))
        rows_v, cols_v = vech_indices(p)
        for name, idx, rows, cols in elements.by_matrix:
            if name == "mu":
                jac[rows, idx] = 1.0
            elif name == "beta":
                jac[p + rows + cols * p, idx] = 1.0
            else:
                level = "within" if name in self._blocks["within"].matrix_names() else "between"
                a, b = self._blocks[level].derivatives(mats, name, rows, cols)
                d_sigma = a[rows_v] * b[cols_v] + b[rows_v] * a[cols_v]  # (vech, K)
                start = p + p * p + (0 if level == "within" else n_vech)
                jac[start:start + n_vech, idx] = d_sigma
        return DenseDerivatives(jac)

    def linear_matrices(self) -> frozenset[str]:
        """psi holds mu and beta themselves, and a ``cov`` block's elements."""
        names = {"mu", "beta"}
        for block in self._blocks.values():
            if block.ctype.linear:
                names.update(block.matrix_names())
        return frozenset(names)

    @staticmethod
    def estimators() -> dict[str, Estimator]:
        """``FIML``: the exact likelihood of every observed beep.  ``ml_var`` resolves its ``estimator=``
        with these, so ``"FIML"`` builds this family (the lag-pair family itself has no own estimator)."""
        return {"FIML": EXACT}

    def references(self) -> References:
        return References(saturated=False, unavailable=UNAVAILABLE)

    def degenerate(self, moments: Moments, stats: TwoLevelStats) -> str:  # type: ignore[override]
        return ""

    def n_clusters(self, stats: Sequence[TwoLevelStats]) -> int:
        """The persons of the series (every person with an observed value, also those without two complete
        lag pairs)."""
        return sum(st.series.n_persons for st in stats)  # type: ignore[union-attr]

    def unit_names(self) -> tuple[str, str]:
        return "persons", "lag pairs (for start values)"

    def data_lines(self) -> list[str]:
        if not self.series:
            return super().data_lines()
        values = sum(s.n_observed_values for s in self.series)
        occasions = sum(s.n_occasions for s in self.series)
        cells = sum(s.n_occasions * s.n_vars for s in self.series)
        return [f"Exact likelihood: {values} observed values in {occasions} occasions of "
                f"{sum(s.n_persons for s in self.series)} persons ({cells - values} values missing within "
                "occasions, marginalized; missed beeps lengthen the gaps)."]


# ------------------------------------------------------------------ the route
def _loglik(params: VarParameters, stats: TwoLevelStats) -> float:
    return loglik_var1(params, stats.series)  # type: ignore[arg-type]


def _dloglik(params: VarParameters, stats: TwoLevelStats) -> tuple[float, FloatArray]:
    return dloglik_var1(params, stats.series)  # type: ignore[arg-type]


def _observed(params: VarParameters, stats: TwoLevelStats, jacobian: FloatArray | None = None) -> FloatArray:
    """The observed information in psi (forward differences of the analytic gradient), J' H J."""
    info = information_var1(params, stats.series, central=False)  # type: ignore[arg-type]
    return info if jacobian is None else jacobian.T @ info @ jacobian


def _scores(params: VarParameters, stats: TwoLevelStats) -> FloatArray:
    return person_scores_var1(params, stats.series)  # type: ignore[arg-type]


@cache
def _psi_elements(p: int) -> tuple[MlVar, Elements]:
    """A lag-pair family with covariance blocks and the elements of psi, in psi's order."""
    nodes = tuple(f"v{k}" for k in range(p))
    family = MlVar(nodes, tuple(f"{v}_lag1" for v in nodes) + nodes)
    r, c = vech_indices(p)
    beta_r, beta_c = np.indices((p, p)).reshape(2, -1)  # row-major: (0,0), (0,1), ...
    order = np.argsort(beta_c * p + beta_r, kind="stable")  # column-major, vec's order
    names = np.array(["mu"] * p + ["beta"] * p * p + ["sigma_zeta_within"] * r.size
                     + ["sigma_zeta_between"] * r.size, dtype=object)
    rows = np.concatenate([np.arange(p), beta_r[order], r, r]).astype(np.int64)
    cols = np.concatenate([np.zeros(p, dtype=np.int64), beta_c[order], c, c]).astype(np.int64)
    return family, Elements.of(names, rows, cols)


def _metric(params: VarParameters, stats: TwoLevelStats, jacobian: FloatArray | None = None) -> FloatArray:
    """The lag pairs' expected information at the same parameters, J' I J (the scoring metric)."""
    p = params.mu.size
    family, elements = _psi_elements(p)
    mats = {"mu": params.mu.reshape(-1, 1), "beta": params.beta, "sigma_zeta_within": params.sigma_within,
            "sigma_zeta_between": params.sigma_between}
    k = psi_size(p) if jacobian is None else jacobian.shape[1]
    try:
        moments, derivatives = family.moments_and_derivatives(mats, elements)
    except np.linalg.LinAlgError:
        return np.full((k, k), np.nan)
    lag_jacobian = derivatives.phi()  # d phi_pairs / d psi
    return information_expected_stats(moments, stats, lag_jacobian if jacobian is None else lag_jacobian @ jacobian)


EXACT_ROUTE = Route("exact", _loglik, _dloglik, _metric, observed_fn=_observed, scores_fn=_scores)
#: The exact likelihood of every observed value (``estimator="FIML"`` of the multilevel VAR family).
EXACT = Estimator("FIML", own_route=EXACT_ROUTE, expected=False, optimizer="quasi-newton",
                  label="exact likelihood of every observed beep; standard errors from the observed information")


__all__ = ["MlVarExact", "EXACT", "EXACT_ROUTE", "UNAVAILABLE"]
