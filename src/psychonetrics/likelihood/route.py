"""A likelihood route: one way of computing a group's log-likelihood and its derivatives in phi."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..data.stats import TwoLevelStats
from ..linalg import FloatArray
from ..moments import Moments


@dataclass(frozen=True)
class Route:
    """One way of computing the likelihood of a group.

    Attributes
    ----------
    name : str
        ``"statistics"``, ``"statistics (cluster-level variables)"`` or ``"clusters"``.
    loglik, dloglik, information
        Log-likelihood; it and its gradient in phi; the expected information
        J' I(phi) J for a Jacobian J (None: phi itself).  A point outside the
        parameter space gives -inf (and NaN derivatives), never an exception.
    scoring_fn, observed_fn, observed_phi_fn : optional
        Shared-work and closed-form versions (see the methods).
    scores_fn : optional
        Per-cluster gradients in phi, (J, n_phi) (:meth:`scores`); default the per-cluster route's.
    """

    name: str
    loglik: Callable[[Moments, TwoLevelStats], float]
    dloglik: Callable[[Moments, TwoLevelStats], tuple[float, FloatArray]]
    information: Callable[[Moments, TwoLevelStats, FloatArray | None], FloatArray]
    scoring_fn: (Callable[[Moments, TwoLevelStats, FloatArray | None], tuple[float, FloatArray, FloatArray]]
                 | None) = None
    observed_fn: Callable[[Moments, TwoLevelStats, FloatArray | None], FloatArray | None] | None = None
    observed_phi_fn: Callable[[Moments, TwoLevelStats], FloatArray | None] | None = None
    scores_fn: Callable[[Moments, TwoLevelStats], FloatArray] | None = None

    def scores(self, moments: Moments, stats: TwoLevelStats) -> FloatArray:
        """Per-cluster gradients of the log-likelihood in phi, (J, n_phi): they sum to the gradient, and their
        cross-product is the meat of the cluster-robust covariance (needs the unit rows)."""
        if self.scores_fn is not None:
            return self.scores_fn(moments, stats)
        from .clusters import cluster_scores

        return cluster_scores(moments, stats)

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


__all__ = ["Route"]
