"""Benchmark: level-specific models (lavaan syntax) and robust inference, beside lavaan.

Run from the project root::

    python bench/bench_levels.py            # median of 7 runs
    python bench/bench_levels.py --quick    # median of 3 runs

Every case of ``tests/data`` in the syntax format (lavaan's ``level:``
models, with lavaan 0.6-14's timings recorded in the case) is fitted with
ML and, where lavaan's MLR time is recorded, with MLR.  A time is the
wall-clock median of ``runmodel()`` followed by ``fit()`` (model, saturated
and baseline fits, standard errors, fit measures; for MLR also the per-cluster
scores, the observed information and the scaled test).  Columns:

* ``ML_s``: ML with the default SEs (expected information);
* ``ML_obs_s``: ML with ``information="observed"``, lavaan's two-level default;
* ``MLR_s`` and ``MLR/ML``, ``MLR/ML_obs``: the cost of robust inference;
* ``lavaan_ML_s``, ``lavaan_MLR_s`` and the speed-ups over lavaan.

A second table times ML and MLR on the wide simulated models of
``bench/size_cases.py`` (p = 10, 30, 60).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from timing import median_time

import psychonetrics as pn

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def _cases() -> list[tuple[str, dict, pd.DataFrame]]:
    out = []
    for path in sorted(DATA.glob("*/*/expected.json")):
        spec = json.loads(path.read_text())
        if spec.get("format") != "syntax" or not spec.get("lavaan_seconds"):
            continue
        out.append((path.parent.name, spec, pd.read_csv(path.parent / spec["data"])))
    return out


def table(repeat: int) -> pd.DataFrame:
    rows = []
    for name, spec, data in _cases():
        options = spec.get("options") or {}
        fixed_x = bool(options.get("fixed.x", True)) if isinstance(options, dict) else True

        def run(**kwargs: object) -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pn.ml_lvm(data, spec["syntax"], clusters=spec["clusters"], fixed_x=fixed_x, **kwargs).runmodel().fit()

        lav = spec["lavaan_seconds"]
        ml = median_time(run, repeat, warm=True)
        ml_obs = median_time(lambda: run(information="observed"), repeat, warm=True)
        mlr = median_time(lambda: run(estimator="MLR"), repeat, warm=True) if "MLR" in lav else np.nan
        rows.append({"case": name, "J": data[spec["clusters"]].nunique(), "N": len(data),
                     "ML_s": ml, "ML_obs_s": ml_obs, "MLR_s": mlr, "MLR/ML": mlr / ml, "MLR/ML_obs": mlr / ml_obs,
                     "lavaan_ML_s": lav["ML"], "lavaan_MLR_s": lav.get("MLR", np.nan),
                     "speedup_ML": lav["ML"] / ml, "speedup_MLR": lav.get("MLR", np.nan) / mlr})
    return pd.DataFrame(rows)


def width_table(repeat: int, sizes: tuple[int, ...] = (10, 30, 60)) -> pd.DataFrame:
    """ML and MLR on the wide simulated models of ``bench/size_cases.py`` (runmodel + fit)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from size_cases import simulate

    rows = []
    for p in sizes:
        data = simulate(p)
        syntax = "\n".join(f"F{k + 1} =~ " + " + ".join(f"y{10 * k + i + 1}" for i in range(10))
                           for k in range(p // 10))

        def run(**kwargs: object) -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pn.ml_lvm(data, syntax, clusters="cluster", **kwargs).runmodel().fit()

        ml = median_time(run, repeat, warm=True)
        mlr = median_time(lambda: run(estimator="MLR"), repeat, warm=True)
        rows.append({"p": p, "ML_s": ml, "MLR_s": mlr, "MLR/ML": mlr / ml})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else 7
    pd.set_option("display.width", 200)
    print(f"Level-specific models and MLR (runmodel + fit, median of {repeat} runs; "
          "lavaan 0.6-14 times from the cases):")
    print(table(repeat).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print()
    print("Width (p indicators of p/10 factors, 300 clusters of 5-15; the scaled test's saturated-model "
          "information grows as p^4):")
    print(width_table(max(1, repeat // 3)).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
