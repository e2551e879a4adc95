"""Analytic derivatives against numerical differentiation.

* every covariance type: ``jacobian`` = d vec(Sigma) / d vec(M) vs central
  differences of ``sigma`` (and ``from_sigma`` inverts ``sigma``);
* family Jacobians d phi / d element (every table row) vs central differences
  of the implied moments;
* the gradient of the log-likelihood (both routes) vs central differences of
  the log-likelihood, for all 25 latent and all 25 residual type combinations
  of ``ml_lvm`` and every type combination of ``ml_varcov``;
* the expected information vs minus the numerical Hessian of the expected
  log-likelihood: with statistics equal to the implied moments at x
  (S_PW = Sigma_W, ybar_s = mu, C_s = (Sigma_W + s Sigma_B) / s) the Hessian of
  the log-likelihood at x is minus the expected information.

Relative errors are measured on the max-abs scale: max|a - n| / max|n|.
"""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest

import psychonetrics as pn
from support import (assert_element_jacobian, assert_gradient, assert_information, central_diff, load_case,
                     model_kwargs, objective_of, perturbed, rel_err, with_fixed_values)
from psychonetrics.data.stats import TwoLevelStats
from psychonetrics.fitting.objective import Objective
from psychonetrics.parameterizations import REGISTRY, TYPES

LAMBDA = np.array([[1, 0]] * 3 + [[0, 1]] * 3)
BETA = np.array([[0, 0], [1, 0]])
# residual covariances y2-y1 and y5-y4 free (in the type's off-diagonal-carrying matrix)
RESIDUAL_PATTERN = np.eye(6, dtype=int)
RESIDUAL_PATTERN[1, 0] = RESIDUAL_PATTERN[4, 3] = 1
RESIDUAL_MATRIX = {"cov": "sigma", "chol": "lowertri", "prec": "kappa", "ggm": "omega", "cor": "rho"}
COMBOS = list(itertools.product(TYPES, TYPES))


@pytest.fixture(scope="module")
def seed():
    return pn.datasets.seed_example()


