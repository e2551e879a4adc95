"""The multilevel VAR on lag pairs (``ml_var`` / ``ml_gvar``) against psychonetrics 0.17's ``ml_var1``.

Reference ``ml_var_lmfa`` (tests/data/reference, format "ml_var"): 100 persons of the lmfa ESM data, six
items, cov and ggm types, and the ggm fit pruned at alpha = 0.01.  psychonetrics stops its optimizer a little
early (the README of the references says so): at its estimates our objective equals its log-likelihood to
1e-9, the Newton decrement there is 0.55 (cov) and 0.018 (ggm), and two Newton steps from its estimates land
on ours.  So the fits are held to: a log-likelihood at least the reference's, its estimates two Newton steps
from ours within the reference tolerance, the implied matrices within tolerance of the reference where its
fit is converged to that precision, and the standard errors within 2%.

The family's generic checks (derivatives through the Stein equation, the lag pairs' brute-force density,
simulate-then-refit, MIs, search, bootstrap, plots) run in test_conformance.py.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from support import quiet, reference_vector

import psychonetrics as pn
from psychonetrics.exceptions import DataWarning
from psychonetrics.fitting.objective import Objective

REFERENCE = Path(__file__).parent / "data" / "reference"
SPEC = json.loads((REFERENCE / "ml_var_lmfa" / "expected.json").read_text())
WRAPPERS = {"var_cov": pn.ml_var, "gvar_ggm": pn.ml_gvar}


@pytest.fixture(scope="module")
def lmfa() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "ml_var_lmfa" / "data.csv")


@pytest.fixture(scope="module")
def fits(lmfa: pd.DataFrame) -> dict:
    return {key: quiet(WRAPPERS[key](lmfa, idvar="id", vars=SPEC["vars"], estimator="ML").runmodel)
            for key in WRAPPERS}


@pytest.mark.parametrize("key", list(WRAPPERS))
def test_fit_reaches_the_reference_and_counts_as_psychonetrics(fits: dict, key: str) -> None:
    model, ref = fits[key], SPEC["reference"][key]["fit"]
    fit = model.fit()
    assert model.converged
    assert fit["logl"] >= ref["logl"] - 1e-3
    assert (int(fit["npar"]), int(fit["df"]), int(fit["nobs"])) == (ref["npar"], ref["df"], ref["nobs"])
    # BIC and AIC as psychonetrics: persons are the sample size
    assert fit["bic"] == pytest.approx(-2 * fit["logl"] + ref["npar"] * np.log(100), abs=1e-6)
    assert ref["bic"] == pytest.approx(-2 * ref["logl"] + ref["npar"] * np.log(100), abs=1e-6)
    assert fit["aic.ll"] == pytest.approx(-2 * fit["logl"] + 2 * ref["npar"], abs=1e-6)
    assert fit["rmsea"] == 0 and fit["cfi"] == 1


@pytest.mark.parametrize("key", list(WRAPPERS))
def test_the_reference_is_two_newton_steps_from_our_estimates(fits: dict, key: str) -> None:
    """Our objective at psychonetrics' estimates is its log-likelihood; from there Newton steps reach ours."""
    model, ref = fits[key], SPEC["reference"][key]
    obj = Objective(model.family, model.table, model.stats, model.estimator.routes(model.stats, model.family.roles))
    x = reference_vector(model, ref["parameters"])
    assert obj.loglik(x) == pytest.approx(ref["fit"]["logl"], abs=1e-6)
    ours = model.table.start_vector()
    for _ in range(2):
        _, grad = obj.loglik_and_gradient(x)
        x = x + np.linalg.solve(obj.observed_information(x), grad)
    assert np.max(np.abs(x - ours) / np.maximum(1.0, np.abs(ours))) < 2e-3


