"""Robust inference (estimator="MLR") and the choice of information, by independent oracles.

* Per-cluster scores: equal central differences of each cluster's brute-force log-density (scipy's
  multivariate normal of the cluster's stacked values) in phi, with within-only and cluster-level variables and
  with missing values; they sum to the gradient of each likelihood route.
* lavaan 0.6-14 (``data/reference`` syntax cases with MLR blocks, ``data/lavaan_extra``): sandwich SEs with the
  observed and with the expected information as bread, the Yuan-Bentler (Mplus) scaled chi-square and its
  scaling factor, robust CFI/TLI, ML SEs from the observed information, and the Satorra-Bentler (2001) scaled
  difference test.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal

import psychonetrics as pn
from psychonetrics.data.frame import frame_to_stats
from psychonetrics.moments import Moments, Roles
from psychonetrics.fitting.objective import Objective
from support import routes_of
from psychonetrics.inference.robust import moments_at
from psychonetrics.likelihood import clusters as cluster_route
from support import DATA_DIR as DATA
from support import assert_rows, load, quiet

DATA_DIR = DATA

VARS = ["y1", "y2", "x1", "w1", "w2"]
ROLES = Roles.of(tuple(VARS), within_only=("x1",), between_only=("w1", "w2"))


# ------------------------------------------------------------------------------- per-cluster scores
def random_moments(seed: int, roles: Roles) -> Moments:
    rng = np.random.default_rng(seed)
    p = roles.n_vars
    a = rng.normal(size=(p, p))
    w = a @ a.T / 5 + np.eye(p)
    b_ = rng.normal(size=(p, p))
    b = b_ @ b_.T / 5 + 0.5 * np.eye(p)
    for k in roles.between_only:
        w[k, :] = w[:, k] = 0.0
    for k in roles.within_only:
        b[k, :] = b[:, k] = 0.0
    return Moments(rng.normal(size=p) * 0.1, w, b, roles)


def cluster_logliks(data: pd.DataFrame, names: list[str], mom: Moments) -> np.ndarray:
    """Each cluster's log-density: its units' observed unit-level values, then its cluster-level values once."""
    roles = mom.roles or Roles(len(names))
    unit = [k for k in range(len(names)) if k not in roles.between_only]
    out = []
    for _, group in data.groupby("cluster", sort=True):
        values = group[names].to_numpy()
        entries = [(i, k) for i in range(len(values)) for k in unit if not np.isnan(values[i, k])]
        entries += [(-1, k) for k in roles.between_only if not np.all(np.isnan(values[:, k]))]
        y = np.array([values[i, k] if i >= 0 else values[~np.isnan(values[:, k]), k][0] for i, k in entries])
        cov = np.array([[mom.sigma_between[k, m] + (mom.sigma_within[k, m] if i == j and i >= 0 else 0.0)
                         for j, m in entries] for i, k in entries])
        out.append(multivariate_normal(mom.mu[[k for _, k in entries]], cov).logpdf(y))
    return np.array(out)


def structural(mom: Moments) -> np.ndarray:
    """The coordinates of phi a model can move: means, and W and B entries of variables on that level."""
    p = mom.mu.size
    roles = mom.roles or Roles(p)
    structural = np.ones(p + p * (p + 1), dtype=bool)
    on_w, on_b = np.zeros(p, bool), np.zeros(p, bool)
    on_w[roles.within], on_b[roles.between] = True, True
    r, c = np.tril_indices(p)
    order = np.lexsort((r, c))
    r, c = r[order], c[order]
    structural[p:p + r.size] = on_w[r] & on_w[c]
    structural[p + r.size:] = on_b[r] & on_b[c]
    return structural


def central_differences(fn, x: np.ndarray, columns: np.ndarray | None = None) -> np.ndarray:  # noqa: ANN001
    """d fn / d x by central differences (relative steps 1e-5), in ``columns`` of x only (0 elsewhere)."""
    columns = np.arange(x.size) if columns is None else columns
    out = None
    for k in columns:
        h = 1e-5 * max(1.0, abs(x[k]))
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h
        column = (np.asarray(fn(up)) - np.asarray(fn(down))) / (2 * h)
        if out is None:
            out = np.zeros((column.size, x.size))
        out[:, k] = column
    assert out is not None
    return out


def numerical_scores(data: pd.DataFrame, names: list[str], mom: Moments) -> np.ndarray:
    """Central differences of the cluster densities in the structural coordinates of phi (0 elsewhere)."""
    return central_differences(lambda phi: cluster_logliks(data, names, moments_at(phi, len(names), mom.roles)),
                               mom.phi(), np.flatnonzero(structural(mom)))


def differenced_information(obj: Objective, x: np.ndarray) -> np.ndarray:
    """Minus the symmetrized central-difference Hessian of the model's log-likelihood."""
    hess = central_differences(lambda point: obj.loglik_and_gradient(point)[1], x)
    return -0.5 * (hess + hess.T)


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    data = pn.datasets.demo_twolevel()
    return data[data["cluster"] <= 25].reset_index(drop=True)


