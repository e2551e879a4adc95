"""The random-intercept VAR(1) likelihood against a brute-force oracle.

Oracle: a person's observed values are one multivariate normal vector with
mean mu at every value and covariance blocks Cov(y_t+k, y_t) = beta^k S0 +
Sigma_B between occasions k apart in one segment, Sigma_B between segments
(S0 from the Kronecker-form Lyapunov equation, written out here); the
log-likelihood is the sum over persons of ``scipy.stats.multivariate_normal``
on the observed entries.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.stats import multivariate_normal
from support import oracle_s0
from support import var1_brute_force_loglik as brute_force_loglik

from psychonetrics.likelihood.var1_exact import (
    VarParameters,
    dloglik_var1,
    information_var1,
    loglik_var1,
    parameters_from_psi,
    person_scores_var1,
    psi_of,
    psi_size,
    series_data,
    simulate_var1,
    stationary_covariance,
)
from psychonetrics.linalg import vech_indices


# ------------------------------------------------------------------ oracle (tests/support.py)
def random_params(p: int, rng: np.random.Generator) -> VarParameters:
    """Random stable beta (spectral radius in 0.3-0.9) and random positive definite covariances."""
    beta = rng.standard_normal((p, p))
    beta *= rng.uniform(0.3, 0.9) / np.abs(np.linalg.eigvals(beta)).max()
    a = rng.standard_normal((p, p))
    sigma = a @ a.T / p + 0.3 * np.eye(p)
    a = rng.standard_normal((p, p + 1))
    between = 0.5 * a @ a.T / p + 0.1 * np.eye(p)
    return VarParameters(rng.standard_normal(p), beta, sigma, between)


def numerical_gradient(params: VarParameters, data, h: float = 1e-5) -> np.ndarray:
    p = params.n_vars
    psi = psi_of(params)
    out = np.empty_like(psi)
    for k in range(psi.size):
        up, down = psi.copy(), psi.copy()
        up[k] += h
        down[k] -= h
        out[k] = (loglik_var1(parameters_from_psi(up, p), data)
                  - loglik_var1(parameters_from_psi(down, p), data)) / (2 * h)
    return out


# ------------------------------------------------------------------ situations
def _night_as_missing_occasion(rng: np.random.Generator, params: VarParameters):
    """Two days of 5 beeps as one segment per person, an all-missing occasion between them."""
    values, person, segment, occasion = simulate_var1(params, 5, 5, n_segments=2, rng=rng, missing_values=0.05)
    occasion = occasion + 6 * segment
    night_person = np.arange(5)
    values = np.vstack([values, np.full((5, params.n_vars), np.nan)])
    person = np.concatenate([person, night_person])
    occasion = np.concatenate([occasion, np.full(5, 5)])
    return values, person, np.zeros_like(person), occasion


def _single_occasion(rng: np.random.Generator, params: VarParameters):
    values, person, segment, occasion = simulate_var1(params, 6, np.array([1, 1, 1, 4, 1, 6]), rng=rng)
    values[person == 1, 0] = np.nan  # a single partly observed occasion
    values[(person == 3) & (occasion == 2), 1:] = np.nan
    return values, person, segment, occasion


def _missed_occasions(rng: np.random.Generator, params: VarParameters):
    """Missed occasions both as all-NaN rows and as rows left out (gaps in the occasion numbers)."""
    values, person, segment, occasion = simulate_var1(params, 6, 10, rng=rng, missing=0.25)
    drop = rng.random(person.size) < 0.15
    return values[~drop], person[~drop], segment[~drop], occasion[~drop]


def _item_never_observed(rng: np.random.Generator, params: VarParameters):
    """One person never answers item 0: every occasion partly observed (one long run)."""
    values, person, segment, occasion = simulate_var1(params, 5, 9, n_segments=2, rng=rng, missing=0.1)
    values[person == 2, 0] = np.nan
    return values, person, segment, occasion


def _long_gap(rng: np.random.Generator, params: VarParameters):
    """A 25-occasion gap within segments (the transition beta^26)."""
    values, person, segment, occasion = simulate_var1(params, 4, 8, rng=rng, missing_values=0.1)
    return values, person, segment, np.where(occasion >= 4, occasion + 25, occasion)


SITUATIONS = {
    "complete": lambda rng, par: simulate_var1(par, 6, 8, rng=rng),
    "missed_occasions": _missed_occasions,
    "partly_observed": lambda rng, par: simulate_var1(par, 6, 8, rng=rng, missing_values=0.15),
    "several_segments": lambda rng, par: simulate_var1(par, 5, 5, n_segments=3, rng=rng, missing=0.2,
                                                       missing_values=0.1),
    "single_occasion": _single_occasion,
    "night_as_missing_occasion": _night_as_missing_occasion,
    "unequal_lengths": lambda rng, par: simulate_var1(par, 7, rng.integers(1, 13, size=7), rng=rng,
                                                      missing=0.2, missing_values=0.05),
    "item_never_observed": _item_never_observed,
    "long_gap": _long_gap,
}


def make_case(name: str, seed: int, p: int = 3):
    rng = np.random.default_rng(seed)
    truth = random_params(p, rng)
    arrays = SITUATIONS[name](rng, truth)
    perm = rng.permutation(arrays[0].shape[0])  # rows in any order
    arrays = tuple(a[perm] for a in arrays)
    return arrays, series_data(*arrays), random_params(p, rng)


# ------------------------------------------------------------------ oracle sanity
def test_oracle_single_occasions_and_lyapunov() -> None:
    """With one occasion per person the oracle is N(mu, S0 + Sigma_B); S0 solves the Lyapunov equation."""
    rng = np.random.default_rng(0)
    par = random_params(3, rng)
    s0 = oracle_s0(par.beta, par.sigma_within)
    np.testing.assert_allclose(s0, par.beta @ s0 @ par.beta.T + par.sigma_within, atol=1e-12)
    values = rng.standard_normal((4, 3))
    person = np.arange(4)
    expected = multivariate_normal.logpdf(values, par.mu, s0 + par.sigma_between).sum()
    assert brute_force_loglik(par, values, person, person * 0, person * 0) == pytest.approx(expected, rel=1e-12)


def test_oracle_two_occasions_by_hand() -> None:
    rng = np.random.default_rng(1)
    par = random_params(2, rng)
    s0 = oracle_s0(par.beta, par.sigma_within)
    values = rng.standard_normal((2, 2))
    cov = np.block([[s0 + par.sigma_between, s0 @ par.beta.T + par.sigma_between],
                    [par.beta @ s0 + par.sigma_between, s0 + par.sigma_between]])
    r = values.reshape(-1) - np.tile(par.mu, 2)
    by_hand = -0.5 * (4 * np.log(2 * np.pi) + np.linalg.slogdet(cov)[1] + r @ np.linalg.solve(cov, r))
    got = brute_force_loglik(par, values, np.zeros(2, int), np.zeros(2, int), np.arange(2))
    assert got == pytest.approx(by_hand, rel=1e-12)


# ------------------------------------------------------------------ log-likelihood and gradient
@pytest.mark.parametrize("name", list(SITUATIONS))
@pytest.mark.parametrize("seed", [0, 1])
def test_loglik_equals_brute_force(name: str, seed: int) -> None:
    arrays, data, par = make_case(name, seed)
    expected = brute_force_loglik(par, *arrays)
    assert loglik_var1(par, data) == pytest.approx(expected, rel=1e-10, abs=1e-8)
    ll, _ = dloglik_var1(par, data)
    assert ll == pytest.approx(expected, rel=1e-10, abs=1e-8)


@pytest.mark.parametrize("name", list(SITUATIONS))
@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_equals_central_differences(name: str, seed: int) -> None:
    _, data, par = make_case(name, seed)
    _, grad = dloglik_var1(par, data)
    num = numerical_gradient(par, data)
    assert np.linalg.norm(grad - num) / np.linalg.norm(num) < 1e-6


@pytest.mark.parametrize("p", [1, 2, 11])
def test_other_sizes(p: int) -> None:
    """p = 1 and p > 10 (the stationary covariance by scipy's Lyapunov solver)."""
    rng = np.random.default_rng(p)
    truth = random_params(p, rng)
    arrays = simulate_var1(truth, 3, 5, n_segments=2, rng=rng, missing=0.2, missing_values=0.1)
    data = series_data(*arrays)
    par = random_params(p, rng)
    assert loglik_var1(par, data) == pytest.approx(brute_force_loglik(par, *arrays), rel=1e-10)
    _, grad = dloglik_var1(par, data)
    num = numerical_gradient(par, data)
    assert np.linalg.norm(grad - num) / np.linalg.norm(num) < 1e-6


@pytest.mark.parametrize("name", list(SITUATIONS))
def test_person_scores_are_the_persons_gradients(name: str) -> None:
    """Rows sum to the gradient, and row i is the gradient of person i's own log-likelihood."""
    arrays, data, par = make_case(name, 3)
    scores = person_scores_var1(par, data)
    _, grad = dloglik_var1(par, data)
    assert scores.shape == (data.n_persons, psi_size(3))
    np.testing.assert_allclose(scores.sum(axis=0), grad, rtol=1e-9, atol=1e-9 * np.abs(grad).max())
    values, person, segment, occasion = arrays
    for i in range(data.n_persons):
        rows = person == i
        if not (~np.isnan(values[rows])).any():
            np.testing.assert_array_equal(scores[i], 0.0)
            continue
        own = series_data(values[rows], np.zeros(rows.sum(), int), segment[rows], occasion[rows])
        _, g_i = dloglik_var1(par, own)
        np.testing.assert_allclose(scores[i], g_i, rtol=1e-8, atol=1e-8 * np.abs(g_i).max())


# ------------------------------------------------------------------ data arrangement
def test_row_order_and_missing_rows_do_not_matter() -> None:
    rng = np.random.default_rng(4)
    par = random_params(3, rng)
    values, person, segment, occasion = simulate_var1(par, 5, 9, n_segments=2, rng=rng, missing=0.3,
                                                      missing_values=0.1)
    base = loglik_var1(par, series_data(values, person, segment, occasion))
    perm = rng.permutation(person.size)
    assert loglik_var1(par, series_data(values[perm], person[perm], segment[perm], occasion[perm])) == \
        pytest.approx(base, rel=1e-12)
    kept = ~np.isnan(values).all(axis=1)  # all-missing rows left out: the gaps say the same
    assert loglik_var1(par, series_data(values[kept], person[kept], segment[kept], occasion[kept])) == \
        pytest.approx(base, rel=1e-12)
    # a segment's numbering may start anywhere
    assert loglik_var1(par, series_data(values, person, segment, occasion + 7 * segment + 3)) == \
        pytest.approx(base, rel=1e-12)


def test_night_arrangements_differ() -> None:
    """A night as a segment break and as one missed occasion are different models of the same data."""
    rng = np.random.default_rng(5)
    par = random_params(3, rng)
    values, person, segment, occasion = simulate_var1(par, 4, 5, n_segments=2, rng=rng)
    days = loglik_var1(par, series_data(values, person, segment, occasion))
    night = loglik_var1(par, series_data(values, person, segment * 0, occasion + 6 * segment))
    assert abs(days - night) > 1e-3
    assert night == pytest.approx(brute_force_loglik(par, values, person, segment * 0, occasion + 6 * segment),
                                  rel=1e-10)


def test_series_data_summary() -> None:
    values = np.array([[1.0, 2.0], [np.nan, np.nan], [3.0, np.nan], [4.0, 5.0], [6.0, 7.0]])
    person = np.array([0, 0, 0, 2, 2])
    segment = np.array([0, 0, 0, 0, 1])
    occasion = np.array([0, 1, 2, 0, 0])
    data = series_data(values, person, segment, occasion)
    assert (data.n_persons, data.n_vars, data.n_observed_values, data.n_occasions, data.n_segments) == (3, 2, 7, 4, 3)
    assert list(data.gaps) == [0, 2]
    assert data.n_runs == 1
    np.testing.assert_allclose(data.center, [3.5, 14.0 / 3.0])
    assert not data.values.flags.writeable and not data.count.flags.writeable


def test_duplicates_are_named() -> None:
    values = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"duplicate .*\(1, 4, 2\)"):
        series_data(values, np.array([1, 1, 0]), np.array([4, 4, 4]), np.array([2, 2, 2]))


