"""The two-level log-likelihood against a brute-force oracle.

Oracle: a cluster of n units is one multivariate normal vector (y_1', ..., y_n')'
with mean 1_n (x) mu and covariance I_n (x) Sigma_W + 1_n 1_n' (x) Sigma_B; with
missing values, the marginal of the observed entries.  The log-likelihood is
the sum over clusters of ``scipy.stats.multivariate_normal.logpdf``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import Covariance, multivariate_normal

import psychonetrics as pn
from support import COMPLETE_CASES, brute_force_loglik, load_case, model_kwargs
from psychonetrics.moments import Moments
from psychonetrics.fitting.objective import Objective
from support import routes_of
from psychonetrics.likelihood.clusters import dloglik_dmoments_clusters, loglik_clusters
from psychonetrics.likelihood.statistics import dloglik_dmoments_stats, loglik_stats

ALL_COMPLETE = COMPLETE_CASES + ["two_groups"]


def random_moments(p: int, rng: np.random.Generator, center: np.ndarray) -> Moments:
    a = rng.standard_normal((p, p))
    w = a @ a.T / p + 0.5 * np.eye(p)
    b = rng.standard_normal((p, p + 2))
    b = 0.3 * b @ b.T / p + 0.05 * np.eye(p)
    mu = center + 0.3 * rng.standard_normal(p)
    return Moments(mu, w, b)


def stats_of(case_name: str):
    """The case and its ml_lvm model (FIML, so the statistics keep the unit rows)."""
    case = load_case(case_name)
    return case, pn.ml_lvm(case.data, estimator="FIML", **model_kwargs(case))


# ------------------------------------------------------------- brute force
def test_oracle_agrees_with_scipy_default_density() -> None:
    """The Cholesky-covariance form of the oracle equals scipy's plain logpdf (and a hand formula)."""
    rng = np.random.default_rng(0)
    mom = random_moments(3, rng, np.zeros(3))
    data = pd.DataFrame(rng.standard_normal((7, 3)), columns=["a", "b", "c"])
    data["cl"] = [1, 1, 1, 2, 2, 3, 3]
    expected = 0.0
    for _, frame in data.groupby("cl"):
        y = frame[["a", "b", "c"]].to_numpy().reshape(-1)
        n = len(frame)
        cov = np.kron(np.eye(n), mom.sigma_within) + np.kron(np.ones((n, n)), mom.sigma_between)
        r = y - np.tile(mom.mu, n)
        by_hand = -0.5 * (y.size * np.log(2 * np.pi) + np.linalg.slogdet(cov)[1] + r @ np.linalg.solve(cov, r))
        assert multivariate_normal.logpdf(y, np.tile(mom.mu, n), cov) == pytest.approx(by_hand, rel=1e-12)
        expected += by_hand
    assert brute_force_loglik(data, ["a", "b", "c"], "cl", mom) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("case_name", COMPLETE_CASES)