@pytest.mark.parametrize("missing", [False, True])
def test_cluster_scores_equal_numerical_derivatives_of_cluster_densities(demo, missing: bool) -> None:
    data = demo.copy()
    if missing:
        rng = np.random.default_rng(3)
        for var in ("y1", "y2", "x1"):
            data.loc[rng.random(len(data)) < 0.15, var] = np.nan
        data.loc[data["cluster"].isin([2, 7, 11]), "w1"] = np.nan  # a cluster-level value missing for whole clusters
    stats = frame_to_stats(data, vars=VARS, clusters="cluster", cluster_level=["w1", "w2"])[0]
    mom = random_moments(1, ROLES)
    scores = cluster_route.cluster_scores(mom, stats)
    keep = structural(mom)
    assert keep.sum() == 5 + 10 + 6  # means; W over y1, y2, x1; B over y1, y2, w1, w2 minus ... (vech sizes)
    np.testing.assert_allclose(scores[:, keep], numerical_scores(data, VARS, mom)[:, keep], atol=2e-6, rtol=1e-5)
    assert scores.sum(axis=0) == pytest.approx(cluster_route.dloglik_dmoments_clusters(mom, stats)[1], abs=1e-8)


def test_cluster_scores_without_roles_sum_to_the_stats_route_gradient() -> None:
    from psychonetrics.likelihood import statistics as stats_route

    data = pn.datasets.seed_example()
    names = [f"y{k}" for k in range(1, 7)]
    stats = frame_to_stats(data, vars=names, clusters="cluster")[0]
    mom = random_moments(2, Roles(6))
    mom = Moments(mom.mu, mom.sigma_within, mom.sigma_between, None)
    scores = cluster_route.cluster_scores(mom, stats)
    assert scores.shape == (60, 6 + 42)
    np.testing.assert_allclose(scores.sum(axis=0), stats_route.dloglik_dmoments_stats(mom, stats)[1], atol=1e-8)
    sub = data[data["cluster"] <= 8]
    sub_stats = frame_to_stats(sub, vars=names, clusters="cluster")[0]
    np.testing.assert_allclose(cluster_route.cluster_scores(mom, sub_stats), numerical_scores(sub, names, mom),
                               atol=2e-6, rtol=1e-5)


def test_model_scores_sum_to_zero_at_the_optimum() -> None:
    data = pn.datasets.seed_example()
    model = pn.ml_lvm(data, "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6", clusters="cluster", estimator="MLR").runmodel()
    obj = Objective(model.family, model.table, model.stats, routes_of(model, model.stats))
    scores = obj.cluster_scores(model.table.start_vector())
    assert scores.shape == (60, model.npar)
    scale = np.abs(scores).sum(axis=0)
    assert np.all(np.abs(scores.sum(axis=0)) < 1e-5 * scale)


