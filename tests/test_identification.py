"""Identification on hard real data: which parameters have standard errors, ridges, unbounded likelihoods,
boundaries of cor blocks, and bootstrap replicates fitted as the sample was.

Data: ``data/lq2002.csv`` (R package multilevel's ``lq2002``: 2042 soldiers in 49 companies, 19 items; its
between level has more saturated parameters than companies) and ``data/bhr2000.csv``; psychonetrics 0.17's
numbers on lq2002 are in ``data/README.md``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychonetrics as pn
from psychonetrics.exceptions import ConvergenceWarning, ImproperSolutionWarning, PsychonetricsWarning
from psychonetrics.inference.information import invert_information, kernel, weak_parameters

DATA = Path(__file__).resolve().parent / "data"
PSYCHONETRICS_LQ_STEPUP_BIC = 102263.53  # prune(alpha = 0.01) then stepup(alpha = 0.01), 124 parameters


def quiet(fn, *args, **kwargs):  # noqa: ANN001, ANN201
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PsychonetricsWarning)
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def lq() -> pd.DataFrame:
    return pd.read_csv(DATA / "lq2002.csv")


@pytest.fixture(scope="module")
def lq_ggm(lq):
    items = [c for c in lq.columns if c != "company"]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model = pn.ml_ggm(lq, vars=items, clusters="company").runmodel()
    return model, [str(w.message) for w in record]


# ------------------------------------------------------------------ the kernel of the information
def test_kernel_flags_only_the_parameters_in_a_null_direction() -> None:
    """Parameters 0-2 are regular; 3 and 4 enter only through their sum (a null direction 3 - 4); the
    covariance of 0-2 is their exact one, the inverse of the regular block with 3 + 4 profiled."""
    rng = np.random.default_rng(1)
    a = rng.normal(size=(40, 4))
    a[:, 3] *= 5.0  # unequal scales: the kernel is found in the scaled information
    info = a.T @ a  # columns: 0, 1, 2, s = p3 + p4
    j = np.zeros((4, 5))
    j[:3, :3] = np.eye(3)
    j[3, 3:] = 1.0
    full = j.T @ info @ j
    null = kernel(full)
    assert null is not None and null.basis.shape[1] == 1
    assert null.flagged.tolist() == [False, False, False, True, True]
    vcov, _ = invert_information(full)
    assert vcov is not None and np.isnan(vcov[3:]).all() and np.isnan(vcov[:, 3:]).all()
    exact = np.linalg.inv(info)[:3, :3]
    np.testing.assert_allclose(vcov[:3, :3], exact, rtol=1e-10)


def test_regular_information_is_inverted_exactly() -> None:
    rng = np.random.default_rng(2)
    a = rng.normal(size=(30, 6)) * np.array([1, 10, 0.1, 1, 3, 100])
    info = a.T @ a
    vcov, null = invert_information(info)
    assert null is not None and null.regular
    np.testing.assert_allclose(vcov, np.linalg.inv(info), rtol=1e-9)
    assert not weak_parameters(vcov, info).any()


def test_a_ridge_is_weak_not_null() -> None:
    """Two parameters with a correlation of 1 - 1e-7 between their estimates: variance inflation 5e6."""
    info = np.array([[1.0, 1 - 1e-7, 0.0], [1 - 1e-7, 1.0, 0.0], [0.0, 0.0, 2.0]])
    vcov, null = invert_information(info)
    assert null is not None and null.regular and np.isfinite(vcov).all()
    assert weak_parameters(vcov, info).tolist() == [True, True, False]


# ------------------------------------------------------------------ lq2002: p close to J
def test_lq2002_within_edges_have_standard_errors(lq_ggm) -> None:
    model, messages = lq_ggm
    assert model.converged
    params = model.parameters()
    free = params[~params["fixed"]]
    for matrix in ("omega_within", "delta_within", "mu", "delta_between"):
        assert free.loc[free["matrix"] == matrix, "se"].notna().all(), matrix
    between = free[free["matrix"] == "omega_between"]
    assert between["se"].isna().all()  # a nearly singular level: its edges lie in null directions
    assert (between["note"] == "not identified").all()
    # said once, by the near-singular network warning, which names the untestable edges' number
    assert not any(m.startswith("Not identified") for m in messages)
    assert any("Near-singular network: omega_between" in m and "171 of its edges" in m for m in messages)
    # psychonetrics' fit of the same model stops 4.9 logl units lower
    assert model.fit()["logl"] > -50653.15 + 4


def test_lq2002_prune_and_stepup_reach_psychonetrics(lq_ggm) -> None:
    model, _ = lq_ggm
    from psychonetrics.search.steps import SearchWarning

    with pytest.warns(SearchWarning, match="171 edge.*near-singular networks have no standard error"):
        pruned = model.prune(alpha=0.01)
    assert pruned.npar == 112  # psychonetrics: 112 (every between edge removed, the same within edges)
    assert pruned.fit()["bic"] == pytest.approx(102479.72, abs=0.05)
    added = quiet(pruned.stepup, alpha=0.01)
    assert added.fit()["bic"] <= PSYCHONETRICS_LQ_STEPUP_BIC
    assert added.getmatrix("omega_between").any()  # stepup tests between edges again by their MIs


@pytest.mark.slow
def test_lq2002_modelsearch_reaches_psychonetrics(lq_ggm) -> None:
    model, _ = lq_ggm
    searched = quiet(model.modelsearch)
    assert searched.fit()["bic"] <= PSYCHONETRICS_LQ_STEPUP_BIC


def test_rank_deficient_between_covariance_keeps_within_standard_errors() -> None:
    """Simulated: 8 variables, a between covariance of rank 2 (two between factors), 40 clusters of 25."""
    rng = np.random.default_rng(11)
    p, j, n = 8, 40, 25
    loadings = rng.uniform(0.4, 0.9, size=(p, 2)) * np.repeat([[1, 0], [0, 1]], p // 2, axis=0)
    sigma_b = loadings @ loadings.T  # rank 2
    omega = np.zeros((p, p))
    for k in range(p - 1):
        omega[k, k + 1] = omega[k + 1, k] = 0.3
    sigma_w = np.linalg.inv(np.eye(p) - omega)
    cl = np.repeat(np.arange(j), n)
    y = rng.multivariate_normal(np.zeros(p), sigma_b, size=j)[cl] + rng.multivariate_normal(
        np.zeros(p), sigma_w, size=j * n)
    data = pd.DataFrame(y, columns=[f"v{k}" for k in range(p)]).assign(cluster=cl)
    model = quiet(pn.ml_ggm(data, clusters="cluster").runmodel)
    params = model.parameters()
    within = params[(params["matrix"] == "omega_within") & ~params["fixed"]]
    assert within["se"].notna().all()
    assert np.isnan(params.loc[(params["matrix"] == "omega_between") & ~params["fixed"], "se"]).any()
    pruned = quiet(model.prune, alpha=0.01)
    added = quiet(pruned.stepup, alpha=0.01)
    assert added.fit()["bic"] < model.fit()["bic"]
    # the within chain is found
    found = np.abs(added.getmatrix("omega_within")) > 0
    assert all(found[k, k + 1] for k in range(p - 1))


# ------------------------------------------------------------------ no divergence or ridge called converged
def test_three_clusters_stop_early_as_an_unbounded_likelihood() -> None:
    data = pn.datasets.demo_twolevel()
    three = data[data["cluster"].isin(data["cluster"].unique()[:3])]
    syntax = "level: 1\n fw =~ y1 + y2 + y3\nlevel: 2\n fb =~ y1 + y2 + y3"
    with pytest.warns(ConvergenceWarning, match="unbounded likelihood.*clusters of size 15 is singular"):
        model = pn.ml_lvm(three, syntax, clusters="cluster").runmodel()
    assert not model.converged
    assert model.fitted.result.iterations <= 50  # stopped early, not after the optimizers' limits
    assert "DID NOT CONVERGE" in str(model)


def test_converged_fits_have_a_small_gradient_or_sit_on_a_boundary(lq_ggm) -> None:
    """A fit reported converged in the interior has a vanishing Newton decrement; one on the boundary says so."""
    seed = pn.ml_lvm(pn.datasets.seed_example(), "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6",
                     clusters="cluster").runmodel()
    assert seed.fitted.result.message == "converged" and seed.fitted.result.gradient_norm < 1e-3
    model, _ = lq_ggm
    assert model.fitted.result.message.startswith("converged at the boundary of the parameter space")


def test_a_cor_block_at_its_boundary_warns() -> None:
    """bhr2000, three factors with shared loadings: the between factor correlations reach +-1 (a cov block
    reaches an indefinite covariance there).  The cor fit warns, names the block and the alternatives."""
    data = pd.read_csv(DATA / "bhr2000.csv")
    syntax = "AF =~ AF06 + AF07\nAP =~ AP12 + AP17 + AP33 + AP34\nAS =~ AS14 + AS15 + AS16 + AS17 + AS28"
    with pytest.warns(ImproperSolutionWarning, match="Near-singular correlations: rho_zeta_between.*'chol'"):
        cor = pn.ml_lvm(data, syntax, clusters="company", within_latent="cor", between_latent="cor").runmodel()
    chol = quiet(pn.ml_lvm(data, syntax, clusters="company", within_latent="chol",
                           between_latent="chol").runmodel)
    with pytest.warns(ImproperSolutionWarning, match="Not positive definite: sigma_zeta_between"):
        cov = pn.ml_lvm(data, syntax, clusters="company").runmodel()
    # the cov maximum is beyond the positive semi-definite set, chol's on its boundary; cor comes within 10
    assert cov.fit()["logl"] == pytest.approx(-77716.52, abs=0.01)
    assert cov.fit()["logl"] > chol.fit()["logl"] > cor.fit()["logl"] > chol.fit()["logl"] - 15


# ------------------------------------------------------------------ bootstrap replicates fitted as the sample was
def test_bootstrap_replicates_equal_runmodel_on_the_same_clusters() -> None:
    """bhr2000, 6 items: the replicates' clusters rebuilt by hand and fitted with runmodel() from a DataFrame
    give the bootstrap's estimates (to its refit tolerance); no replicate fails."""
    data = pd.read_csv(DATA / "bhr2000.csv")
    items = ["AF06", "AF07", "AP12", "AP17", "AS14", "AS15"]
    model = quiet(pn.ml_ggm(data, vars=items, clusters="company").runmodel)
    n_boot = 12
    boot = quiet(model.bootstrap, n_boot=n_boot, seed=7, jobs=1)
    assert boot.n_failed == 0 and boot.n_success == n_boot
    units = model.stats[0].units
    values = units.values + units.center
    seeds = np.random.SeedSequence(7).spawn(n_boot)
    for b, seed in enumerate(seeds):
        drawn = np.random.default_rng(seed).integers(0, model.stats[0].n_clusters, size=model.stats[0].n_clusters)
        parts = [pd.DataFrame(values[units.cluster == c], columns=items).assign(company=k)
                 for k, c in enumerate(drawn)]
        by_hand = quiet(pn.ml_ggm(pd.concat(parts), vars=items, clusters="company").runmodel)
        assert by_hand.converged
        ours = boot.model.with_table(boot.model.table.with_values(boot.estimates[b]))
        from psychonetrics.fitting.objective import Objective
        from support import routes_of

        obj = Objective(ours.family, ours.table, by_hand.stats, routes_of(ours, by_hand.stats, "ML"))
        logl = obj.loglik(boot.estimates[b])
        # the bootstrap's point is the replicate's maximum (or the same boundary supremum) as runmodel's
        assert logl >= by_hand.fit()["logl"] - 5e-3, b
