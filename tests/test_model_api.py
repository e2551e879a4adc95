"""The Model's public surface: no private reach-ins, read-only results, stable columns, summaries, warnings."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychonetrics as pn
from psychonetrics.exceptions import ConvergenceWarning, DataWarning, ImproperSolutionWarning, NotFittedError

PACKAGE = Path(pn.__file__).resolve().parent
SYNTAX = "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6"


@pytest.fixture(scope="module")
def fitted() -> pn.Model:
    return pn.ml_lnm(pn.datasets.seed_example(), SYNTAX, clusters="cluster").runmodel()


def _model_privates() -> set[str]:
    tree = ast.parse((PACKAGE / "model.py").read_text())
    model = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Model")
    names = {n.name for n in model.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    names |= {n.target.id for n in model.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
    return {name for name in names if name.startswith("_") and not name.startswith("__")}


def test_no_module_outside_model_reads_model_privates() -> None:
    privates = _model_privates()
    assert "_require_fit" in privates  # the scan sees the class
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "model.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in privates:
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} .{node.attr}")
    assert offenders == []


def test_group_index_is_public(fitted: pn.Model) -> None:
    assert fitted.group_index(None) == 0
    assert fitted.group_index(fitted.group_labels[0]) == 0
    with pytest.raises(ValueError, match="`group`"):
        fitted.group_index("nope")


TUTORIAL = "level: 1\n fw =~ y1 + y2 + y3\n fw ~ x1 + x2 + x3\nlevel: 2\n fb =~ y1 + y2 + y3\n fb ~ w1 + w2"


@pytest.mark.parametrize("value", ["False", "True", None, 0, 1, "no"])
@pytest.mark.parametrize(("build", "argument"), [
    (lambda v: pn.ml_lvm(pn.datasets.demo_twolevel(), TUTORIAL, clusters="cluster", fixed_x=v), "fixed_x"),
    (lambda v: pn.ml_lvm(pn.datasets.seed_example(), SYNTAX, clusters="cluster", identify=v), "identify"),
    (lambda v: pn.ml_lnm(pn.datasets.seed_example(), SYNTAX, clusters="cluster", verbose=v), "verbose"),
    (lambda v: pn.ml_ggm(pn.datasets.seed_example(), clusters="cluster", verbose=v), "verbose"),
])
def test_boolean_options_accept_only_true_or_false(build, argument: str, value: object) -> None:
    message = f"`{argument}`: expected True or False, got {value!r} (a {type(value).__name__})."
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        build(value)


@pytest.mark.parametrize("argument", ["verbose", "reference"])
def test_runmodel_switches_accept_true_false_or_none(argument: str) -> None:
    model = pn.ml_ggm(pn.datasets.seed_example(), clusters="cluster")
    with pytest.raises(TypeError, match=f"^`{argument}`: expected True, False or None, got 'False' \\(a str\\)"):
        model.runmodel(**{argument: "False"})


def test_boolean_options_take_numpy_booleans() -> None:
    free = pn.ml_lvm(pn.datasets.demo_twolevel(), TUTORIAL, clusters="cluster", fixed_x=np.False_)
    fixed = pn.ml_lvm(pn.datasets.demo_twolevel(), TUTORIAL, clusters="cluster", fixed_x=np.True_)
    assert free.npar > fixed.npar


def test_a_fitted_models_arrays_are_read_only(fitted: pn.Model) -> None:
    table = fitted.table
    arrays = [getattr(table, name) for name in ("group", "matrix", "row", "col", "par", "value", "lower",
                                                 "upper", "identification")]
    arrays += [table.free_rows, fitted.fitted.vcov, fitted.fitted.se, fitted.fitted.result.x]
    moments = fitted.fitted.moments[0]
    arrays += [moments.mu, moments.sigma_within, moments.sigma_between]
    stats = fitted.stats[0]
    arrays += [stats.within_cov, stats.sizes, stats.size_counts, stats.size_means, stats.size_covs]
    for array in arrays:
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 1.0


def test_read_only_tables_leave_the_callers_arrays_writeable(fitted: pn.Model) -> None:
    value = fitted.table.value.copy()
    table = fitted.table.with_columns(value=value)
    value[0] = 123.0  # the caller's array stays writeable ...
    assert not table.value.flags.writeable  # ... the table's is not
    before = (fitted.table.par.copy(), fitted.table.value.copy())
    edited = fitted.fixpar("lambda", "y2", "F1", 0.5)  # verbs edit copies
    assert (fitted.table.par == before[0]).all() and (fitted.table.value == before[1]).all()
    assert (edited.table.value == 0.5).any() and fitted.computed and not edited.computed


def test_getmatrix_returns_a_copy(fitted: pn.Model) -> None:
    lam = fitted.getmatrix("lambda")
    lam[0, 0] = 99.0
    assert fitted.getmatrix("lambda")[0, 0] != 99.0


def test_parameters_columns_do_not_depend_on_mis(fitted: pn.Model) -> None:
    model = fitted.with_table(fitted.table).runmodel()  # a fresh model: nothing computed yet
    before = model.parameters()
    model.MIs()
    after = model.parameters()
    assert list(after.columns) == list(before.columns) and "mi" not in after
    pd.testing.assert_frame_equal(before, after)
    with_mi = model.parameters(mi=True)
    assert list(with_mi.columns) == list(before.columns) + ["mi", "pmi", "epc"]
    assert with_mi.loc[~with_mi["fixed"], "mi"].isna().all()
    assert with_mi.attrs == before.attrs


def test_parameters_mi_computes_the_mis_when_needed(fitted: pn.Model) -> None:
    model = fitted.with_table(fitted.table).runmodel()
    with_mi = model.parameters(mi=True)
    top = model.MIs().iloc[0]
    row = with_mi[(with_mi["matrix"] == top["matrix"]) & (with_mi["row"] == top["row"])
                  & (with_mi["col"] == top["col"])]
    assert row["mi"].iloc[0] == pytest.approx(top["mi"])
    with pytest.raises(ValueError, match="`mi`"):
        model.parameters(mi=True, standardized=True)


def test_summary_prints_the_model_and_its_parameters(fitted: pn.Model) -> None:
    from psychonetrics.report.printing import model_text, parameters_text

    summary = fitted.summary()
    assert str(summary) == model_text(fitted) + "\n\nParameter estimates:\n" + parameters_text(fitted)
    assert repr(summary) == str(summary)
    assert str(summary).startswith(str(fitted))
    assert " - lambda" in str(summary) and "Parameter estimates:" in str(summary)


def test_summary_displays_as_html(fitted: pn.Model) -> None:
    page = fitted.summary()._repr_html_()
    assert page.startswith("<pre>psychonetrics ml_lnm model")
    assert page.count("<table") == 1 + page.count("<h5>")  # the fit measures, then one table per matrix
    assert "<h5>lambda</h5>" in page and "omega_zeta_between" in page


def test_summary_needs_a_fitted_model() -> None:
    model = pn.ml_lnm(pn.datasets.seed_example(), SYNTAX, clusters="cluster")
    with pytest.raises(NotFittedError, match="summary"):
        model.summary()


# warnings name the user's line -----------------------------------------------------------------
def _seed_with_missing_cluster() -> pd.DataFrame:
    data = pn.datasets.seed_example()
    data.loc[0, "cluster"] = np.nan
    return data


def test_data_warning_points_at_the_callers_file() -> None:
    with pytest.warns(DataWarning, match="missing cluster id") as record:
        pn.ml_lvm(_seed_with_missing_cluster(), SYNTAX, clusters="cluster")
    assert [w.filename for w in record] == [__file__]


def test_engine_warning_points_at_the_callers_file() -> None:
    pytest.importorskip("duckdb", reason="duckdb is not installed (the test extra has it)")
    import pyarrow as pa

    table = pa.Table.from_pandas(_seed_with_missing_cluster())
    with pytest.warns(DataWarning, match="missing cluster id") as record:
        pn.twolevel_stats(table, clusters="cluster")
    assert [w.filename for w in record] == [__file__]


def test_fit_warnings_point_at_the_callers_file() -> None:
    syntax = SYNTAX + "\nF2 ~ F1"
    with pytest.warns(ImproperSolutionWarning, match="Not identified") as record:
        pn.ml_lvm(pn.datasets.seed_example(), syntax, clusters="cluster", sigma_zeta_within="full").runmodel()
    assert record and {w.filename for w in record} == {__file__}


def test_search_warnings_point_at_the_callers_file(fitted: pn.Model, monkeypatch: pytest.MonkeyPatch) -> None:
    from psychonetrics.search import steps

    monkeypatch.setattr(steps, "_refit", lambda model: None)  # every refit fails
    with pytest.warns(ConvergenceWarning, match="prune: the pruned model did not converge") as record:
        fitted.prune(alpha=1e-12)
    assert [w.filename for w in record] == [__file__]


def test_warn_helper_skips_every_package_frame() -> None:
    from psychonetrics import _warn

    with pytest.warns(UserWarning, match="direct") as record:
        _warn.warn("direct", UserWarning)
    assert record[0].filename == __file__
