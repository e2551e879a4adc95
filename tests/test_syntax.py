"""Tests of the lavaan-like model syntax (psychonetrics.syntax)."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from psychonetrics.exceptions import ModelSyntaxError
from psychonetrics.syntax import ParsedModel, parse_model

# ---------------------------------------------------------------------------
# Valid syntax
# ---------------------------------------------------------------------------


def test_two_factor_model_with_regression_and_covariance() -> None:
    m = parse_model(
        """
        F1 =~ y1 + y2 + y3
        F2 =~ y4 + y5 + y6
        F2 ~ F1
        F1 ~~ F2
        """
    )
    assert isinstance(m, ParsedModel)
    assert m.latents == ("F1", "F2")
    assert m.vars == ("y1", "y2", "y3", "y4", "y5", "y6")
    expected = np.array([[1, 0], [1, 0], [1, 0], [0, 1], [0, 1], [0, 1]])
    np.testing.assert_array_equal(m.lambda_, expected)
    assert m.lambda_.dtype.kind == "i"
    assert m.lambda_fixed is None
    np.testing.assert_array_equal(m.beta, [[0, 0], [1, 0]])
    assert m.beta.dtype.kind == "i"
    assert m.latent_covariances == (("F1", "F2"),)


def test_beta_row_is_dependent_column_is_predictor() -> None:
    m = parse_model("A =~ a1; B =~ b1; C =~ c1; C ~ A + B; A ~ B")
    # beta[i, j] = 1 means eta_j -> eta_i
    np.testing.assert_array_equal(m.beta, [[0, 1, 0], [0, 0, 0], [1, 1, 0]])


def test_lines_for_the_same_factor_accumulate() -> None:
    m = parse_model("F1 =~ y1 + y2\nF2 =~ y3\nF1 =~ y4")
    assert m.latents == ("F1", "F2")
    assert m.vars == ("y1", "y2", "y3", "y4")
    np.testing.assert_array_equal(m.lambda_, [[1, 0], [1, 0], [0, 1], [1, 0]])


def test_cross_loading() -> None:
    m = parse_model("F1 =~ y1 + y2 + y3; F2 =~ y3 + y4")
    np.testing.assert_array_equal(m.lambda_[2], [1, 1])


def test_latents_in_order_of_first_definition_not_of_use() -> None:
    m = parse_model("F2 ~ F1\nF2 =~ y3 + y4\nF1 =~ y1 + y2")
    assert m.latents == ("F2", "F1")
    assert m.vars == ("y3", "y4", "y1", "y2")
    np.testing.assert_array_equal(m.beta, [[0, 1], [0, 0]])


def test_comments_blank_lines_semicolons_and_whitespace() -> None:
    syntax = (
        "# a measurement model\n"
        "\n"
        "   F1=~y1+y2   # no spaces needed\n"
        "\tF2   =~\ty3 +   y4 ;; F2~F1 ;\n"
        "F1~~F2;  # trailing separator\n"
        "   \n"
    )
    m = parse_model(syntax)
    assert m.latents == ("F1", "F2")
    assert m.vars == ("y1", "y2", "y3", "y4")
    np.testing.assert_array_equal(m.beta, [[0, 0], [1, 0]])
    assert m.latent_covariances == (("F1", "F2"),)


def test_windows_line_endings() -> None:
    m = parse_model("F1 =~ y1 + y2\r\nF2 =~ y3\r\nF2 ~ F1\r\n")
    assert m.latents == ("F1", "F2")


def test_names_with_dots_underscores_and_digits() -> None:
    m = parse_model("f_1.a =~ y.1 + y_2 + item.3_b + .hidden + Y10")
    assert m.latents == ("f_1.a",)
    assert m.vars == ("y.1", "y_2", "item.3_b", ".hidden", "Y10")


def test_numeric_premultipliers_fix_loadings() -> None:
    m = parse_model("F1 =~ 1*y1 + 0.5 * y2 + y3\nF2 =~ y4 + -1*y5 + 2.5e-1*y6 + .5*y7")
    assert m.lambda_fixed is not None
    assert m.lambda_fixed.dtype == float
    # lambda_ marks every nonzero loading (free or fixed)
    np.testing.assert_array_equal(m.lambda_, [[1, 0], [1, 0], [1, 0], [0, 1], [0, 1], [0, 1], [0, 1]])
    expected = np.full((7, 2), np.nan)
    expected[0, 0], expected[1, 0] = 1.0, 0.5
    expected[4, 1], expected[5, 1], expected[6, 1] = -1.0, 0.25, 0.5
    np.testing.assert_array_equal(m.lambda_fixed, expected)


def test_zero_premultiplier_is_a_fixed_zero() -> None:
    m = parse_model("F1 =~ y1 + y2; F2 =~ y3 + 0*y1")
    np.testing.assert_array_equal(m.lambda_, [[1, 0], [1, 0], [0, 1]])
    assert m.lambda_fixed is None


def test_first_indicator_is_free_in_the_pattern() -> None:
    m = parse_model("F1 =~ y1 + y2; F2 =~ y3 + y4")
    assert m.lambda_[0, 0] == 1
    assert m.lambda_[2, 1] == 1


def test_observed_sets_the_order_and_may_contain_unused_variables() -> None:
    m = parse_model("F1 =~ b + a; F2 =~ d", observed=["a", "b", "c", "d"])
    assert m.vars == ("a", "b", "c", "d")
    np.testing.assert_array_equal(m.lambda_, [[1, 0], [1, 0], [0, 0], [0, 1]])


def test_observed_accepts_any_ordered_collection_of_str() -> None:
    pd = pytest.importorskip("pandas")
    m = parse_model("F1 =~ y1 + y2", observed=("y2", "y1"))
    assert m.vars == ("y2", "y1")
    columns = pd.DataFrame(columns=["y1", "y2", "x"]).columns
    assert parse_model("F1 =~ y1 + y2", observed=columns).vars == ("y1", "y2", "x")
    m = parse_model("F1 =~ y1 + y2", observed=np.array(["y2", "y1"]))
    assert m.vars == ("y2", "y1") and all(type(v) is str for v in m.vars)


def test_latent_variance_and_several_covariances() -> None:
    m = parse_model("A =~ a; B =~ b; C =~ c\nA ~~ B + C\nC ~~ C")
    assert m.latent_covariances == (("A", "B"), ("A", "C"), ("C", "C"))


def test_single_factor() -> None:
    m = parse_model("F =~ y1")
    assert m.latents == ("F",)
    np.testing.assert_array_equal(m.lambda_, [[1]])
    np.testing.assert_array_equal(m.beta, [[0]])
    assert m.latent_covariances == ()


def test_result_is_frozen_and_arrays_read_only() -> None:
    m = parse_model("F1 =~ 1*y1 + y2; F2 =~ y3; F2 ~ F1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.latents = ("G",)  # type: ignore[misc]
    for array in (m.lambda_, m.lambda_fixed, m.beta):
        assert array is not None
        with pytest.raises(ValueError):
            array[0, 0] = 5


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def test_error_message_names_line_text_and_token() -> None:
    with pytest.raises(ModelSyntaxError) as info:
        parse_model("F1 =~ y1 + y2 + y3\nF2 =~ y4 +")
    assert str(info.value) == "line 2 ('F2 =~ y4 +'): expected a variable name after '+'"


def test_model_syntax_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_model("F1 =~")


@pytest.mark.parametrize(
    ("syntax", "message"),
    [
        ("F1 =~", r"line 1 \('F1 =~'\): expected a variable name after '=~'"),
        ("F1 =~ + y1", r"expected a variable name after '=~', got '\+'"),
        ("F1 =~ y1 ++ y2", r"expected a variable name after '\+', got '\+'"),
        ("F1 =~ y1 y2", r"expected '\+' or the end of the statement after 'y1', got 'y2'"),
        ("F1 y1", r"expected an operator \('=~', '~' or '~~'\) after 'F1', got 'y1'"),
        ("F1", r"line 1 \('F1'\): expected an operator .* after 'F1'$"),
        ("+ y1", r"expected a variable name at the start of the statement, got '\+'"),
        ("=~ y1", r"expected a variable name at the start of the statement, got '=~'"),
        ("F1 =~ y1\nF1 ~ ~ F1", r"line 2 .*expected a variable name after '~', got '~'"),
        ("F1 =~ y1(1)", r"unexpected character '\('"),
        ("F1 =~ y1, y2", r"unexpected character ','"),
        ("F1 =~ 2 y1", r"expected '\*' after '2', got 'y1'"),
        ("F1 =~ 2*", r"expected a variable name after '\*'$"),
        ("F1 =~ -y1", r"expected a number after '-', got 'y1'"),
        ("F1 =~ a*y1", r"modifier 'a' before '\*' is not supported"),
        ("F1 =~ NA*y1 + y2", r"modifier 'NA' before '\*' is not supported"),
    ],
)
def test_parse_errors(syntax: str, message: str) -> None:
    with pytest.raises(ModelSyntaxError, match=message):
        parse_model(syntax)


@pytest.mark.parametrize("op", ["=~~", ":=", "==", "<~", "|", "~~~", "=", "<"])
def test_unknown_operator(op: str) -> None:
    with pytest.raises(
        ModelSyntaxError,
        match=rf"line 2 \('F2 {re.escape(op)} y3'\): unknown operator '{re.escape(op)}' \(expected '=~', '~' or '~~'\)",
    ):
        parse_model(f"F1 =~ y1 + y2\nF2 {op} y3")


def test_error_on_later_statement_of_a_line_reports_that_line() -> None:
    with pytest.raises(ModelSyntaxError, match=r"^line 3 \('F2 =~ y3; F3 :=  y4'\): unknown operator ':='"):
        parse_model("F1 =~ y1\n# comment\nF2 =~ y3; F3 :=  y4  # trailing comment")


@pytest.mark.parametrize("syntax", ["", "   ", "\n\n", "# only a comment\n  # another", ";;", " ; \n ;"])
def test_empty_syntax(syntax: str) -> None:
    with pytest.raises(ModelSyntaxError, match=r"`syntax`: the model syntax is empty"):
        parse_model(syntax)


def test_no_factor_defined() -> None:
    with pytest.raises(ModelSyntaxError, match=r"line 1 \('F1 ~~ F2'\): no factor is defined"):
        parse_model("F1 ~~ F2")


def test_regression_on_observed_variable() -> None:
    with pytest.raises(
        ModelSyntaxError,
        match=r"line 3 \('F2 ~ y1'\): 'y1' is an observed variable; only latent regressions are supported",
    ):
        parse_model("F1 =~ y1 + y2\nF2 =~ y3 + y4\nF2 ~ y1")


def test_regression_of_observed_variable_on_latent() -> None:
    with pytest.raises(ModelSyntaxError, match=r"'y3' is an observed variable; only latent regressions"):
        parse_model("F1 =~ y1 + y2\ny3 ~ F1", observed=["y1", "y2", "y3"])


def test_observed_variable_reported_before_undefined_latent() -> None:
    with pytest.raises(ModelSyntaxError, match=r"'y1' is an observed variable; only latent regressions"):
        parse_model("F1 =~ y1\nF9 ~ y1")


def test_covariance_with_observed_variable() -> None:
    with pytest.raises(ModelSyntaxError, match=r"'y2' is an observed variable; only latent covariances"):
        parse_model("F1 =~ y1 + y2\nF1 ~~ y2")


def test_undefined_latent_in_regression() -> None:
    with pytest.raises(
        ModelSyntaxError,
        match=r"line 2 \('F1 ~ F3'\): latent 'F3' is used in '~' but never defined by '=~' \(defined latents: 'F1'\)",
    ):
        parse_model("F1 =~ y1 + y2\nF1 ~ F3")


def test_undefined_latent_on_the_left_of_a_regression() -> None:
    with pytest.raises(ModelSyntaxError, match=r"latent 'F2' is used in '~' but never defined"):
        parse_model("F1 =~ y1\nF2 ~ F1")


def test_undefined_latent_in_covariance() -> None:
    with pytest.raises(ModelSyntaxError, match=r"latent 'G' is used in '~~' but never defined"):
        parse_model("F1 =~ y1\nF1 ~~ G")


def test_self_regression() -> None:
    with pytest.raises(
        ModelSyntaxError, match=r"line 2 \('F1 ~ F2 \+ F1'\): latent 'F1' cannot be regressed on itself"
    ):
        parse_model("F1 =~ y1; F2 =~ y2\nF1 ~ F2 + F1")


def test_number_in_regression() -> None:
    with pytest.raises(ModelSyntaxError, match=r"expected a latent variable name after '~', got '1'"):
        parse_model("F1 =~ y1\nF1 ~ 1")


def test_premultiplier_in_regression() -> None:
    with pytest.raises(ModelSyntaxError, match=r"got '0.5'.*premultipliers are allowed in '=~' lines only"):
        parse_model("F1 =~ y1; F2 =~ y2\nF2 ~ 0.5*F1")


def test_indicator_not_in_observed_lists_available_names() -> None:
    with pytest.raises(
        ModelSyntaxError,
        match=r"line 2 \('F2 =~ y3 \+ y9'\): indicator 'y9' is not an observed variable "
        r"\(available: 'y1', 'y2', 'y3'\)",
    ):
        parse_model("F1 =~ y1 + y2\nF2 =~ y3 + y9", observed=["y1", "y2", "y3"])


def test_factor_named_like_an_observed_variable() -> None:
    with pytest.raises(
        ModelSyntaxError, match=r"line 1 \('y1 =~ y2 \+ y3'\): factor name 'y1' is also the name of an observed"
    ):
        parse_model("y1 =~ y2 + y3", observed=["y1", "y2", "y3"])


def test_factor_name_used_as_indicator_without_observed() -> None:
    with pytest.raises(
        ModelSyntaxError,
        match=r"line 2 \('F2 =~ F1 \+ y3'\): 'F1' is defined as a factor by '=~' and also used as an indicator of 'F2'",
    ):
        parse_model("F1 =~ y1 + y2\nF2 =~ F1 + y3")


def test_indicator_defined_as_factor_later() -> None:
    with pytest.raises(ModelSyntaxError, match=r"line 1 .*'y2' is defined as a factor"):
        parse_model("F1 =~ y1 + y2\ny2 =~ y3")


def test_duplicate_indicator() -> None:
    with pytest.raises(
        ModelSyntaxError,
        match=r"line 3 \('F1 =~ 1\*y2'\): indicator 'y2' is listed twice for factor 'F1' \(first on line 1\)",
    ):
        parse_model("F1 =~ y1 + y2\nF2 =~ y3\nF1 =~ 1*y2")


def test_duplicate_regression() -> None:
    with pytest.raises(ModelSyntaxError, match=r"line 2 .*regression 'F2 ~ F1' is listed twice \(first on line 1\)"):
        parse_model("F1 =~ y1; F2 =~ y2; F2 ~ F1\nF2 ~ F1")


def test_duplicate_covariance_in_either_order() -> None:
    with pytest.raises(ModelSyntaxError, match=r"covariance 'F2 ~~ F1' is listed twice \(first as 'F1 ~~ F2' on line 2\)"):
        parse_model("F1 =~ y1; F2 =~ y2\nF1 ~~ F2\nF2 ~~ F1")


def test_factor_without_nonzero_loading() -> None:
    with pytest.raises(ModelSyntaxError, match=r"factor 'F2' has no nonzero loading"):
        parse_model("F1 =~ y1 + y2\nF2 =~ 0*y1")


def test_syntax_must_be_a_string() -> None:
    with pytest.raises(TypeError, match=r"`syntax`: expected a model syntax string, got list"):
        parse_model(["F1 =~ y1"])  # type: ignore[arg-type]


def test_observed_must_be_a_sequence_of_names() -> None:
    with pytest.raises(TypeError, match=r"`observed`: expected an ordered sequence of variable names"):
        parse_model("F1 =~ y1", observed="y1")
    with pytest.raises(TypeError, match=r"`observed`: expected an ordered sequence of variable names"):
        parse_model("F1 =~ y1", observed={"y1"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"`observed`: expected variable names as str, got 1"):
        parse_model("F1 =~ y1", observed=["y1", 1])  # type: ignore[list-item]


def test_observed_names_must_be_unique_and_nonempty() -> None:
    with pytest.raises(ValueError, match=r"`observed`: expected unique variable names; repeated: 'y1'"):
        parse_model("F1 =~ y1", observed=["y1", "y2", "y1"])
    with pytest.raises(ValueError, match=r"`observed`: expected at least one variable name"):
        parse_model("F1 =~ y1", observed=[])
