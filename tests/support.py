"""What the tests share: the reference cases (one loader for every format), quiet fits, derivative
checks against numerical differentiation, and lavaan's parameter rows matched to ours.

Test modules import from here, never from each other.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import Covariance, multivariate_normal

from psychonetrics.data.stats import TwoLevelStats
from psychonetrics.estimators import ESTIMATORS
from psychonetrics.exceptions import PsychonetricsWarning
from psychonetrics.fitting.objective import Objective
from psychonetrics.likelihood import statistics_route
from psychonetrics.moments import Moments

DATA_DIR = Path(__file__).resolve().parent / "data"
REFERENCE_DIR = DATA_DIR / "reference"
COMPLETE_CASES = ["seed_example", "seed_example_18", "unbalanced", "demo_twolevel", "sem_regressions", "tiny_clusters"]


def quiet(fn, *args, **kwargs):  # noqa: ANN001, ANN201
    """``fn(*args, **kwargs)`` with the package's warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PsychonetricsWarning)
        return fn(*args, **kwargs)


# ------------------------------------------------------------------ reference cases
def load(folder: str, case: str) -> tuple[dict, pd.DataFrame]:
    """The ``expected.json`` of ``data/<folder>/<case>`` and its data (any format: matrix, syntax, ml_var)."""
    spec = json.loads((DATA_DIR / folder / case / "expected.json").read_text())
    return spec, pd.read_csv(DATA_DIR / folder / case / spec.get("data", "data.csv"))


@dataclass(frozen=True)
class ReferenceCase:
    name: str
    data: pd.DataFrame
    model: dict
    reference: dict
    lavaan_seconds: float


def load_case(name: str) -> ReferenceCase:
    """A reference case of the first (matrix) format, with its model description."""
    spec, data = load("reference", name)
    return ReferenceCase(name, data, spec["model"], spec["reference"], spec.get("lavaan_seconds", np.nan))


def model_kwargs(case: ReferenceCase) -> dict:
    """ml_lvm keyword arguments reproducing the case's model."""
    m = case.model
    kwargs = {
        "lambda_": np.asarray(m["lambda"]),
        "clusters": m["clusters"],
        "vars": m["vars"],
        "beta_within": m["beta_within"] if isinstance(m["beta_within"], str) else np.asarray(m["beta_within"]),
        "beta_between": m["beta_between"] if isinstance(m["beta_between"], str) else np.asarray(m["beta_between"]),
        "within_latent": m["within_latent"],
        "between_latent": m["between_latent"],
        "within_residual": m["within_residual"],
        "between_residual": m["between_residual"],
    }
    if m.get("groups"):
        kwargs["groups"] = m["groups"]
        kwargs["equal"] = m.get("equal", [])
    known = set(kwargs) | {"family", "clusters", "groups", "equal", "estimator", "missing", "lambda", "vars"}
    for key, value in m.items():
        if key not in known:
            kwargs[key] = value if isinstance(value, str) else np.asarray(value)
    return kwargs




# ------------------------------------------------------------------ lavaan parameter rows
def ours_row(params: pd.DataFrame, row: dict) -> pd.DataFrame:
    """Our parameters() rows for one lavaan parameterEstimates() row."""
    level = params["level"] == row["level"]
    op = row["op"]
    if op == "~~":
        a, b = row["lhs"], row["rhs"]
        pair = ((params["var1"] == a) & (params["var2"] == b)) | ((params["var1"] == b) & (params["var2"] == a))
        return params[level & (params["op"] == "~~") & pair]
    rhs = "" if op == "~1" else row["rhs"]
    return params[level & (params["op"] == op) & (params["var1"] == row["lhs"]) & (params["var2"] == rhs)]