# ----------------------------------------------------------------------------------- lavaan
@pytest.mark.parametrize("case", ["levels_cfa", "mlr_shared_loadings"])
@pytest.mark.parametrize("information", ["observed", "expected"])
def test_mlr_reference_cases(case: str, information: str) -> None:
    spec, data = load("reference", case)
    model = quiet(pn.ml_lvm(data, spec["syntax"], clusters=spec["clusters"], estimator="MLR",
                            information=information).runmodel)
    ref = spec["reference"]["MLR"]
    assert model.robust and model.fitted.robust
    se_key = "se" if information == "observed" else "se_expected_bread"
    assert assert_rows(model.parameters(), ref["parameters"], se_key=se_key) >= 28
    if information == "observed":  # the scaled test of the reference is lavaan's default (observed) one
        fit = model.fit()
        for key in ("chisq.scaled", "chisq.scaling.factor", "baseline.chisq.scaled"):
            assert fit[key] == pytest.approx(ref["fit"][key], rel=0.01), key
        assert fit["pvalue.scaled"] == pytest.approx(ref["fit"]["pvalue.scaled"], abs=2e-3)
        for key in ("cfi.robust", "tli.robust"):
            assert fit[key] == pytest.approx(ref["fit"][key], abs=1e-3), key
        assert fit["chisq"] == pytest.approx(ref["fit"]["chisq"], abs=0.02)  # the standard test is unchanged


@pytest.mark.parametrize("case", ["levels_cfa", "mlr_shared_loadings"])
def test_ml_observed_information_standard_errors(case: str) -> None:
    """lavaan's two-level default SEs (observed information) with ``information="observed"``."""
    spec, data = load("reference", case)
    model = quiet(pn.ml_lvm(data, spec["syntax"], clusters="cluster", information="observed").runmodel)
    assert not model.robust and model.fitted.information_kind == "observed"
    assert "observed information" in model.parameters().attrs["se"]
    assert_rows(model.parameters(), spec["reference"]["ML"]["parameters"], se_key="se")


def test_mlr_tutorial_model_with_fixed_covariates() -> None:
    spec, data = load("lavaan_extra", "tutorial_fixedx")
    model = quiet(pn.ml_lvm(data, spec["syntax"], clusters="cluster", estimator="mlr").runmodel)
    ref = spec["reference"]["MLR"]
    assert_rows(model.parameters(), ref["parameters"], se_key="se")
    fit = model.fit()
    for key in ("chisq.scaled", "chisq.scaling.factor"):
        assert fit[key] == pytest.approx(ref["fit"][key], rel=0.01), key


def test_mlr_hsb82_uses_the_exact_cluster_scores() -> None:
    """High School and Beyond with pupil covariates declared within-only although they vary between schools
    (single-sex schools): ML SEs equal lavaan's with either information; lavaan's MLR SEs for the covariates'
    slopes differ from the sandwich of the exact per-cluster scores (which the brute-force test above pins
    down), by up to 27% for ``sx``; the estimates agree."""
    spec, data = load("lavaan_extra", "hsb82_school")
    for information, key in (("observed", "se"), ("expected", "se_expected")):
        ml = quiet(pn.ml_lvm(data, spec["syntax"], clusters="cluster", information=information).runmodel)
        assert_rows(ml.parameters(), spec["reference"]["ML"]["parameters"], se_key=key)
    mlr = quiet(pn.ml_lvm(data, spec["syntax"], clusters="cluster", estimator="MLR").runmodel)
    assert_rows(mlr.parameters(), spec["reference"]["MLR"]["parameters"], se_key=None)
    fit = mlr.fit()
    assert fit["df"] == 0 and fit["chisq.scaled"] == pytest.approx(0.0, abs=1e-3)
    assert fit["baseline.chisq.scaled"] == pytest.approx(spec["reference"]["MLR"]["fit"]["baseline.chisq.scaled"],
                                                         rel=0.03)


