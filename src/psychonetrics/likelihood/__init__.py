"""Two-level normal likelihoods, one module per computational route.

* :mod:`.statistics`: from sufficient statistics (complete data).
* :mod:`.cluster_level`: from sufficient statistics when some variables are
  cluster-level (constant within clusters).
* :mod:`.clusters`: cluster by cluster over the observed values (missing
  data, and the ``FIML`` estimator).
* :mod:`.var1_exact`: the exact likelihood of the random-intercept VAR(1)
  of intensive longitudinal data (its own phi).
* :mod:`.common`: what they share.

Each two-level route exposes the same functions through a :class:`Route`:
the log-likelihood, its gradient in phi = (mu, vech Sigma_W, vech Sigma_B),
and the expected information contracted with a Jacobian (J' I(phi) J).
Which route a group takes is the estimator's choice
(:mod:`psychonetrics.estimators`); which of the statistics routes serves
it is the variables' :class:`~psychonetrics.moments.Roles`'.
"""

from __future__ import annotations

from ..data.stats import TwoLevelStats
from ..moments import Roles
from . import cluster_level as _cluster_level
from . import clusters as _clusters
from . import statistics as _statistics
from .common import SINGULAR_RATIO, singular_covariances
from .route import Route

STATISTICS = Route(
    "statistics",
    _statistics.loglik_stats,
    _statistics.dloglik_dmoments_stats,
    _statistics.information_expected_stats,
    scoring_fn=_statistics.scoring_stats,
    observed_fn=_statistics.information_observed_stats,
    observed_phi_fn=_statistics.information_observed_phi,
)
CLUSTER_LEVEL = Route(
    "statistics (cluster-level variables)",
    _cluster_level.loglik_cluster_level,
    _cluster_level.dloglik_dmoments_cluster_level,
    _cluster_level.information_expected_cluster_level,
    scoring_fn=_cluster_level.scoring_cluster_level,
    observed_fn=_cluster_level.information_observed_cluster_level,
)


def _has_cluster_level(roles: Roles | None) -> bool:
    return roles is not None and bool(roles.between_only)


def statistics_route(roles: Roles | None = None) -> Route:
    """The route from sufficient statistics (complete data) for variables with these roles."""
    return CLUSTER_LEVEL if _has_cluster_level(roles) else STATISTICS


def cluster_route(stats: TwoLevelStats, roles: Roles | None = None) -> Route:
    """The route cluster by cluster over the observed values; the complete-data expected information
    (of the statistics route) serves as the optimizer's scoring metric."""
    information = statistics_route(roles).information
    return Route("clusters", _clusters.loglik_clusters, _clusters.dloglik_dmoments_clusters, information)


__all__ = ["Route", "STATISTICS", "CLUSTER_LEVEL", "statistics_route", "cluster_route", "singular_covariances",
           "SINGULAR_RATIO"]
