"""Level-specific two-level SEM (lavaan's ``level:`` syntax) against lavaan 0.6-14.

References: ``data/reference`` (syntax format: levels_cfa, levels_unequal_factors,
mlr_shared_loadings; tolerances in its README) and ``data/lavaan_extra`` (lavaan's local maximum of
levels_unequal_factors, lavaan's tutorial model with fixed.x both ways, High School and Beyond with
school covariates, missing values in cluster-level variables, a saturated
model with cluster-level variables; each folder keeps the R script that
made it).  Row matching is on (lhs, op, rhs, level), order-free for ``~~``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychonetrics as pn
from support import DATA_DIR as DATA
from support import assert_fit, assert_rows, load, ours_row, quiet

DATA = Path(__file__).resolve().parent / "data"


# ---------------------------------------------------------------- the shared reference cases
@pytest.mark.parametrize("case", ["levels_cfa", "mlr_shared_loadings"])
def test_syntax_reference_cases(case: str) -> None:
    spec, data = load("reference", case)
    model = quiet(pn.ml_lvm(data, spec["syntax"], clusters=spec["clusters"], estimator="ML").runmodel)
    ref = spec["reference"]["ML"]
    assert model.converged
    assert_fit(model, ref["fit"])
    # expected-information SEs (ours by default) against lavaan's information = "expected"
    assert assert_rows(model.parameters(), ref["parameters"], se_key="se_expected") == len(ref["parameters"])


def _start_at(model, rows: list[dict]):  # noqa: ANN001, ANN202
    """``model`` with lavaan's estimates as start values."""
    params = model.parameters()
    value = model.table.value.copy()
    for row in rows:
        ours = ours_row(params, row)
        if len(ours) == 1 and not ours.iloc[0]["fixed"]:
            par = int(ours.iloc[0]["par"])
            value[model.table.par == par] = row["est"]
    return model.with_table(model.table.with_columns(value=value), starts="values")


def test_levels_unequal_factors_maximum_is_reported_as_empirically_not_identified() -> None:
    """The reference's maximum (lavaan with start = "simple": logl -24101.31, chisq 277.86 on 17 df) has a
    between factor variance near 0 with loadings near 90: a ridge of the likelihood.  We reach it and warn
    that the solution is empirically not identified, naming the between loadings and the factor variance."""
    from psychonetrics.exceptions import ImproperSolutionWarning

    spec, data = load("reference", "levels_unequal_factors")
    ref = spec["reference"]["ML"]
    assert ref["degenerate"] and not ref["parameters"]
    with pytest.warns(ImproperSolutionWarning, match="Empirically not identified") as record:
        model = pn.ml_lvm(data, spec["syntax"], clusters=spec["clusters"], estimator="ML").runmodel()
    assert model.converged
    fit = model.fit()
    assert fit["logl"] >= ref["fit"]["logl"] - 1e-3 and fit["logl"] == pytest.approx(ref["fit"]["logl"], abs=1e-3)
    assert fit["unrestricted.logl"] == pytest.approx(ref["fit"]["unrestricted.logl"], abs=1e-3)
    assert fit["chisq"] == pytest.approx(ref["fit"]["chisq"], abs=0.02)
    assert int(fit["df"]) == ref["fit"]["df"] and model.npar == ref["fit"]["npar"]
    assert fit["baseline.chisq"] == pytest.approx(ref["fit"]["baseline.chisq"], abs=0.02)
    assert int(fit["baseline.df"]) == ref["fit"]["baseline.df"]
    message = next(str(w.message) for w in record if "Empirically not identified" in str(w.message))
    assert "lambda_between" in message and "sigma_zeta_between[1,1]" in message
    assert model.getmatrix("sigma_zeta_between")[0, 0] == pytest.approx(ref["fit"]["fb_variance"], abs=2e-4)
    notes = model.parameters()
    assert (notes.loc[notes["matrix"] == "lambda_between", "note"] == "empirically not identified").sum() >= 3


def test_levels_unequal_factors_lavaan_local_maximum() -> None:
    """lavaan's default start stops at a local maximum of the same data (logl 65.6 lower): started there, our
    optimizer stays at lavaan's point and reproduces its estimates, SEs and fit."""
    spec, data = load("lavaan_extra", "levels_unequal_factors_local")
    ref = spec["reference"]["ML"]
    model = pn.ml_lvm(data, spec["syntax"], clusters=spec["clusters"], estimator="ML")
    best = quiet(model.runmodel)
    local = quiet(_start_at(best, ref["parameters"]).runmodel)
    assert local.converged
    assert local.fit()["logl"] < best.fit()["logl"] - 60
    assert_fit(local, ref["fit"])
    assert assert_rows(local.parameters(), ref["parameters"], se_key="se_expected") == len(ref["parameters"])