def test_satorra_bentler_2001_difference_test() -> None:
    spec, _ = load("lavaan_extra", "lrt_sb2001")
    _, data = load("reference", "levels_cfa")
    a = quiet(pn.ml_lvm(data, spec["models"]["a"], clusters="cluster", estimator="MLR").runmodel)
    b = quiet(pn.ml_lvm(data, spec["models"]["b"], clusters="cluster", estimator="MLR").runmodel)
    table = pn.compare(fit_a=a, fit_b=b)
    ref = spec["reference"]["satorra.bentler.2001"]
    row = table.iloc[1]
    assert row["scaling_factor"] == pytest.approx(ref["scaling.factor"], rel=0.01)
    assert row["Chisq_diff"] == pytest.approx(ref["T.delta"], rel=0.01)
    assert row["DF_diff"] == ref["df.delta"]
    assert row["p_value"] == pytest.approx(ref["table"][1]["Pr(>Chisq)"], abs=1e-3)
    assert table["Chisq"].tolist() == pytest.approx([r["Chisq"] for r in ref["table"]], abs=0.02)
    with pytest.raises(ValueError, match="not fitted"):
        pn.compare(fit_a=a.with_table(a.table), fit_b=b)


# ------------------------------------------------------------------------- MLR everywhere
def test_fiml_route_mlr_equals_ml_route_on_complete_data() -> None:
    spec, data = load("lavaan_extra", "tutorial_fixedx")
    ml = quiet(pn.ml_lvm(data, spec["syntax"], clusters="cluster", estimator="MLR").runmodel)
    other = pn.ml_lvm(data, spec["syntax"], clusters="cluster", estimator="MLR")
    from dataclasses import replace

    from psychonetrics.estimators import Estimator

    per_cluster_mlr = Estimator("MLR", robust=True, per_cluster=True)
    fiml = quiet(replace(other, estimator=per_cluster_mlr).runmodel)  # the per-cluster route on the same data
    np.testing.assert_allclose(fiml.fitted.se, ml.fitted.se, rtol=1e-4)
    assert fiml.fit()["chisq.scaling.factor"] == pytest.approx(ml.fit()["chisq.scaling.factor"], rel=1e-4)


def test_mlr_with_missing_values_including_cluster_level_variables() -> None:
    """lavaan 0.6-14 stops here ("infinite or missing values in 'x'"); MLR runs on the per-cluster route."""
    spec, data = load("lavaan_extra", "missing_cluster_level")
    assert "error" in spec["reference"]["MLR"]
    model = quiet(pn.ml_lvm(data, spec["syntax"], clusters="cluster", estimator="MLR").runmodel)
    assert model.converged and model.fitted.information_kind == "observed"
    assert np.all(np.isfinite(model.fitted.se)) and np.all(model.fitted.se > 0)
    ml = quiet(pn.ml_lvm(data, spec["syntax"], clusters="cluster").runmodel)
    np.testing.assert_allclose(model.table.start_vector(), ml.table.start_vector(), atol=1e-8)
    assert 0.5 < np.median(model.fitted.se / ml.fitted.se) < 2.0
    fit = model.fit()
    assert np.isfinite(fit["chisq.scaled"]) and 0.5 < fit["chisq.scaling.factor"] < 2.0


def test_mlr_multiple_groups_equal_separate_fits() -> None:
    data = pn.datasets.seed_example()
    data["g"] = np.where(data["cluster"] <= 30, "a", "b")
    syntax = "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6"
    both = pn.ml_lvm(data, syntax, clusters="cluster", groups="g", estimator="MLR").runmodel()
    parts = [pn.ml_lvm(data[data["g"] == g], syntax, clusters="cluster", estimator="MLR").runmodel() for g in "ab"]
    np.testing.assert_allclose(both.fitted.se, np.concatenate([p.fitted.se for p in parts]), rtol=1e-4)
    fit = both.fit()
    separate = [p.fit() for p in parts]
    scaled = sum(f["chisq.scaling.factor"] * f["df"] for f in separate) / fit["df"]
    assert fit["chisq.scaling.factor"] == pytest.approx(scaled, rel=1e-4)