@pytest.mark.parametrize("key", list(WRAPPERS))
def test_matrices_and_standard_errors(fits: dict, key: str) -> None:
    model, ref = fits[key], SPEC["reference"]["gvar_ggm"]  # the better converged reference (see the module)
    for name, values in ref["matrices"].items():
        ours = model.getmatrix(name)
        if name == "mu":  # psychonetrics shows the implied mean of the 2p lag-pair variables
            ours = np.vstack([ours, ours])
        tol = 2e-2 if name.endswith("between") else 2e-3  # the between level is 0.03 SE from its optimum
        assert np.max(np.abs(ours - np.asarray(values)) / np.maximum(1.0, np.abs(values))) < tol, name
    params = model.parameters()
    for row in SPEC["reference"][key]["parameters"]:
        sel = params.loc[(params["matrix"] == row["matrix"]) & (params["row"] == row["row"])
                         & (params["col"] == row["col"])]
        assert sel["se"].iloc[0] == pytest.approx(row["se"], rel=0.02), row


def test_prune_reaches_psychonetrics_bic(fits: dict) -> None:
    ref = SPEC["reference"]["gvar_ggm"]["pruned"]["fit"]
    pruned = quiet(fits["gvar_ggm"].prune, alpha=0.01)
    assert pruned.npar == ref["npar"]
    assert pruned.fit()["bic"] <= ref["bic"] + 1e-3
    assert pruned.fit()["logl"] >= ref["logl"] - 1e-3


def test_short_reference_pseudo_likelihood() -> None:
    spec = json.loads((REFERENCE / "ml_var_lmfa_short" / "expected.json").read_text())
    data = pd.read_csv(REFERENCE / "ml_var_lmfa_short" / "data.csv")
    ref = spec["reference"]["var_cov"]["fit"]
    model = quiet(pn.ml_var(data, idvar="id", vars=spec["vars"], beepvar="beep", estimator="ML").runmodel)
    fit = model.fit()
    assert fit["logl"] >= ref["logl"] - 1e-3
    assert (int(fit["npar"]), int(fit["df"])) == (ref["npar"], ref["df"])


# ------------------------------------------------------------------ defaults and standard errors
def test_default_estimator_is_the_sandwich_over_persons(lmfa: pd.DataFrame, fits: dict, capsys) -> None:  # noqa: ANN001
    model = quiet(pn.ml_var(lmfa, idvar="id", vars=SPEC["vars"], verbose=True).runmodel)
    assert model.estimator.name == "MLR"
    assert "the sandwich over persons" in capsys.readouterr().out
    assert "robust SEs (cluster sandwich" in str(model)
    naive = fits["var_cov"].parameters()
    robust = model.parameters()
    assert np.allclose(robust["est"], naive["est"], atol=1e-6)
    # the contemporaneous variances: the pairs' model-based SEs are far too small on these data
    within = (robust["matrix"] == "sigma_zeta_within") & (robust["row"] == robust["col"])
    assert (robust.loc[within, "se"] > 1.2 * naive.loc[within, "se"]).all()


def test_statistics_only_default_to_ml(lmfa: pd.DataFrame) -> None:
    stats, _ = pn.lag_pair_stats(lmfa, idvar="id", vars=SPEC["vars"][:3])
    bare = [dataclasses.replace(s, units=None) for s in stats]
    model = pn.ml_var(bare)
    assert model.estimator.name == "ML"
    with pytest.raises(ValueError, match="needs the unit-level rows"):
        pn.ml_var(bare, estimator="MLR")


def test_statistics_must_be_lag_pairs(lmfa: pd.DataFrame) -> None:
    stats = pn.twolevel_stats(lmfa[["id", *SPEC["vars"][:4]]], clusters="id")
    with pytest.raises(ValueError, match="statistics of lag pairs"):
        pn.ml_var(stats)


# ------------------------------------------------------------------ ESM data as they come
def test_rows_in_any_order_with_beeps_give_the_same_fit() -> None:
    news = pn.datasets.esm_news()
    items = ["Fearful", "Hopeful", "Anxious", "Down"]
    kw = dict(idvar="subjnr", vars=items, dayvar="daynr", beepvar="beepnr", estimator="ML")
    a = quiet(pn.ml_var(news, **kw).runmodel)
    b = quiet(pn.ml_var(news.sample(frac=1.0, random_state=3), **kw).runmodel)
    assert a.fit()["logl"] == pytest.approx(b.fit()["logl"], abs=1e-8)
    assert a.n_units == b.n_units == 195