# ---------------------------------------------------------------------- lavaan's tutorial
@pytest.mark.parametrize("case, fixed_x", [("tutorial_fixedx", True), ("tutorial_freex", False)])
def test_tutorial_model(case: str, fixed_x: bool) -> None:
    spec, data = load("lavaan_extra", case)
    assert spec["options"].get("fixed.x", True) is fixed_x
    model = quiet(pn.ml_lvm(data, spec["syntax"], clusters="cluster", fixed_x=fixed_x).runmodel)
    ref = spec["reference"]["ML"]
    assert model.converged
    assert_fit(model, ref["fit"])
    # lavaan's expected information is wrong for the means of within-only variables (x1..x3 with
    # fixed.x = FALSE; the error leaks into the level-2 intercepts): those SEs are compared with
    # information = "observed" in test_robust.py
    quirk = {f"x{k} ~1  (within)" for k in (1, 2, 3)} | {f"y{k} ~1  (between)" for k in (1, 2, 3)}
    checked = assert_rows(model.parameters(), ref["parameters"], se_key="se_expected",
                          skip_se=set() if fixed_x else quirk)
    assert checked >= sum(1 for r in ref["parameters"] if r["free"])


def test_tutorial_fixed_x_is_the_conditional_model() -> None:
    """fixed.x changes logl by the covariates' own log-likelihood and npar by their moments; chi-square, df and
    the baseline stay (as in lavaan)."""
    spec, data = load("lavaan_extra", "tutorial_fixedx")
    fixed = quiet(pn.ml_lvm(data, spec["syntax"], clusters="cluster").runmodel)
    free = quiet(pn.ml_lvm(data, spec["syntax"], clusters="cluster", fixed_x=False).runmodel)
    assert fixed.exogenous is not None and set(fixed.exogenous.names) == {"x1", "x2", "x3", "w1", "w2"}
    assert fixed.exogenous.loglik == pytest.approx(-11233.3043433, abs=1e-3)  # lavaan's loglik.x
    assert fixed.npar == free.npar - 14
    assert fixed.fit()["logl"] == pytest.approx(free.fit()["logl"] - fixed.exogenous.loglik, abs=1e-6)
    for key in ("chisq", "df", "baseline.chisq", "baseline.df", "cfi", "tli"):
        assert fixed.fit()[key] == pytest.approx(free.fit()[key], abs=1e-6), key


@pytest.mark.parametrize("case, fixed_x", [("hsb82_school", True), ("hsb82_freex", False)])
def test_school_covariates_hsb82(case: str, fixed_x: bool) -> None:
    """High School and Beyond (mlmRev's Hsb82): pupil covariates within, school covariates (sector, mean SES)
    between; saturated, so the model logl equals lavaan's (whose h1 stops 4e-5 short)."""
    spec, data = load("lavaan_extra", case)
    model = quiet(pn.ml_lvm(data, spec["syntax"], clusters="cluster", fixed_x=fixed_x).runmodel)
    ref = spec["reference"]["ML"]
    assert model.converged
    fit = model.fit()
    assert fit["npar"] == ref["fit"]["npar"] and fit["df"] == 0
    assert fit["logl"] == pytest.approx(ref["fit"]["logl"], abs=1e-3)
    assert fit["logl"] == pytest.approx(fit["unrestricted.logl"], abs=1e-6)
    assert fit["baseline.chisq"] == pytest.approx(ref["fit"]["baseline.chisq"], abs=0.02)
    assert_rows(model.parameters(), ref["parameters"], se_key="se_expected",
                skip_se=set() if fixed_x else {f"{v} ~1  (within)" for v in ("ses", "minrty", "sx")}
                | {"mAch ~1  (between)"})


def test_missing_values_in_cluster_level_variables() -> None:
    """FIML with values missing in unit-level and cluster-level variables (lavaan: missing = "ml"); SEs from the
    observed information, as lavaan's default."""
    spec, data = load("lavaan_extra", "missing_cluster_level")
    model = quiet(pn.ml_lvm(data, spec["syntax"], clusters="cluster", fixed_x=False).runmodel)
    assert model.estimator.name == "FIML" and model.fitted.information_kind == "observed"
    ref = spec["reference"]["ML"]
    assert_fit(model, ref["fit"])
    assert_rows(model.parameters(), ref["parameters"], se_key="se")