# ----------------------------------------------------------------- types
def random_type_matrices(name: str, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Valid matrices of a covariance type (PD Sigma)."""
    a = rng.standard_normal((n, n))
    pd_mat = a @ a.T + n * np.eye(n)
    diag = np.diag(rng.uniform(0.5, 2.0, n))
    small = rng.uniform(-0.15, 0.15, (n, n))
    small = np.tril(small, -1) + np.tril(small, -1).T
    if name == "cov":
        return {"sigma": pd_mat}
    if name == "chol":
        low = np.tril(rng.standard_normal((n, n)))
        np.fill_diagonal(low, rng.uniform(0.5, 2.0, n))
        return {"lowertri": low}
    if name == "prec":
        return {"kappa": pd_mat}
    if name == "ggm":
        return {"omega": small, "delta": diag}
    if name == "cor":
        rho = small.copy()
        np.fill_diagonal(rho, 1.0)
        return {"rho": rho, "SD": diag}
    raise AssertionError(name)


def test_registry_has_the_five_types():
    assert set(TYPES) == {"cov", "chol", "prec", "ggm", "cor"}


def stored_elements(kind: str, n: int, mats: dict) -> tuple[np.ndarray, np.ndarray]:
    """Every stored element of a type's matrix (lower triangle, diagonal only, or off-diagonal for omega/rho)."""
    rows, cols = np.tril_indices(n)
    if kind in ("delta", "SD"):
        rows = cols = np.arange(n)
    elif kind in ("omega", "rho"):
        keep = rows != cols
        rows, cols = rows[keep], cols[keep]
    return rows, cols


@pytest.mark.parametrize("name", TYPES)
@pytest.mark.parametrize("seed_value", [1, 2, 3])
def test_type_derivatives_match_finite_differences(name: str, seed_value: int) -> None:
    """d Sigma / d element = a b' + b a' (rank-2 factors) vs central differences of sigma()."""
    rng = np.random.default_rng(seed_value)
    n = 4
    ctype = REGISTRY[name]
    mats = random_type_matrices(name, n, rng)
    assert np.all(np.linalg.eigvalsh(ctype.sigma(mats)) > 0)
    for kind in ctype.kinds:
        rows, cols = stored_elements(kind, n, mats)
        a, b = ctype.derivatives(mats, kind, rows, cols)
        assert a.shape == b.shape == (n, rows.size)
        for k, (r, c) in enumerate(zip(rows, cols)):
            def sigma_of(v, kind=kind, r=r, c=c):
                changed = dict(mats)
                m = mats[kind].copy()
                m[r, c] = v[0]
                if kind in ("sigma", "kappa", "omega", "rho"):  # symmetric storage moves both triangles
                    m[c, r] = v[0]
                changed[kind] = m
                return ctype.sigma(changed).reshape(-1)

            numeric = central_diff(sigma_of, np.array([mats[kind][r, c]]), step=1e-6)[:, 0].reshape(n, n)
            analytic = np.outer(a[:, k], b[:, k]) + np.outer(b[:, k], a[:, k])
            assert rel_err(analytic, numeric) < 1e-6, (name, kind, r, c)


def test_type_derivative_check_can_fail() -> None:
    """The check above rejects a wrong factor (the omega derivative without the delta scaling)."""
    rng = np.random.default_rng(1)
    mats = random_type_matrices("ggm", 4, rng)
    a, b = REGISTRY["ggm"].derivatives(mats, "omega", np.array([1]), np.array([0]))
    wrong = np.outer(a[:, 0], b[:, 0] / mats["delta"][0, 0])
    right = np.outer(a[:, 0], b[:, 0])
    assert rel_err(wrong + wrong.T, right + right.T) > 1e-3


@pytest.mark.parametrize("name", ["prec", "ggm", "cor"])
def test_types_outside_their_parameter_space_raise(name: str) -> None:
    """A precision, I - omega or correlation matrix that is not positive definite is outside the space."""
    ctype = REGISTRY[name]
    mats = dict(random_type_matrices(name, 3, np.random.default_rng(2)))
    strong = np.full((3, 3), 0.9)  # partial correlations of 0.9 among three nodes: I - omega is indefinite
    np.fill_diagonal(strong, 0.0)
    kind, value = {"prec": ("kappa", -np.eye(3)), "ggm": ("omega", strong), "cor": ("rho", strong * -1.2 + np.eye(3))}[name]
    mats[kind] = value
    with pytest.raises(np.linalg.LinAlgError):
        ctype.sigma(mats)


@pytest.mark.parametrize("name", TYPES)
def test_type_from_sigma_inverts_sigma(name: str) -> None:
    rng = np.random.default_rng(7)
    a = rng.standard_normal((5, 5))
    sigma = a @ a.T + 2 * np.eye(5)
    ctype = REGISTRY[name]
    mats = ctype.from_sigma(sigma)
    assert set(mats) == set(ctype.kinds)
    np.testing.assert_allclose(ctype.sigma(mats), sigma, rtol=1e-10, atol=1e-10)


# ------------------------------------------------------------------ ml_lvm
@pytest.mark.parametrize("within_latent,between_latent", COMBOS)
def test_ml_lvm_latent_types_derivatives(seed, within_latent: str, between_latent: str) -> None:
    """Free beta on both levels and nonzero (fixed) latent means, so every mu term is exercised."""
    rng = np.random.default_rng(zlib.crc32(repr((within_latent, between_latent)).encode()))
    model = pn.ml_lvm(seed, lambda_=LAMBDA, clusters="cluster", within_latent=within_latent,
                      between_latent=between_latent, beta_within=BETA, beta_between=BETA, estimator="ML")
    model = with_fixed_values(model, "nu_eta", np.array([0.3, -0.2]))
    obj = objective_of(model)
    x = perturbed(obj, rng)
    assert_element_jacobian(obj, x)
    assert_gradient(obj, x)
    assert_information(obj, x)


@pytest.mark.parametrize("within_residual,between_residual", COMBOS)
def test_ml_lvm_residual_types_derivatives(seed, within_residual: str, between_residual: str) -> None:
    """Residual blocks with two free off-diagonal elements; nu_eta free (identify=False)."""
    rng = np.random.default_rng(zlib.crc32(repr((within_residual, between_residual)).encode()))
    patterns = {
        f"{RESIDUAL_MATRIX[within_residual]}_epsilon_within": RESIDUAL_PATTERN,
        f"{RESIDUAL_MATRIX[between_residual]}_epsilon_between": RESIDUAL_PATTERN,
    }
    model = pn.ml_lvm(seed, lambda_=LAMBDA, clusters="cluster", within_residual=within_residual,
                      between_residual=between_residual, beta_between=BETA, nu_eta="full", identify=False,
                      estimator="ML", **patterns)
    names = set(model.table.names()[model.table.par > 0])
    assert "nu_eta" in names and set(patterns) <= names
    obj = objective_of(model)
    x = perturbed(obj, rng)
    mats = model.table.matrices(model.table.values_at(x), 0)
    assert np.any(mats["nu_eta"] != 0)
    assert_element_jacobian(obj, x)
    assert_gradient(obj, x)
    assert_information(obj, x)


def test_ml_lvm_derivatives_three_factors_regressions() -> None:
    """sem_regressions: 3 factors, eta3 ~ eta1 + eta2 on both levels, restricted latent blocks."""
    case = load_case("sem_regressions")
    model = pn.ml_lvm(case.data, estimator="ML", **model_kwargs(case))
    model = with_fixed_values(model, "nu_eta", np.array([0.2, -0.1, 0.4]))
    obj = objective_of(model)
    x = perturbed(obj, np.random.default_rng(11))
    assert_element_jacobian(obj, x)
    assert_gradient(obj, x)
    assert_information(obj, x)


def test_information_check_can_fail(seed) -> None:
    """The information check is sensitive: a wrong information (scaled by 1 + 1e-4) is rejected."""
    model = pn.ml_lvm(seed, lambda_=LAMBDA, clusters="cluster", estimator="ML")
    obj = objective_of(model)
    x = perturbed(obj, np.random.default_rng(5))

    class Wrong(Objective):
        def information(self, x, *, kind="expected"):
            return super().information(x) * (1 + 1e-4)

    assert_information(obj, x)
    with pytest.raises(AssertionError):
        assert_information(Wrong(obj.family, obj.table, obj.stats, obj.routes), x)


# ------------------------------------------------------- per-cluster (FIML) route
@pytest.mark.parametrize("case_name,types", [
    ("missing_mcar", {}),
    ("missing_mcar", {"within_latent": "ggm", "between_latent": "prec",
                      "within_residual": "chol", "between_residual": "cor"}),
    ("seed_example", {}),
    ("seed_example", {"within_latent": "cor", "between_latent": "ggm",
                      "within_residual": "ggm", "between_residual": "prec"}),
    ("tiny_clusters", {}),
])
def test_fiml_route_gradient(case_name: str, types: dict) -> None:
    case = load_case(case_name)
    kwargs = model_kwargs(case)
    kwargs.update(types)
    kwargs["beta_between"] = BETA
    model = pn.ml_lvm(case.data, estimator="FIML", **kwargs)
    model = with_fixed_values(model, "nu_eta", np.array([0.25, -0.15]))
    obj = objective_of(model)
    assert all(r.name == "clusters" for r in obj.routes)
    assert obj.stats[0].complete == (case_name != "missing_mcar")
    x = perturbed(obj, np.random.default_rng(3))
    assert_gradient(obj, x)


# ------------------------------------------------------------------ ml_varcov
@pytest.mark.parametrize("within,between", COMBOS)
def test_ml_varcov_gradient(seed, within: str, between: str) -> None:
    rng = np.random.default_rng(zlib.crc32(repr((within, between, "varcov")).encode()))
    model = pn.ml_varcov(seed, clusters="cluster", within=within, between=between, estimator="ML")
    obj = objective_of(model)
    x = perturbed(obj, rng, scale=0.02)
    assert_gradient(obj, x)
    assert_element_jacobian(obj, x)


@pytest.mark.parametrize("within,between", [("ggm", "ggm"), ("chol", "cor"), ("prec", "cov")])
def test_ml_varcov_information(seed, within: str, between: str) -> None:
    model = pn.ml_varcov(seed, clusters="cluster", within=within, between=between, estimator="ML")
    obj = objective_of(model)
    assert_information(obj, perturbed(obj, np.random.default_rng(9), scale=0.02))
