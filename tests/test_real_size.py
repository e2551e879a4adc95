"""Real data at real size: near-singular between levels, wide models, searches, specifications that cannot be fitted.

Data: ``data/bhr2000.csv`` (R package multilevel's ``bhr2000``: 5400 soldiers
in 99 companies, 11 leadership items) and lavaan's ``Demo.twolevel``.
psychonetrics 0.17 figures quoted below were obtained on the same data.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychonetrics as pn
from psychonetrics.exceptions import ConvergenceWarning, ImproperSolutionWarning, NotFittedError, PsychonetricsWarning

DATA = Path(__file__).resolve().parent / "data"
ITEMS6 = ["AF06", "AF07", "AP12", "AP17", "AS14", "AS15"]
SYNTAX = "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6"


@pytest.fixture(scope="module")
def bhr() -> pd.DataFrame:
    return pd.read_csv(DATA / "bhr2000.csv")


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    return pd.read_csv(DATA / "lavaan_extra" / "tutorial_fixedx" / "data.csv")


@pytest.fixture(scope="module")
def ggm11(bhr):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = pn.ml_ggm(bhr, clusters="company").runmodel()
    return model, caught


def quiet(fn, *args, **kwargs):  # noqa: ANN001, ANN201
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PsychonetricsWarning)
        return fn(*args, **kwargs)


# ----------------------------------------------------------- near-singular between levels
def test_bhr2000_saturated_model_is_the_psd_constrained_maximum(bhr, ggm11) -> None:
    model, _ = ggm11
    saturated = model.reference.saturated
    # psychonetrics 0.17: -75141.54; the between level of the maximum has rank 9 (two zero eigenvalues)
    assert saturated.loglik == pytest.approx(-75141.535, abs=0.005)
    assert saturated.converged
    eigen = np.linalg.eigvalsh(saturated.moments[0].sigma_between)
    assert eigen[0] > -1e-10 and eigen[2] > 1e-4 and abs(eigen[1]) < 1e-10
    # the Cholesky-parameterized saturated model (psychonetrics' form) reaches the same maximum
    chol = quiet(pn.ml_varcov(bhr, clusters="company", within="chol", between="chol").runmodel)
    assert chol.fit()["logl"] == pytest.approx(saturated.loglik, abs=1e-4)


def test_bhr2000_ggm_reaches_the_saturated_model(ggm11) -> None:
    model, caught = ggm11
    fit = model.fit()
    assert model.converged
    assert fit["logl"] >= fit["unrestricted.logl"] - 0.1
    assert fit["bic"] <= 150940.3 + 0.05  # psychonetrics 0.17: BIC 150940.3
    for level in ("within", "between"):
        delta = np.diag(model.getmatrix(f"delta_{level}"))
        omega = model.getmatrix(f"omega_{level}")
        assert np.all(delta > 0)
        assert np.all(np.abs(omega) < 1)
        assert np.linalg.eigvalsh(np.eye(11) - omega)[0] > 0
    # the nearly singular between level is reported, the within level is not
    near = [str(w.message) for w in caught if issubclass(w.category, ImproperSolutionWarning)
            and "Near-singular network" in str(w.message)]
    assert near and "omega_between" in near[0] and "omega_within" not in near[0]


def test_collapsed_level_is_never_converged() -> None:
    """Cluster means pulled together (between variance far below chance): the between network's scales all go
    to 0, where its edges are not identified; the fit says so and names the level."""
    rng = np.random.default_rng(5)
    j, n, p = 60, 8, 4
    y = rng.multivariate_normal(np.zeros(p), 0.5 * np.eye(p) + 0.5, size=j * n)
    cluster = np.repeat(np.arange(j), n)
    means = np.vstack([y[cluster == k].mean(axis=0) for k in range(j)])
    y = y - 0.9 * (means[cluster] - y.mean(axis=0))
    data = pd.DataFrame(y, columns=[f"v{i}" for i in range(p)]).assign(cluster=cluster)
    with pytest.warns(ConvergenceWarning, match=r"collapsed: the between block \(delta_between\).*'cov' or 'chol'"):
        model = pn.ml_ggm(data, clusters="cluster").runmodel()
    assert model.converged is False
    assert "DID NOT CONVERGE" in str(model)
    # the same data with a covariance between level fit normally (a boundary solution, not a collapse)
    assert quiet(pn.ml_ggm(data, clusters="cluster", between="chol").runmodel).converged


def test_near_zero_between_variance_saturated_fit(demo) -> None:
    """Demo.twolevel's x1-x3 have almost no between variance: the saturated model is still exact and quick."""
    data = demo[["y1", "y2", "y3", "x1", "x2", "x3", "cluster"]]
    model = quiet(pn.ml_lvm(data, "F =~ y1 + y2 + y3", clusters="cluster", vars=list(data.columns[:6])).runmodel)
    saturated = model.reference.saturated
    assert saturated.converged and saturated.iterations < 30
    # psychonetrics' Cholesky form: its factor degenerates at a between level of lower rank (here 4 of 6);
    # started from the saturated fit it reaches the maximum (or stops at the boundary, close to it)
    chol = quiet(pn.ml_varcov(data, clusters="cluster", within="chol", between="chol").runmodel)
    assert chol.converged and chol.fitted.result.message in ("converged", "converged at the boundary of the parameter space")
    assert saturated.loglik - 2e-3 < chol.fit()["logl"] <= saturated.loglik + 1e-8
    assert model.fit()["logl"] <= saturated.loglik + 1e-6


