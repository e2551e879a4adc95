"""psychonetrics: two-level latent variable and network models (the ml_lvm family) and multilevel VAR
networks of intensive longitudinal data (ml_var, ml_gvar).

>>> import psychonetrics as pn
>>> data = pn.datasets.seed_example()
>>> mod = pn.ml_lvm(data, lambda_=[[1, 0]] * 3 + [[0, 1]] * 3, clusters="cluster").runmodel()
>>> print(round(mod.fit()["chisq"], 2))
15.92

See ``docs/`` in the source distribution for the user guide.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .families.registry import wrappers

if TYPE_CHECKING:  # the names as static tools see them; at run time they are loaded on first use
    from . import datasets
    from .data import TwoLevelStats
    from .data.engines import twolevel_stats
    from .data.lagged import lag_pair_stats, lag_pairs
    from .data.readers import read_table
    from .exceptions import ConvergenceWarning, DataWarning, ImproperSolutionWarning, ModelSyntaxError
    from .families.ml_lvm.build import ml_lnm, ml_lrnm, ml_lvm, ml_rnm  # noqa: F401  (in __all__ by the registry)
    from .families.ml_lvm.syntax.parser import parse_syntax
    from .families.ml_var.build import ml_gvar, ml_var  # noqa: F401  (in __all__ by the registry)
    from .families.ml_varcov.build import ml_ggm, ml_varcov  # noqa: F401  (in __all__ by the registry)
    from .model import Model
    from .report.network import plot_network, plot_path
    from .report.stability import plot_stability
    from .resampling import BootstrapResult, bootstrap
    from .search import compare, modelsearch, prune, stepup
    from .simulate import generate

# Public name -> "module:attribute" (or "module" for a submodule), imported on first access so
# that ``import psychonetrics`` stays cheap (pandas, scipy and the model core load when used).
_EXPORTS: dict[str, str] = {
    "datasets": ".datasets",
    "bootstrap": ".resampling:bootstrap",
    "BootstrapResult": ".resampling:BootstrapResult",
    **{name: entry.target(name) for name, entry in wrappers().items()},
    "TwoLevelStats": ".data:TwoLevelStats",
    "twolevel_stats": ".data.engines:twolevel_stats",
    "lag_pairs": ".data.lagged:lag_pairs",
    "lag_pair_stats": ".data.lagged:lag_pair_stats",
    "read_table": ".data.readers:read_table",
    **{name: f".exceptions:{name}"
       for name in ("ConvergenceWarning", "DataWarning", "ImproperSolutionWarning", "ModelSyntaxError")},
    "Model": ".model:Model",
    "plot_network": ".report.network:plot_network",
    "plot_path": ".report.network:plot_path",
    "plot_stability": ".report.stability:plot_stability",
    **{name: f".search:{name}" for name in ("compare", "modelsearch", "prune", "stepup")},
    "generate": ".simulate:generate",
    "parse_syntax": ".families.ml_lvm.syntax.parser:parse_syntax",
}


def __getattr__(name: str) -> Any:
    """Import a public name on first access and keep it in the module namespace."""
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name, __name__)
    value = getattr(module, attribute) if attribute else module
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Module attributes, including the public names not imported yet."""
    return sorted(set(globals()) | set(_EXPORTS))


def runmodel(model: Model, **kwargs: object) -> Model:
    """Fit ``model``: functional alias of ``model.runmodel()``.

    Parameters
    ----------
    model : Model
        A specified (or already fitted) model.
    **kwargs
        Passed to :meth:`Model.runmodel` (``verbose``).

    Returns
    -------
    Model
        A new, fitted model; ``model`` is left unchanged.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> mod = pn.ml_lvm(pn.datasets.seed_example(), "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6", clusters="cluster")
    >>> fitted = pn.runmodel(mod)
    >>> mod.computed, fitted.computed, fitted.converged
    (False, True, True)
    """
    return model.runmodel(**kwargs)  # type: ignore[arg-type]


