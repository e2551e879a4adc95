"""Command line: ``psychonetrics demo`` and ``psychonetrics fit DATA --clusters COL --model SYNTAX``.

Examples
--------
``psychonetrics demo`` fits the seed example and prints fit and matrices.
``psychonetrics fit pupils.csv --clusters school --model "F =~ y1 + y2 + y3" --json``
``psychonetrics fit pupils.csv --sep ';' --decimal ',' --clusters school --type ml_ggm``
``psychonetrics fit survey.xlsx --sheet wave2 --clusters school --type ml_ggm --plot net.png``
``psychonetrics fit esm.csv --type ml_gvar --idvar id --dayvar day --beepvar beep --plot networks.png``

DATA is read by :func:`psychonetrics.read_table` (CSV, TSV, text, Parquet,
Feather, Excel, SPSS, Stata).  Errors never show a traceback: bad input,
a missing file or optional library or an unwritable plot prints one line
``psychonetrics: error: ...`` on stderr and exits with code 2; Ctrl-C exits
with code 130; a closed output pipe (``psychonetrics fit ... | head -1``)
ends the command quietly with code 1.  Warnings print as one line each,
``psychonetrics: warning: ...`` on stderr, and leave the exit code alone.

Messages come from the library, which names its Python arguments; the
suggestions among them that have a command-line option are printed in the
option's spelling (:data:`CLI_SPELLING`: ``between_only=`` is
``--between-only``, ``fixed_x=False`` is ``--free-x``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .families.registry import wrappers

if TYPE_CHECKING:
    import pandas as pd

    from .model import Model

#: every model function, by the family registry (``--type``)
WRAPPERS = tuple(wrappers())
EXIT_ERROR = 2
EXIT_BROKEN_PIPE = 1  # as Python's documentation recommends for EPIPE
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
HELP_WIDTH = 80  # the help text does not follow the terminal, so that docs/cli.md can show it verbatim
#: model functions without model syntax (no latent variables): --model is not used
NETWORK_ONLY = tuple(name for name, entry in wrappers().items() if entry.syntax is None)
#: wrappers of clustered data without model syntax: the ones --within-only / --between-only apply to
ONE_LEVEL = tuple(name for name in NETWORK_ONLY if "clusters" in wrappers()[name].data_arguments)
#: the data-layout options of every family (--clusters; --idvar, --dayvar, --beepvar for series)
LAYOUT_OPTIONS = tuple(dict.fromkeys(arg for entry in wrappers().values() for arg in entry.data_arguments))
MODEL_FILE_SUFFIXES = (".txt", ".lav", ".model")
#: separators a text file's header may show when read with the wrong one, as --sep spells them
SEPARATORS = {";": "';'", "\t": "'\\t'", ",": "','", "|": "'|'"}
#: the library's spelling of suggestions that have a command-line option -> the option's spelling
CLI_SPELLING: tuple[tuple[str, str], ...] = (
    (r"`?\bwithin_only=`?", "`--within-only`"),
    (r"`?\bbetween_only=`?", "`--between-only`"),
    (r"\bfixed_x=False\b", "--free-x"),
    (r"\((?:within|between)_latent='cov'\)", "(--type ml_lvm or ml_rnm)"),
    (r"\b(estimator|information)='(\w+)'", r"--\1 \2"),
)


def _model_text(value: str | None) -> str | None:
    """The model syntax of ``--model``: the value itself, or the content of the file it names."""
    if value is None:
        return None
    if "=~" in value:
        return value
    path = Path(value).expanduser()
    try:
        is_file = path.is_file()
    except OSError:  # e.g. syntax longer than a file name may be
        is_file = False
    if is_file:
        return path.read_text()
    operator = "~" in value.removeprefix("~" + os.sep).removeprefix("~/")  # not the ~ of a home folder
    looks_like_file = value.lower().endswith(MODEL_FILE_SUFFIXES) or os.sep in value or "/" in value
    if looks_like_file and not operator:
        where = "" if path.is_absolute() else f" in {os.getcwd()!r}"
        raise ValueError(f"`--model`: file {value!r} not found{where} (expected model syntax such as "
                         "'F =~ y1 + y2 + y3', or an existing file containing it).")
    return value


def _separator(value: str | None) -> str | None:
    """``--sep`` as given, with the shell spellings of a tab (backslash-t, 'tab') read as a tab."""
    if value is None:
        return None
    return "\t" if value in ("\\t", "tab", "TAB") else value


def _separator_hint(path: str, sep: str | None) -> str | None:
    """When the header of text file ``path`` is one column under the separator used but contains another
    separator: the message that suggests it, else None."""
    import pandas as pd

    from .data.readers import WHITESPACE, default_separator

    used = sep if sep is not None else default_separator(path)
    if used is None:  # not a text file
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            header = pd.read_csv(path, sep=used, nrows=0, engine="python").columns
    except Exception:  # noqa: BLE001 - no hint when not even the header can be read
        return None
    others = [c for c in SEPARATORS if c != used and len(header) == 1 and c in str(header[0])]
    if not others:
        return None
    shown = "whitespace" if used == WHITESPACE else SEPARATORS.get(used, repr(used))
    decimal = ", with --decimal ',' for decimal commas" if others[0] == ";" else ""
    return (f"`--sep`: {Path(path).name!r} looks {SEPARATORS[others[0]]}-separated: its header is one column "
            f"when split at {shown} (expected --sep {SEPARATORS[others[0]]}{decimal}).")


def _read_data(args: argparse.Namespace) -> pd.DataFrame:
    import psychonetrics as pn

    sep = _separator(args.sep)
    try:
        data = pn.read_table(args.data, sep=sep, decimal=args.decimal, sheet=args.sheet)
    except ValueError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        hint = _separator_hint(args.data, sep)
        if hint is not None:
            raise ValueError(hint) from exc
        raise
    if data.shape[1] == 1:
        hint = _separator_hint(args.data, sep)
        if hint is not None:
            raise ValueError(hint)
    return data


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
            "estimator": model.estimator.name,
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

    network_only = args.type in NETWORK_ONLY
    syntax = None if network_only else _model_text(args.model)
    if syntax is None and not network_only:
        raise ValueError("--model is required for latent variable models (e.g. 'F =~ y1 + y2 + y3').")
    entry = wrappers()[args.type]
    one_level = {"within_only": _names(args.within_only) or (), "between_only": _names(args.between_only) or ()}
    if args.type not in ONE_LEVEL and (args.within_only or args.between_only):
        where = ("in a latent variable model the level: blocks of --model say which variables live on one level "
                 "only (e.g. 'level: 1; fw =~ y1 + y2 + y3; level: 2; fb =~ y1 + y2 + y3 + w1')"
                 if not network_only else f"--type {args.type} has no such variables")
        raise ValueError(f"`--within-only` / `--between-only`: apply to --type {' and '.join(sorted(ONE_LEVEL))}; {where}.")
    layout = {arg: getattr(args, arg) for arg in entry.data_arguments}
    required = entry.data_arguments[0]
    if layout[required] is None:
        raise ValueError(f"--{required} is required for --type {args.type} (the column that identifies the "
                         f"{'clusters' if required == 'clusters' else 'persons'}).")
    unused = [f"--{arg}" for arg in LAYOUT_OPTIONS if arg not in entry.data_arguments and getattr(args, arg)]
    if unused:
        raise ValueError(f"{', '.join(unused)}: not an option of --type {args.type} (its data options: "
                         f"{', '.join('--' + a for a in entry.data_arguments)}).")
    if network_only and args.free_x:
        raise ValueError("`--free-x`: applies to latent variable models with observed covariates in level: blocks, "
                         f"not to --type {args.type}.")
    if args.plot:
        _check_plot_target(args.plot)
    data = _read_data(args)
    vars_ = _names(args.vars)
    common = dict(groups=args.groups, estimator=args.estimator, information=args.information, **layout)
    if syntax is None:
        model = getattr(pn, args.type)(data, vars=vars_, **(one_level if args.type in ONE_LEVEL else {}), **common)
    else:
        model = getattr(pn, args.type)(data, vars=vars_, fixed_x=not args.free_x, **{entry.syntax: syntax}, **common)
    model = model.runmodel()
    if args.prune is not None:
        model = model.prune(alpha=args.prune)
    names = [net.matrix for net in model.family.networks() if net.estimated] or model.family.summary_matrices()
    _print_results(model, as_json=args.json, matrices=names)
    if args.plot:
        model.plot(filename=args.plot)
        if not args.json:
            print(f"Network plot written to {args.plot}")
    return 0


def _names(value: str | None) -> list[str] | None:
    """A comma-separated list of column names (None when not given)."""
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


EPILOG = ("exit status: 0 success; 1 the output pipe was closed (e.g. by `| head`); 2 an error, printed as one "
          "line 'psychonetrics: error: ...' on stderr (bad arguments or data, a missing file or library, an "
          "unwritable plot); 130 interrupted (Ctrl-C). Warnings print as 'psychonetrics: warning: ...' on stderr.")


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.HelpFormatter(prog, width=HELP_WIDTH)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``psychonetrics`` command (subcommands ``demo`` and ``fit``)."""
    parser = argparse.ArgumentParser(prog="psychonetrics", description="Two-level latent variable and network models.",
                                     epilog=EPILOG, formatter_class=_formatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="fit the seed example and print fit and matrices", formatter_class=_formatter,
                          description="Fit the seed example (60 clusters x 10 units, two factors on both levels) "
                                      "and print the fit, the parameters and the latent covariance matrices.",
                          epilog=EPILOG)
    demo.add_argument("--json", action="store_true", help="machine-readable output")
    demo.set_defaults(func=_demo)
    fit = sub.add_parser("fit", help="fit a model to a data file (CSV, Parquet, Excel, SPSS, Stata, ...)",
                         formatter_class=_formatter, epilog=EPILOG,
                         description="Fit a two-level model to a data file with one row per unit and print the "
                                     "fit, the parameter estimates and the matrices of interest.")
    fit.add_argument("data", help="data file, one row per unit: .csv, .tsv, .tab, .txt (whitespace-separated), "
                                  ".parquet, .feather, .xlsx, .xls, .sav (SPSS) or .dta (Stata); text files may "
                                  "be compressed (.csv.gz)")
    fit.add_argument("--sep", help="column separator of a text file (default ',' for .csv, tab for .tsv, "
                                   "whitespace for .txt); '\\t' or 'tab' is a tab")
    fit.add_argument("--decimal", default=".", help="decimal mark of a text file (default '.'; e.g. ',')")
    fit.add_argument("--sheet", metavar="NAME", help="Excel sheet to read (default the first sheet)")
    fit.add_argument("--clusters", metavar="COL", help="column with the cluster ids (two-level models)")
    fit.add_argument("--idvar", metavar="COL", help="ml_var / ml_gvar: column with the person ids (long ESM data, "
                                                    "one row per beep)")
    fit.add_argument("--dayvar", metavar="COL", help="ml_var / ml_gvar: column with the day (no lag pair crosses "
                                                     "a night)")
    fit.add_argument("--beepvar", metavar="COL", help="ml_var / ml_gvar: column with the beep number (a missed beep "
                                                      "breaks the pair that would span it; default row order)")
    fit.add_argument("--model", metavar="SYNTAX", help="model syntax ('F1 =~ y1 + y2 + y3; ...', with 'level: 1; "
                                                     "...; level: 2; ...' blocks for level-specific models) or a "
                                                     "file containing it; required for latent variable models")
    fit.add_argument("--type", default="ml_lvm", choices=WRAPPERS, help="model family wrapper (default ml_lvm)")
    fit.add_argument("--vars", metavar="A,B,C", help="comma-separated variables (ml_ggm / ml_varcov; default all "
                                                     "other columns)")
    fit.add_argument("--within-only", metavar="A,B", help="ml_ggm / ml_varcov: variables without a between part "
                                                          "(nodes of the within network only)")
    fit.add_argument("--between-only", metavar="A,B", help="ml_ggm / ml_varcov: cluster-level variables, constant "
                                                           "within clusters (nodes of the between network only)")
    fit.add_argument("--free-x", action="store_true", help="level-specific models: estimate the means and "
                                                           "covariances of observed covariates (lavaan's "
                                                           "fixed.x = FALSE; default: fixed at their sample values)")
    fit.add_argument("--groups", metavar="COL", help="column with group labels (multi-group model)")
    fit.add_argument("--estimator", default="default", choices=("default", "ML", "FIML", "MLR"),
                     help="default: ML on complete data, FIML with missing values or clusters of 5 or fewer "
                          "units; MLR: ML estimates with cluster-robust SEs and the scaled chi-square")
    fit.add_argument("--information", default="default", choices=("default", "observed", "expected"),
                     help="information matrix of the standard errors (default: expected for ML on complete data, "
                          "observed otherwise)")
    fit.add_argument("--prune", type=float, metavar="ALPHA", help="prune network edges at this level")
    fit.add_argument("--json", action="store_true", help="machine-readable output")
    fit.add_argument("--plot", metavar="FILE", help="write a network plot (PNG/SVG/PDF)")
    fit.set_defaults(func=_fit)
    return parser


def cli_spelling(message: str) -> str:
    """``message`` with the library's spelling of suggestions replaced by the options' (:data:`CLI_SPELLING`)."""
    for pattern, replacement in CLI_SPELLING:
        message = re.sub(pattern, replacement, message)
    return message


def _error(message: str) -> None:
    """Print ``psychonetrics: error: message`` as one line on stderr."""
    print(f"psychonetrics: error: {' '.join(cli_spelling(message).split())}", file=sys.stderr)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: object = None, line: str | None = None) -> None:
    """``warnings.showwarning`` of a run: ``psychonetrics: warning: message``, one line on stderr."""
    print(f"psychonetrics: warning: {' '.join(cli_spelling(str(message)).split())}", file=sys.stderr)


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
        0 on success (warnings print as one line each on stderr), 2 on an
        error (one line on stderr; argparse's usage errors exit with 2 too),
        130 when interrupted with Ctrl-C, 1 when the output pipe was closed.
    """
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors, --help and --version exit here (argparse)
    try:
        with warnings.catch_warnings():  # the filters stay as they are; only the printing changes
            warnings.showwarning = _show_warning
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
