"""The mathematics of models with within-only and cluster-level variables, by independent oracles.

* Brute force: each cluster's values stacked (units' observed unit-level values, then its cluster-level values
  once), their full covariance built and scipy's multivariate normal density summed over clusters, against both
  likelihood routes, complete and with values missing (also in cluster-level variables).
* Derivatives: the level-specific family's element Jacobian, the gradient of both routes and the expected
  information against central differences (helpers of test_derivatives).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal

import psychonetrics as pn
from psychonetrics.data.frame import frame_to_stats
from psychonetrics.moments import Moments, Roles
from psychonetrics.fitting.objective import Objective
from support import routes_of
from psychonetrics.likelihood import clusters as cluster_route
from psychonetrics.likelihood import statistics_route
from support import assert_element_jacobian, assert_gradient, assert_information, perturbed

DATA = Path(__file__).resolve().parent / "data" / "lavaan_extra" / "tutorial_fixedx" / "data.csv"
VARS = ["y1", "y2", "x1", "w1", "w2"]
ROLES = Roles.of(tuple(VARS), within_only=("x1",), between_only=("w1", "w2"))
TUTORIAL = """
level: 1
    fw =~ y1 + y2 + y3
    fw ~ x1 + x2
level: 2
    fb =~ y1 + y2 + y3
    fb ~ w1 + w2
"""


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    data = pd.read_csv(DATA)
    return data[data["cluster"] <= 40].reset_index(drop=True)


def random_moments(seed: int) -> Moments:
    """Positive definite moments with the structural zeros of ROLES (x1 no between part, w's no within part)."""
    rng = np.random.default_rng(seed)
    p = len(VARS)
    a = rng.normal(size=(p, p))
    w = a @ a.T / 5 + np.eye(p)
    w[3:, :] = 0.0
    w[:, 3:] = 0.0
    b_ = rng.normal(size=(p, p))
    b = b_ @ b_.T / 5 + 0.5 * np.eye(p)
    b[2, :] = 0.0
    b[:, 2] = 0.0
    return Moments(rng.normal(size=p) * 0.1, w, b, ROLES)


def brute_force(data: pd.DataFrame, mom: Moments) -> float:
    unit = [k for k in range(len(VARS)) if k not in ROLES.between_only]
    cluster_level = list(ROLES.between_only)
    total = 0.0
    for _, group in data.groupby("cluster"):
        values = group[VARS].to_numpy()
        entries = [(i, k) for i in range(len(values)) for k in unit if not np.isnan(values[i, k])]
        entries += [(-1, k) for k in cluster_level if not np.all(np.isnan(values[:, k]))]
        y = np.array([values[i, k] if i >= 0 else values[~np.isnan(values[:, k]), k][0] for i, k in entries])
        cov = np.array([[mom.sigma_between[k, l] + (mom.sigma_within[k, l] if i == j and i >= 0 else 0.0)
                         for j, l in entries] for i, k in entries])
        total += multivariate_normal(mom.mu[[k for _, k in entries]], cov).logpdf(y)
    return total


def test_both_routes_equal_brute_force_complete(demo) -> None:
    stats = frame_to_stats(demo, vars=VARS, clusters="cluster", cluster_level=["w1", "w2"])[0]
    for seed in (1, 2):
        mom = random_moments(seed)
        oracle = brute_force(demo, mom)
        assert statistics_route(ROLES).loglik(mom, stats) == pytest.approx(oracle, rel=1e-10)
        assert cluster_route.loglik_clusters(mom, stats) == pytest.approx(oracle, rel=1e-10)


def test_cluster_route_equals_brute_force_with_missing_values(demo) -> None:
    rng = np.random.default_rng(3)
    data = demo.copy()
    for var in ("y1", "y2", "x1"):
        data.loc[rng.random(len(data)) < 0.15, var] = np.nan
    for var, k in (("w1", 5), ("w2", 3)):  # cluster-level values missing for whole clusters
        data.loc[data["cluster"].isin(rng.choice(data["cluster"].unique(), k, replace=False)), var] = np.nan
    stats = frame_to_stats(data, vars=VARS, clusters="cluster", cluster_level=["w1", "w2"])[0]
    mom = random_moments(4)
    assert cluster_route.loglik_clusters(mom, stats) == pytest.approx(brute_force(data, mom), rel=1e-10)


def test_brute_force_check_can_fail(demo) -> None:
    """A wrong between covariance of the cluster-level variables is caught."""
    stats = frame_to_stats(demo, vars=VARS, clusters="cluster", cluster_level=["w1", "w2"])[0]
    mom = random_moments(1)
    wrong = mom.sigma_between.copy()
    wrong[3, 3] *= 1.01
    assert abs(statistics_route(ROLES).loglik(Moments(mom.mu, mom.sigma_within, wrong, ROLES), stats)
               - brute_force(demo, mom)) > 1e-3


@pytest.mark.parametrize("estimator", ["ML", "FIML"])
def test_level_model_derivatives(demo, estimator: str) -> None:
    model = pn.ml_lvm(demo, TUTORIAL, clusters="cluster", fixed_x=False, estimator=estimator)
    obj = Objective(model.family, model.table, model.stats, routes_of(model, model.stats, estimator))
    x = perturbed(obj, np.random.default_rng(7), scale=0.02)
    assert_element_jacobian(obj, x)
    assert_gradient(obj, x)
    if estimator == "ML":
        assert_information(obj, x)


def test_level_model_with_missing_values_gradient(demo) -> None:
    rng = np.random.default_rng(5)
    data = demo.copy()
    for var in ("y1", "y3", "x2", "w1"):
        data.loc[rng.random(len(data)) < 0.1, var] = np.nan
    data["w1"] = data.groupby("cluster")["w1"].transform("first")  # missing for whole clusters, else constant
    model = pn.ml_lvm(data, TUTORIAL, clusters="cluster", fixed_x=False)
    assert model.estimator.name == "FIML"
    obj = Objective(model.family, model.table, model.stats, routes_of(model, model.stats, "FIML"))
    assert_gradient(obj, perturbed(obj, np.random.default_rng(8), scale=0.02))


def test_cluster_level_statistics_from_duckdb_equal_numpy(demo, tmp_path) -> None:
    """Statistics with cluster-level variables from DuckDB equal the in-memory ones; so do the fits."""
    pytest.importorskip("duckdb", reason="duckdb is not installed (the test extra has it)")
    columns = ["y1", "y2", "y3", "x1", "w1", "w2"]
    demo.to_parquet(tmp_path / "demo.parquet")
    engine = pn.twolevel_stats(str(tmp_path / "demo.parquet"), clusters="cluster", vars=columns)
    memory = frame_to_stats(demo, vars=columns, clusters="cluster", cluster_level=["w1", "w2"])[0]
    np.testing.assert_allclose(engine.size_covs, memory.size_covs, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(engine.within_cov, memory.within_cov, rtol=1e-10, atol=1e-13)
    syntax = TUTORIAL.replace("x1 + x2", "x1")
    a = pn.ml_lvm(engine, syntax).runmodel()
    b = pn.ml_lvm(demo, syntax, clusters="cluster").runmodel()
    assert a.fit()["logl"] == pytest.approx(b.fit()["logl"], rel=1e-10)