def test_network_with_cluster_level_nodes() -> None:
    """ml_ggm with school-level variables as nodes of the between network only; saturated, it reaches lavaan's
    saturated model of y1..y3 (both levels) and w1, w2 (cluster level)."""
    spec, data = load("lavaan_extra", "saturated_cluster_nodes")
    ggm = quiet(pn.ml_ggm(data, clusters="cluster", vars=["y1", "y2", "y3", "w1", "w2"],
                          between_only=["w1", "w2"]).runmodel)
    ref = spec["reference"]["ML"]["fit"]
    assert ggm.npar == ref["npar"] == 26
    assert ggm.fit()["logl"] >= ref["logl"] - 1e-6  # lavaan's stops 1.5e-6 short
    assert ggm.fit()["logl"] == pytest.approx(ref["logl"], abs=1e-4)
    assert ggm.getmatrix("omega_within").shape == (3, 3)
    assert ggm.getmatrix("omega_between").shape == (5, 5)
    assert ggm.fit()["baseline.chisq"] == pytest.approx(ref["baseline.chisq"], abs=0.02)
    fiml = quiet(pn.ml_ggm(data, clusters="cluster", vars=["y1", "y2", "y3", "w1", "w2"], between_only=["w1", "w2"],
                           estimator="FIML").runmodel)
    assert fiml.fit()["logl"] == pytest.approx(ggm.fit()["logl"], abs=1e-6)
    pruned = quiet(ggm.prune, alpha=0.05)
    assert pruned.converged and pruned.fit()["df"] > 0


# ---------------------------------------------------------------------- the other verbs
@pytest.fixture(scope="module")
def tutorial():
    spec, data = load("lavaan_extra", "tutorial_fixedx")
    return spec, data, quiet(pn.ml_lvm(data, spec["syntax"], clusters="cluster").runmodel)


def test_fiml_equals_ml_on_complete_data(tutorial) -> None:
    spec, data, ml = tutorial
    fiml = quiet(pn.ml_lvm(data, spec["syntax"], clusters="cluster", estimator="FIML").runmodel)
    assert fiml.fit()["logl"] == pytest.approx(ml.fit()["logl"], abs=1e-7)
    np.testing.assert_allclose(fiml.table.start_vector(), ml.table.start_vector(), atol=1e-6)
    np.testing.assert_allclose(fiml.fitted.se, ml.fitted.se, rtol=1e-5)


def test_level_matrices_equal_the_syntax(tutorial) -> None:
    """lambda_within / lambda_between in matrix form give the syntax's model (levels_cfa)."""
    spec, data = load("reference", "levels_cfa")
    syntax = quiet(pn.ml_lvm(data, spec["syntax"], clusters="cluster").runmodel)
    lam = np.array([[1, 0]] * 3 + [[0, 1]] * 3)
    matrices = quiet(pn.ml_lvm(data, lambda_within=lam, lambda_between=lam, clusters="cluster",
                               latents_within=["fw1", "fw2"], latents_between=["fb1", "fb2"]).runmodel)
    assert matrices.npar == syntax.npar
    assert matrices.fit()["logl"] == pytest.approx(syntax.fit()["logl"], abs=1e-7)
    np.testing.assert_allclose(matrices.getmatrix("lambda_between"), syntax.getmatrix("lambda_between"), atol=1e-6)


def test_verbs_on_level_models(tutorial, tmp_path) -> None:
    spec, data, model = tutorial
    assert model.getmatrix("lambda_within").shape == (6, 4)  # y1..y3, x1..x3 by fw and the x phantoms
    assert model.getmatrix("lambda_between").shape == (5, 3)
    mis = model.MIs()
    assert {"within", "between"} <= set(mis["level"])
    std = model.parameters(standardized=True)
    row = std[(std["var1"] == "fw") & (std["op"] == "~") & (std["var2"] == "x1")].iloc[0]
    assert 0 < row["est_std"] < 1 and row["level"] == "within"
    pruned = quiet(model.prune, matrices=["beta_between"], alpha=0.05)
    assert pruned.fit()["df"] == model.fit()["df"] + 1  # fb ~ w2 (p = 0.086) goes
    stepped = quiet(model.stepup, matrices=["lambda_between", "beta_between"], alpha=0.05)
    assert stepped.fit()["bic"] <= model.fit()["bic"]
    searched = quiet(model.modelsearch, matrices=["beta_within", "beta_between"], jobs=1)
    assert searched.fit()["bic"] < model.fit()["bic"]  # BIC 24259.1 -> 24254.8 with two parameters fewer
    simulated = pn.generate(model, n_clusters=30, cluster_size=(3, 6), seed=1)
    constant = simulated.groupby("cluster")[["w1", "w2"]].nunique()
    assert (constant == 1).all().all()  # cluster-level variables are constant within clusters
    fig = pn.plot_path(model, filename=tmp_path / "path.png")
    assert (tmp_path / "path.png").stat().st_size > 1000 and fig is not None
    groups = quiet(pn.ml_lvm(data.assign(g=np.where(data["cluster"] % 2 == 0, "even", "odd")), spec["syntax"],
                             clusters="cluster", groups="g").runmodel)
    assert groups.converged and groups.fit()["df"] == 2 * model.fit()["df"]


def test_cluster_level_variable_must_be_constant(tutorial) -> None:
    spec, data, _ = tutorial
    broken = data.copy()
    broken.loc[broken.index[:2], "w1"] = [0.0, 1.0]  # two values in cluster 1
    with pytest.raises(ValueError, match=r"cluster-level variable 'w1' varies within cluster\(s\) 1 "):
        pn.ml_lvm(broken, spec["syntax"], clusters="cluster")
