"""The model functions of the family of observed variables: ``ml_varcov`` and the multilevel GGM ``ml_ggm``."""

from __future__ import annotations

from collections.abc import Sequence

from ..._arg import flag
from ...model import Model
from ..builder import build_model, check_patterns, level_roles, names_list, statistics
from .family import MlVarcov


def ml_varcov(
    data: object,
    clusters: str | None = None,
    vars: Sequence[str] | None = None,
    *,
    within: str = "cov",
    between: str = "cov",
    mu: object = None,
    within_only: Sequence[str] = (),
    between_only: Sequence[str] = (),
    groups: str | None = None,
    equal: Sequence[str] = (),
    estimator: str = "default",
    information: str = "default",
    optimizer: str = "default",
    standardize: str = "none",
    verbose: bool = False,
    _wrapper: str = "ml_varcov",
    **patterns: object,
) -> Model:
    """Two-level (co)variance model of the observed variables (no latent variables).

    Sigma_W and Sigma_B are parameterized by ``within`` and ``between``
    (``"cov"``, ``"chol"``, ``"prec"``, ``"ggm"``, ``"cor"``); matrices are
    named ``mu``, ``<kind>_within`` and ``<kind>_between`` (``omega_within``,
    ``delta_between``, ``sigma_within``, ...).

    Parameters
    ----------
    data : DataFrame (pandas or polars), TwoLevelStats, or list of TwoLevelStats
        One row per unit, or precomputed two-level statistics.
    clusters : str
        Column with the cluster ids.
    vars : sequence of str, optional
        Observed variables (default: every column but ``clusters``/``groups``).
    within, between : str
        Covariance type of each level.
    mu : pattern, optional
        Means (default free).
    within_only, between_only : sequence of str
        Variables without a between part, and cluster-level variables
        (constant within clusters, one value per cluster): nodes of the
        within or of the between network only.  ``<kind>_within`` matrices
        then cover the variables with a within part, ``<kind>_between`` those
        with a between part.
    groups, equal, estimator, information, optimizer, standardize, verbose
        As in :func:`ml_lvm`.
    **patterns
        Pattern of any model matrix by name, e.g. ``sigma_between="diag"``
        or ``omega_within=...``.

    Returns
    -------
    Model
        Unfitted; call ``runmodel()``.

    Examples
    --------
    A model with uncorrelated between-cluster parts (a diagonal Sigma_B):

    >>> import psychonetrics as pn
    >>> data = pn.datasets.seed_example()
    >>> mod = pn.ml_varcov(data, clusters="cluster", sigma_between="diag").runmodel()
    >>> fit = mod.fit()
    >>> print(round(fit["chisq"], 2), int(fit["df"]))
    113.68 15
    """
    verbose = flag("verbose", verbose)
    within_only, between_only = names_list("within_only", within_only), names_list("between_only", between_only)
    stats = statistics(data, vars=vars, clusters=clusters, groups=groups, standardize=standardize,
                        cluster_level=between_only)
    roles = level_roles(stats[0].vars, within_only=within_only, between_only=between_only)
    family = MlVarcov(stats[0].vars, within=within, between=between, roles=roles)
    check_patterns(_wrapper, family, patterns, explicit=("mu",))
    pats: dict[str, object] = dict(patterns)
    if mu is not None:
        pats["mu"] = mu
    return build_model(family, stats, pats, identify_model=False, identification="loadings", equal=equal,
                  estimator=estimator, optimizer=optimizer, verbose=verbose, wrapper=_wrapper,
                  information=information)


def ml_ggm(data: object, clusters: str | None = None, vars: Sequence[str] | None = None, **kwargs: object) -> Model:
    """Multilevel Gaussian graphical model: within and between partial-correlation networks
    (``omega_within``, ``omega_between``) of the observed variables.

    ``ml_varcov`` with ``within="ggm"`` and ``between="ggm"``; saturated
    until edges are removed (``prune``, ``modelsearch``, or ``omega_*``
    patterns).

    Parameters
    ----------
    data, clusters, vars
        As in :func:`ml_varcov`.
    **kwargs
        Any other argument of :func:`ml_varcov`.

    Returns
    -------
    Model
        Unfitted; call ``runmodel()``.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> data = pn.datasets.seed_example()
    >>> ggm = pn.ml_ggm(data, clusters="cluster").runmodel()
    >>> ggm.getmatrix("omega_within")[0].round(2)
    array([ 0.  ,  0.47,  0.32, -0.02,  0.05,  0.01])
    >>> int(ggm.prune(alpha=0.01).fit()["df"])
    21
    """
    kwargs.setdefault("within", "ggm")
    kwargs.setdefault("between", "ggm")
    return ml_varcov(data, clusters, vars, _wrapper="ml_ggm", **kwargs)  # type: ignore[arg-type]