def test_printout_counts_dropped_pairs_and_persons() -> None:
    news = pn.datasets.esm_news()
    with pytest.warns(DataWarning, match="fewer than two complete lag pairs"):
        model = pn.ml_var(news, idvar="subjnr", vars=["Fearful", "Hopeful"], dayvar="daynr", beepvar="beepnr",
                          estimator="ML")
    text = str(model)
    assert "Persons: 27, lag pairs: 195, nodes: 2 (4 lag-pair variables)" in text
    assert "pairs broken by 125 missed beeps" in text and "296 pairs across nights" in text
    assert "Dropped 26 persons with fewer than two complete pairs" in text


@pytest.mark.parametrize("bad, message", [
    (lambda d: pd.concat([d, d.iloc[:1]]), "occur in more than one row"),
    (lambda d: d.assign(beepnr=d["beepnr"].astype(str) + "x"), "beepnr"),
])
def test_bad_esm_data_are_named(bad, message: str) -> None:  # noqa: ANN001
    news = pn.datasets.esm_news()
    with pytest.raises(ValueError, match=message):
        pn.ml_var(bad(news), idvar="subjnr", vars=["Fearful", "Hopeful"], dayvar="daynr", beepvar="beepnr")


def test_missing_idvar_is_an_error() -> None:
    with pytest.raises(ValueError, match="`idvar`"):
        pn.ml_var(pn.datasets.esm_news(), vars=["Fearful", "Hopeful"])


# ------------------------------------------------------------------ simulation, search, plots, CLI
def test_generate_esm_data_and_recover_beta() -> None:
    base = quiet(pn.ml_gvar(pn.datasets.esm_lmfa(), idvar="id", vars=["Interested", "Joyful", "Upset"]).runmodel)
    truth = np.array([[0.4, 0.1, 0.0], [0.0, 0.3, -0.1], [0.0, 0.0, 0.35]])
    model = base.with_table(base.table.with_columns(value=np.where(
        base.table.names() == "beta", truth[base.table.row, base.table.col], base.table.value)))
    data = pn.generate(model, seed=5, n_persons=150, n_days=2, n_beeps=(30, 40), missing=0.1)
    assert {"id", "day", "beep"} <= set(data.columns) and data["id"].nunique() == 150
    assert data.groupby(["id", "day"]).size().max() <= 40  # missed beeps are absent rows
    refit = quiet(pn.ml_gvar(data, idvar="id", vars=["Interested", "Joyful", "Upset"], dayvar="day",
                             beepvar="beep").runmodel)
    beta = refit.getmatrix("beta")
    se = refit.parameters().query("matrix == 'beta'")["se"].to_numpy().reshape(3, 3)
    assert np.all(np.abs(beta - truth) < 4 * se)


def test_three_networks_searched_and_drawn(fits: dict, tmp_path: Path) -> None:
    model = fits["gvar_ggm"]
    assert [n.title for n in model.family.networks()] == ["Temporal network", "Contemporaneous network",
                                                          "Between-persons network"]
    pruned = quiet(model.prune, alpha=0.01)
    searched = {m for m in pruned.parameters().query("~fixed")["matrix"]}
    assert {"beta", "omega_zeta_within", "omega_zeta_between"} <= searched
    fig = pruned.plot(filename=tmp_path / "networks.png")
    gids = {p.get_gid() for ax in fig.axes for p in ax.patches}
    assert any(g and g.startswith("edge:") for g in gids)  # arrows of the temporal network
    assert (tmp_path / "networks.png").stat().st_size > 0
    pdc = model.getmatrix("PDC")
    beta, sigma = model.getmatrix("beta"), model.getmatrix("sigma_zeta_within")
    kappa = np.linalg.inv(sigma)
    assert pdc[1, 0] == pytest.approx(beta[0, 1] / np.sqrt(sigma[0, 0] * kappa[1, 1] + beta[0, 1] ** 2))