def test_routes_equal_brute_force_at_random_moments(case_name: str) -> None:
    """Every complete case, thinned to about 40 clusters (the brute force is O(sum n_j^3 p^3))."""
    case = load_case(case_name)
    ids = case.data["cluster"].unique()
    data = case.data[case.data["cluster"].isin(ids[:: max(1, ids.size // 40)])]
    vars = list(case.model["vars"])
    st = pn.ml_varcov(data, clusters="cluster", vars=vars, estimator="FIML").stats[0]
    assert st.complete and st.n_clusters >= 40
    rng = np.random.default_rng(len(case_name))
    for _ in range(2):
        mom = random_moments(len(vars), rng, data[vars].mean().to_numpy())
        oracle = brute_force_loglik(data, vars, "cluster", mom)
        assert loglik_stats(mom, st) == pytest.approx(oracle, rel=1e-10, abs=0)
        assert loglik_clusters(mom, st) == pytest.approx(oracle, rel=1e-10, abs=0)
        # the gradient functions report the same value
        assert dloglik_dmoments_stats(mom, st)[0] == pytest.approx(oracle, rel=1e-10, abs=0)
        assert dloglik_dmoments_clusters(mom, st)[0] == pytest.approx(oracle, rel=1e-10, abs=0)


def test_clusters_route_equals_brute_force_with_missing_values() -> None:
    case, model = stats_of("missing_mcar")
    st = model.stats[0]
    assert not st.complete
    vars = list(st.vars)
    assert case.data[vars].isna().to_numpy().any()
    rng = np.random.default_rng(2024)
    for _ in range(3):
        mom = random_moments(len(vars), rng, case.data[vars].mean().to_numpy())
        oracle = brute_force_loglik(case.data, vars, "cluster", mom)
        assert loglik_clusters(mom, st) == pytest.approx(oracle, rel=1e-10, abs=0)


def test_missing_values_with_empty_units_in_a_cluster() -> None:
    """Units missing several variables, a cluster whose units miss disjoint variables."""
    rng = np.random.default_rng(8)
    p, sizes = 4, [1, 2, 3, 5, 7, 2, 4]
    rows = []
    for j, n in enumerate(sizes):
        u = rng.standard_normal(p)
        for _ in range(n):
            rows.append(list(u + rng.standard_normal(p)) + [f"c{j}"])
    data = pd.DataFrame(rows, columns=["a", "b", "c", "d", "cl"])
    mask = rng.random((len(data), p)) < 0.3
    mask[np.arange(len(data)), rng.integers(0, p, len(data))] = False  # keep one value per row
    vals = data[["a", "b", "c", "d"]].to_numpy().copy()
    vals[mask] = np.nan
    data[["a", "b", "c", "d"]] = vals
    model = pn.ml_varcov(data, clusters="cl", estimator="FIML")
    st = model.stats[0]
    for _ in range(3):
        mom = random_moments(p, rng, np.zeros(p))
        oracle = brute_force_loglik(data, ["a", "b", "c", "d"], "cl", mom)
        assert loglik_clusters(mom, st) == pytest.approx(oracle, rel=1e-10, abs=0)


@pytest.mark.parametrize("case_name", ["seed_example", "unbalanced", "missing_mcar"])
def test_model_loglik_equals_brute_force_at_random_parameters(case_name: str) -> None:
    """Objective.loglik at perturbed parameters == oracle at the model's implied moments."""
    case, model = stats_of(case_name)
    model = pn.ml_lnm(case.data, estimator="default", **{k: v for k, v in model_kwargs(case).items()
                                                         if k not in ("within_latent", "between_latent")})
    obj = Objective(model.family, model.table, model.stats, routes_of(model, model.stats))
    rng = np.random.default_rng(31)
    x0 = obj.table.start_vector()
    for _ in range(2):
        x = x0 + 0.05 * rng.standard_normal(x0.size) * np.maximum(np.abs(x0), 0.1)
        mom = obj.moments(x)[0]
        oracle = brute_force_loglik(case.data, list(model.stats[0].vars), "cluster", mom)
        assert obj.loglik(x) == pytest.approx(oracle, rel=1e-10, abs=0)


# ------------------------------------------------------------ ML == FIML
@pytest.mark.parametrize("case_name", ALL_COMPLETE)
def test_ml_and_fiml_objectives_agree_at_random_parameters(case_name: str) -> None:
    case = load_case(case_name)
    ml = pn.ml_lvm(case.data, estimator="ML", **model_kwargs(case))
    fiml = pn.ml_lvm(case.data, estimator="FIML", **model_kwargs(case))
    obj_ml = Objective(ml.family, ml.table, ml.stats, routes_of(ml, ml.stats, "ML"))
    obj_fiml = Objective(fiml.family, fiml.table, fiml.stats, routes_of(fiml, fiml.stats, "FIML"))
    assert {r.name for r in obj_ml.routes} == {"statistics"}
    assert {r.name for r in obj_fiml.routes} == {"clusters"}
    x0 = ml.table.start_vector()
    np.testing.assert_array_equal(x0, fiml.table.start_vector())
    rng = np.random.default_rng(17)
    for _ in range(3):
        x = x0 + 0.05 * rng.standard_normal(x0.size) * np.maximum(np.abs(x0), 0.1)
        ll_ml, g_ml = obj_ml.loglik_and_gradient(x)
        ll_fiml, g_fiml = obj_fiml.loglik_and_gradient(x)
        assert np.isfinite(ll_ml)
        assert ll_fiml == pytest.approx(ll_ml, rel=1e-10, abs=0)
        assert obj_fiml.loglik(x) == pytest.approx(obj_ml.loglik(x), rel=1e-10, abs=0)
        np.testing.assert_allclose(g_fiml, g_ml, rtol=0, atol=1e-8 * np.max(np.abs(g_ml)))


# ------------------------------------------------------------ outside the space
def _not_pd_within(p: int) -> np.ndarray:
    w = np.eye(p)
    w[0, 1] = w[1, 0] = 1.5  # indefinite
    return w


@pytest.mark.parametrize("route", ["stats", "clusters"])
def test_minus_infinity_when_sigma_within_not_pd(route: str) -> None:
    case, model = stats_of("seed_example")
    st = model.stats[0]
    p = st.n_vars
    mom = Moments(np.zeros(p), _not_pd_within(p), 0.2 * np.eye(p))
    loglik, dloglik = ((loglik_stats, dloglik_dmoments_stats) if route == "stats"
                       else (loglik_clusters, dloglik_dmoments_clusters))
    assert loglik(mom, st) == -np.inf
    value, grad = dloglik(mom, st)
    assert value == -np.inf
    assert grad.shape == (p + p * (p + 1),)
    # a singular (PSD but not PD) Sigma_W is also outside
    mom = Moments(np.zeros(p), np.zeros((p, p)), 0.2 * np.eye(p))
    assert loglik(mom, st) == -np.inf


@pytest.mark.parametrize("route", ["stats", "clusters"])
def test_minus_infinity_when_cluster_covariance_not_pd(route: str) -> None:
    """Sigma_W PD but Sigma_W + s Sigma_B not (very negative between variance)."""
    case, model = stats_of("seed_example")
    st = model.stats[0]
    p = st.n_vars
    loglik = loglik_stats if route == "stats" else loglik_clusters
    # one, two (an even number: det(I + B H) > 0) and all six eigenvalues of Sigma_W + 10 Sigma_B negative
    for neg in (1, 2, 6):
        b = np.diag([-1.0] * neg + [0.2] * (p - neg))
        assert loglik(Moments(np.zeros(p), np.eye(p), b), st) == -np.inf, neg
    # just inside: Sigma_W + 10 Sigma_B = 0.05 I
    assert np.isfinite(loglik(Moments(np.zeros(p), np.eye(p), -0.095 * np.eye(p)), st))


def test_missing_data_route_minus_infinity() -> None:
    case, model = stats_of("missing_mcar")
    p = model.stats[0].n_vars
    mom = Moments(np.zeros(p), _not_pd_within(p), 0.2 * np.eye(p))
    assert loglik_clusters(mom, model.stats[0]) == -np.inf


@pytest.mark.parametrize("estimator", ["ML", "FIML"])
def test_objective_minus_infinity_not_exception(estimator: str) -> None:
    """A ggm within block with (I - omega) singular or indefinite gives -inf from the objective."""
    data = pn.datasets.seed_example()
    model = pn.ml_ggm(data, clusters="cluster", estimator=estimator)
    obj = Objective(model.family, model.table, model.stats, routes_of(model, model.stats, estimator))
    x = obj.table.start_vector()
    names = obj.table.names()
    rows = np.flatnonzero((names == "omega_within") & (obj.table.par > 0))
    for value in (1.0, 0.9):  # every partial correlation 1: singular; 0.9: indefinite
        bad = x.copy()
        bad[obj.table.par[rows] - 1] = value
        assert obj.loglik(bad) == -np.inf
        ll, grad = obj.loglik_and_gradient(bad)
        assert ll == -np.inf
        assert grad.shape == x.shape
    assert np.isfinite(obj.loglik(x))


@pytest.mark.parametrize("route", ["stats", "clusters"])
@pytest.mark.parametrize("where", ["mu", "within", "between"])
def test_minus_infinity_for_non_finite_moments(route: str, where: str) -> None:
    """NaN / inf implied moments are outside the parameter space: -inf, never NaN or LinAlgError."""
    case, model = stats_of("seed_example")
    st = model.stats[0]
    p = st.n_vars
    mu, w, b = np.zeros(p), np.eye(p), 0.2 * np.eye(p)
    for bad in (np.nan, np.inf):
        arrays = {"mu": mu.copy(), "within": w.copy(), "between": b.copy()}
        arrays[where].flat[0] = bad
        mom = Moments(arrays["mu"], arrays["within"], arrays["between"])
        if route == "stats":
            assert loglik_stats(mom, st) == -np.inf
            assert dloglik_dmoments_stats(mom, st)[0] == -np.inf
        else:
            assert loglik_clusters(mom, st) == -np.inf
            assert dloglik_dmoments_clusters(mom, st)[0] == -np.inf