def assert_rows(params: pd.DataFrame, rows: list[dict], *, se_key: str | None, skip_se: set = frozenset(),
                se_rtol: float = 0.01) -> int:
    """Every lavaan row against ours: estimates within 1e-3 (relative to max(1, |est|)), SEs within 1%."""
    problems, checked = [], 0
    for row in rows:
        label = f"{row['lhs']} {row['op']} {row['rhs']} ({row['level']})"
        ours = ours_row(params, row)
        if ours.empty:
            if row["free"] or abs(row["est"]) > 1e-12:
                problems.append(f"{label}: no row")
            continue
        if len(ours) != 1:
            problems.append(f"{label}: {len(ours)} rows")
            continue
        ours = ours.iloc[0]
        if bool(row["free"]) != (not bool(ours["fixed"])):
            problems.append(f"{label}: free {row['free']} vs fixed {ours['fixed']}")
        if abs(ours["est"] - row["est"]) > 1e-3 * max(1.0, abs(row["est"])):
            problems.append(f"{label}: est {ours['est']:.6f} vs {row['est']:.6f}")
        if se_key is not None and row["free"] and label not in skip_se:
            ref = row[se_key]
            if not abs(ours["se"] - ref) <= se_rtol * ref:
                problems.append(f"{label}: se {ours['se']:.6f} vs {ref:.6f} ({ours['se'] / ref - 1:+.3%})")
        checked += 1
    assert not problems, "\n".join(problems)
    return checked


def assert_fit(model, ref: dict, *, chisq_tol: float = 0.02) -> None:
    fit = model.fit()
    assert fit["npar"] == ref["npar"]
    assert fit["df"] == ref["df"]
    assert abs(fit["logl"] - ref["logl"]) < 1e-3
    assert abs(fit["chisq"] - ref["chisq"]) < chisq_tol
    assert abs(fit["baseline.chisq"] - ref["baseline.chisq"]) < chisq_tol
    assert fit["baseline.df"] == ref["baseline.df"]
    for key in ("cfi", "tli"):
        assert abs(fit[key] - ref[key]) < 1e-3, key



# ------------------------------------------------------------------ derivative checks
def rel_err(analytic: np.ndarray, numeric: np.ndarray) -> float:
    scale = np.max(np.abs(numeric))
    assert scale > 0, "degenerate check: the numerical derivative is identically zero"
    return float(np.max(np.abs(analytic - numeric)) / scale)


def central_diff(f, x: np.ndarray, step: float = 1e-5) -> np.ndarray:
    """Jacobian of f (scalar or array valued) at x by central differences with one Richardson extrapolation
    ((4 D(h/2) - D(h)) / 3, truncation error O(h^4): exact enough for parameters far below 1, such as the
    precisions of variables on a 0-100 scale), (size(f), size(x))."""
    x = np.asarray(x, dtype=float)

    def diff(k: int, h: float) -> np.ndarray:
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h
        return (np.asarray(f(up), dtype=float) - np.asarray(f(down), dtype=float)).reshape(-1) / (2 * h)

    cols = []
    for k in range(x.size):
        h = step * max(1.0, abs(x[k]))
        cols.append((4 * diff(k, h / 2) - diff(k, h)) / 3)
    return np.stack(cols, axis=1)


def routes_of(model, stats=None, estimator: str | None = None) -> tuple:
    """The likelihood routes of ``model`` (its estimator, or the one named) on ``stats`` (default: its own)."""
    stats = model.stats if stats is None else stats
    chosen = model.estimator if estimator is None else ESTIMATORS[estimator]
    return chosen.routes(stats, model.family.roles)


def objective_of(model, stats=None, routes=None, estimator: str | None = None) -> Objective:
    """The objective of ``model`` on ``stats`` (default: its own) through ``routes`` (default: its estimator's,
    or those of the estimator named)."""
    stats = model.stats if stats is None else stats
    routes = routes_of(model, stats, estimator) if routes is None else routes
    return Objective(model.family, model.table, tuple(stats), tuple(routes))


def perturbed(obj: Objective, rng: np.random.Generator, scale: float = 0.03) -> np.ndarray:
    """The start vector with small relative noise, still inside the parameter space."""
    x0 = obj.table.start_vector()
    for _ in range(20):
        x = x0 + scale * rng.standard_normal(x0.size) * np.maximum(np.abs(x0), 0.1)
        lo, hi = obj.table.bounds()
        x = np.clip(x, lo + 1e-3, hi)
        if np.isfinite(obj.loglik(x)):
            return x
    raise AssertionError("could not find a perturbed point inside the parameter space")


def with_fixed_values(model, name: str, values: np.ndarray):
    """The model with the fixed rows of matrix ``name`` set to ``values`` (flat, in row order)."""
    table = model.table
    rows = np.flatnonzero((table.names() == name) & (table.par == 0))
    value = table.value.copy()
    value[rows] = values
    return replace(model, table=table.with_columns(value=value))


