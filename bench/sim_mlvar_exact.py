"""Simulation: the exact likelihood of the random-intercept VAR(1) (``ml_var(estimator="FIML")``) beside the
lag-pair pseudo-likelihood (``estimator="ML"``).

Run from the project root::

    python bench/sim_mlvar_exact.py              # 200 replicates per T (as tests/test_mlvar_exact_coverage.py)
    python bench/sim_mlvar_exact.py --reps 50

The design of ``tests/test_mlvar_exact_coverage.py``: p = 4 variables, 60 persons of T = 25 and T = 50 beeps,
complete data; beta with spectral radius 0.5 (four autoregressions, four cross-lagged effects), correlated
innovations (Sigma_zeta_within) and person means (Sigma_zeta_between, variances 0.5-1 times the within
ones); each person's series starts at its stationary distribution.  Per T and estimator the table gives the
mean relative bias of the between and within variances (mean over the four of (mean estimate - truth) /
truth), the mean absolute bias of beta (mean over its 16 elements of |mean estimate - truth|), the coverage
of the model-based 95% Wald intervals (est +- 1.96 se) by parameter class and pooled over every free
parameter, the number of fits that did not converge (left out of the summaries) and the mean fit time.
Seeds are fixed: T = 25 and T = 50 draw from ``default_rng(SEED + T)``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import psychonetrics as pn  # noqa: E402

VARS = ["V1", "V2", "V3", "V4"]
BETA = np.array([[0.30, 0.15, 0.00, 0.00],
                 [0.00, 0.25, 0.15, 0.00],
                 [0.00, 0.00, 0.30, -0.15],
                 [0.10, 0.00, 0.00, 0.20]])
BETA = BETA * 0.5 / np.max(np.abs(np.linalg.eigvals(BETA)))
SD = np.array([1.0, 1.2, 0.8, 1.0])
SIGMA_WITHIN = np.array([[1, .3, .1, 0], [.3, 1, -.2, .1], [.1, -.2, 1, .3], [0, .1, .3, 1]]) * np.outer(SD, SD)
SD_BETWEEN = SD * np.sqrt([0.5, 0.7, 0.85, 1.0])  # between variances 0.5, 0.7, 0.85 and 1 times the within ones
SIGMA_BETWEEN = np.array([[1, .4, .2, .1], [.4, 1, .3, .2], [.2, .3, 1, .4], [.1, .2, .4, 1]]) \
    * np.outer(SD_BETWEEN, SD_BETWEEN)
TRUTH = {"mu": np.zeros((4, 1)), "beta": BETA, "sigma_zeta_within": SIGMA_WITHIN, "sigma_zeta_between": SIGMA_BETWEEN}
CLASSES = ("mu", "beta", "sigma_zeta_within", "sigma_zeta_between")
PERSONS, BEEPS, REPS, SEED = 60, (25, 50), 200, 20240611


def simulate(rng: np.random.Generator, persons: int, beeps: int) -> pd.DataFrame:
    """Long data (id, beep, V1..V4): y_it = b_i + w_it, w_it = beta w_i,t-1 + zeta_it, w_i1 ~ N(0, S0)."""
    p = len(VARS)
    s0 = np.linalg.solve(np.eye(p * p) - np.kron(BETA, BETA), SIGMA_WITHIN.reshape(-1)).reshape(p, p)
    w = np.empty((persons, beeps, p))
    w[:, 0] = rng.multivariate_normal(np.zeros(p), s0, size=persons)
    zeta = rng.multivariate_normal(np.zeros(p), SIGMA_WITHIN, size=(persons, beeps))
    for t in range(1, beeps):
        w[:, t] = w[:, t - 1] @ BETA.T + zeta[:, t]
    y = w + rng.multivariate_normal(np.zeros(p), SIGMA_BETWEEN, size=persons)[:, None, :]
    data = pd.DataFrame(y.reshape(-1, p), columns=VARS)
    data.insert(0, "beep", np.tile(np.arange(1, beeps + 1), persons))
    data.insert(0, "id", np.repeat(np.arange(1, persons + 1), beeps))
    return data


def fit(data: pd.DataFrame, estimator: str) -> tuple[pd.DataFrame | None, float]:
    """The free parameters (matrix, est, se, truth) of one fit (None when it did not converge), and its time."""
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = pn.ml_var(data, idvar="id", vars=VARS, beepvar="beep", estimator=estimator).runmodel()
    except Exception:  # noqa: BLE001  (a failed fit counts as not converged)
        return None, time.perf_counter() - t0
    seconds = time.perf_counter() - t0
    if not model.converged:
        return None, seconds
    params = model.parameters()
    params = params.loc[~params["fixed"], ["matrix", "row", "col", "est", "se"]].reset_index(drop=True)
    params["truth"] = [TRUTH[m][r - 1, c - 1] for m, r, c in zip(params["matrix"], params["row"], params["col"])]
    return params, seconds


def summary(fits: list[pd.DataFrame], seconds: list[float], failed: int) -> dict[str, float]:
    rows = pd.concat(fits, keys=range(len(fits)), names=["rep", None])
    mean = rows.groupby(["matrix", "row", "col"])[["est", "truth"]].mean()
    diag = mean.loc[mean.index.get_level_values("row") == mean.index.get_level_values("col")]
    out = {}
    for matrix, key in (("sigma_zeta_between", "between_relbias"), ("sigma_zeta_within", "within_relbias")):
        d = diag.loc[matrix]
        out[key] = float(np.mean(d["est"] / d["truth"] - 1))
    out["beta_absbias"] = float(np.mean(np.abs(mean.loc["beta", "est"] - mean.loc["beta", "truth"])))
    inside = np.abs(rows["est"] - rows["truth"]) < 1.959964 * rows["se"]
    for matrix in CLASSES:
        out[f"cover_{matrix}"] = float(inside[rows["matrix"] == matrix].mean())
    out["cover_all"] = float(inside.mean())
    out["failed"] = failed
    out["seconds"] = float(np.mean(seconds))
    return out


def run(reps: int, seed: int = SEED) -> pd.DataFrame:
    table = []
    for beeps in BEEPS:
        rng = np.random.default_rng(seed + beeps)
        fits: dict[str, list] = {"FIML": [], "ML": []}
        seconds: dict[str, list] = {"FIML": [], "ML": []}
        failed = {"FIML": 0, "ML": 0}
        for _ in range(reps):
            data = simulate(rng, PERSONS, beeps)
            for estimator in ("FIML", "ML"):
                params, secs = fit(data, estimator)
                seconds[estimator].append(secs)
                if params is None:
                    failed[estimator] += 1
                else:
                    fits[estimator].append(params)
        for estimator, label in (("FIML", "FIML (exact)"), ("ML", "ML (lag pairs)")):
            table.append({"T": beeps, "estimator": label,
                          **summary(fits[estimator], seconds[estimator], failed[estimator])})
    return pd.DataFrame(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=REPS, help=f"replicates per T (default {REPS})")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    t0 = time.perf_counter()
    table = run(args.reps, args.seed)
    print(f"{PERSONS} persons, p = {len(VARS)}, {args.reps} replicates per T, complete data, seed {args.seed}")
    print("relbias: mean over the 4 variances of (mean est - truth) / truth; beta_absbias: mean over the 16 "
          "elements of |mean est - truth|; cover_*: 95% Wald (est +- 1.96 se, model-based); failed: fits not "
          "converged (left out); seconds: mean per fit")
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"total {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
