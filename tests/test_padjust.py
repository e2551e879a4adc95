"""Tests of p_adjust against R's stats::p.adjust."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from psychonetrics.inference.padjust import P_ADJUST_METHODS, p_adjust

P = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])

# Reference values computed in R with p.adjust(P, method = ...) for the P above.
R_VALUES: dict[str, list[float]] = {
    "holm": [0.010, 0.072] + [0.312] * 5 + [0.615] * 3,
    "hochberg": [0.010, 0.072] + [0.216] * 8,
    "hommel": [0.010, 0.072] + [0.185] * 3 + [0.216] * 5,
    "bonferroni": [0.01, 0.08, 0.39, 0.41, 0.42, 0.60, 0.74, 1, 1, 1],
    "BH": [0.01, 0.04, 0.084, 0.084, 0.084, 0.1, 0.1057143, 0.216, 0.216, 0.216],
    "BY": [0.02928968, 0.11715873] + [0.24603333] * 3 + [0.29289683, 0.30963379] + [0.63265714] * 3,
    "none": P.tolist(),
}

# The R values are rounded to 7-8 significant digits.
ATOL = 5e-8


@pytest.mark.parametrize("method", list(R_VALUES))
def test_matches_r(method: str) -> None:
    np.testing.assert_allclose(p_adjust(P, method), R_VALUES[method], rtol=0, atol=ATOL)


@pytest.mark.parametrize(("alias", "method"), [("fdr", "BH"), ("bh", "BH"), ("by", "BY")])
def test_aliases(alias: str, method: str) -> None:
    np.testing.assert_array_equal(p_adjust(P, alias), p_adjust(P, method))


def test_default_method_is_none() -> None:
    np.testing.assert_array_equal(p_adjust(P), P)


# Second vector: the same p-values in scrambled order. p.adjust is permutation
# equivariant, so R's result is the R values above permuted the same way.
PERM = np.array([7, 2, 9, 0, 5, 3, 8, 1, 6, 4])


@pytest.mark.parametrize("method", list(R_VALUES))
def test_unsorted_input_maps_back_to_input_order(method: str) -> None:
    expected = np.asarray(R_VALUES[method])[PERM]
    np.testing.assert_allclose(p_adjust(P[PERM], method), expected, rtol=0, atol=ATOL)


@pytest.mark.parametrize("method", list(R_VALUES))
def test_nan_passed_through_and_not_counted(method: str) -> None:
    # As in R, NA entries stay NA and n is the number of non-NA p-values,
    # so the result at the other positions is R's result for P.
    with_nan = np.insert(P[PERM], [0, 4, 10], np.nan)
    out = p_adjust(with_nan, method)
    nan = np.isnan(with_nan)
    assert np.isnan(out[nan]).all()
    np.testing.assert_allclose(out[~nan], np.asarray(R_VALUES[method])[PERM], rtol=0, atol=ATOL)


def test_small_unsorted_vector_by_hand() -> None:
    # Worked by hand from R's formulas for p = (0.04, 0.01, 0.03), n = 3.
    p = [0.04, 0.01, 0.03]
    np.testing.assert_allclose(p_adjust(p, "bonferroni"), [0.12, 0.03, 0.09])
    np.testing.assert_allclose(p_adjust(p, "holm"), [0.06, 0.03, 0.06])
    np.testing.assert_allclose(p_adjust(p, "hochberg"), [0.04, 0.03, 0.04])
    np.testing.assert_allclose(p_adjust(p, "hommel"), [0.04, 0.03, 0.04])
    np.testing.assert_allclose(p_adjust(p, "BH"), [0.04, 0.03, 0.04])
    np.testing.assert_allclose(p_adjust(p, "BY"), np.array([0.04, 0.03, 0.04]) * (1 + 1 / 2 + 1 / 3))


def _hommel_closed_testing(p: np.ndarray) -> np.ndarray:
    """Hommel adjusted p-values by definition: the largest Simes p-value over
    all intersection hypotheses that contain hypothesis i (closed testing)."""
    n = p.size
    out = p.copy()
    for size in range(1, n + 1):
        for subset in itertools.combinations(range(n), size):
            ps = np.sort(p[list(subset)])
            simes = np.min(size * ps / np.arange(1, size + 1))
            for i in subset:
                out[i] = max(out[i], simes)
    return out


def test_hommel_agrees_with_closed_testing_definition() -> None:
    rng = np.random.default_rng(2024)
    for trial in range(60):
        p = rng.uniform(0.0, 0.5, size=int(rng.integers(3, 8))) ** 2
        if trial % 3 == 0:
            p = np.round(p, 2)  # ties
        np.testing.assert_allclose(p_adjust(p, "hommel"), _hommel_closed_testing(p), rtol=0, atol=1e-15)


def test_hommel_with_two_values_is_hochberg() -> None:
    p = [0.03, 0.02]
    np.testing.assert_array_equal(p_adjust(p, "hommel"), p_adjust(p, "hochberg"))
    np.testing.assert_allclose(p_adjust(p, "hommel"), [0.03, 0.03])


@pytest.mark.parametrize("method", ["BH", "BY"])
def test_bh_by_agree_with_scipy(method: str) -> None:
    from scipy.stats import false_discovery_control

    rng = np.random.default_rng(7)
    p = rng.uniform(size=25) ** 3
    np.testing.assert_allclose(p_adjust(p, method), false_discovery_control(p, method=method.lower()), rtol=1e-14)


def test_ties_get_equal_adjusted_values() -> None:
    p = [0.02, 0.01, 0.02, 0.02, 0.5]
    for method in ("holm", "hochberg", "hommel", "BH", "BY"):
        out = p_adjust(p, method)
        assert out[0] == out[2] == out[3], method


@pytest.mark.parametrize("method", sorted(set(P_ADJUST_METHODS)))
def test_single_and_empty_input_unchanged(method: str) -> None:
    np.testing.assert_array_equal(p_adjust([0.2], method), [0.2])
    np.testing.assert_array_equal(p_adjust([np.nan, 0.2, np.nan], method), [np.nan, 0.2, np.nan])
    assert p_adjust([], method).shape == (0,)


def test_shape_is_kept_and_input_not_modified() -> None:
    p = P.reshape(2, 5).copy()
    out = p_adjust(p, "holm")
    assert out.shape == (2, 5)
    np.testing.assert_allclose(out.ravel(), R_VALUES["holm"], atol=ATOL)
    np.testing.assert_array_equal(p, P.reshape(2, 5))


def test_returns_float_array_for_list_input() -> None:
    out = p_adjust([0, 1], "bonferroni")
    assert isinstance(out, np.ndarray) and out.dtype == float
    np.testing.assert_array_equal(out, [0.0, 1.0])


@pytest.mark.parametrize("method", ["sidak", "Holm", "BONFERRONI", "", "bonf"])
def test_invalid_method(method: str) -> None:
    with pytest.raises(ValueError, match=r"`method`: .* is not a valid choice \(expected one of 'holm'"):
        p_adjust(P, method)


def test_method_must_be_a_string() -> None:
    with pytest.raises(ValueError, match=r"`method`"):
        p_adjust(P, None)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [[0.1, 1.5], [-0.01, 0.2], [0.1, np.inf]])
def test_p_values_outside_unit_interval(bad: list[float]) -> None:
    with pytest.raises(ValueError, match=r"`p`: p-values must lie in \[0, 1\]"):
        p_adjust(bad, "holm")


def test_non_numeric_p() -> None:
    with pytest.raises(ValueError, match=r"`p`: expected numeric p-values"):
        p_adjust(["a", "b"], "holm")