def implied_stats(obj: Objective, x: np.ndarray, like: TwoLevelStats) -> TwoLevelStats:
    """Statistics equal to the implied moments at x, with the cluster sizes of ``like``."""
    mom = obj.moments(x)[0]
    w, b = mom.sigma_within, mom.sigma_between
    s = like.sizes.astype(float)
    return TwoLevelStats(
        vars=like.vars,
        n_units=like.n_units,
        n_clusters=like.n_clusters,
        within_cov=w.copy(),
        sizes=like.sizes.copy(),
        size_counts=like.size_counts.copy(),
        size_means=np.tile(mom.mu, (s.size, 1)),
        size_covs=(w[None] + s[:, None, None] * b[None]) / s[:, None, None],
    )


def assert_element_jacobian(obj: Objective, x: np.ndarray) -> None:
    """d phi / d element (every table row, fixed ones too) vs central differences of phi."""
    table, family = obj.table, obj.family
    analytic = obj.jacobian(x, 0, free_only=False)
    values = table.values_at(x)
    group_rows = np.flatnonzero(table.group == 0)

    def phi_of(v_rows):
        v = values.copy()
        v[group_rows] = v_rows
        return family.implied(table.matrices(v, 0)).phi()

    numeric = central_diff(phi_of, values[group_rows], step=1e-6)
    assert rel_err(analytic[:, group_rows], numeric) < 1e-6


def assert_gradient(obj: Objective, x: np.ndarray, tol: float = 1e-6) -> None:
    ll, grad = obj.loglik_and_gradient(x)
    assert np.isfinite(ll)
    assert ll == pytest.approx(obj.loglik(x), rel=1e-12)
    numeric = central_diff(obj.loglik, x)[0]
    assert rel_err(grad, numeric) < tol


def assert_information(obj: Objective, x: np.ndarray, tol: float = 1e-5) -> None:
    """Expected information at x == minus the Hessian of logL when the statistics are the implied moments."""
    st = implied_stats(obj, x, obj.stats[0])
    at_truth = type(obj)(obj.family, obj.table, (st,), (statistics_route(obj.family.roles),))
    _, grad = at_truth.loglik_and_gradient(x)
    info = at_truth.information(x)
    # x maximizes the expected log-likelihood: the score vanishes there
    assert np.max(np.abs(grad)) < 1e-8 * np.max(np.abs(info))
    hess = central_diff(lambda v: at_truth.loglik_and_gradient(v)[1], x, step=1e-5)
    hess = 0.5 * (hess + hess.T)
    assert rel_err(info, -hess) < tol


def brute_force_loglik(data: pd.DataFrame, vars: list[str], cluster: str, mom: Moments) -> float:
    """The two-level log-likelihood by brute force: every cluster of n units is one multivariate normal
    vector (y_1', ..., y_n')' with mean 1_n (x) mu and covariance I_n (x) Sigma_W + 1_n 1_n' (x) Sigma_B,
    of which the observed entries count."""
    total = 0.0
    for _, frame in data.groupby(cluster, sort=False):
        y = frame[vars].to_numpy(dtype=float)
        n, p = y.shape
        cov = np.kron(np.eye(n), mom.sigma_within) + np.kron(np.ones((n, n)), mom.sigma_between)
        mean = np.tile(mom.mu, n)
        vec = y.reshape(-1)  # unit by unit: (y_1', y_2', ...)'
        obs = ~np.isnan(vec)
        if not obs.any():
            continue
        # scipy's density with the covariance given by its (numpy) Cholesky factor: the default
        # eigendecomposition is needlessly slow for ~100-dimensional cluster vectors
        chol = np.linalg.cholesky(cov[np.ix_(obs, obs)])
        total += multivariate_normal.logpdf(vec[obs], mean[obs], Covariance.from_cholesky(chol))
    return float(total)


def unit_frame(stats: TwoLevelStats) -> pd.DataFrame:
    """The unit rows a statistics object was computed from (values, NaN where missing), with ``cluster``."""
    units = stats.units
    assert units is not None
    values = np.where(units.observed, units.values + units.center, np.nan)
    frame = pd.DataFrame(values, columns=list(stats.vars))
    frame["cluster"] = units.cluster
    return frame


