"""Benchmark: multilevel VAR on lag pairs (``ml_var`` / ``ml_gvar``) beside psychonetrics 0.17's ``ml_var1``.

Run from the project root::

    python bench/bench_mlvar.py            # all three tables
    python bench/bench_mlvar.py --quick    # fewer repetitions, 2,000 persons in the scale tables

The first table fits the ``ml_var_lmfa`` reference (100 persons, 4776 beeps,
6 items) as its case file records psychonetrics' fits (``estimator="ML"``),
warm, from the DataFrame (lag pairs, statistics, fit, reference models and
standard errors), beside the seconds psychonetrics took (its ``seconds``
entries).  The second simulates 10,000 persons x 100 beeps x 10 items,
writes them to Parquet and times ``ml_gvar`` on the file end to end: DuckDB
forms the lag pairs and their statistics out of core, then the fit.  The
third times the exact likelihood (``estimator="FIML"``): the
``ml_var_lmfa_short`` reference beside psychonetrics' panelvar route (its
``seconds``), 100 persons x 70 beeps x 6 items with 30% of the beeps
missing, and 10,000 persons x 100 beeps x 10 items complete, each from the
DataFrame to the standard errors.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from timing import median_time

import psychonetrics as pn

REFERENCE = Path(__file__).resolve().parents[1] / "tests" / "data" / "reference" / "ml_var_lmfa"
SHORT = REFERENCE.parent / "ml_var_lmfa_short"


def reference_table(repeat: int) -> pd.DataFrame:
    spec = json.loads((REFERENCE / "expected.json").read_text())
    data = pd.read_csv(REFERENCE / "data.csv")
    rows = []
    for key, wrapper in (("var_cov", pn.ml_var), ("gvar_ggm", pn.ml_gvar)):
        ref = spec["reference"][key]

        def fit() -> pn.Model:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return wrapper(data, idvar="id", vars=spec["vars"], estimator="ML").runmodel()

        model = fit()
        ours = median_time(fit, repeat)
        rows.append({"fit": f"{key} ({wrapper.__name__})", "ours_s": ours, "psychonetrics_s": ref["seconds"],
                     "speedup": ref["seconds"] / ours, "logl_ours": model.fit()["logl"],
                     "logl_psychonetrics": ref["fit"]["logl"]})
        if "pruned" in ref:
            def prune() -> pn.Model:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return model.prune(alpha=0.01)

            pruned = prune()
            ours = median_time(prune, repeat)
            rows.append({"fit": f"{key}: prune(alpha=0.01)", "ours_s": ours,
                         "psychonetrics_s": ref["pruned"]["seconds"], "speedup": ref["pruned"]["seconds"] / ours,
                         "logl_ours": pruned.fit()["logl"], "logl_psychonetrics": ref["pruned"]["fit"]["logl"]})
    return pd.DataFrame(rows)


def simulate(n_persons: int, n_beeps: int, p: int, missing: float = 0.0) -> tuple[pd.DataFrame, list[str],
                                                                                 np.ndarray]:
    """ESM data of a VAR(1) with AR 0.3, cross-lagged 0.1 and AR(1)-shaped innovation and between correlations."""
    nodes = [f"x{k}" for k in range(1, p + 1)]
    beta = np.diag(np.full(p, 0.3)) + np.diag(np.full(p - 1, 0.1), -1)
    corr = 0.3 ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
    from psychonetrics.families.ml_var.family import MlVar

    family = MlVar(nodes, tuple(f"{v}_lag1" for v in nodes) + tuple(nodes))
    mats = {"mu": np.zeros((p, 1)), "beta": beta, "sigma_zeta_within": corr, "sigma_zeta_between": 0.5 * corr}
    data = family.simulate(mats, rng=np.random.default_rng(1), n_persons=n_persons, n_beeps=n_beeps, dayvar=None,
                           missing=missing)
    return data, nodes, beta


def scale_table(n_persons: int) -> pd.DataFrame:
    """Simulate n_persons x 100 beeps x 10 items, write Parquet, fit ml_gvar on the file (DuckDB)."""
    p = 10
    t0 = time.perf_counter()
    data, nodes, beta = simulate(n_persons, 100, p)
    simulate_s = time.perf_counter() - t0
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "esm.parquet"
        data.to_parquet(path, index=False)
        size_mb = path.stat().st_size / 1e6
        del data
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = pn.ml_gvar(str(path), idvar="id", beepvar="beep", vars=nodes)
            stats_s = time.perf_counter() - t0
            model = model.runmodel()
        total = time.perf_counter() - t0
        rows.append({"data": f"{n_persons} persons x 100 beeps x {p} items (Parquet {size_mb:.0f} MB)",
                     "simulate_s": simulate_s, "lag_pairs_and_stats_s": stats_s, "fit_s": total - stats_s,
                     "end_to_end_s": total, "target_s": 10.0, "estimator": model.estimator.name,
                     "max_abs_beta_error": float(np.abs(model.getmatrix("beta") - beta).max())})
    return pd.DataFrame(rows)


def exact_table(repeat: int, n_persons: int) -> pd.DataFrame:
    """The exact likelihood from the DataFrame to the standard errors (build + runmodel)."""
    rows = []
    spec = json.loads((SHORT / "expected.json").read_text())
    ref = spec["reference"]["var_cov_fiml"]
    short = pd.read_csv(SHORT / "data.csv")
    cases = [("ml_var_lmfa_short: 100 persons x 8 beeps x 6 items", short, spec["vars"], ref["seconds"], None),
             ("100 persons x 70 beeps x 6 items, 30% beeps missing", *simulate(100, 70, 6, missing=0.3)[:2], None, 2.0),
             (f"{n_persons} persons x 100 beeps x 10 items", *simulate(n_persons, 100, 10)[:2], None, 20.0)]
    for label, data, nodes, psychonetrics_s, target in cases:
        idvar = "id"

        def fit() -> pn.Model:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return pn.ml_var(data, idvar=idvar, vars=nodes, beepvar="beep", estimator="FIML").runmodel()

        model = fit()
        ours = median_time(fit, repeat if len(data) < 100_000 else 1)
        series = model.stats[0].series
        rows.append({"data": label, "values": series.n_observed_values, "ours_s": ours,
                     "panelvar_s": psychonetrics_s if psychonetrics_s else np.nan,
                     "speedup": psychonetrics_s / ours if psychonetrics_s else np.nan,
                     "target_s": target if target else np.nan, "converged": model.converged,
                     "logl": model.fit()["logl"],
                     "logl_reference": ref["fit"]["logl"] if psychonetrics_s else np.nan})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    pd.set_option("display.width", 160)
    repeat = 3 if args.quick else 7
    print("ml_var_lmfa (100 persons, 6 items), estimator='ML', warm, median of", repeat, "runs:")
    print(reference_table(repeat).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print()
    print("Out of core (DuckDB lag pairs from Parquet, then the fit):")
    print(scale_table(2000 if args.quick else 10000).to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print()
    print("The exact likelihood (estimator='FIML'), DataFrame to standard errors, warm, median of", repeat, "runs:")
    print(exact_table(repeat, 2000 if args.quick else 10000).to_string(index=False,
                                                                       float_format=lambda v: f"{v:.4g}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