def test_bootstrap_edges_of_the_temporal_network(fits: dict) -> None:
    boot = quiet(fits["gvar_ggm"].bootstrap, n_boot=6, seed=2, jobs=1)
    edges = boot.edges()
    temporal = edges.loc[edges["matrix"] == "beta"]
    assert len(temporal) == 36  # every effect, the autoregressions included
    row = temporal.loc[(temporal["node1"] == "Joyful") & (temporal["node2"] == "Interested")]
    assert row["sample"].iloc[0] == pytest.approx(fits["gvar_ggm"].getmatrix("beta")[0, 1])
    assert "Persons resampled" in str(boot)


def test_command_line_fits_ml_gvar(tmp_path: Path) -> None:
    path = tmp_path / "news.csv"
    pn.datasets.esm_news().to_csv(path, index=False)
    out = subprocess.run([sys.executable, "-m", "psychonetrics", "fit", str(path), "--type", "ml_gvar", "--idvar",
                          "subjnr", "--dayvar", "daynr", "--beepvar", "beepnr", "--vars", "Fearful,Hopeful,Down",
                          "--json"], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert set(result["matrices"]) >= {"beta", "omega_zeta_within", "omega_zeta_between"}
    missing = subprocess.run([sys.executable, "-m", "psychonetrics", "fit", str(path), "--type", "ml_gvar"],
                             capture_output=True, text=True, check=False)
    assert missing.returncode == 2 and "--idvar is required" in missing.stderr


# ------------------------------------------------------------------ patterns, groups, engines
def test_beta_patterns(lmfa: pd.DataFrame) -> None:
    items = SPEC["vars"][:3]
    counts = {}
    for beta in ("full", "diag", "zero", np.array([[1, 1, 0], [0, 1, 0], [0, 0, 1]])):
        model = quiet(pn.ml_var(lmfa, idvar="id", vars=items, beta=beta, estimator="ML").runmodel)
        counts[str(beta)[:4]] = int((model.parameters().query("matrix == 'beta'")["fixed"] == False).sum())  # noqa: E712
        if isinstance(beta, str) and beta == "zero":
            assert not model.getmatrix("beta").any()
    assert counts == {"full": 9, "diag": 3, "zero": 0, "[[1 ": 4}


def test_groups_with_equal_temporal_effects(lmfa: pd.DataFrame) -> None:
    data = lmfa.assign(half=np.where(lmfa["id"] <= 50, "a", "b"))
    items = SPEC["vars"][:3]
    free = quiet(pn.ml_var(data, idvar="id", vars=items, groups="half", estimator="ML").runmodel)
    equal = quiet(pn.ml_var(data, idvar="id", vars=items, groups="half", equal=["beta"], estimator="ML").runmodel)
    assert free.npar - equal.npar == 9
    np.testing.assert_allclose(equal.getmatrix("beta", group="a"), equal.getmatrix("beta", group="b"))
    table = pn.compare(free=free, equal=equal)
    row = table.set_index("model").loc["equal"]
    assert row["Chisq_diff"] == pytest.approx(2 * (free.fit()["logl"] - equal.fit()["logl"]))
    assert row["DF_diff"] == 9


def test_parquet_through_duckdb_equals_pandas(lmfa: pd.DataFrame, tmp_path: Path) -> None:
    pytest.importorskip("duckdb", reason="duckdb is not installed (the test extra has it)")
    data = lmfa.assign(beep=lmfa.groupby("id").cumcount() + 1)
    path = tmp_path / "esm.parquet"
    data.to_parquet(path, index=False)
    items = SPEC["vars"][:4]
    ours = quiet(pn.ml_gvar(data, idvar="id", vars=items, beepvar="beep", estimator="ML").runmodel)
    duck = quiet(pn.ml_gvar(str(path), idvar="id", vars=items, beepvar="beep").runmodel)
    assert duck.estimator.name == "ML"  # statistics only: no sandwich over persons
    assert duck.fit()["logl"] == pytest.approx(ours.fit()["logl"], abs=1e-6)
    np.testing.assert_allclose(duck.getmatrix("beta"), ours.getmatrix("beta"), atol=1e-7)
