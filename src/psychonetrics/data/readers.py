"""Read the data files users have into a pandas DataFrame: :func:`read_table`.

The format follows from the file's extension (never guessed from the
content), and each format is read by pandas' own reader:

=====================  ==============================  ===========================
extension              format                          needs
=====================  ==============================  ===========================
``.csv``               comma-separated text            -
``.tsv``, ``.tab``     tab-separated text              -
``.txt``               whitespace-separated text       -
``.parquet``, ``.pq``  Parquet                         pyarrow (``[parquet]``)
``.feather``           Feather (Arrow IPC)             pyarrow (``[parquet]``)
``.xlsx``              Excel workbook                  openpyxl (``[excel]``)
``.xls``               Excel 97-2003 workbook          xlrd (``[excel]``)
``.sav``               SPSS                            pyreadstat (``[spss]``)
``.dta``               Stata                           -
=====================  ==============================  ===========================

Text files may be compressed (``.csv.gz``, ``.tsv.bz2``, ``.txt.xz``,
``.csv.zip``, ``.csv.zst``).  The optional libraries are imported only when a
file of their kind is read; a missing one raises an ImportError naming the
extra that installs it (``pip install "psychonetrics[excel]"``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from .._arg import preview

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["read_table", "default_separator", "DataFileNotFoundError", "EXTENSIONS", "COMPRESSIONS"]

T = TypeVar("T")

#: compression suffixes accepted after a text extension (``data.csv.gz``)
COMPRESSIONS = (".gz", ".bz2", ".xz", ".zip", ".zst")
WHITESPACE = r"\s+"


class DataFileNotFoundError(FileNotFoundError, ValueError):
    """A data file does not exist: a ``FileNotFoundError`` that is also a ``ValueError``."""


class _Options(NamedTuple):
    label: str  # the format, in messages: "could not be read as <label>"
    sep: str
    decimal: str
    sheet: str | int | None


@dataclass(frozen=True)
class _Format:
    """How one kind of file is read."""

    label: str
    read: Callable[[Path, _Options], pd.DataFrame]
    modules: tuple[str, ...] = ()  # any one of these libraries will do
    extra: str = ""  # the psychonetrics extra that installs them
    sep: str | None = None  # default separator; set only for delimited text


def _read_text(path: Path, options: _Options) -> pd.DataFrame:
    import pandas as pd

    # compression is inferred from the suffix (.gz, .bz2, .xz, .zip, .zst)
    # a separator of several characters is a regular expression, which only the python engine reads (pandas
    # warns when it has to fall back to it); any whitespace is the C engine's own
    engine = "python" if len(options.sep) > 1 and options.sep != WHITESPACE else "c"
    return _guarded(path, options.label,
                    lambda: pd.read_csv(path, sep=options.sep, decimal=options.decimal, engine=engine))


def _read_parquet(path: Path, options: _Options) -> pd.DataFrame:
    import pandas as pd

    return _guarded(path, options.label, lambda: pd.read_parquet(path))


def _read_feather(path: Path, options: _Options) -> pd.DataFrame:
    import pandas as pd

    return _guarded(path, options.label, lambda: pd.read_feather(path))


def _read_excel(path: Path, options: _Options) -> pd.DataFrame:
    import pandas as pd

    book = _guarded(path, options.label, lambda: pd.ExcelFile(path))
    with book:
        name = _pick_sheet([str(s) for s in book.sheet_names], options.sheet, path)
        return _guarded(path, options.label, lambda: book.parse(name))


def _read_spss(path: Path, options: _Options) -> pd.DataFrame:
    import pandas as pd

    # Value labels are not applied: labelled items keep their numeric codes.
    return _guarded(path, options.label, lambda: pd.read_spss(path, convert_categoricals=False))


def _read_stata(path: Path, options: _Options) -> pd.DataFrame:
    import pandas as pd

    # Value labels are not applied: labelled items keep their numeric codes.
    return _guarded(path, options.label, lambda: pd.read_stata(path, convert_categoricals=False))


_CSV = _Format("a CSV file", _read_text, sep=",")
_TSV = _Format("a tab-separated file", _read_text, sep="\t")
_PARQUET = _Format("a Parquet file", _read_parquet, modules=("pyarrow", "fastparquet"), extra="parquet")

FORMATS: dict[str, _Format] = {
    ".csv": _CSV,
    ".tsv": _TSV,
    ".tab": _TSV,
    ".txt": _Format("a whitespace-separated text file", _read_text, sep=WHITESPACE),
    ".parquet": _PARQUET,
    ".pq": _PARQUET,
    ".feather": _Format("a Feather file", _read_feather, modules=("pyarrow",), extra="parquet"),
    ".xlsx": _Format("an Excel workbook", _read_excel, modules=("openpyxl",), extra="excel"),
    ".xls": _Format("an Excel 97-2003 workbook", _read_excel, modules=("xlrd",), extra="excel"),
    ".sav": _Format("an SPSS file", _read_spss, modules=("pyreadstat",), extra="spss"),
    ".dta": _Format("a Stata file", _read_stata),
}
#: every extension :func:`read_table` reads
EXTENSIONS = tuple(FORMATS)


def read_table(
    path: str | os.PathLike[str],
    *,
    sep: str | None = None,
    decimal: str = ".",
    sheet: str | int | None = None,
) -> pd.DataFrame:
    """Read a data file into a pandas DataFrame, choosing the reader by the file's extension.

    Parameters
    ----------
    path : str or path
        The file.  Its extension sets the format: ``.csv`` (comma-separated),
        ``.tsv`` / ``.tab`` (tab-separated), ``.txt`` (separated by any run
        of spaces or tabs, as R's ``read.table``), ``.parquet`` / ``.pq``,
        ``.feather``, ``.xlsx`` / ``.xls`` (Excel), ``.sav`` (SPSS) or
        ``.dta`` (Stata); case does not matter.  Text files may be
        compressed: ``.csv.gz``, ``.tsv.bz2``, ``.txt.xz``, ``.csv.zip``,
        ``.csv.zst``.  Text files have a header row; empty fields and ``NA``
        are missing values (in ``.txt`` files, whose separator is
        whitespace, a missing value must be written, e.g. ``NA``).
    sep : str, optional
        Column separator of a text file (e.g. ``";"``), replacing the
        default of its extension.  Only for text files.
    decimal : str
        Decimal mark of the numbers in a text file (``","`` for
        ``3,14``).  Only for text files.
    sheet : str or int, optional
        Excel only: the sheet's name, or its position (0 = first).  Default
        the first sheet.

    Returns
    -------
    pandas.DataFrame
        The file's table, one row per line.  SPSS and Stata value labels are
        not applied, so labelled items keep their numeric codes.

    Raises
    ------
    DataFileNotFoundError
        The file does not exist (both a ``FileNotFoundError`` and a
        ``ValueError``).
    ValueError
        The extension is not one of the above, an option does not apply to
        the format, or the file could not be read as its extension says.
    ImportError
        The format needs an optional library that is not installed; the
        message names the extra that installs it.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> pn.datasets.seed_example().to_csv("seed.csv", index=False)
    >>> data = pn.read_table("seed.csv")
    >>> data.shape, list(data.columns[:3])
    ((600, 7), ['y1', 'y2', 'y3'])

    A semicolon-separated file with decimal commas, as Excel writes it in
    many European locales:

    >>> pn.datasets.seed_example().to_csv("seed_eu.csv", sep=";", decimal=",", index=False)
    >>> pn.read_table("seed_eu.csv", sep=";", decimal=",")["y1"].equals(data["y1"])
    True
    """
    file = _check_path(path)
    extension = _extension(file)
    fmt = FORMATS[extension]
    _check_options(file, fmt, extension, sep=sep, decimal=decimal, sheet=sheet)
    _require_modules(fmt, extension)
    options = _Options(label=fmt.label, sep=fmt.sep if sep is None else sep, decimal=decimal, sheet=sheet)
    return fmt.read(file, options)


def default_separator(path: str | os.PathLike[str]) -> str | None:
    """The column separator :func:`read_table` uses for ``path`` without ``sep`` (``r"\\s+"``: any
    whitespace); None for a file that is not delimited text or whose format the extension does not tell."""
    try:
        return FORMATS[_extension(Path(path))].sep
    except ValueError:
        return None


def _check_path(path: object) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path`: got {type(path).__name__} (expected a file name as a str or path).")
    file = Path(path)
    if not file.exists():
        where = "" if file.is_absolute() else f" in {os.getcwd()!r}"
        raise DataFileNotFoundError(f"`path`: file {str(file)!r} not found{where} (expected an existing data file).")
    if file.is_dir() and file.suffix.lower() not in (".parquet", ".pq"):  # a Parquet dataset may be a folder
        raise ValueError(f"`path`: {str(file)!r} is a directory (expected a data file).")
    return file


def _extension(file: Path) -> str:
    """The format extension of ``file`` (lower case), or a ValueError listing the supported ones."""
    suffixes = [s.lower() for s in file.suffixes]
    compressed = len(suffixes) > 1 and suffixes[-1] in COMPRESSIONS
    extension = suffixes[-2] if compressed else (suffixes[-1] if suffixes else "")
    fmt = FORMATS.get(extension)
    if fmt is not None and (not compressed or fmt.sep is not None):
        return extension
    if fmt is not None:
        problem = f"{file.name!r}: compressed {extension} files ({suffixes[-1]}) cannot be read"
    elif extension:
        problem = f"cannot tell the format of {file.name!r} from its extension {extension!r}"
    else:
        problem = f"{file.name!r} has no extension to tell its format"
    raise ValueError(
        f"`path`: {problem} (expected one of {', '.join(EXTENSIONS)}; text files may be compressed: "
        f"{', '.join('.csv' + c for c in COMPRESSIONS)})."
    )


def _check_options(file: Path, fmt: _Format, extension: str, *, sep: object, decimal: object,
                   sheet: object) -> None:
    if sep is not None and (not isinstance(sep, str) or not sep):
        raise TypeError(f"`sep`: got {sep!r} (expected a non-empty str such as ';' or None).")
    if not isinstance(decimal, str) or len(decimal) != 1:
        raise TypeError(f"`decimal`: got {decimal!r} (expected one character, '.' or ',').")
    if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, (str, int))):
        raise TypeError(f"`sheet`: got {type(sheet).__name__} (expected a sheet name, a 0-based position or None).")
    text = fmt.sep is not None
    if sep is not None and not text:
        raise ValueError(f"`sep`: applies to text files only, not to {fmt.label} ({extension}) such as {file.name!r} "
                         "(expected sep=None).")
    if decimal != "." and not text:
        raise ValueError(f"`decimal`: applies to text files only, not to {fmt.label} ({extension}) such as "
                         f"{file.name!r} (expected decimal='.').")
    if text and decimal == (fmt.sep if sep is None else sep):
        raise ValueError(f"`decimal`: {decimal!r} is also the column separator (expected a different `sep`, "
                         "e.g. sep=';' with decimal=',').")
    if sheet is not None and fmt.read is not _read_excel:
        raise ValueError(f"`sheet`: applies to Excel workbooks only, not to {file.name!r} (expected sheet=None).")


def _require_modules(fmt: _Format, extension: str) -> None:
    """Raise ImportError naming the extra when none of the libraries ``fmt`` needs is installed."""
    if fmt.modules and not any(find_spec(m) is not None for m in fmt.modules):
        needs = " or ".join(fmt.modules)
        raise ImportError(f'Reading {extension} files needs {needs}: pip install "psychonetrics[{fmt.extra}]"')


def _pick_sheet(names: list[str], sheet: str | int | None, file: Path) -> str:
    """The name of the requested sheet of a workbook with sheets ``names``."""
    if sheet is None:
        return names[0]
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise ValueError(f"`sheet`: position {sheet} is out of range for {file.name!r} (expected 0 to "
                             f"{len(names) - 1}; sheets: {preview(names)}).")
        return names[sheet]
    if sheet not in names:
        raise ValueError(f"`sheet`: {file.name!r} has no sheet named {sheet!r} (sheets: {preview(names)}).")
    return sheet


def _guarded(file: Path, label: str, call: Callable[[], T]) -> T:
    """Run a pandas reader; a failure to parse becomes one ValueError naming the file."""
    try:
        return call()
    except (ImportError, MemoryError):
        raise  # a missing or too old optional library: pandas' own message says which
    except Exception as exc:  # readers raise many kinds (ParserError, BadZipFile, ArrowInvalid, ReadstatError)
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ValueError(f"`path`: {str(file)!r} could not be read as {label} ({reason}).") from exc