@pytest.mark.parametrize("bad", ["codes", "negative", "shape", "empty", "inf"])
def test_series_data_rejects_bad_input(bad: str) -> None:
    values, person, segment, occasion = np.ones((3, 2)), np.array([0, 1, 1]), np.zeros(3, int), np.array([0, 0, 1])
    if bad == "codes":
        occasion = np.array([0.0, 0.5, 1.0])
    elif bad == "negative":
        person = np.array([0, -1, -1])
    elif bad == "shape":
        person = person[:2]
    elif bad == "empty":
        values = np.full((3, 2), np.nan)
    else:
        values[0, 0] = np.inf
    with pytest.raises(ValueError):
        series_data(values, person, segment, occasion)


# ------------------------------------------------------------------ coordinates
def test_psi_coordinates() -> None:
    rng = np.random.default_rng(6)
    par = random_params(3, rng)
    psi = psi_of(par)
    assert psi.size == psi_size(3) == 3 + 9 + 12
    np.testing.assert_array_equal(psi[3:12], par.beta.T.reshape(-1))  # vec, column-major
    rows, cols = vech_indices(3)
    np.testing.assert_array_equal(psi[12:18], par.sigma_within[rows, cols])
    back = parameters_from_psi(psi, 3)
    for name in ("mu", "beta", "sigma_within", "sigma_between"):
        np.testing.assert_array_equal(getattr(back, name), getattr(par, name))
    with pytest.raises(ValueError):
        parameters_from_psi(psi[:-1], 3)
    with pytest.raises(ValueError):
        VarParameters(np.zeros(2), np.zeros((3, 3)), np.eye(2), np.eye(2))


