"""Benchmark: wide models, near-singular between levels and model searches on real data.

Run from the project root::

    python bench/bench_sizes.py            # everything (a few minutes)
    python bench/bench_sizes.py --quick    # one repetition, no 11-item modelsearch

Tables
------
1. Width: ``p`` indicators of ``p / 10`` factors, 300 clusters of 5-15 units
   (``bench/size_cases.py``); whole ``ml_lvm(...).runmodel()`` from the
   DataFrame, saturated and baseline models and standard errors included.
   lavaan's time is ``sem(..., cluster=)`` on the same files
   (``bench/lavaan_sizes.R``, recorded in ``bench/lavaan_sizes.json``).
2. Hard data: Demo.twolevel's y1-y3 with x1-x3 (variables with almost no
   between variance) and the 11 bhr2000 leadership items (a between level
   of rank 9): saturated model and ``ml_ggm``.
3. Searches on bhr2000, with psychonetrics 0.17's times and BICs for the
   same searches.

The data sets are in ``tests/data`` (bhr2000 from R's multilevel package,
Demo.twolevel from lavaan).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

import psychonetrics as pn

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "tests" / "data"
sys.path.insert(0, str(HERE))
from size_cases import SIZES, psychonetrics_syntax, simulate  # noqa: E402

ITEMS6 = ["AF06", "AF07", "AP12", "AP17", "AS14", "AS15"]
#: psychonetrics 0.17 on the same data (seconds, BIC, parameters)
PSYCHONETRICS = {
    "ml_ggm 11 items": (24.0, 150940.3, None),
    "6 items: modelsearch from saturated": (12.0, 89744.9, 43),
    "11 items: stepup from pruned": (19.0, 150796.0, 96),
    "11 items: modelsearch from saturated": (127.0, None, None),
}


def _time(fn, repeat: int) -> tuple[float, object]:  # noqa: ANN001
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def width_table(repeat: int) -> pd.DataFrame:
    lavaan = {}
    record = HERE / "lavaan_sizes.json"
    if record.exists():
        lavaan = {r["p"]: r.get("seconds") for r in json.loads(record.read_text())["results"]}
    rows = []
    for p in SIZES:
        data = simulate(p)
        syntax = psychonetrics_syntax(p)
        seconds, model = _time(lambda: pn.ml_lvm(data, syntax, clusters="cluster").runmodel(), 1 if p >= 60 else repeat)
        fit = model.fit()
        lav = lavaan.get(p)
        rows.append({"p": p, "npar": model.npar, "ours (s)": round(seconds, 3),
                     "lavaan (s)": lav, "speed-up": round(lav / seconds, 1) if lav else None,
                     "chisq": round(fit["chisq"], 2), "df": int(fit["df"]), "converged": model.converged})
    return pd.DataFrame(rows)


def hard_data_table(repeat: int) -> pd.DataFrame:
    demo = pd.read_csv(DATA / "lavaan_extra" / "tutorial_fixedx" / "data.csv")
    bhr = pd.read_csv(DATA / "bhr2000.csv")
    cases = {
        "Demo y1-y3 + x1-x3: ml_lvm runmodel": lambda: pn.ml_lvm(
            demo, "F =~ y1 + y2 + y3", vars=["y1", "y2", "y3", "x1", "x2", "x3"], clusters="cluster").runmodel(),
        "bhr2000 11 items: saturated (ml_varcov chol)": lambda: pn.ml_varcov(
            bhr, clusters="company", within="chol", between="chol").runmodel(),
        "ml_ggm 11 items": lambda: pn.ml_ggm(bhr, clusters="company").runmodel(),
    }
    rows = []
    for name, fn in cases.items():
        seconds, model = _time(fn, repeat)
        fit = model.fit()
        peer = PSYCHONETRICS.get(name, (None, None, None))
        rows.append({"case": name, "ours (s)": round(seconds, 3), "psychonetrics (s)": peer[0],
                     "logl - saturated": round(fit["logl"] - fit["unrestricted.logl"], 4),
                     "BIC": round(fit["bic"], 1), "converged": model.converged})
    return pd.DataFrame(rows)


def search_table(quick: bool) -> pd.DataFrame:
    bhr = pd.read_csv(DATA / "bhr2000.csv")
    six = pn.ml_ggm(bhr, vars=ITEMS6, clusters="company").runmodel()
    eleven = pn.ml_ggm(bhr, clusters="company").runmodel()
    pruned = eleven.prune(alpha=0.01)
    cases = {
        "6 items: prune + stepup": lambda: six.prune(alpha=0.01).stepup(alpha=0.01),
        "6 items: modelsearch from saturated": lambda: six.modelsearch(),
        "11 items: stepup from pruned": lambda: pruned.stepup(alpha=0.01),
        "11 items: modelsearch from pruned": lambda: pruned.modelsearch(),
    }
    if not quick:
        cases["11 items: modelsearch from saturated"] = lambda: eleven.modelsearch()
    rows = []
    for name, fn in cases.items():
        seconds, model = _time(fn, 1)
        peer = PSYCHONETRICS.get(name, (None, None, None))
        rows.append({"search": name, "ours (s)": round(seconds, 2), "psychonetrics (s)": peer[0],
                     "BIC": round(model.fit()["bic"], 1), "psychonetrics BIC": peer[1], "npar": model.npar})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else 3
    warnings.simplefilter("ignore")
    pd.set_option("display.width", 200)
    for title, table in (("Width (300 clusters of 5-15 units)", width_table(repeat)),
                         ("Hard data", hard_data_table(repeat)),
                         ("Searches on bhr2000", search_table(args.quick))):
        print(f"\n{title}\n{table.to_string(index=False)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