# --------------------------------------------------------------------------- model search
def test_modelsearch_six_items_not_worse_than_prune_stepup_or_psychonetrics(bhr) -> None:
    saturated = quiet(pn.ml_ggm(bhr, vars=ITEMS6, clusters="company").runmodel)
    path = quiet(saturated.prune(alpha=0.01).stepup, alpha=0.01)
    searched = quiet(saturated.modelsearch, jobs=2)
    assert searched.converged
    assert searched.fit()["bic"] <= path.fit()["bic"] + 1e-6
    assert searched.fit()["bic"] <= 89744.9  # psychonetrics 0.17's modelsearch: BIC 89744.9, 43 parameters


def test_stepup_eleven_items_matches_psychonetrics(bhr, ggm11) -> None:
    pruned = quiet(ggm11[0].prune, alpha=0.01)
    added = quiet(pruned.stepup, alpha=0.01)
    assert added.fit()["bic"] <= 150796.0 + 0.05  # psychonetrics 0.17: BIC 150796.0 with 96 parameters
    assert added.npar == 96


@pytest.mark.slow
def test_modelsearch_eleven_items_from_pruned(ggm11) -> None:
    pruned = quiet(ggm11[0].prune, alpha=0.01)
    path = quiet(pruned.stepup, alpha=0.01)
    searched = quiet(pruned.modelsearch)
    assert searched.fit()["bic"] <= min(path.fit()["bic"], 150796.0) + 1e-6


def _sparse_network_data(seed: int, j: int = 150, n: int = 8) -> pd.DataFrame:
    """Chains within (0.35) and between (0.4) over 7 variables, plus one cross edge on each level."""
    rng = np.random.default_rng(seed)
    p = 7
    edges_w = [(i, i + 1) for i in range(p - 1)] + [(0, 4)]
    edges_b = [(i, i + 1) for i in range(0, p - 1, 2)] + [(1, 5)]

    def covariance(edges: list[tuple[int, int]], weight: float, scale: float) -> np.ndarray:
        omega = np.zeros((p, p))
        for a, b in edges:
            omega[a, b] = omega[b, a] = weight
        return scale * np.linalg.inv(np.eye(p) - omega)

    between = rng.multivariate_normal(np.zeros(p), covariance(edges_b, 0.4, 0.4), size=j)
    cluster = np.repeat(np.arange(j), n)
    y = between[cluster] + rng.multivariate_normal(np.zeros(p), covariance(edges_w, 0.35, 1.0), size=j * n)
    return pd.DataFrame(y, columns=[f"v{i}" for i in range(p)]).assign(cluster=cluster)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_modelsearch_not_worse_than_prune_stepup_on_sparse_networks(seed: int) -> None:
    full = quiet(pn.ml_ggm(_sparse_network_data(seed), clusters="cluster").runmodel)
    path = quiet(full.prune(alpha=0.01).stepup, alpha=0.01)
    searched = quiet(full.modelsearch, jobs=1)
    assert searched.fit()["bic"] <= path.fit()["bic"] + 1e-6
    assert searched.fit()["bic"] < full.fit()["bic"]


def test_modelsearch_arguments_are_checked(bhr) -> None:
    model = quiet(pn.ml_ggm(bhr, vars=ITEMS6[:3], clusters="company").runmodel)
    with pytest.raises(ValueError, match="`jobs`"):
        model.modelsearch(jobs=0)
    with pytest.raises(ValueError, match="`screen`"):
        model.modelsearch(screen=0)
    with pytest.raises(ValueError, match="`prunealpha`"):
        model.modelsearch(prunealpha=1.5)


