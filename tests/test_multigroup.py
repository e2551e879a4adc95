"""Multiple groups: equality constraints, identification across groups, fit and MIs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import psychonetrics as pn
from support import load_case

SYNTAX = "F1 =~ y1 + y2 + y3\nF2 =~ y4 + y5 + y6"


@pytest.fixture(scope="module")
def two_groups() -> pd.DataFrame:
    return load_case("two_groups").data


def test_unconstrained_two_groups_equal_sum_of_single_group_fits(two_groups: pd.DataFrame) -> None:
    both = pn.ml_lvm(two_groups, SYNTAX, clusters="cluster", groups="group").runmodel()
    singles = [pn.ml_lvm(two_groups[two_groups["group"] == g], SYNTAX, clusters="cluster").runmodel()
               for g in ("A", "B")]
    fit = both.fit()
    assert abs(fit["logl"] - sum(m.fit()["logl"] for m in singles)) < 1e-6
    assert abs(fit["chisq"] - sum(m.fit()["chisq"] for m in singles)) < 1e-5
    assert fit["df"] == sum(m.fit()["df"] for m in singles)
    assert fit["nclusters"] == sum(m.n_clusters for m in singles)
    # RMSEA carries the sqrt(#groups) correction
    j, t, df = fit["nclusters"], fit["chisq"], fit["df"]
    assert abs(fit["rmsea"] - np.sqrt(max(t / (j * df) - 1 / j, 0)) * np.sqrt(2)) < 1e-12


def test_invariance_sequence_df_differences(two_groups: pd.DataFrame) -> None:
    configural = pn.ml_lvm(two_groups, SYNTAX, clusters="cluster", groups="group").runmodel()
    metric = pn.ml_lvm(two_groups, SYNTAX, clusters="cluster", groups="group", equal=["lambda"]).runmodel()
    scalar = pn.ml_lvm(two_groups, SYNTAX, clusters="cluster", groups="group", equal=["lambda", "nu"]).runmodel()
    table = pn.compare(configural=configural, metric=metric, scalar=scalar)
    assert list(table["model"]) == ["configural", "metric", "scalar"]
    # 4 free loadings equal; 6 intercepts equal but 2 latent means freed in group B
    assert list(table["DF_diff"].iloc[1:]) == [4, 4]
    assert (table["p_value"].iloc[1:] > 0).all()
    # latent means are free in the second group only when intercepts are equal
    params = scalar.parameters()
    nu_eta = params[params["matrix"] == "nu_eta"]
    assert nu_eta.loc[nu_eta["group"] == "A", "fixed"].all()
    assert not nu_eta.loc[nu_eta["group"] == "B", "fixed"].any()


def test_variance_identification_frees_later_groups_with_equal_loadings(two_groups: pd.DataFrame) -> None:
    mod = pn.ml_lvm(two_groups, SYNTAX, clusters="cluster", groups="group", equal=["lambda"],
                    identification="variance").runmodel()
    ref = pn.ml_lvm(two_groups, SYNTAX, clusters="cluster", groups="group", equal=["lambda"]).runmodel()
    assert abs(mod.fit()["logl"] - ref.fit()["logl"]) < 1e-6
    params = mod.parameters()
    var = params[(params["matrix"] == "sigma_zeta_within") & (params["row"] == params["col"])]
    assert var.loc[var["group"] == "A", "fixed"].all()
    assert not var.loc[var["group"] == "B", "fixed"].any()


def test_groupequal_and_groupfree_round_trip(two_groups: pd.DataFrame) -> None:
    free = pn.ml_lvm(two_groups, SYNTAX, clusters="cluster", groups="group").runmodel()
    one = free.groupequal("lambda", "y2", "F1").runmodel()
    assert one.npar == free.npar - 1
    back = one.groupfree("lambda", "y2", "F1").runmodel()
    assert back.npar == free.npar
    assert abs(back.fit()["logl"] - free.fit()["logl"]) < 1e-6
    # verbs never change their input
    assert free.npar == pn.ml_lvm(two_groups, SYNTAX, clusters="cluster", groups="group").npar


def test_getmatrix_by_group_label_index_and_dict(two_groups: pd.DataFrame) -> None:
    mod = pn.ml_lvm(two_groups, SYNTAX, clusters="cluster", groups="group", equal=["lambda"]).runmodel()
    both = mod.getmatrix("lambda")
    assert set(both) == {"A", "B"}
    np.testing.assert_allclose(mod.getmatrix("lambda", group="B"), mod.getmatrix("lambda", group=1))
    np.testing.assert_allclose(both["A"], both["B"])
    with pytest.raises(ValueError, match="`group`"):
        mod.getmatrix("lambda", group="C")
    assert set(mod.parameters()["group"]) == {"A", "B"}


def test_mi_equal_and_mi_free(two_groups: pd.DataFrame) -> None:
    mod = pn.ml_lvm(two_groups, SYNTAX, clusters="cluster", groups="group", equal=["lambda"]).runmodel()
    mis = mod.MIs()
    assert {"mi", "mi_equal", "mi_free"} <= set(mis.columns)
    # mi_free exists for the loadings held equal across groups
    lam_free = mis[(mis["matrix"] == "lambda") & mis["mi_free"].notna()]
    assert len(lam_free) == 8
    # score test of releasing one equality vs the likelihood-ratio of doing it
    row = lam_free.sort_values("mi_free", ascending=False).iloc[0]
    released = mod.groupfree("lambda", int(row["row"]), int(row["col"])).runmodel()
    lr = 2 * (released.fit()["logl"] - mod.fit()["logl"])
    # freeing in one group of two is the same as releasing the equality
    assert abs(lr - row["mi_free"]) < 0.25 * max(lr, 1.0) + 0.5


def test_stepup_can_add_parameter_equal_across_groups(two_groups: pd.DataFrame) -> None:
    mod = pn.ml_lvm(two_groups, SYNTAX, clusters="cluster", groups="group", equal=["lambda"]).runmodel()
    stepped = mod.stepup(mi="mi_equal", matrices=["sigma_epsilon_within"], alpha=0.5, criterion="aic")
    added = stepped.npar - mod.npar
    if added:
        params = stepped.parameters()
        new = params[(params["matrix"] == "sigma_epsilon_within") & (params["row"] != params["col"]) & ~params["fixed"]]
        # each added residual covariance is one parameter shared by both groups
        assert new.groupby(["row", "col"])["par"].nunique().eq(1).all()
        assert len(new) == 2 * added
    assert stepped.fit()["aic.ll"] <= mod.fit()["aic.ll"] + 1e-9


def test_multigroup_with_fiml_and_network_types(two_groups: pd.DataFrame) -> None:
    ml = pn.ml_lvm(two_groups, SYNTAX, clusters="cluster", groups="group", equal=["lambda"]).runmodel()
    fiml = pn.ml_lvm(two_groups, SYNTAX, clusters="cluster", groups="group", equal=["lambda"],
                     estimator="FIML").runmodel()
    assert abs(ml.fit()["logl"] - fiml.fit()["logl"]) < 1e-6
    np.testing.assert_allclose(fiml.fitted.se, ml.fitted.se, rtol=1e-5)
    lnm = pn.ml_lnm(two_groups, SYNTAX, clusters="cluster", groups="group", equal=["lambda"]).runmodel()
    assert abs(lnm.fit()["logl"] - ml.fit()["logl"]) < 1e-6  # saturated latent blocks: same model
    omega = lnm.getmatrix("omega_zeta_within")
    assert set(omega) == {"A", "B"} and all(np.all(np.diag(v) == 0) for v in omega.values())