@pytest.mark.parametrize("wrapper,kwargs", [
    ("ml_ggm", {}),
    ("ml_lnm", {"lambda_": "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6"}),
    ("ml_rnm", {"lambda_": "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6"}),
    ("ml_lvm", {"lambda_": "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6", "within_latent": "chol",
                "between_residual": "prec"}),
    ("ml_varcov", {"within": "cor", "between": "chol"}),
])
def test_mlr_every_family_and_type(wrapper: str, kwargs: dict) -> None:
    data = pn.datasets.seed_example()
    model = quiet(getattr(pn, wrapper)(data, clusters="cluster", estimator="MLR", **kwargs).runmodel)
    ml = quiet(getattr(pn, wrapper)(data, clusters="cluster", information="observed", **kwargs).runmodel)
    assert model.converged
    ok = np.isfinite(ml.fitted.se)
    assert np.all(np.isfinite(model.fitted.se[ok]))
    # normal data: the sandwich is close to the model-based SEs
    assert 0.8 < np.median(model.fitted.se[ok] / ml.fitted.se[ok]) < 1.2
    assert "MLR" in str(model) and "robust SEs" in str(model)
    assert "Yuan-Bentler" in model.fit().attrs["test"] and "sandwich" in model.fit().attrs["se"]
    assert "sandwich" in model.parameters().attrs["se"] and "standard" in ml.fit().attrs["test"]
    assert "cfi.robust" in model.summary()._repr_html_() and "cfi.robust" not in ml.summary()._repr_html_()


def test_prune_uses_robust_p_values() -> None:
    data = pn.datasets.seed_example()
    model = pn.ml_ggm(data, clusters="cluster", estimator="MLR").runmodel()
    params = model.parameters()
    edges = params[params["matrix"].str.startswith("omega") & ~params["fixed"]]
    kept = {(r.matrix, r.row, r.col) for r in edges.itertuples() if r.p <= 0.01}
    pruned = model.prune(alpha=0.01)
    after = pruned.parameters()
    free = {(r.matrix, r.row, r.col) for r in after.itertuples() if r.matrix.startswith("omega") and not r.fixed}
    assert free == kept and pruned.robust


def test_stepup_and_modelsearch_on_mlr_models() -> None:
    data = pn.datasets.seed_example()
    pruned = pn.ml_ggm(data, clusters="cluster", estimator="MLR").runmodel().prune(alpha=0.01)
    added = quiet(pruned.stepup, alpha=0.01)
    assert added.robust and added.fit()["bic"] <= pruned.fit()["bic"]
    searched = quiet(pruned.modelsearch, jobs=1)
    assert searched.robust and searched.fit()["bic"] <= pruned.fit()["bic"] + 1e-9


# --------------------------------------------------------------------------------- errors
def test_mlr_needs_the_rows(tmp_path) -> None:
    pn.twolevel_stats(pn.datasets.seed_example(), clusters="cluster").save(tmp_path / "stats.json")
    stats = pn.TwoLevelStats.load(tmp_path / "stats.json")  # the statistics alone, as an out-of-core engine gives
    assert stats.units is None
    with pytest.raises(ValueError, match="MLR.*unit-level rows"):
        pn.ml_ggm(stats, estimator="MLR")


def test_information_argument() -> None:
    data = pn.datasets.seed_example()
    with pytest.raises(ValueError, match="`information`"):
        pn.ml_ggm(data, clusters="cluster", information="hessian")
    data.loc[3, "y1"] = np.nan
    with pytest.raises(ValueError, match="'expected' is not available with missing values"):
        pn.ml_ggm(data, clusters="cluster", information="expected")
    with pytest.raises(ValueError, match="`estimator`"):
        pn.ml_ggm(data, clusters="cluster", estimator="WLS")
    assert pn.ml_ggm(data, clusters="cluster", estimator="mlr").robust


