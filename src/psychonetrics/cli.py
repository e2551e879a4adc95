"""Command line: ``psychonetrics demo`` and ``psychonetrics fit DATA --clusters COL --model SYNTAX``.

Examples
--------
``psychonetrics demo`` fits the seed example and prints fit and matrices.
``psychonetrics fit pupils.csv --clusters school --model "F =~ y1 + y2 + y3" --json``
``psychonetrics fit pupils.csv --sep ';' --decimal ',' --clusters school --type ml_ggm``
``psychonetrics fit survey.xlsx --sheet wave2 --clusters school --type ml_ggm --plot net.png``

DATA is read by :func:`psychonetrics.read_table` (CSV, TSV, text, Parquet,
Feather, Excel, SPSS, Stata).  Errors never show a traceback: bad input,
a missing optional library or an unwritable plot prints one line
``psychonetrics: error: ...`` on stderr and exits with code 2; Ctrl-C exits
with code 130; a closed output pipe (``psychonetrics fit ... | head -1``)
ends the command quietly.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__

if TYPE_CHECKING:
    from .model import Model

WRAPPERS = ("ml_lvm", "ml_lnm", "ml_rnm", "ml_lrnm", "ml_ggm", "ml_varcov")
EXIT_ERROR = 2
EXIT_BROKEN_PIPE = 1  # as Python's documentation recommends for EPIPE
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


def _model_text(value: str | None) -> str | None:
    if value is None:
        return None
    if "=~" in value:
        return value
    try:
        is_file = Path(value).is_file()
    except OSError:  # e.g. syntax longer than a file name may be
        is_file = False
    return Path(value).read_text() if is_file else value


def _check_plot_target(filename: str) -> None:
    """Fail before the fit when the plot could not be written: missing folder, format or matplotlib."""
    from .report.plots import SAVE_FORMATS, _require_matplotlib

    target = Path(filename)
    folder = target.parent
    if not folder.exists():
        raise ValueError(f"`--plot`: folder {str(folder)!r} does not exist (create it first, or choose another file).")
    if not folder.is_dir():
        raise ValueError(f"`--plot`: {str(folder)!r} is a file, not a folder (expected a path such as 'plots/net.png').")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"`--plot`: folder {str(folder)!r} is not writable (choose another folder).")
    if target.is_dir():
        raise ValueError(f"`--plot`: {filename!r} is a directory (expected a file name such as 'network.png').")
    if target.suffix.lower().lstrip(".") not in SAVE_FORMATS:
        extension = repr(target.suffix) if target.suffix else "no extension"
        expected = ", ".join("." + f for f in SAVE_FORMATS)
        raise ValueError(f"`--plot`: cannot write {target.name!r} with {extension} (expected {expected}).")
    _require_matplotlib()


def _print_results(model: Model, *, as_json: bool, matrices: Sequence[str]) -> None:
    import numpy as np
    import pandas as pd

    from .report.printing import fit_table, parameters_text

    if as_json:
        fit = {k: (None if not np.isfinite(v) else float(v)) for k, v in model.fit().items()}
        params = model.parameters()
        out = {
            "model": model.wrapper,
            "converged": model.converged,
            "estimator": "MLR" if model.robust else model.estimator,
            "standard_errors": params.attrs.get("se", ""),
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
        rows, cols = model.family.matrix_labels(name)
        print(pd.DataFrame(values, index=list(rows), columns=list(cols)).round(4).to_string())
        print()


def _demo(args: argparse.Namespace) -> int:
    import numpy as np

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

    network_only = args.type in ("ml_ggm", "ml_varcov")  # no latent variables: --model is not used
    syntax = None if network_only else _model_text(args.model)
    if syntax is None and not network_only:
        raise ValueError("--model is required for latent variable models (e.g. 'F =~ y1 + y2 + y3').")
    if args.plot:
        _check_plot_target(args.plot)
    data = pn.read_table(args.data, sep=args.sep, decimal=args.decimal, sheet=args.sheet)
    vars_ = args.vars.split(",") if args.vars else None
    common = dict(clusters=args.clusters, groups=args.groups, estimator=args.estimator, information=args.information)
    if syntax is None:
        model = getattr(pn, args.type)(data, vars=vars_, **common)
    else:
        model = getattr(pn, args.type)(data, lambda_=syntax, vars=vars_, **common)
    model = model.runmodel()
    if args.prune is not None:
        model = model.prune(alpha=args.prune)
    names = [s.name for s in model.table.specs if s.kind == "omega"]
    if not names:
        names = model.family.summary_matrices()
    _print_results(model, as_json=args.json, matrices=names)
    if args.plot:
        model.plot(filename=args.plot)
        if not args.json:
            print(f"Network plot written to {args.plot}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``psychonetrics`` command (subcommands ``demo`` and ``fit``)."""
    parser = argparse.ArgumentParser(prog="psychonetrics", description="Two-level latent variable and network models.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="fit the seed example and print fit and matrices")
    demo.add_argument("--json", action="store_true", help="machine-readable output")
    demo.set_defaults(func=_demo)
    fit = sub.add_parser("fit", help="fit a model to a data file (CSV, Parquet, Excel, SPSS, Stata, ...)")
    fit.add_argument("data", help="data file, one row per unit: .csv, .tsv, .tab, .txt (whitespace-separated), "
                                  ".parquet, .feather, .xlsx, .xls, .sav (SPSS) or .dta (Stata); text files may "
                                  "be compressed (.csv.gz)")
    fit.add_argument("--sep", help="column separator of a text file (default ',' for .csv, tab for .tsv, "
                                   "whitespace for .txt)")
    fit.add_argument("--decimal", default=".", help="decimal mark of a text file (default '.'; e.g. ',')")
    fit.add_argument("--sheet", metavar="NAME", help="Excel sheet to read (default the first sheet)")
    fit.add_argument("--clusters", required=True, help="column with the cluster ids")
    fit.add_argument("--model", help="model syntax ('F1 =~ y1 + y2 + y3; ...') or a file containing it")
    fit.add_argument("--type", default="ml_lvm", choices=WRAPPERS, help="model family wrapper (default ml_lvm)")
    fit.add_argument("--vars", help="comma-separated variables (ml_ggm / ml_varcov; default all other columns)")
    fit.add_argument("--groups", help="column with group labels")
    fit.add_argument("--estimator", default="default", choices=("default", "ML", "FIML", "MLR"),
                     help="MLR: ML estimates with cluster-robust SEs and the scaled chi-square")
    fit.add_argument("--information", default="default", choices=("default", "observed", "expected"),
                     help="information matrix of the standard errors (default: expected for ML on complete data, "
                          "observed otherwise)")
    fit.add_argument("--prune", type=float, metavar="ALPHA", help="prune network edges at this level")
    fit.add_argument("--json", action="store_true", help="machine-readable output")
    fit.add_argument("--plot", metavar="FILE", help="write a network plot (PNG/SVG/PDF)")
    fit.set_defaults(func=_fit)
    return parser


def _error(message: str) -> None:
    """Print ``psychonetrics: error: message`` as one line on stderr."""
    print(f"psychonetrics: error: {' '.join(message.split())}", file=sys.stderr)


def _silence_stdout() -> None:
    """Point stdout at devnull, so that flushing it at exit cannot raise again (a closed pipe)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (captured, replaced)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``psychonetrics`` command; returns the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 2 on an error (one line on stderr), 130 when
        interrupted with Ctrl-C, 1 when the output pipe was closed.
    """
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors, --help and --version exit here (argparse)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # a closed pipe surfaces here, not at interpreter exit
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED
    except (ValueError, TypeError, ImportError, OSError) as exc:
        _error(str(exc) or type(exc).__name__)
        return EXIT_ERROR
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
