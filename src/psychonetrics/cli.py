"""Command line: ``psychonetrics demo`` and ``psychonetrics fit DATA --clusters COL --model SYNTAX``.

Examples
--------
``psychonetrics demo`` fits the seed example and prints fit and matrices.
``psychonetrics fit pupils.csv --clusters school --model "F =~ y1 + y2 + y3" --json``
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

WRAPPERS = ("ml_lvm", "ml_lnm", "ml_rnm", "ml_lrnm", "ml_ggm", "ml_varcov")


def _read_data(path: str) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise SystemExit(f"psychonetrics: data file {path!r} not found.")
    if p.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(p)
    if p.suffix.lower() in (".tsv", ".tab"):
        return pd.read_csv(p, sep="\t")
    return pd.read_csv(p)


def _model_text(value: str | None) -> str | None:
    if value is None:
        return None
    p = Path(value)
    if "=~" not in value and p.exists():
        return p.read_text()
    return value


def _print_results(model, *, as_json: bool, matrices: Sequence[str]) -> None:  # noqa: ANN001
    from .report.printing import fit_table, parameters_text

    if as_json:
        fit = {k: (None if not np.isfinite(v) else float(v)) for k, v in model.fit().items()}
        params = model.parameters()
        out = {
            "model": model.wrapper,
            "converged": model.converged,
            "estimator": model.estimator,
            "fit": fit,
            "parameters": json.loads(params.to_json(orient="records")),
            "matrices": {name: np.asarray(model.getmatrix(name)).tolist() for name in matrices},
        }
        print(json.dumps(out, indent=2))
        return
    print(model)
    print()
    print(fit_table(model))
    print()
    print("Parameter estimates:")
    print(parameters_text(model))
    for name in matrices:
        print(f"{name}:")
        values = np.asarray(model.getmatrix(name))
        labels = _matrix_labels(model, name, values.shape)
        print(pd.DataFrame(values, index=labels[0], columns=labels[1]).round(4).to_string())
        print()


def _matrix_labels(model, name: str, shape: tuple[int, ...]) -> tuple[list[str], list[str]]:  # noqa: ANN001
    """Row and column labels of a model or derived matrix."""
    index = model.table.spec_index
    if name in index:
        spec = model.table.specs[index[name]]
        return list(spec.row_labels), list(spec.col_labels)
    latents = list(getattr(model.family, "latents", ()))
    labels = latents if ("zeta" in name or "_eta_" in name) and len(latents) == shape[0] else list(model.family.observed)
    cols = labels if len(shape) > 1 and shape[1] == len(labels) else [str(k) for k in range(shape[1] if len(shape) > 1 else 1)]
    return labels, cols


def _demo(args: argparse.Namespace) -> int:
    import psychonetrics as pn

    data = pn.datasets.seed_example()
    lam = np.array([[1, 0]] * 3 + [[0, 1]] * 3)
    model = pn.ml_lvm(data, lambda_=lam, clusters="cluster", vars=[f"y{i}" for i in range(1, 7)]).runmodel()
    if not args.json:
        print("Seed example: 60 clusters x 10 units, two factors measured by y1..y6 on both levels.\n")
    _print_results(model, as_json=args.json, matrices=["sigma_zeta_between", "sigma_zeta_within"])
    return 0


def _fit(args: argparse.Namespace) -> int:
    import psychonetrics as pn

    data = _read_data(args.data)
    vars_ = args.vars.split(",") if args.vars else None
    syntax = _model_text(args.model)
    common = dict(clusters=args.clusters, groups=args.groups, estimator=args.estimator)
    if args.type in ("ml_ggm", "ml_varcov"):
        model = getattr(pn, args.type)(data, vars=vars_, **common)
    else:
        if syntax is None:
            raise SystemExit("psychonetrics: --model is required for latent variable models (e.g. 'F =~ y1 + y2 + y3').")
        model = getattr(pn, args.type)(data, lambda_=syntax, vars=vars_, **common)
    model = model.runmodel()
    if args.prune is not None:
        model = model.prune(alpha=args.prune)
    names = [s.name for s in model.table.specs if s.kind == "omega"]
    if not names and model.family.name == "ml_lvm":
        names = ["sigma_zeta_within", "sigma_zeta_between"]
    _print_results(model, as_json=args.json, matrices=names)
    if args.plot:
        model.plot(filename=args.plot)
        if not args.json:
            print(f"Network plot written to {args.plot}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="psychonetrics", description="Two-level latent variable and network models.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="fit the seed example and print fit and matrices")
    demo.add_argument("--json", action="store_true", help="machine-readable output")
    demo.set_defaults(func=_demo)
    fit = sub.add_parser("fit", help="fit a model to a CSV or Parquet file")
    fit.add_argument("data", help="CSV, TSV or Parquet file, one row per unit")
    fit.add_argument("--clusters", required=True, help="column with the cluster ids")
    fit.add_argument("--model", help="model syntax ('F1 =~ y1 + y2 + y3; ...') or a file containing it")
    fit.add_argument("--type", default="ml_lvm", choices=WRAPPERS, help="model family wrapper (default ml_lvm)")
    fit.add_argument("--vars", help="comma-separated variables (ml_ggm / ml_varcov; default all other columns)")
    fit.add_argument("--groups", help="column with group labels")
    fit.add_argument("--estimator", default="default", choices=("default", "ML", "FIML"))
    fit.add_argument("--prune", type=float, metavar="ALPHA", help="prune network edges at this level")
    fit.add_argument("--json", action="store_true", help="machine-readable output")
    fit.add_argument("--plot", metavar="FILE", help="write a network plot (PNG/SVG/PDF)")
    fit.set_defaults(func=_fit)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``psychonetrics`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, TypeError) as exc:
        print(f"psychonetrics: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
