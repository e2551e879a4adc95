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
from ..families.base import Moments
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


def route_for(estimator: str, stats: TwoLevelStats) -> Route:
    """The route of ``estimator`` ("ML" or "FIML") for this group's data."""
    if estimator == "ML" and stats.complete:
        return STATS
    from . import clusters

    return clusters.route_for(stats)


__all__ = ["Route", "STATS", "route_for"]