# ------------------------------------------------------------------ observed information in closed form
def test_observed_information_closed_form_equals_differenced_gradient() -> None:
    """The stats route's closed-form observed information in phi, and the model's in theta (closed form plus the
    differenced second-order term), against central differences of the analytic gradients."""
    from psychonetrics.likelihood import STATISTICS as STATS
    from psychonetrics.likelihood import statistics as stats_route

    data = pn.datasets.demo_twolevel()
    names = ["y1", "y2", "y3", "y4"]
    st = frame_to_stats(data, vars=names, clusters="cluster")[0]
    mom = random_moments(5, Roles(4))
    mom = Moments(mom.mu, mom.sigma_within, mom.sigma_between, None)
    phi = mom.phi()
    numeric = -central_differences(lambda point: STATS.dloglik(moments_at(point, 4, None), st)[1], phi)
    closed = stats_route.information_observed_stats(mom, st)
    np.testing.assert_allclose(closed, 0.5 * (numeric + numeric.T), rtol=1e-6, atol=1e-6 * np.abs(closed).max())
    # the element-wise form over all of phi (the saturated model's) is the same matrix
    np.testing.assert_allclose(stats_route.information_observed_phi(mom, st), closed, rtol=1e-10,
                               atol=1e-10 * np.abs(closed).max())
    assert np.abs(closed - stats_route.information_expected_stats(mom, st)).max() > 1.0  # not the expected one

    model = pn.ml_lnm(data, "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6", clusters="cluster").runmodel()
    obj = Objective(model.family, model.table, model.stats, routes_of(model, model.stats, "ML"))
    x = model.table.start_vector() + 0.01
    numeric = differenced_information(obj, x)
    np.testing.assert_allclose(obj.observed_information(x), numeric, rtol=1e-4, atol=1e-5 * np.abs(numeric).max())


def test_near_singular_level_falls_back_to_the_expected_information() -> None:
    """bhr2000 (99 companies): the saturated between network sits on a nearly singular level, where the
    observed information is indefinite; MLR says so and uses the expected information as bread.  The within
    edges keep robust SEs; the between edges, in (near-)null directions of the information, have none, and
    prune removes them as untestable edges of a near-singular network (saying so) instead of keeping them."""
    from psychonetrics.exceptions import ImproperSolutionWarning
    from psychonetrics.search.steps import SearchWarning

    data = pd.read_csv(DATA_DIR / "bhr2000.csv")
    items = [c for c in data.columns if c != "company"]
    with pytest.warns(ImproperSolutionWarning) as record:
        model = pn.ml_ggm(data, vars=items, clusters="company", estimator="MLR").runmodel()
    assert any("observed information is not positive definite" in str(w.message) for w in record)
    assert model.fitted.information_kind == "expected" and model.fitted.robust
    assert "expected information as bread" in str(model)
    edges = model.parameters()
    edges = edges[edges["matrix"].str.startswith("omega") & ~edges["fixed"]]
    within = edges[edges["matrix"] == "omega_within"]
    naive = quiet(pn.ml_ggm(data, vars=items, clusters="company").runmodel).parameters()
    naive = naive[(naive["matrix"] == "omega_within") & ~naive["fixed"]]
    assert within["se"].notna().all()
    # robust SEs of the same order as the model-based ones (not inflated by the degenerate level)
    ratio = within["se"].to_numpy() / naive["se"].to_numpy()
    assert 0.5 < ratio.min() and ratio.max() < 4
    assert edges.loc[edges["matrix"] == "omega_between", "se"].isna().all()
    with pytest.warns(SearchWarning, match="near-singular networks have no standard error"):
        pruned = model.prune(alpha=0.01)
    assert not pruned.getmatrix("omega_between").any()
    assert pruned.getmatrix("omega_within").any()


