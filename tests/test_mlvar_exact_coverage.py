"""The exact likelihood of the random-intercept VAR(1) (``ml_var(estimator="FIML")``) in simulation (slow: 200
simulated data sets at each of T = 25 and T = 50 beeps, two fits each).

p = 4 variables, 60 persons, complete data; beta with spectral radius 0.5 (four autoregressions, four
cross-lagged effects), correlated innovations, person means with variances 0.5-1 times the within ones,
every series started at its stationary distribution.  The lag pairs' pseudo-likelihood (``estimator="ML"``)
overstates the between-person variances by O(1/T) (about +9% at T = 25 here): the exact likelihood does
not, and its model-based Wald intervals cover.  What remains of its between-variance bias is the O(1/N) bias
of any maximum likelihood variance (about -(Sigma_B + Var(person mean of w)) / N, -1.8% with 60 persons,
whatever T), which 200 replicates cannot tell from zero (one Monte Carlo SE is about 1.4%); the test checks
the estimates against both the truth and that expectation.  ``bench/sim_mlvar_exact.py`` prints the table.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest
from support import VAR4_BETA, VAR4_BETWEEN_CORR, VAR4_SD, VAR4_SIGMA_WITHIN, quiet

import psychonetrics as pn

pytestmark = pytest.mark.slow

VARS = ["V1", "V2", "V3", "V4"]
BETA, SD, SIGMA_WITHIN = VAR4_BETA, VAR4_SD, VAR4_SIGMA_WITHIN
SD_BETWEEN = SD * np.sqrt([0.5, 0.7, 0.85, 1.0])
SIGMA_BETWEEN = VAR4_BETWEEN_CORR * np.outer(SD_BETWEEN, SD_BETWEEN)
TRUTH = {"mu": np.zeros((4, 1)), "beta": BETA, "sigma_zeta_within": SIGMA_WITHIN, "sigma_zeta_between": SIGMA_BETWEEN}
S0 = np.linalg.solve(np.eye(16) - np.kron(BETA, BETA), SIGMA_WITHIN.reshape(-1)).reshape(4, 4)  # S0 = B S0 B' + Sw
PERSONS, REPS, SEED = 60, 200, 20240611
CLASSES = ("beta", "sigma_zeta_within", "sigma_zeta_between")


def simulate(rng: np.random.Generator, beeps: int) -> pd.DataFrame:
    """Long data (id, beep, V1..V4): y_it = b_i + w_it, w_it = beta w_i,t-1 + zeta_it, w_i1 ~ N(0, S0)."""
    w = np.empty((PERSONS, beeps, 4))
    w[:, 0] = rng.multivariate_normal(np.zeros(4), S0, size=PERSONS)
    zeta = rng.multivariate_normal(np.zeros(4), SIGMA_WITHIN, size=(PERSONS, beeps))
    for t in range(1, beeps):
        w[:, t] = w[:, t - 1] @ BETA.T + zeta[:, t]
    y = w + rng.multivariate_normal(np.zeros(4), SIGMA_BETWEEN, size=PERSONS)[:, None, :]
    data = pd.DataFrame(y.reshape(-1, 4), columns=VARS)
    data.insert(0, "beep", np.tile(np.arange(1, beeps + 1), PERSONS))
    data.insert(0, "id", np.repeat(np.arange(1, PERSONS + 1), beeps))
    return data


def expected_between(beeps: int) -> np.ndarray:
    """E of the ML between variances to O(1/N): Sigma_B - (Sigma_B + Var(w-bar_i)) / N (the person means
    y-bar_i have covariance Sigma_B + Var(w-bar_i), their ML covariance divides by N)."""
    lags = [S0]
    for _ in range(beeps - 1):
        lags.append(BETA @ lags[-1])  # Cov(w_t+k, w_t) = beta^k S0
    var_mean = S0 * beeps
    for k in range(1, beeps):
        var_mean = var_mean + (beeps - k) * (lags[k] + lags[k].T)
    var_mean = var_mean / beeps**2
    return np.diag(SIGMA_BETWEEN - (SIGMA_BETWEEN + var_mean) / PERSONS)


@cache
def replicates(beeps: int) -> dict:
    """REPS data sets of ``beeps`` beeps, each fitted by both estimators.  Per converged FIML fit the free
    parameters' estimates and SEs; per data set the between variances of each estimator (NaN: not converged)."""
    rng = np.random.default_rng(SEED + beeps)
    keys, est, se = None, [], []
    between = {"FIML": np.full((REPS, 4), np.nan), "ML": np.full((REPS, 4), np.nan)}
    for rep in range(REPS):
        data = simulate(rng, beeps)
        for estimator in ("FIML", "ML"):
            model = quiet(pn.ml_var(data, idvar="id", vars=VARS, beepvar="beep", estimator=estimator).runmodel)
            if not model.converged:
                continue
            between[estimator][rep] = np.diag(model.getmatrix("sigma_zeta_between"))
            if estimator == "FIML":
                params = model.parameters()
                params = params.loc[~params["fixed"]]
                here = list(zip(params["matrix"], params["row"], params["col"]))
                keys = here if keys is None else keys
                assert here == keys
                est.append(params["est"].to_numpy())
                se.append(params["se"].to_numpy())
    truth = np.array([TRUTH[m][r - 1, c - 1] for m, r, c in keys])  # rows and columns count from 1
    return {"matrix": np.array([m for m, _, _ in keys]), "truth": truth, "est": np.array(est), "se": np.array(se),
            "between": between}


