"""Hard data: never crash, never silent; a usable answer or a clear reason."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import psychonetrics as pn
from psychonetrics.exceptions import ConvergenceWarning, DataWarning, ImproperSolutionWarning
from psychonetrics.fitting import optimize as optimize_module
from psychonetrics.fitting import run as run_module

SYNTAX = "F1 =~ y1 + y2 + y3\nF2 =~ y4 + y5 + y6"
VARS = [f"y{i}" for i in range(1, 7)]


@pytest.fixture(scope="module")
def seed() -> pd.DataFrame:
    return pn.datasets.seed_example()


@pytest.fixture(scope="module")
def seed_fit(seed):
    return pn.ml_lvm(seed, SYNTAX, clusters="cluster").runmodel()


# 1. optimizer robustness ---------------------------------------------------------------
def test_retry_from_alternative_starts(seed, seed_fit, monkeypatch) -> None:
    real = optimize_module.optimize
    calls = {"n": 0}

    def failing_first(obj, x0, *, optimizer="default", fallback=True, progress=None, tol=1e-9, max_iter=300):
        calls["n"] += 1
        result = real(obj, x0, optimizer=optimizer, fallback=fallback, tol=tol, max_iter=max_iter)
        if calls["n"] == 1:
            return optimize_module.OptimizerResult(x0, obj.loglik(x0), False, 500, 1.0, "fisher", "forced failure")
        return result

    monkeypatch.setattr(run_module, "optimize", failing_first)
    model = pn.ml_lvm(seed, SYNTAX, clusters="cluster").runmodel()
    assert model.converged
    assert calls["n"] >= 2
    assert abs(model.fit()["logl"] - seed_fit.fit()["logl"]) < 1e-6


def test_non_convergence_is_reported_not_raised(seed, monkeypatch) -> None:
    def never(obj, x0, *, optimizer="default", fallback=True, progress=None, tol=1e-9, max_iter=300):
        return optimize_module.OptimizerResult(x0, obj.loglik(x0), False, 500, 1.0, "fisher", "forced failure")

    monkeypatch.setattr(run_module, "optimize", never)
    with pytest.warns(ConvergenceWarning, match="did not converge.*optimizer="):
        model = pn.ml_lvm(seed, SYNTAX, clusters="cluster").runmodel()
    assert model.converged is False
    assert "unreliable" in model.fit().attrs["warning"]
    assert "DID NOT CONVERGE" in str(model)


# 2. improper solutions -------------------------------------------------------------------
def _heywood_data(seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    j, n = 40, 8
    lam = np.array([1, 0.8, 0.7, 0.9])
    sigma_b = 0.3 * np.outer(lam, lam) + np.diag([0.2, 0.2, 0.0, 0.2])  # y3 has no between residual
    sigma_w = np.outer(lam, lam) + np.diag([0.5] * 4)
    b = rng.multivariate_normal(np.zeros(4), sigma_b, size=j)
    cl = np.repeat(np.arange(j), n)
    y = b[cl] + rng.multivariate_normal(np.zeros(4), sigma_w, size=j * n)
    frame = pd.DataFrame(y, columns=["a", "b", "c", "d"])
    frame["cluster"] = cl
    return frame


def test_negative_variance_is_named() -> None:
    data = _heywood_data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = pn.ml_lvm(data, "F =~ a + b + c + d", clusters="cluster").runmodel()
    assert model.converged
    theta_b = np.diag(model.getmatrix("sigma_epsilon_between"))
    if theta_b.min() < 0:
        messages = [str(w.message) for w in caught if issubclass(w.category, ImproperSolutionWarning)]
        assert any("Negative variance" in m and "sigma_epsilon_between" in m for m in messages)
        params = model.parameters()
        assert (params["note"] == "negative variance").any()
        assert np.isfinite(params.loc[~params["fixed"], "se"]).all()


def test_non_identified_model_nan_se_only_where_affected(seed) -> None:
    with pytest.warns(ImproperSolutionWarning, match="Not identified"):
        model = pn.ml_lvm(seed, SYNTAX + "\nF2 ~ F1", clusters="cluster", sigma_zeta_within="full").runmodel()
    params = model.parameters()
    free = params[~params["fixed"]]
    bad = free[free["se"].isna()]
    assert set(bad["matrix"]) <= {"beta_within", "sigma_zeta_within"}
    assert (bad["note"] == "not identified").all()
    assert free["se"].notna().sum() > len(bad)
    assert np.isfinite(model.fit()["logl"])


# 3. degenerate data ----------------------------------------------------------------------
def test_constant_variable_is_an_error(seed) -> None:
    data = seed.assign(y6=1.0)
    with pytest.raises(ValueError, match="y6.*constant"):
        pn.ml_lvm(data, SYNTAX, clusters="cluster")


def test_linear_combination_is_an_error(seed) -> None:
    data = seed.assign(y7=seed["y1"] + 2 * seed["y2"])
    with pytest.raises(ValueError, match="linear combinations"):
        pn.ml_ggm(data, clusters="cluster")


def test_no_within_variance_is_an_error(seed) -> None:
    data = seed.copy()
    data["y6"] = data.groupby("cluster")["y6"].transform("mean")
    with pytest.warns(DataWarning, match="zero within-cluster variance"), \
            pytest.raises(ValueError, match="do not vary within clusters"):
        pn.ml_lvm(data, SYNTAX, clusters="cluster")


def test_exactly_zero_between_variance_is_an_error(seed) -> None:
    data = seed.copy()
    data["y6"] = data["y6"] - data.groupby("cluster")["y6"].transform("mean")
    with pytest.warns(DataWarning, match="zero between-cluster variance"), \
            pytest.raises(ValueError, match="same mean in every cluster"):
        pn.ml_lvm(data, SYNTAX, clusters="cluster")


def test_no_true_between_variance_fits(seed) -> None:
    """A variable generated without a between component: boundary estimate, still a valid fit."""
    data = seed.copy()
    rng = np.random.default_rng(2)
    data["y6"] = rng.normal(size=len(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImproperSolutionWarning)
        fitted = pn.ml_lvm(data, SYNTAX, clusters="cluster").runmodel()
    assert fitted.converged
    assert abs(fitted.getmatrix("sigma_between")[5, 5]) < 0.05
    assert np.isfinite(fitted.fit()["chisq"])


def test_between_network_on_its_boundary_is_named(seed) -> None:
    """A between GGM of a singular Sigma_B: partial correlations run to +-1 (psychonetrics issue 36)."""
    data = seed.copy()
    data["y6"] = np.random.default_rng(2).normal(size=len(data))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = pn.ml_ggm(data, clusters="cluster").runmodel()
    messages = " ".join(str(w.message) for w in caught)
    assert "omega_between" in messages and ("near-singular" in messages.lower() or "did not converge" in messages)
    # whatever the optimizer reports, the fit reaches the saturated likelihood (the supremum)
    assert abs(fitted.fit()["logl"] - fitted.fit()["unrestricted.logl"]) < 0.05


def test_fewer_clusters_than_between_parameters_warns(seed) -> None:
    data = seed[seed["cluster"] <= 12]
    with pytest.warns(DataWarning, match="12 clusters"):
        model = pn.ml_lvm(data, SYNTAX, clusters="cluster")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = model.runmodel()
    assert np.isfinite(fitted.fit()["logl"])


def test_singletons_and_single_cluster(seed) -> None:
    singles = seed.groupby("cluster").head(1)
    with pytest.raises(ValueError, match="single unit"):
        pn.ml_lvm(singles, SYNTAX, clusters="cluster")
    with pytest.raises(ValueError, match="at least two"):
        pn.ml_lvm(seed[seed["cluster"] == 1], SYNTAX, clusters="cluster")


@pytest.mark.parametrize("shift, scale", [(1e6, 1.0), (0.0, 1e-4), (-5e5, 1e3)])
def test_huge_offsets_and_tiny_scales(seed, seed_fit, shift: float, scale: float) -> None:
    data = seed.copy()
    data[VARS] = data[VARS] * scale + shift
    model = pn.ml_lvm(data, SYNTAX, clusters="cluster").runmodel()
    assert model.converged
    fit, ref = model.fit(), seed_fit.fit()
    assert abs(fit["chisq"] - ref["chisq"]) < 1e-5
    assert abs(fit["cfi"] - ref["cfi"]) < 1e-8
    np.testing.assert_allclose(model.getmatrix("lambda"), seed_fit.getmatrix("lambda"), atol=1e-6)
    np.testing.assert_allclose(model.getmatrix("sigma_zeta_within"), seed_fit.getmatrix("sigma_zeta_within") * scale**2,
                               rtol=1e-5)
    np.testing.assert_allclose(model.getmatrix("nu").ravel(), seed_fit.getmatrix("nu").ravel() * scale + shift,
                               rtol=1e-9, atol=1e-6 * scale)


# 4. model search under stress ------------------------------------------------------------
def test_search_skips_failed_candidates_with_one_warning(seed, monkeypatch) -> None:
    from psychonetrics.search import steps

    model = pn.ml_ggm(seed, clusters="cluster", omega_within="zero", omega_between="zero").runmodel()
    real = steps._refit
    calls = {"n": 0}

    def flaky(candidate):
        calls["n"] += 1
        return None if calls["n"] % 2 == 1 else real(candidate)

    monkeypatch.setattr(steps, "_refit", flaky)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = model.stepup(alpha=0.01)
    search_warnings = [w for w in caught if issubclass(w.category, steps.SearchWarning)]
    assert len(search_warnings) == 1 and "skipped" in str(search_warnings[0].message)
    assert result.converged
    assert result.fit()["bic"] <= model.fit()["bic"]
