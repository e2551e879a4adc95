"""Model syntax -> model: the shared dialect (psychonetrics' ml_lvm) and lavaan's level blocks.

The grammar is tested in test_lavaan_syntax.py; here, what each statement makes of the model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychonetrics as pn
from psychonetrics.exceptions import ModelSyntaxError

DEMO = Path(__file__).resolve().parent / "data" / "lavaan_extra" / "tutorial_fixedx" / "data.csv"


@pytest.fixture(scope="module")
def seed() -> pd.DataFrame:
    return pn.datasets.seed_example()


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    return pd.read_csv(DEMO)


def element(model, matrix: str, r: int, c: int) -> tuple[float, int]:
    """(value, par) of a matrix element (0-based row and column) in the first group."""
    t = model.table
    row = np.flatnonzero((t.names() == matrix) & (t.row == r) & (t.col == c) & (t.group == 0))[0]
    return float(t.value[row]), int(t.par[row])


# -------------------------------------------------------------------------------- shared dialect
def test_shared_structure_on_both_levels(seed) -> None:
    model = pn.ml_lvm(seed, "F1 =~ y1 + y2 + y3\nF2 =~ y4 + y5 + y6\nF2 ~ F1", clusters="cluster")
    assert model.family.shared and model.family.latents == ("F1", "F2")
    lam = model.table.matrices((model.table.par > 0).astype(float), 0)["lambda"]
    np.testing.assert_array_equal(lam, [[0, 0], [1, 0], [1, 0], [0, 0], [0, 1], [0, 1]])  # markers fixed
    for level in ("within", "between"):
        assert element(model, f"beta_{level}", 1, 0)[1] > 0  # F2 ~ F1 on both levels
        assert element(model, f"sigma_zeta_{level}", 1, 0) == (0.0, 0)  # F2's residual with F1: 0, as lavaan


def test_written_latent_covariance_is_honoured(seed) -> None:
    """`F2 ~~ F3` frees what the regression rule would fix at 0 (before it was parsed and ignored)."""
    syntax = "F1 =~ y1 + y2; F2 =~ y3 + y4; F3 =~ y5 + y6; F2 ~ F1; F3 ~ F1"
    default = pn.ml_lvm(seed, syntax, clusters="cluster")
    written = pn.ml_lvm(seed, syntax + "; F2 ~~ F3", clusters="cluster")
    assert element(default, "sigma_zeta_within", 2, 1)[1] == 0
    assert element(written, "sigma_zeta_within", 2, 1)[1] > 0
    assert written.npar == default.npar + 2  # on both levels
    zero = pn.ml_lvm(seed, "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6; F1 ~~ 0*F2", clusters="cluster")
    assert element(zero, "sigma_zeta_between", 1, 0) == (0.0, 0)


def test_fixed_values_labels_residual_covariances_and_intercepts(seed) -> None:
    model = pn.ml_lvm(seed, """
        F1 =~ y1 + 0.5*y2 + a*y3
        F2 =~ y4 + a*y5 + 0*y6 + y6
        y1 ~~ y4
        y2 ~ 0*1
    """, clusters="cluster")
    assert element(model, "lambda", 1, 0) == (0.5, 0)
    assert element(model, "lambda", 2, 0)[1] == element(model, "lambda", 4, 1)[1] > 0  # the label a
    for level in ("within", "between"):
        assert element(model, f"sigma_epsilon_{level}", 3, 0)[1] > 0
    assert element(model, "nu", 1, 0) == (0.0, 0)


@pytest.mark.parametrize("syntax, message", [
    ("F =~ y1 + y2 + y3; F ~ y4", "'y4' is an observed variable: regressions on observed variables need level"),
    ("F =~ y1 + y2 + y3; F ~~ y4", "a covariance between a latent and an observed variable needs level"),
    ("y1 =~ y2 + y3 + y4", "factor name 'y1' is also the name of an observed variable"),
    ("F =~ y1 + y2 + q9", "'q9' is neither a variable of the data nor a latent variable"),
    ("F =~ y1 + y2 + y3\nF =~ y2", "'F =~ y2' is written twice (first on line 1)"),
    ("F =~ y1 + y2 + y3; F ~ F", "is regressed on itself"),
])
def test_shared_dialect_errors_name_the_line(seed, syntax: str, message: str) -> None:
    with pytest.raises(ModelSyntaxError, match="line"):
        try:
            pn.ml_lvm(seed, syntax, clusters="cluster")
        except ModelSyntaxError as err:
            assert message in str(err), str(err)
            raise


def test_factor_without_nonzero_loading_is_an_error(seed) -> None:
    with pytest.raises(ModelSyntaxError, match=r"line 1 .*factor 'F2' has no nonzero loading"):
        pn.ml_lvm(seed, "F1 =~ y1 + y2 + y3; F2 =~ 0*y4", clusters="cluster", vars=[f"y{i}" for i in range(1, 7)])


# --------------------------------------------------------------------------------- level blocks
def test_roles_phantoms_and_covariates(demo) -> None:
    model = pn.ml_lvm(demo, """
        level: 1
            fw =~ y1 + y2 + y3
            fw ~ x1 + x2
        level: 2
            fb =~ y1 + y2 + y3
            fb ~ w1
    """, clusters="cluster")
    family = model.family
    assert family.observed == ("y1", "y2", "y3", "x1", "x2", "w1")  # the data's order
    assert [family.observed[k] for k in family.roles.within_only] == ["x1", "x2"]
    assert [family.observed[k] for k in family.roles.between_only] == ["w1"]
    within, between = family.levels["within"], family.levels["between"]
    assert within.latents == ("fw", "x1", "x2") and within.phantoms == {"x1", "x2"}
    assert between.latents == ("fb", "w1") and between.observed == ("y1", "y2", "y3", "w1")
    assert set(family.covariates) == {"x1", "x2", "w1"}
    params = model.parameters() if model.computed else None
    assert params is None
    fitted = model.runmodel()
    rows = fitted.parameters()
    reg = rows[(rows["var1"] == "fw") & (rows["op"] == "~") & (rows["var2"] == "x1")]
    assert len(reg) == 1 and reg["level"].iloc[0] == "within" and not reg["fixed"].iloc[0]
    # phantoms' unit loadings and zero residuals are structural, not reported
    assert rows[(rows["var1"] == "x1") & (rows["op"] == "=~")].empty
    # fixed.x: the covariates' moments are fixed at their sample values
    xx = rows[(rows["var1"] == "x2") & (rows["op"] == "~~") & (rows["var2"] == "x1")]
    assert xx["fixed"].iloc[0] and xx["est"].iloc[0] != 0


def test_markers_na_and_written_scale(demo) -> None:
    base = "level: 1\n fw =~ {first}y1 + y2 + y3\n{extra}level: 2\n fb =~ y1 + y2 + y3\n"
    marker = pn.ml_lvm(demo, base.format(first="", extra=""), clusters="cluster")
    assert element(marker, "lambda_within", 0, 0) == (1.0, 0)
    freed = pn.ml_lvm(demo, base.format(first="NA*", extra=" fw ~~ 1*fw\n"), clusters="cluster")
    assert element(freed, "lambda_within", 0, 0)[1] > 0
    assert element(freed, "sigma_zeta_within", 0, 0) == (1.0, 0)
    assert freed.npar == marker.npar
    fixed = pn.ml_lvm(demo, base.format(first="0.8*", extra=""), clusters="cluster")
    assert element(fixed, "lambda_within", 0, 0) == (0.8, 0)


def test_labels_tie_parameters_across_levels(demo) -> None:
    syntax = "level: 1\n fw =~ y1 + a*y2 + b*y3\nlevel: 2\n fb =~ y1 + a*y2 + b*y3\n"
    model = pn.ml_lvm(demo, syntax, clusters="cluster")
    assert element(model, "lambda_within", 1, 0)[1] == element(model, "lambda_between", 1, 0)[1]
    free = pn.ml_lvm(demo, syntax.replace("a*", "").replace("b*", ""), clusters="cluster")
    assert model.npar == free.npar - 2


def test_means_of_both_level_variables_live_on_level_2(demo) -> None:
    model = pn.ml_lvm(demo, "level: 1\n fw =~ y1 + y2 + y3\nlevel: 2\n fb =~ y1 + y2 + y3\n y1 ~ 0*1\n",
                      clusters="cluster")
    assert element(model, "nu_within", 0, 0) == (0.0, 0)
    assert element(model, "nu_between", 0, 0) == (0.0, 0)
    assert element(model, "nu_between", 1, 0)[1] > 0
    with pytest.raises(ModelSyntaxError, match="its mean is a level-2 intercept"):
        pn.ml_lvm(demo, "level: 1\n fw =~ y1 + y2 + y3\n y1 ~ 1\nlevel: 2\n fb =~ y1 + y2 + y3\n",
                  clusters="cluster")


@pytest.mark.parametrize("syntax, message", [
    ("level: 1\n fw =~ y1 + y2 + y3\n", "the between level (level: 2) has no statement"),
    ("level: 1\n f =~ y1 + y2 + y3\nlevel: 2\n g =~ y1 + y2 + f\n", "'f' is a latent variable of the other level"),
    ("level: 1\n y1 =~ y2 + y3 + y4\nlevel: 2\n fb =~ y2 + y3 + y4\n", "factor name 'y1' is also the name"),
])
def test_level_dialect_errors(demo, syntax: str, message: str) -> None:
    with pytest.raises(ModelSyntaxError, match="") as info:
        pn.ml_lvm(demo, syntax, clusters="cluster")
    assert message in str(info.value)


def test_unsupported_syntax_is_an_error_not_a_silent_change(demo) -> None:
    for statement, what in (("a := 2*b", "defined parameters"), ("y1 | t1", "thresholds"),
                            ("fw =~ y1 + c(a, b)*y2", "per-group")):
        with pytest.raises(ModelSyntaxError, match=what):
            pn.ml_lvm(demo, f"level: 1\n fw =~ y1 + y2 + y3\n {statement}\nlevel: 2\n fb =~ y1 + y2\n",
                      clusters="cluster")


def test_syntax_and_level_arguments_do_not_mix(demo) -> None:
    with pytest.raises(TypeError, match="model syntax sets the structure"):
        pn.ml_lvm(demo, "F =~ y1 + y2 + y3", clusters="cluster", lambda_within=[[1]] * 3)
    with pytest.raises(TypeError, match="variables on one level only need level-specific loadings"):
        pn.ml_lvm(demo, lambda_=[[1]] * 3, vars=["y1", "y2", "y3"], clusters="cluster", within_only=["y1"])