@pytest.mark.parametrize("beeps", [25, 50])
def test_few_fits_fail(beeps: int) -> None:
    failed = {name: int(np.isnan(values[:, 0]).sum()) for name, values in replicates(beeps)["between"].items()}
    assert max(failed.values()) <= 0.02 * REPS, f"T = {beeps}: fits not converged of {REPS}: {failed}"


@pytest.mark.parametrize("beeps", [25, 50])
def test_the_exact_likelihood_estimates_the_between_variances_without_bias(beeps: int) -> None:
    values = replicates(beeps)["between"]["FIML"]
    values = values[~np.isnan(values[:, 0])]
    mean = values.mean(axis=0)
    mcse = values.std(axis=0, ddof=1) / np.sqrt(len(values))
    truth = np.diag(SIGMA_BETWEEN)
    report = (f"T = {beeps}: relative bias {np.round(mean / truth - 1, 4)}, Monte Carlo SE "
              f"{np.round(mcse / truth, 4)}, O(1/N) expectation {np.round(expected_between(beeps) / truth - 1, 4)}")
    assert np.all(np.abs(mean - truth) < 3 * mcse), report
    assert np.all(np.abs(mean - expected_between(beeps)) < 3 * mcse), report


def test_the_pseudo_likelihood_overestimates_the_between_variances_at_25_beeps() -> None:
    between = replicates(25)["between"]
    both = ~np.isnan(between["FIML"][:, 0]) & ~np.isnan(between["ML"][:, 0])
    truth = np.diag(SIGMA_BETWEEN)
    fiml = (between["FIML"][both] / truth - 1).mean(axis=1)  # per data set: mean relative error of the 4
    pseudo = (between["ML"][both] / truth - 1).mean(axis=1)
    difference = pseudo - fiml
    report = (f"mean relative bias: lag pairs {pseudo.mean():+.4f}, exact {fiml.mean():+.4f}; paired difference "
              f"{difference.mean():+.4f} (Monte Carlo SE {difference.std(ddof=1) / np.sqrt(both.sum()):.4f})")
    assert pseudo.mean() > 0.03, report
    assert pseudo.mean() > fiml.mean(), report
    assert difference.mean() > 3 * difference.std(ddof=1) / np.sqrt(both.sum()), report


@pytest.mark.parametrize("beeps", [25, 50])
def test_the_exact_likelihoods_wald_intervals_cover(beeps: int) -> None:
    fits = replicates(beeps)
    inside = np.abs(fits["est"] - fits["truth"]) < 1.959964 * fits["se"]
    coverage = {name: float(inside[:, fits["matrix"] == name].mean()) for name in CLASSES}
    coverage["all"] = float(inside.mean())  # with the means
    report = f"T = {beeps}: coverage {coverage}"
    assert 0.93 <= coverage["all"] <= 0.97, report
    for name in CLASSES:
        assert 0.91 <= coverage[name] <= 0.98, report
