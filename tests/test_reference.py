"""Acceptance: every lavaan reference case within the tolerances of its README.

Tolerances (data/reference/README.md): estimates and implied moments
1e-3 absolute; logl 1e-3; npar/df exact; SEs 1e-3 absolute or 1% relative;
derived measures (pvalue, cfi, tli, rmsea) 1e-3.
"""

from __future__ import annotations

import numpy as np
import pytest

import psychonetrics as pn
from support import COMPLETE_CASES, ReferenceCase, load_case, model_kwargs

ESTIMATE_KEYS = ["lambda", "nu", "beta_within", "beta_between", "sigma_zeta_within", "sigma_zeta_between",
                 "sigma_epsilon_within", "sigma_epsilon_between"]


def _fitted(case: ReferenceCase, estimator: str = "ML"):
    return pn.ml_lvm(case.data, estimator=estimator, **model_kwargs(case)).runmodel()


def _check_case(case: ReferenceCase, model, *, se_key: str = "se") -> None:
    ref = case.reference
    fit = model.fit()
    f = ref["fit"]
    assert fit["npar"] == f["npar"]
    assert fit["df"] == f["df"]
    assert fit["baseline.df"] == f["baseline.df"]
    assert fit["nclusters"] == f["J"]
    assert fit["nunits"] == f["N"]
    assert abs(fit["logl"] - f["logl"]) < 1e-3
    assert abs(fit["unrestricted.logl"] - f["unrestricted.logl"]) < 1e-3
    assert abs(fit["chisq"] - f["chisq"]) < 4e-3
    assert abs(fit["baseline.chisq"] - f["baseline.chisq"]) < 4e-3
    for key in ("pvalue", "cfi", "tli", "rmsea"):
        assert abs(fit[key] - f[key]) < 1e-3, key
    assert abs(fit["aic.ll"] - f["aic.ll"]) < 2e-3
    assert abs(fit["bic"] - f["bic"]) < 2e-3

    groups = model.group_labels if len(model.stats) > 1 else [None]
    for g in groups:
        est_ref = ref["estimates"] if g is None else ref["estimates"][g]
        se_ref = ref[se_key] if g is None else ref[se_key][g]
        implied = ref["implied"] if g is None else ref["implied"][g]
        for key in ESTIMATE_KEYS:
            ours = np.asarray(model.getmatrix(key, group=g), dtype=float).reshape(np.shape(est_ref[key]))
            np.testing.assert_allclose(ours, np.asarray(est_ref[key], dtype=float), atol=1e-3, err_msg=key)
        for key, ours in (("mu", model.getmatrix("mu", group=g).ravel()),
                          ("sigma_within", model.getmatrix("sigma_within", group=g)),
                          ("sigma_between", model.getmatrix("sigma_between", group=g))):
            np.testing.assert_allclose(ours, np.asarray(implied[key], dtype=float).reshape(ours.shape), atol=1e-3,
                                       err_msg=key)
        _check_se(model, se_ref, g)


def _check_se(model, se_ref: dict, group) -> None:
    params = model.parameters()
    if group is not None:
        params = params[params["group"] == group]
    checked = 0
    for key, matrix in se_ref.items():
        if key not in ESTIMATE_KEYS:
            continue
        mat = np.asarray([[np.nan if v is None else v for v in (row if isinstance(row, list) else [row])]
                          for row in matrix], dtype=float)
        for (r, c), value in np.ndenumerate(mat):
            if not np.isfinite(value):
                continue
            sel = params[(params["matrix"] == key) & (params["row"] == r + 1) & (params["col"] == c + 1)]
            if sel.empty:  # upper triangle of a symmetric matrix
                sel = params[(params["matrix"] == key) & (params["row"] == c + 1) & (params["col"] == r + 1)]
            ours = float(sel["se"].iloc[0])
            assert abs(ours - value) < 1e-3 or abs(ours - value) < 0.01 * value, (key, r, c, ours, value)
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("name", COMPLETE_CASES)
def test_complete_case_ml(name: str) -> None:
    case = load_case(name)
    model = _fitted(case, "ML")
    assert model.converged
    _check_case(case, model)


def test_seed_example_documented_numbers() -> None:
    case = load_case("seed_example")
    fit = _fitted(case).fit()
    assert round(fit["chisq"], 2) == 15.92
    assert fit["df"] == 20
    assert round(fit["pvalue"], 2) == 0.72
    # lavaan's srmr_within / srmr_between on the same data
    assert abs(fit["srmr_within"] - 0.01729) < 5e-5
    assert abs(fit["srmr_between"] - 0.03563) < 5e-5


def test_cleanroom_logl_matches_brute_force_value() -> None:
    case = load_case("unbalanced")
    model = _fitted(case)
    assert abs(model.fit()["logl"] - case.reference["cleanroom_logl"]) < 1e-3


@pytest.mark.parametrize("estimator", ["ML", "FIML"])
def test_missing_mcar(estimator: str) -> None:
    """lavaan missing='ml'; SEs from the observed information, as the reference."""
    case = load_case("missing_mcar")
    model = _fitted(case, estimator)
    assert model.converged
    assert model.fitted.information_kind == "observed"
    _check_case(case, model)


@pytest.mark.parametrize("name", COMPLETE_CASES)
def test_complete_case_fiml_reproduces_ml(name: str) -> None:
    case = load_case(name)
    ml = _fitted(case, "ML")
    fiml = _fitted(case, "FIML")
    assert fiml.estimator.name == "FIML"
    np.testing.assert_allclose(fiml.table.start_vector(), ml.table.start_vector(), atol=1e-6)
    np.testing.assert_allclose(fiml.fitted.se, ml.fitted.se, rtol=1e-6, atol=1e-9)
    for key in ("logl", "chisq", "cfi", "tli", "rmsea", "bic"):
        assert abs(fiml.fit()[key] - ml.fit()[key]) < 1e-6 * max(1.0, abs(ml.fit()[key])), key


def test_two_groups_equal_loadings() -> None:
    """lavaan group.equal = 'loadings'; SEs from the information summed over both groups' clusters."""
    case = load_case("two_groups")
    model = _fitted(case)
    assert model.converged
    assert model.group_labels == ("A", "B")
    _check_case(case, model)