# ------------------------------------------------------------------------ specifications
def test_identification_never_overwrites_a_fixed_value() -> None:
    """identification='variance' with F1's within variance fixed at 0 by the user: it stays 0, and F1's scale
    comes from its between variance instead."""
    data = pn.datasets.seed_example()
    pattern = np.array([[0, 0], [0, 1]])  # F1 within variance fixed (at 0), F2 free, covariance fixed at 0
    model = pn.ml_lvm(data, SYNTAX, clusters="cluster", identification="variance", sigma_zeta_within=pattern)
    params = model.table
    names = params.names()

    def element(matrix: str, r: int, c: int) -> tuple[float, bool]:
        row = np.flatnonzero((names == matrix) & (params.row == r) & (params.col == c))[0]
        return float(params.value[row]), bool(params.par[row] > 0)

    assert element("sigma_zeta_within", 0, 0) == (0.0, False)
    assert element("sigma_zeta_between", 0, 0) == (1.0, False)
    assert element("sigma_zeta_within", 1, 1) == (1.0, False)
    assert element("sigma_zeta_between", 1, 1)[1]  # F2's between variance stays free


def test_latent_without_indicators_is_an_error() -> None:
    data = pn.datasets.seed_example()
    lam = np.array([[1, 0, 0]] * 3 + [[0, 1, 0]] * 3)
    with pytest.raises(ValueError, match=r"`lambda_`: latent variable\(s\) 'Eta_3' have no indicator"):
        pn.ml_lvm(data, lambda_=lam, clusters="cluster")


def test_negative_df_is_an_error() -> None:
    data = pn.datasets.seed_example()
    with pytest.raises(ValueError, match=r"not identified: 9 free parameters for 8 sample moments \(df = -1\)"):
        pn.ml_lvm(data, "F =~ y1 + y2", clusters="cluster")


def test_too_few_clusters() -> None:
    data = pn.datasets.seed_example()
    two = data[data["cluster"].isin(data["cluster"].unique()[:2])]
    with pytest.raises(ValueError, match="`data`: 2 clusters; a two-level model needs at least 3"):
        pn.ml_lvm(two, SYNTAX, clusters="cluster")
    # J <= p: the model can be fitted, but the saturated comparisons are unavailable, not printed as valid
    five = data[data["cluster"].isin(data["cluster"].unique()[:5])]
    model = quiet(pn.ml_varcov(five, clusters="cluster", sigma_between="diag").runmodel)
    fit = model.fit()
    assert np.isnan(fit["chisq"]) and np.isnan(fit["cfi"]) and np.isnan(fit["rmsea"])
    assert np.isfinite(fit["logl"]) and np.isfinite(fit["bic"])
    assert "5 clusters for 6 variables" in fit.attrs["unavailable"]
    assert "unavailable (" in str(model) and "chisq(" not in str(model)


def test_unfitted_model_estimate_reading_verbs_raise() -> None:
    model = pn.ml_lvm(pn.datasets.seed_example(), SYNTAX, clusters="cluster")
    for verb in (model.parameters, model.confint, model.fit, model.MIs, model.summary, model.plot,
                 lambda: model.getmatrix("lambda"), lambda: model.parameters(standardized=True)):
        with pytest.raises(NotFittedError, match=r"call `runmodel\(\)` first"):
            verb()
    assert "Not yet fitted" in str(model)


def test_skipping_reference_models() -> None:
    data = pn.datasets.seed_example()
    fitted = pn.ml_lvm(data, SYNTAX, clusters="cluster").runmodel()
    skipped = pn.ml_lvm(data, SYNTAX, clusters="cluster").runmodel(reference=False)
    assert skipped.reference is None
    assert skipped.fit()["logl"] == pytest.approx(fitted.fit()["logl"], abs=1e-8)
    assert np.isnan(skipped.fit()["chisq"]) and "skipped" in skipped.fit().attrs["unavailable"]
    # searches on such a model keep skipping them
    pruned = quiet(skipped.prune, matrices=["sigma_zeta_within"], alpha=0.05)
    assert pruned.reference is None


def test_no_lapack_messages_in_searches_and_unidentified_fits(bhr, capfd) -> None:
    """Non-finite numbers never reach LAPACK, which would print '** On entry to ... illegal value'."""
    quiet(quiet(pn.ml_ggm(bhr, vars=ITEMS6, clusters="company").runmodel).modelsearch, jobs=1)
    data = pn.datasets.seed_example()
    lam = np.array([[1, 1]] * 6)  # two factors on the same six indicators: not identified
    quiet(pn.ml_lvm(data, lambda_=lam, clusters="cluster").runmodel)
    out, err = capfd.readouterr()
    assert "illegal value" not in out + err
    assert "On entry to" not in out + err