def fit(model: Model):  # noqa: ANN201
    """Fit measures of a fitted model: functional alias of ``model.fit()``.

    Parameters
    ----------
    model : Model
        A fitted model.

    Returns
    -------
    pandas.Series
        Every fit measure (``logl``, ``chisq``, ``df``, ``cfi``, ``tli``,
        ``rmsea``, ``bic``, ...); see ``docs/fit.md`` for the conventions.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> mod = pn.ml_lvm(pn.datasets.seed_example(), "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6", clusters="cluster")
    >>> pn.fit(mod.runmodel())[["chisq", "df", "cfi"]].round(3).to_dict()
    {'chisq': 15.921, 'df': 20.0, 'cfi': 1.0}
    """
    return model.fit()


def parameters(model: Model, **kwargs: object):  # noqa: ANN201
    """Parameter estimates: functional alias of ``model.parameters()``.

    Parameters
    ----------
    model : Model
        A fitted (or specified) model.
    **kwargs
        Passed to :meth:`Model.parameters` (``standardized``).

    Returns
    -------
    pandas.DataFrame
        One row per matrix element: var1, op, var2, est, se, z, p, matrix,
        row, col, group, par, fixed.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> mod = pn.ml_lvm(pn.datasets.seed_example(), "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6", clusters="cluster")
    >>> par = pn.parameters(mod.runmodel())
    >>> par.loc[par["matrix"] == "lambda", ["var1", "op", "var2", "est", "se"]].round(3).head(3)
      var1 op var2    est     se
    0   F1 =~   y1  1.000    NaN
    1   F1 =~   y2  0.794  0.057
    2   F1 =~   y3  0.615  0.045
    """
    return model.parameters(**kwargs)  # type: ignore[arg-type]


def getmatrix(model: Model, matrix: str, **kwargs: object):  # noqa: ANN201
    """A model or derived matrix: functional alias of ``model.getmatrix()``.

    Parameters
    ----------
    model : Model
        A fitted (or specified) model.
    matrix : str
        Name of a model matrix (``lambda``, ``sigma_zeta_within``, ...) or a
        derived one (``sigma_within``, ``omega_zeta_between``, ...).
    **kwargs
        Passed to :meth:`Model.getmatrix` (``group``, ``threshold``,
        ``alpha``, ``adjust``).

    Returns
    -------
    numpy.ndarray or dict
        The matrix (a dict keyed by group label for several groups).

    Examples
    --------
    >>> import psychonetrics as pn
    >>> mod = pn.ml_lvm(pn.datasets.seed_example(), "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6", clusters="cluster")
    >>> pn.getmatrix(mod.runmodel(), "sigma_zeta_between").round(2)
    array([[ 0.88, -0.14],
           [-0.14,  0.76]])
    """
    return model.getmatrix(matrix, **kwargs)  # type: ignore[arg-type]


def MIs(model: Model):  # noqa: ANN201, N802
    """Modification indices: functional alias of ``model.MIs()``.

    Parameters
    ----------
    model : Model
        A fitted model.

    Returns
    -------
    pandas.DataFrame
        One row per fixed element, sorted by MI: var1, op, var2, matrix,
        row, col, group, mi, pmi (p-value), epc (expected parameter change);
        for several groups also mi_equal / pmi_equal and mi_free / pmi_free /
        epc_free.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> mod = pn.ml_lvm(pn.datasets.seed_example(), "F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6", clusters="cluster")
    >>> pn.MIs(mod.runmodel())[["var1", "op", "var2", "matrix", "mi"]].round(2).head(2)
      var1  op var2                matrix    mi
    0   y6  ~~   y3  sigma_epsilon_within  5.06
    1   y4  ~~   y3  sigma_epsilon_within  5.02
    """
    return model.MIs()

__version__ = "0.1.0"

__all__ = [
    *wrappers(),
    "Model", "TwoLevelStats", "twolevel_stats", "lag_pairs", "lag_pair_stats", "read_table", "datasets",
    "runmodel", "fit", "parameters", "getmatrix", "MIs",
    "prune", "stepup", "modelsearch", "compare", "plot_network", "plot_path", "parse_syntax", "generate",
    "bootstrap", "BootstrapResult", "plot_stability",
    "ConvergenceWarning", "DataWarning", "ImproperSolutionWarning", "ModelSyntaxError",
    "__version__",
]
