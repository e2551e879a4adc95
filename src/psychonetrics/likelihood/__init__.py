"""Two-level normal likelihoods, one module per computational route.

* :mod:`.stats`: from sufficient statistics (complete data, ``estimator="ML"``).
* :mod:`.clusters`: cluster by cluster over the observed values
  (``estimator="FIML"``, and ``"ML"`` with missing values).

Both expose the same functions through a :class:`Route`: the log-likelihood,
its gradient in phi = (mu, vech Sigma_W, vech Sigma_B), and the expected
information contracted with a Jacobian (J' I(phi) J).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..data.stats import TwoLevelStats
from ..moments import Moments
from ..linalg import FloatArray
from . import stats as _stats


@dataclass(frozen=True)
class Route:
    """One way of computing the likelihood of a group.

    Attributes
    ----------
    name : str
        ``"stats"`` or ``"clusters"``.
    information_kind : str
        ``"expected"`` or ``"observed"``: the information used for standard errors.
    """

    name: str
    loglik: Callable[[Moments, TwoLevelStats], float]
    dloglik: Callable[[Moments, TwoLevelStats], tuple[float, FloatArray]]
    information: Callable[[Moments, TwoLevelStats, FloatArray | None], FloatArray]
    information_kind: str = "expected"
    scoring_fn: (Callable[[Moments, TwoLevelStats, FloatArray | None], tuple[float, FloatArray, FloatArray]]
                 | None) = None
    observed_fn: Callable[[Moments, TwoLevelStats, FloatArray | None], FloatArray | None] | None = None
    observed_phi_fn: Callable[[Moments, TwoLevelStats], FloatArray | None] | None = None

    def observed(self, moments: Moments, stats: TwoLevelStats, jacobian: FloatArray | None = None,
                 ) -> FloatArray | None:
        """The observed information J' (-d2 logL / dphi2) J in closed form, or None where the route has
        none (the caller then differences the gradient)."""
        return None if self.observed_fn is None else self.observed_fn(moments, stats, jacobian)

    def observed_phi(self, moments: Moments, stats: TwoLevelStats) -> FloatArray | None:
        """The observed information in phi itself (n_phi, n_phi), where the route builds it element-wise
        (cheaper than :meth:`observed` with an identity Jacobian), else None."""
        return None if self.observed_phi_fn is None else self.observed_phi_fn(moments, stats)

    def scoring(self, moments: Moments, stats: TwoLevelStats, jacobian: FloatArray | None = None,
                ) -> tuple[float, FloatArray, FloatArray]:
        """Log-likelihood, gradient in phi and the expected information J' I J (shared work where possible)."""
        if self.scoring_fn is not None:
            return self.scoring_fn(moments, stats, jacobian)
        ll, grad = self.dloglik(moments, stats)
        k = grad.size if jacobian is None else jacobian.shape[1]
        if not np.isfinite(ll):
            return ll, grad, np.full((k, k), np.nan)
        return ll, grad, self.information(moments, stats, jacobian)


STATS = Route(
    "stats",
    _stats.loglik_stats,
    _stats.dloglik_dmoments_stats,
    _stats.information_expected_stats,
    scoring_fn=_stats.scoring_stats,
    observed_fn=_stats.information_observed_stats,
    observed_phi_fn=_stats.information_observed_phi,
)


#: Eigenvalue (relative, see :func:`singular_covariances`) below which an implied covariance counts as singular.
SINGULAR_RATIO = 1e-10


def _smallest_correlation_eigenvalue(cov: FloatArray) -> float:
    d = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
    return float(np.linalg.eigvalsh(cov / np.outer(d, d))[0]) if cov.size else 1.0


def singular_covariances(moments: Moments, stats: TwoLevelStats) -> str:
    """Why the implied distribution of the data is degenerate ("" when it is not).

    A cluster of size s has the covariance I_s (x) W + 1 1' (x) B, regular exactly when W (over the
    unit-level variables) and W + s B are.  Relative to W, the eigenvalues of W + s B are e = 1 + s d with
    d those of W^-1 B (``likelihood.stats``), so the cluster covariance is singular when some e reaches 0
    (B negative along a direction, by -W/s).  With cluster means that span fewer dimensions than the
    between level has variables, the likelihood grows without bound as e -> 0: no maximum exists there.
    Cluster-level variables (no W) are judged by the correlation form of their B, and W by its own.
    Singular means below :data:`SINGULAR_RATIO`.
    """
    roles = moments.roles
    p = moments.mu.size
    w = np.arange(p) if roles is None else roles.within
    z = np.setdiff1d(np.arange(p), w)
    within, between = moments.sigma_within[np.ix_(w, w)], moments.sigma_between
    if not (np.all(np.isfinite(within)) and np.all(np.isfinite(between))):
        return "the implied covariances are not finite"
    if w.size and _smallest_correlation_eigenvalue(within) < SINGULAR_RATIO:
        return "the implied within-cluster covariance is singular"
    if z.size and _smallest_correlation_eigenvalue(between[np.ix_(z, z)]) < SINGULAR_RATIO:
        return "the implied covariance of the cluster-level variables is singular"
    if w.size:
        try:
            low_inv = np.linalg.inv(np.linalg.cholesky(within))
        except np.linalg.LinAlgError:
            return "the implied within-cluster covariance is singular"
        rel = low_inv @ between[np.ix_(w, w)] @ low_inv.T
        d = np.linalg.eigvalsh(0.5 * (rel + rel.T))
        e = 1.0 + stats.sizes.astype(float) * d[0]
        bad = e < SINGULAR_RATIO * np.maximum(1.0, stats.sizes * abs(d[0]))
        if bad.any():
            which = ", ".join(str(int(s)) for s in stats.sizes[bad][:5])
            return (f"the implied covariance of the clusters of size {which} is singular ({stats.n_clusters} "
                    "clusters cannot determine this between level)")
    return ""


def route_for(estimator: str, stats: TwoLevelStats) -> Route:
    """The route of ``estimator`` ("ML" or "FIML") for this group's data."""
    if estimator == "ML" and stats.complete:
        return STATS
    from . import clusters

    return clusters.route_for(stats)


__all__ = ["Route", "STATS", "route_for", "singular_covariances"]
