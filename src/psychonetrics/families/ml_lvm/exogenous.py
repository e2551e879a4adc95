"""Observed covariates with moments fixed at their sample values: lavaan's ``fixed.x``.

An observed variable that is only a predictor in regressions on a level
(never an outcome or an indicator there) is an exogenous covariate of that
level.  With ``fixed_x=True`` (lavaan's default) its variance, its
covariances with the other covariates of the level and its mean are fixed
at the saturated model's values; for a within-only covariate those are the
total covariance of the raw values over all units (divisor N) and their
mean, for a cluster-level one the covariance of the cluster values
(divisor J) and their mean over clusters (lavaan takes them from its h1
fit; within-only and cluster-level covariates have these closed forms).

The joint likelihood then factors into the covariates' own likelihood at
its maximum, ``loglik_x``, and the conditional likelihood of the rest given
them.  As lavaan, the reported log-likelihood (and the saturated and
baseline ones) is the conditional one (joint minus ``loglik_x``), npar
counts the free parameters only and the sample moments exclude the
covariates' own (their means and covariances), so df, chi-square, CFI and
TLI are those of ``fixed_x=False``, and AIC and BIC differ.

Difference from lavaan: for a covariate measured on both levels lavaan
takes ``loglik_x`` from single-level formulas that do not match its
two-level fixed values (its chi-square then differs between fixed.x TRUE
and FALSE); here ``loglik_x`` is the two-level saturated likelihood of the
covariates, so the factorization and the equal chi-squares hold in every
case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ...data.stats import TwoLevelStats
from ...moments import Moments, Roles
from ...partable.patterns import Pattern


@dataclass(frozen=True)
class Exogenous:
    """The fixed covariates of a model (for the fit measures).

    Attributes
    ----------
    names : tuple of str
        Every observed covariate whose moments are fixed.
    loglik : float
        Their saturated log-likelihood, summed over groups (``loglik_x``).
    n_moments : int
        Their own sample moments (means and covariances per level), summed over groups.
    """

    names: tuple[str, ...]
    loglik: float
    n_moments: int


def fix_exogenous(family, stats: Sequence[TwoLevelStats], group_patterns: list[dict[str, Pattern]],  # noqa: ANN001
                  exogenous: dict[str, tuple[str, ...]], saturated: Sequence[Moments],
                  ) -> tuple[list[dict[str, Pattern]], Exogenous | None]:
    """Fix the covariates' moments in every group's patterns; returns the patterns and the correction.

    Parameters
    ----------
    family : MlLvm
        A level-specific family whose covariates are phantom latent variables.
    stats : sequence of TwoLevelStats
    group_patterns : list of dict
        Patterns of every group (changed copies are returned).
    exogenous : dict of level -> tuple of str
        The covariates of each level (from the compiled syntax).
    saturated : sequence of Moments
        The saturated model of every group (its covariate blocks are the fixed values).
    """
    names = tuple(dict.fromkeys(v for lv in ("within", "between") for v in exogenous.get(lv, ())))
    if not names:
        return group_patterns, None
    out = []
    for g, pats in enumerate(group_patterns):
        pats = dict(pats)
        mom = saturated[g]
        for level_name, covariates in exogenous.items():
            if not covariates:
                continue
            level = family.levels[level_name]
            if level.zeta.ctype.name != "cov":
                raise ValueError(
                    f"`fixed_x`: the covariates {covariates} are latent variables of the {level_name} level, whose "
                    f"latent block is '{level.zeta.ctype.name}'; fixing their moments needs a 'cov' block "
                    f"({level_name}_latent='cov') or fixed_x=False."
                )
            sigma = mom.sigma_within if level_name == "within" else mom.sigma_between
            col = [level.latents.index(v) for v in covariates]
            obs = [family.observed.index(v) for v in covariates]
            zeta = pats[level.zeta.matrix_name("sigma")]
            codes, fixed = zeta.codes.copy(), zeta.fixed.copy()
            for a, oa in zip(col, obs):
                for b, ob in zip(col, obs):
                    codes[a, b] = 0
                    fixed[a, b] = sigma[oa, ob]
            pats[level.zeta.matrix_name("sigma")] = Pattern(codes, fixed)
            means = pats[level.latent_means]
            codes, fixed = means.codes.copy(), means.fixed.copy()
            for a, oa in zip(col, obs):
                if codes[a, 0] != 0:  # a free mean (its level holds it): fixed at the sample mean
                    codes[a, 0] = 0
                    fixed[a, 0] = mom.mu[oa]
            pats[level.latent_means] = Pattern(codes, fixed)
        out.append(pats)
    loglik, n_moments = _covariate_fit(family.roles, family.observed, stats, names)
    return out, Exogenous(names, loglik, n_moments)


def _covariate_fit(roles: Roles, observed: tuple[str, ...], stats: Sequence[TwoLevelStats],
                   names: tuple[str, ...]) -> tuple[float, int]:
    """The covariates' saturated log-likelihood on their own (with their roles) and their moment count."""
    from ...fitting.saturated import fit_reference_stats

    within_only = tuple(v for v in names if observed.index(v) in roles.within_only)
    between_only = tuple(v for v in names if observed.index(v) in roles.between_only)
    sub_roles = Roles.of(names, within_only=within_only, between_only=between_only)
    subset = [st.subset(names) for st in stats]
    fit = fit_reference_stats(subset, diagonal=False, roles=sub_roles)
    return fit.loglik, len(stats) * sub_roles.n_moments()


def exogenous_indices(observed: tuple[str, ...], exogenous: Exogenous | None) -> np.ndarray:
    """Positions of the fixed covariates among the observed variables."""
    if exogenous is None:
        return np.zeros(0, dtype=np.int64)
    return np.asarray([observed.index(v) for v in exogenous.names], dtype=np.int64)