def test_observed_information_closed_form_with_cluster_level_variables() -> None:
    from psychonetrics.likelihood import statistics as stats_route

    data = pn.datasets.demo_twolevel()
    stats = frame_to_stats(data, vars=VARS, clusters="cluster", cluster_level=["w1", "w2"])[0]
    mom = random_moments(6, ROLES)
    phi = mom.phi()
    keep = structural(mom)
    numeric = -central_differences(
        lambda point: stats_route.dloglik_dmoments_stats(moments_at(point, 5, ROLES), stats)[1], phi,
        np.flatnonzero(keep))
    numeric = 0.5 * (numeric + numeric.T)
    closed = stats_route.information_observed_stats(mom, stats)
    sub = np.ix_(keep, keep)
    np.testing.assert_allclose(closed[sub], numeric[sub], rtol=1e-6, atol=1e-6 * np.abs(closed).max())


def test_mlr_on_real_likert_data_bhr2000() -> None:
    """bhr2000: 11 Likert items of 5400 soldiers in 99 companies, one factor per level (a poorly fitting
    model, scaling factor about 1.15): lavaan's MLR SEs, scaled chi-square and robust CFI/TLI."""
    spec = json.loads((DATA / "lavaan_extra" / "bhr2000_cfa" / "expected.json").read_text())
    data = pd.read_csv(DATA / "lavaan_extra" / "bhr2000_cfa" / spec["data"])
    model = quiet(pn.ml_lvm(data, spec["syntax"], clusters=spec["clusters"], estimator="MLR").runmodel)
    ref = spec["reference"]["MLR"]
    assert assert_rows(model.parameters(), ref["parameters"], se_key="se") >= 55
    fit = model.fit()
    assert fit["npar"] == ref["fit"]["npar"] and fit["df"] == ref["fit"]["df"]
    assert fit["logl"] == pytest.approx(ref["fit"]["logl"], abs=1e-3)
    assert fit["chisq"] >= ref["fit"]["chisq"] - 0.02  # lavaan's EM saturated model stops short (by ~0.16 here)
    for key in ("chisq.scaled", "chisq.scaling.factor"):
        assert fit[key] == pytest.approx(ref["fit"][key], rel=0.01), key
    for key in ("cfi.robust", "tli.robust"):
        assert fit[key] == pytest.approx(ref["fit"][key], abs=2e-3), key


@pytest.mark.parametrize("case", ["tutorial_fixedx", "tutorial_freex", "saturated_cluster_nodes", "hsb82_freex",
                                  "missing_cluster_level"])
def test_ml_observed_information_standard_errors_of_further_cases(case: str) -> None:
    """lavaan's default two-level SEs (observed information) on the further references, including
    within-only and cluster-level covariates, fixed.x both ways and missing values."""
    spec, data = load("lavaan_extra", case)
    options = spec.get("options") or {}
    fixed_x = bool(options.get("fixed.x", True)) if isinstance(options, dict) else True
    model = quiet(pn.ml_lvm(data, spec["syntax"], clusters="cluster", information="observed",
                            fixed_x=fixed_x).runmodel)
    assert assert_rows(model.parameters(), spec["reference"]["ML"]["parameters"], se_key="se") >= 20


@pytest.mark.parametrize("build", [
    lambda d: pn.ml_varcov(d, clusters="cluster", vars=["y1", "y2", "y3", "y4"]),  # every element linear
    lambda d: pn.ml_lvm(d, "level: 1\n fw =~ y1 + y2 + y3\n fw ~ x1\nlevel: 2\n fb =~ y1 + y2 + y3\n fb ~ w1\n",
                        clusters="cluster"),  # cluster-level covariate, intercepts and cov residuals skipped
    lambda d: pn.ml_lvm(d, "F =~ y1 + y2 + y3 + y4", clusters="cluster", within_residual="chol"),  # nonlinear
])
def test_model_observed_information_equals_differenced_gradient(build) -> None:  # noqa: ANN001
    data = pn.datasets.demo_twolevel()
    model = build(data).runmodel()
    obj = Objective(model.family, model.table, model.stats, routes_of(model, model.stats, "ML"))
    x = model.table.start_vector() + 0.01
    numeric = differenced_information(obj, x)
    np.testing.assert_allclose(obj.observed_information(x), numeric, rtol=1e-4, atol=1e-5 * np.abs(numeric).max())
