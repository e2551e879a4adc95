"""Inference and model search: prune, stepup, modelsearch, compare, MIs, confint, standardized."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import quiet

import psychonetrics as pn

LAM = np.array([[1, 0]] * 3 + [[0, 1]] * 3)


@pytest.fixture(scope="module")
def seed() -> pd.DataFrame:
    return pn.datasets.seed_example()


@pytest.fixture(scope="module")
def lvm(seed):
    return pn.ml_lvm(seed, lambda_=LAM, clusters="cluster").runmodel()


@pytest.fixture(scope="module")
def lnm(seed):
    return pn.ml_lnm(seed, lambda_=LAM, clusters="cluster").runmodel()


def test_prune_seed_example_matches_psychonetrics(lvm, lnm) -> None:
    pruned = lnm.prune(alpha=0.05)
    fit = pruned.fit()
    # psychonetrics 0.17 on the same data: 26 parameters, chisq 17.09 on 22 df, logl -5147.45, BIC 10401.36
    assert pruned.npar == 26
    assert fit["df"] == 22
    assert abs(fit["chisq"] - 17.09) < 0.005
    assert abs(fit["logl"] - (-5147.45)) < 0.005
    assert abs(fit["bic"] - 10401.36) < 0.005
    assert np.all(pruned.getmatrix("omega_zeta_within") == 0)
    assert np.all(pruned.getmatrix("omega_zeta_between") == 0)
    table = pn.compare(ml_lvm=lvm, ml_lnm=lnm, pruned=pruned)
    row = table[table["model"] == "pruned"].iloc[0]
    assert abs(row["Chisq_diff"] - 1.16) < 0.005 and row["DF_diff"] == 2 and abs(row["p_value"] - 0.56) < 0.005
    assert list(table.columns) == ["model", "DF", "AIC", "BIC", "RMSEA", "Chisq", "Chisq_diff", "DF_diff", "p_value"]
    # the input model is untouched
    assert lnm.npar == 28


def test_prune_without_network_needs_matrices(lvm) -> None:
    with pytest.raises(ValueError, match="`matrices`"):
        lvm.prune()
    with pytest.raises(ValueError, match="`adjust`"):
        lvm.prune(matrices=["lambda"], adjust="nonsense")
    pruned = lvm.prune(matrices=["sigma_zeta_within"], alpha=0.05)
    assert pruned.getmatrix("sigma_zeta_within")[0, 1] == 0


def test_compare_of_ml_and_robust_models_warns_and_names_each_test(seed, lvm) -> None:
    from psychonetrics.exceptions import ComparisonWarning

    mlr = pn.ml_lvm(seed, lambda_=LAM, clusters="cluster", estimator="MLR").runmodel()
    one = np.ones((6, 1))
    one_mlr = pn.ml_lvm(seed, lambda_=one, clusters="cluster", estimator="MLR").runmodel()
    one_ml = pn.ml_lvm(seed, lambda_=one, clusters="cluster").runmodel()
    with pytest.warns(ComparisonWarning, match="an ML and a robust .MLR. model is not a valid test") as caught:
        table = pn.compare(ml_fit=lvm, mlr_fit=mlr)
    assert "'ml_fit' (ML), 'mlr_fit' (MLR)" in str(caught[0].message)
    assert table["test"].tolist() == ["", "standard (not valid: ML vs robust)"]
    # robust pairs keep the scaled difference, the others are labelled
    with pytest.warns(ComparisonWarning, match="one_mlr vs mlr_fit: Satorra-Bentler 2001 .scaled."):
        table = pn.compare(ml_fit=lvm, mlr_fit=mlr, one_mlr=one_mlr)
    robust_only = pn.compare(mlr_fit=mlr, one_mlr=one_mlr)
    assert "test" not in robust_only.columns
    assert table["Chisq_diff"].iloc[2] == pytest.approx(robust_only["Chisq_diff"].iloc[1])
    assert table["test"].iloc[2] == "Satorra-Bentler 2001 (scaled)"
    with pytest.warns(ComparisonWarning):
        table = pn.compare(ml_fit=lvm, one_mlr=one_mlr)
    standard = pn.compare(ml_fit=lvm, one_ml=one_ml)
    assert table["Chisq_diff"].iloc[1] == pytest.approx(standard["Chisq_diff"].iloc[1])  # unscaled
    assert np.isnan(table["scaling_factor"].iloc[1])


def test_compare_refuses_different_data(seed, lvm) -> None:
    other = pn.ml_lvm(seed.iloc[:590], lambda_=LAM, clusters="cluster").runmodel()
    with pytest.raises(ValueError, match="different data"):
        pn.compare(lvm, other)
    with pytest.raises(ValueError, match="not fitted"):
        pn.compare(lvm, pn.ml_lvm(seed, lambda_=LAM, clusters="cluster"))


def _simulate_residual_covariance(j: int = 300, n: int = 10, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lam = np.array([[1, 0], [0.8, 0], [0.7, 0], [0, 1], [0, 0.8], [0, 0.7]])
    theta_w = np.diag([0.5] * 6)
    theta_w[2, 3] = theta_w[3, 2] = 0.12  # the misspecification
    sigma_w = lam @ np.array([[1, 0.3], [0.3, 1]]) @ lam.T + theta_w
    sigma_b = lam @ np.array([[0.4, 0.1], [0.1, 0.4]]) @ lam.T + np.diag([0.2] * 6)
    b = rng.multivariate_normal(np.zeros(6), sigma_b, size=j)
    cl = np.repeat(np.arange(j), n)
    y = b[cl] + rng.multivariate_normal(np.zeros(6), sigma_w, size=j * n)
    frame = pd.DataFrame(y, columns=[f"y{i}" for i in range(1, 7)])
    frame["cluster"] = cl
    return frame


def test_mi_close_to_likelihood_ratio_and_epc_to_refit() -> None:
    data = _simulate_residual_covariance()
    mod = pn.ml_lvm(data, lambda_=LAM, clusters="cluster").runmodel()
    mis = mod.MIs()
    top = mis.iloc[0]
    assert top["matrix"] == "sigma_epsilon_within" and {top["row"], top["col"]} == {3, 4}
    freed = mod.freepar("sigma_epsilon_within", 4, 3).runmodel()
    lr = 2 * (freed.fit()["logl"] - mod.fit()["logl"])
    assert abs(top["mi"] - lr) < 0.10 * lr
    est = freed.getmatrix("sigma_epsilon_within")[3, 2]
    assert abs(top["epc"] - est) < 0.15 * abs(est)
    # parameters(mi=True) adds them; parameters() keeps its columns
    params = mod.parameters(mi=True)
    assert "mi" in params and params.loc[params["fixed"], "mi"].notna().any()
    assert "mi" not in mod.parameters()
    # identification-fixed elements and structural diagonals are not candidates
    assert not ((mis["matrix"] == "lambda") & (mis["row"] == 1) & (mis["col"] == 1)).any()
    assert not ((mis["matrix"] == "beta_within") & (mis["row"] == mis["col"])).any()


def _sparse_network(p: int, seed: int) -> np.ndarray:
    omega = np.zeros((p, p))
    for i, j, w in ((1, 0, 0.35), (2, 1, 0.3), (3, 2, -0.3), (4, 3, 0.35), (4, 0, 0.25)):
        omega[i, j] = omega[j, i] = w
    return omega


def _simulate_ggm(j: int = 400, n: int = 10, seed: int = 11) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = 5
    om_w = _sparse_network(p, seed)
    om_b = np.zeros((p, p))
    for i, k, w in ((1, 0, 0.4), (3, 2, 0.4), (4, 1, -0.3)):
        om_b[i, k] = om_b[k, i] = w
    delta_w, delta_b = np.diag([1.0] * p), np.diag([0.6] * p)
    sigma_w = delta_w @ np.linalg.inv(np.eye(p) - om_w) @ delta_w
    sigma_b = delta_b @ np.linalg.inv(np.eye(p) - om_b) @ delta_b
    b = rng.multivariate_normal(np.zeros(p), sigma_b, size=j)
    cl = np.repeat(np.arange(j), n)
    y = b[cl] + rng.multivariate_normal(np.zeros(p), sigma_w, size=j * n)
    frame = pd.DataFrame(y, columns=[f"v{i}" for i in range(1, p + 1)])
    frame["cluster"] = cl
    return frame, om_w, om_b


def test_sparse_network_prune_stepup_modelsearch() -> None:
    data, om_w, om_b = _simulate_ggm()
    full = pn.ml_ggm(data, clusters="cluster").runmodel()
    pruned = full.prune(alpha=0.01, recursive=True)
    assert np.array_equal(pruned.getmatrix("omega_within") != 0, om_w != 0)
    assert np.array_equal(pruned.getmatrix("omega_between") != 0, om_b != 0)
    empty = pn.ml_ggm(data, clusters="cluster", omega_within="zero", omega_between="zero").runmodel()
    stepped = empty.stepup(alpha=0.01)
    assert np.array_equal(stepped.getmatrix("omega_within") != 0, om_w != 0)
    assert np.array_equal(stepped.getmatrix("omega_between") != 0, om_b != 0)
    searched = full.modelsearch()
    best = min(pruned.fit()["bic"], stepped.fit()["bic"])
    assert searched.fit()["bic"] <= best + 1e-6


def test_fixpar_freepar_and_verbs_return_new_models(lvm) -> None:
    fixed = lvm.fixpar("sigma_zeta_within", "Eta_2", "Eta_1", value=0.0)
    assert not fixed.computed and lvm.computed
    refit = fixed.runmodel()
    assert refit.npar == lvm.npar - 1
    back = refit.freepar("sigma_zeta_within", 2, 1).runmodel()
    assert abs(back.fit()["logl"] - lvm.fit()["logl"]) < 1e-6
    with pytest.raises(ValueError, match="`matrix`"):
        lvm.fixpar("gamma", 1, 1)
    with pytest.raises(ValueError, match="`row`"):
        lvm.fixpar("lambda", 9, 1)
    with pytest.raises(ValueError, match="diagonal"):
        lvm.freepar("beta_within", 1, 1)


def test_threshold_treats_every_element_of_a_mean_vector_alike() -> None:
    """getmatrix("nu", threshold=True) zeroes every intercept above alpha, the first one too (an earlier
    copy of the edge rule took nu[0] for a diagonal and kept it)."""
    model = quiet(pn.ml_lvm(pn.datasets.demo_twolevel(), "F =~ y1 + y2 + y3", clusters="cluster").runmodel)
    p = model.parameters().query("matrix == 'nu'")["p"].to_numpy()
    assert np.all(p > 0.05)
    np.testing.assert_array_equal(model.getmatrix("nu", threshold=True, alpha=0.05).ravel(), 0.0)
    np.testing.assert_allclose(model.getmatrix("nu", threshold=True, alpha=1.0 - 1e-12), model.getmatrix("nu"))


def test_confint_and_threshold(lnm) -> None:
    ci = lnm.confint(level=0.9)
    assert ((ci["lower 5%"] < ci["est"]) & (ci["est"] < ci["upper 95%"])).all()
    width = (ci["upper 95%"] - ci["lower 5%"]) / (2 * 1.6448536269514722)
    np.testing.assert_allclose(width, ci["se"], rtol=1e-12)
    thresholded = lnm.getmatrix("omega_zeta_between", threshold=True, alpha=0.05)
    assert np.all(thresholded == 0)  # the between edge is not significant
    np.testing.assert_allclose(lnm.getmatrix("omega_zeta_within", threshold=True, alpha=1.0 - 1e-12),
                               lnm.getmatrix("omega_zeta_within"))
    with pytest.raises(ValueError, match="`threshold`"):
        lnm.getmatrix("sigma_within", threshold=True)


def test_standardized_solution(lvm) -> None:
    std = lvm.parameters(standardized=True)
    lam = lvm.getmatrix("lambda")
    for level in ("within", "between"):
        sigma = lvm.getmatrix(f"sigma_{level}")
        eta = lvm.getmatrix(f"sigma_eta_{level}")
        rows = std[(std["matrix"] == "lambda") & (std["level"] == level)]
        y2 = rows[(rows["var1"] == "Eta_1") & (rows["var2"] == "y2")].iloc[0]
        expected = lam[1, 0] * np.sqrt(eta[0, 0]) / np.sqrt(sigma[1, 1])
        assert abs(y2["est_std"] - expected) < 1e-10
        assert np.isfinite(y2["se"]) and 0 < y2["se"] < 0.2
    # standardized latent covariance is a correlation
    corr = std[(std["matrix"] == "sigma_zeta_within") & (std["var1"] == "Eta_2") & (std["var2"] == "Eta_1")]
    eta_w = lvm.getmatrix("sigma_eta_within")
    assert abs(corr["est_std"].iloc[0] - eta_w[1, 0] / np.sqrt(eta_w[0, 0] * eta_w[1, 1])) < 1e-10
