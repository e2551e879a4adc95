"""Benchmark: small fits against their targets, every lavaan reference case, then scaling in J and cluster size.

Run from the project root::

    python bench/bench_fit.py            # all tables
    python bench/bench_fit.py --quick    # fewer repetitions

The first table times the three small fits a user meets first, warm, from
the DataFrame to the fitted model (building the model: statistics, start
values and the saturated fit; ``runmodel()``: the fit, the baseline model,
standard errors and diagnostics), against the project's targets.
The other times are wall-clock medians of whole ``runmodel()`` calls (model, saturated
and baseline fits and standard errors), statistics included where noted.
``lavaan_seconds`` is the median lavaan time recorded in each reference case.
Peer timings quoted for the scaling table were measured on the same model
(psychonetrics 0.17 and lavaan 0.6, see the project notes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from timing import median_time

import psychonetrics as pn

REFERENCE = Path(__file__).resolve().parents[1] / "tests" / "data" / "reference"
SYNTAX = "F1 =~ y1 + y2 + y3\nF2 =~ y4 + y5 + y6"


def _case_kwargs(spec: dict) -> dict:
    m = spec["model"]
    kw = {"lambda_": np.asarray(m["lambda"]), "clusters": m["clusters"], "vars": m["vars"]}
    for key in ("beta_within", "beta_between"):
        kw[key] = m[key] if isinstance(m[key], str) else np.asarray(m[key])
    if m.get("groups"):
        kw["groups"] = m["groups"]
        kw["equal"] = m.get("equal", [])
    for key in ("sigma_zeta_within", "sigma_zeta_between"):
        if key in m:
            kw[key] = np.asarray(m[key]) if not isinstance(m[key], str) else m[key]
    return kw


#: (name, reference case or None for the seed example, estimator, target in seconds)
SMALL_FITS = (("seed example", None, "ML", 0.006), ("Demo.twolevel", "demo_twolevel", "ML", 0.010),
              ("missing_mcar", "missing_mcar", "FIML", 0.060))


def small_fits_table(repeat: int) -> pd.DataFrame:
    """Build + runmodel() of the seed example, Demo.twolevel and missing_mcar (FIML), warm."""
    rows = []
    for name, case, estimator, target in SMALL_FITS:
        if case is None:
            data, kw, lav = pn.datasets.seed_example(), {"lambda_": np.array([[1, 0]] * 3 + [[0, 1]] * 3),
                                                          "clusters": "cluster"}, np.nan
        else:
            spec = json.loads((REFERENCE / case / "expected.json").read_text())
            data, kw, lav = pd.read_csv(REFERENCE / case / "data.csv"), _case_kwargs(spec), spec.get("lavaan_seconds")

        def run() -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pn.ml_lvm(data, estimator=estimator, **kw).runmodel()

        for _ in range(5):  # warm up imports and caches
            run()
        # the median of many short runs: a few milliseconds each
        ours = statistics.median(median_time(run, 9) for _ in range(max(3, repeat)))
        rows.append({"fit": name, "estimator": estimator, "ours_ms": 1e3 * ours, "target_ms": 1e3 * target,
                     "met": ours < target, "lavaan_ms": 1e3 * lav if lav else np.nan})
    return pd.DataFrame(rows)


def reference_table(repeat: int) -> pd.DataFrame:
    rows = []
    for folder in sorted(p for p in REFERENCE.iterdir() if p.is_dir()):
        spec = json.loads((folder / "expected.json").read_text())
        if spec.get("format") == "syntax":
            continue  # level-specific cases: bench/bench_levels.py
        if spec.get("format") == "ml_var":
            continue  # multilevel VAR cases: bench/bench_mlvar.py
        data = pd.read_csv(folder / "data.csv")
        kw = _case_kwargs(spec)
        for estimator in ("ML", "FIML") if spec["model"].get("missing") else ("ML",):
            def run() -> None:
                pn.ml_lvm(data, estimator=estimator, **kw).runmodel()

            run()  # warm up imports and caches
            ours = median_time(run, repeat)
            lav = spec.get("lavaan_seconds", np.nan)
            rows.append({"case": folder.name, "estimator": estimator, "J": spec["reference"]["fit"]["J"],
                         "N": spec["reference"]["fit"]["N"], "ours_s": ours, "lavaan_s": lav,
                         "speedup": lav / ours})
    return pd.DataFrame(rows)


def _simulated(n_clusters: int, sizes: tuple[int, int], seed: int, missing: float = 0.0) -> pd.DataFrame:
    base = pn.ml_lvm(pn.datasets.seed_example(), SYNTAX, clusters="cluster").runmodel()
    data = pn.generate(base, n_clusters=n_clusters, cluster_size=sizes, seed=seed)
    if missing:
        rng = np.random.default_rng(seed + 1)
        values = data[[f"y{i}" for i in range(1, 7)]].to_numpy(copy=True)
        values[rng.random(values.shape) < missing] = np.nan
        data[[f"y{i}" for i in range(1, 7)]] = values
    return data


def scaling_table(repeat: int) -> pd.DataFrame:
    # (J, sizes, missing share, estimator, peer note)
    cases = [
        (60, (10, 10), 0.0, "ML", "psychonetrics 0.34 s, lavaan 0.20 s"),
        (500, (10, 50), 0.0, "ML", "psychonetrics 0.97 s, lavaan 0.75 s"),
        (2000, (5, 100), 0.0, "ML", "psychonetrics 5.2 s, lavaan 1.7 s"),
        (100, (18, 25), 0.0, "FIML", "psychonetrics FIML > 130 s"),
        (500, (10, 50), 0.10, "FIML", "psychonetrics FIML out of memory"),
        (2000, (5, 100), 0.10, "FIML", ""),
    ]
    rows = []
    for j, sizes, miss, estimator, note in cases:
        data = _simulated(j, sizes, seed=j, missing=miss)

        def run() -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pn.ml_lvm(data, SYNTAX, clusters="cluster", estimator=estimator).runmodel()

        run()
        rows.append({"J": j, "sizes": f"{sizes[0]}-{sizes[1]}", "N": len(data), "missing": miss,
                     "estimator": estimator, "ours_s (stats+fit)": median_time(run, repeat), "peers": note})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else 7
    pd.set_option("display.width", 140)
    if REFERENCE.exists():
        print("Small fits (build + runmodel, warm; median):")
        print(small_fits_table(repeat).to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        print()
        print("Reference cases (whole runmodel, median of", repeat, "runs):")
        print(reference_table(repeat).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        print()
    else:
        print(f"reference cases not found at {REFERENCE}; skipping that table", file=sys.stderr)
    print("Scaling (6 variables, 2 factors; statistics + runmodel):")
    print(scaling_table(max(1, repeat // 2)).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