def test_stationary_covariance() -> None:
    rng = np.random.default_rng(7)
    for p in (3, 12):
        par = random_params(p, rng)
        s0 = stationary_covariance(par.beta, par.sigma_within)
        np.testing.assert_allclose(s0, par.beta @ s0 @ par.beta.T + par.sigma_within, atol=1e-10)
    with pytest.raises(ValueError, match="spectral radius"):
        stationary_covariance(np.diag([1.0, 0.5]), np.eye(2))


# ------------------------------------------------------------------ outside the parameter space
def _outside(par: VarParameters) -> list[VarParameters]:
    p = par.n_vars
    explosive = par.beta / np.abs(np.linalg.eigvals(par.beta)).max() * 1.01
    unit_root = np.diag(np.r_[1.0, np.zeros(p - 1)])
    indefinite = par.sigma_within - (np.linalg.eigvalsh(par.sigma_within)[0] + 0.1) * np.eye(p)
    nan_mu = par.mu.copy()
    nan_mu[0] = np.nan
    # a between covariance so negative that persons' covariances are not positive definite
    too_negative = -1e3 * (par.sigma_within + np.eye(p))
    return [VarParameters(par.mu, explosive, par.sigma_within, par.sigma_between),
            VarParameters(par.mu, unit_root, par.sigma_within, par.sigma_between),
            VarParameters(par.mu, par.beta, indefinite, par.sigma_between),
            VarParameters(par.mu, par.beta, par.sigma_within, too_negative),
            VarParameters(nan_mu, par.beta, par.sigma_within, par.sigma_between),
            VarParameters(par.mu, par.beta * np.inf, par.sigma_within, par.sigma_between)]


