"""Benchmark: the exact random-intercept VAR(1) likelihood (``psychonetrics.likelihood.var1_exact``).

Run from the project root::

    python bench/bench_var1_exact.py            # median of 15 evaluations
    python bench/bench_var1_exact.py --quick    # median of 5, no fits

Cases (simulated, spectral radius of beta 0.6):

* (i)   100 persons x 70 occasions x 6 variables, 30% of occasions missing
        altogether and 2% of the remaining values missing;
* (ii)  10,000 persons x 100 occasions x 10 variables, complete;
* (iii) 100 persons x 8 occasions x 6 variables, complete;
* (i7)  as (i) with the 70 occasions in 7 days of 10 (7 segments).

Columns are wall-clock times with one BLAS thread (as fits run):
``series_data`` once; the medians (and minima) of ``loglik_var1`` and
``dloglik_var1`` (log-likelihood and gradient); ``person_scores_var1`` and
``information_var1`` (observed information, 2 psi_size gradients) once; and an
illustrative full fit: scipy's BFGS on the analytic gradient from a naive
start (means, beta = 0, half the within and between variances), with its
number of evaluations.  The machine's load average is printed: on a shared
machine the times vary.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from psychonetrics._threads import single_threaded_blas  # noqa: E402
from psychonetrics.likelihood.var1_exact import (  # noqa: E402
    VarParameters,
    dloglik_var1,
    information_var1,
    loglik_var1,
    parameters_from_psi,
    person_scores_var1,
    psi_of,
    series_data,
    simulate_var1,
)

CASES = [
    # name, persons, occasions per segment, segments, variables, missing occasions, missing values
    ("(i)", 100, 70, 1, 6, 0.30, 0.02),
    ("(i7)", 100, 10, 7, 6, 0.30, 0.02),
    ("(ii)", 10_000, 100, 1, 10, 0.0, 0.0),
    ("(iii)", 100, 8, 1, 6, 0.0, 0.0),
]


def truth(p: int, rng: np.random.Generator) -> VarParameters:
    beta = rng.standard_normal((p, p))
    beta *= 0.6 / np.abs(np.linalg.eigvals(beta)).max()
    a = rng.standard_normal((p, p))
    sigma = a @ a.T / p + 0.5 * np.eye(p)
    a = rng.standard_normal((p, p))
    between = 0.3 * a @ a.T / p + 0.2 * np.eye(p)
    return VarParameters(rng.uniform(-1, 1, p), beta, sigma, between)


def naive_start(values: np.ndarray, person: np.ndarray) -> VarParameters:
    p = values.shape[1]
    mu = np.nanmean(values, axis=0)
    counts = np.bincount(person)
    means = np.stack([np.bincount(person, weights=np.nan_to_num(values[:, a], nan=mu[a]))
                      for a in range(p)], axis=1) / counts[:, None]
    within = np.nanvar(values - means[person], axis=0)
    between = np.var(means, axis=0)
    return VarParameters(mu, np.zeros((p, p)), np.diag(0.5 * within + 1e-3), np.diag(0.5 * between + 1e-3))


def timed(fn, repeat: int) -> tuple[float, float]:  # noqa: ANN001
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def fit(data, start: VarParameters) -> tuple[float, int, bool]:  # noqa: ANN001
    p = data.n_vars
    calls = [0]

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        calls[0] += 1
        ll, g = dloglik_var1(parameters_from_psi(x, p), data)
        if not np.isfinite(ll):
            return 1e300, np.zeros_like(x)
        return -ll / data.n_persons, -g / data.n_persons

    t0 = time.perf_counter()
    res = minimize(objective, psi_of(start), jac=True, method="BFGS", options={"gtol": 1e-5, "maxiter": 5000})
    return time.perf_counter() - t0, calls[0], bool(res.success)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="median of 5 evaluations and no fits")
    args = parser.parse_args()
    repeat = 5 if args.quick else 15
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; times in ms unless marked s")
    header = (f"{'case':6} {'J':>6} {'T':>4} {'p':>3} {'rows':>9} {'runs':>5} {'series_data':>11} "
              f"{'loglik':>14} {'loglik+grad':>14} {'scores':>8} {'info_s':>7} {'fit_s':>6} {'evals':>5}")
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(2024)
    for name, n_persons, n_occ, n_seg, p, missing, missing_values in CASES:
        par = truth(p, rng)
        arrays = simulate_var1(par, n_persons, n_occ, n_segments=n_seg, rng=rng, missing=missing,
                               missing_values=missing_values)
        with single_threaded_blas():
            t0 = time.perf_counter()
            data = series_data(*arrays)
            t_data = time.perf_counter() - t0
            ll_med, ll_min = timed(lambda: loglik_var1(par, data), repeat)
            gr_med, gr_min = timed(lambda: dloglik_var1(par, data), repeat)
            t0 = time.perf_counter()
            person_scores_var1(par, data)
            t_scores = time.perf_counter() - t0
            if n_persons * n_occ * n_seg <= 100_000:
                t0 = time.perf_counter()
                information_var1(par, data)
                info = f"{time.perf_counter() - t0:7.2f}"
            else:
                info = f"{'-':>7}"
            if args.quick:
                fit_s, evals = f"{'-':>6}", f"{'-':>5}"
            else:
                seconds, n_evals, ok = fit(data, naive_start(arrays[0], arrays[1]))
                fit_s, evals = f"{seconds:6.2f}", f"{n_evals:5d}" + ("" if ok else "*")
        print(f"{name:6} {n_persons:6d} {n_occ * n_seg:4d} {p:3d} {arrays[0].shape[0]:9d} {data.n_runs:5d} "
              f"{t_data * 1e3:11.1f} {ll_med * 1e3:7.2f} ({ll_min * 1e3:5.2f}) {gr_med * 1e3:7.2f} "
              f"({gr_min * 1e3:5.2f}) {t_scores * 1e3:8.1f} {info} {fit_s} {evals}")
    print("loglik, loglik+grad: median (minimum); info_s: observed information by differenced gradients;")
    print("fit_s: scipy BFGS from a naive start (* = not converged to gtol 1e-5 on logL / J).")


if __name__ == "__main__":
    main()