def units_with_holes(stats: TwoLevelStats, share: float, seed: int) -> pd.DataFrame:
    """:func:`unit_frame` with ``share`` of the values set missing at random."""
    frame = unit_frame(stats)
    vars = list(stats.vars)
    values = frame[vars].to_numpy(copy=True)
    values[np.random.default_rng(seed).random(values.shape) < share] = np.nan
    frame[vars] = values
    return frame



# ------------------------------------------------------------------ the random-intercept VAR(1) oracle
def oracle_s0(beta: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """S0 = beta S0 beta' + Sigma through the Kronecker system (written out, independent of the package)."""
    p = beta.shape[0]
    return np.linalg.solve(np.eye(p * p) - np.kron(beta, beta), sigma.reshape(-1)).reshape(p, p)


def var1_brute_force_loglik(params, values, person, segment, occasion) -> float:  # noqa: ANN001
    """The exact log-likelihood of the random-intercept VAR(1), one dense normal vector per person.

    A person's observed values have mean mu and covariance blocks Cov(y_t+k, y_t) = beta^k S0 + Sigma_B
    between occasions k apart in one segment, Sigma_B between segments; ``scipy.stats.multivariate_normal``
    on the observed entries, summed over persons.  ``params`` has ``mu``, ``beta``, ``sigma_within`` and
    ``sigma_between``.
    """
    p = params.mu.size
    s0 = oracle_s0(params.beta, params.sigma_within)
    total = 0.0
    for i in np.unique(person):
        rows = np.flatnonzero(person == i)
        n = rows.size
        cov = np.zeros((n, p, n, p))
        for a in range(n):
            for c in range(n):
                block = params.sigma_between.copy()
                if segment[rows[a]] == segment[rows[c]]:
                    k = int(occasion[rows[a]] - occasion[rows[c]])
                    block += np.linalg.matrix_power(params.beta, k) @ s0 if k >= 0 else \
                        s0 @ np.linalg.matrix_power(params.beta, -k).T
                cov[a, :, c, :] = block
        cov = cov.reshape(n * p, n * p)
        vec = values[rows].reshape(-1)
        obs = ~np.isnan(vec)
        if obs.any():
            total += multivariate_normal.logpdf(vec[obs], np.tile(params.mu, n)[obs], cov[np.ix_(obs, obs)])
    return float(total)


# ------------------------------------------------------------------ psychonetrics' parameter rows on our tables
def reference_positions(model, parameters: list[dict]) -> np.ndarray:  # noqa: ANN001
    """Index in the free-parameter vector of ``model`` of every reference row (``matrix``, 1-based ``row``
    and ``col``), in the reference's order."""
    table, names = model.table, model.table.names()
    out = []
    for row in parameters:
        sel = np.flatnonzero((names == row["matrix"]) & (table.row == row["row"] - 1) & (table.col == row["col"] - 1))
        assert sel.size == 1, row
        assert table.par[sel[0]] > 0, row
        out.append(table.par[sel[0]] - 1)
    return np.asarray(out, dtype=np.int64)


def reference_vector(model, parameters: list[dict]) -> np.ndarray:  # noqa: ANN001
    """The free-parameter vector of ``model`` at the reference's estimates (the other free parameters at the
    model's values)."""
    x = model.table.start_vector().copy()
    x[reference_positions(model, parameters)] = [row["est"] for row in parameters]
    return x


# ------------------------------------------------------------------ the four-variable VAR(1) of the simulations
#: Temporal effects with spectral radius 0.5: four autoregressions, four cross-lagged effects.
VAR4_BETA = np.array([[0.30, 0.15, 0.00, 0.00],
                      [0.00, 0.25, 0.15, 0.00],
                      [0.00, 0.00, 0.30, -0.15],
                      [0.10, 0.00, 0.00, 0.20]])
VAR4_BETA = VAR4_BETA * 0.5 / np.max(np.abs(np.linalg.eigvals(VAR4_BETA)))
VAR4_SD = np.array([1.0, 1.2, 0.8, 1.0])
VAR4_SIGMA_WITHIN = np.array([[1, .3, .1, 0], [.3, 1, -.2, .1], [.1, -.2, 1, .3], [0, .1, .3, 1]]) \
    * np.outer(VAR4_SD, VAR4_SD)
#: Correlations of the person means.
VAR4_BETWEEN_CORR = np.array([[1, .4, .2, .1], [.4, 1, .3, .2], [.2, .3, 1, .4], [.1, .2, .4, 1]])