def test_outside_parameter_space_is_minus_inf_without_warnings() -> None:
    _, data, par = make_case("several_segments", 8)
    n = psi_size(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for bad in _outside(par):
            assert loglik_var1(bad, data) == -np.inf
            ll, grad = dloglik_var1(bad, data)
            assert ll == -np.inf and grad.shape == (n,) and np.isnan(grad).all()
            assert np.isnan(person_scores_var1(bad, data)).all()
            assert np.isnan(information_var1(bad, data)).all()


@pytest.mark.parametrize("name", ["complete", "partly_observed", "several_segments"])
def test_a_between_covariance_need_only_keep_the_persons_covariances_positive_definite(name: str) -> None:
    """Sigma_B zero or indefinite (a Heywood case, as psychonetrics' FIML estimates can be) is inside the
    parameter space while every person's covariance is positive definite: the likelihood and its gradient
    are those of the brute-force density, without any inverse of Sigma_B."""
    arrays, data, par = make_case(name, 11)
    p = par.n_vars
    vals, vecs = np.linalg.eigh(par.sigma_between)
    indefinite = (vecs * np.r_[-0.05, vals[1:]]) @ vecs.T
    for between in (np.zeros((p, p)), indefinite):
        b = VarParameters(par.mu, par.beta, par.sigma_within, between)
        ll, grad = dloglik_var1(b, data)
        assert ll == pytest.approx(brute_force_loglik(b, *arrays), rel=1e-10)
        numeric = numerical_gradient(b, data)
        assert np.max(np.abs(grad - numeric)) < 1e-5 * max(1.0, np.abs(numeric).max())
        scores = person_scores_var1(b, data)
        np.testing.assert_allclose(scores.sum(axis=0), grad, rtol=1e-8, atol=1e-8)


def test_numerically_singular_is_minus_inf_or_finite() -> None:
    """Positive definite but numerically singular covariances: no exception, no warning, no NaN."""
    _, data, par = make_case("partly_observed", 8)
    tiny = np.diag([1.0, 1.0, 1e-300])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for bad in (VarParameters(par.mu, par.beta, tiny, par.sigma_between),
                    VarParameters(par.mu, par.beta, par.sigma_within, tiny),
                    VarParameters(par.mu, par.beta, par.sigma_within * 1e300, par.sigma_between)):
            ll, grad = dloglik_var1(bad, data)
            assert ll == -np.inf or (np.isfinite(ll) and np.all(np.isfinite(grad)))
            assert loglik_var1(bad, data) == ll


def test_near_unit_root_is_finite() -> None:
    _, data, par = make_case("partly_observed", 9)
    vals, vecs = np.linalg.eig(par.beta)
    near = np.real(vecs @ np.diag(vals / np.abs(vals).max() * 0.999) @ np.linalg.inv(vecs))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ll, grad = dloglik_var1(VarParameters(par.mu, near, par.sigma_within, par.sigma_between), data)
    assert np.isfinite(ll) and np.all(np.isfinite(grad))


# ------------------------------------------------------------------ information and estimation
def test_observed_information_is_minus_the_hessian() -> None:
    """Against second differences of the log-likelihood itself, for a few entries."""
    _, data, par = make_case("missed_occasions", 10, p=2)
    info = information_var1(par, data)
    np.testing.assert_allclose(info, info.T)
    psi = psi_of(par)
    h = 1e-4
    rng = np.random.default_rng(0)
    for a, b in rng.integers(0, psi.size, size=(6, 2)):
        def f(da: float, db: float) -> float:
            x = psi.copy()
            x[a] += da
            x[b] += db
            return loglik_var1(parameters_from_psi(x, 2), data)
        second = (f(h, h) - f(h, -h) - f(-h, h) + f(-h, -h)) / (4 * h * h)
        assert -info[a, b] == pytest.approx(second, rel=1e-4, abs=1e-4 * np.abs(info).max())
    with pytest.raises(ValueError, match="observed"):
        information_var1(par, data, kind="expected")


@pytest.mark.parametrize("missing", [False, True])
def test_maximum_likelihood_recovers_the_truth(missing: bool) -> None:
    """J = 300 persons of 50 occasions: the ML estimate lies within 4.5 SEs of the truth."""
    rng = np.random.default_rng(11)
    p = 3
    truth = VarParameters(np.array([1.0, -0.5, 2.0]),
                          np.array([[0.4, 0.1, 0.0], [-0.2, 0.3, 0.15], [0.1, 0.0, 0.5]]),
                          np.array([[1.0, 0.3, 0.2], [0.3, 0.8, -0.1], [0.2, -0.1, 1.2]]),
                          np.array([[0.5, 0.1, 0.0], [0.1, 0.3, 0.05], [0.0, 0.05, 0.4]]))
    extra = dict(missing=0.2, missing_values=0.05) if missing else {}
    data = series_data(*simulate_var1(truth, 300, 50, rng=rng, **extra))
    psi0 = psi_of(truth)

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        ll, g = dloglik_var1(parameters_from_psi(x, p), data)
        if not np.isfinite(ll):
            return 1e300, np.zeros_like(x)
        return -ll / data.n_persons, -g / data.n_persons

    res = minimize(objective, psi0, jac=True, method="BFGS", options={"gtol": 1e-7, "maxiter": 2000})
    est = parameters_from_psi(res.x, p)
    _, grad = dloglik_var1(est, data)
    assert np.abs(grad).max() < 1e-3
    se = np.sqrt(np.diag(np.linalg.inv(information_var1(est, data))))
    z = (res.x - psi0) / se
    assert np.abs(z).max() < 4.5, z


def test_simulate_var1() -> None:
    rng = np.random.default_rng(12)
    par = random_params(2, rng)
    values, person, segment, occasion = simulate_var1(par, 4, np.array([3, 5, 1, 2]), n_segments=2, rng=rng,
                                                      missing=0.5)
    assert values.shape == (2 * (3 + 5 + 1 + 2), 2)
    assert np.array_equal(np.bincount(person), [6, 10, 2, 4])
    assert set(segment) == {0, 1} and occasion.max() == 4
    partly = np.isnan(values).any(axis=1) & ~np.isnan(values).all(axis=1)
    assert not partly.any()
