"""psychonetrics: two-level latent variable and network models (the ml_lvm family).

>>> import psychonetrics as pn
>>> data = pn.datasets.seed_example()
>>> mod = pn.ml_lvm(data, lambda_=[[1, 0]] * 3 + [[0, 1]] * 3, clusters="cluster").runmodel()
>>> round(mod.fit()["chisq"], 2)
15.92
"""

from . import datasets
from .construct import ml_ggm, ml_lnm, ml_lrnm, ml_lvm, ml_rnm, ml_varcov
from .data import TwoLevelStats
from .data.engines import twolevel_stats
from .exceptions import ConvergenceWarning, DataWarning, ImproperSolutionWarning, ModelSyntaxError
from .model import Model
from .report.network import plot_network, plot_path
from .search import compare, modelsearch, prune, stepup
from .simulate import generate
from .syntax import parse_model


def runmodel(model: Model, **kwargs: object) -> Model:
    """Functional alias of ``model.runmodel()``."""
    return model.runmodel(**kwargs)  # type: ignore[arg-type]


def fit(model: Model):  # noqa: ANN201
    """Functional alias of ``model.fit()``."""
    return model.fit()


def parameters(model: Model, **kwargs: object):  # noqa: ANN201
    """Functional alias of ``model.parameters()``."""
    return model.parameters(**kwargs)  # type: ignore[arg-type]


def getmatrix(model: Model, matrix: str, **kwargs: object):  # noqa: ANN201
    """Functional alias of ``model.getmatrix()``."""
    return model.getmatrix(matrix, **kwargs)  # type: ignore[arg-type]


def MIs(model: Model):  # noqa: ANN201, N802
    """Functional alias of ``model.MIs()``."""
    return model.MIs()

__version__ = "0.1.0"

__all__ = [
    "ml_lvm", "ml_lnm", "ml_rnm", "ml_lrnm", "ml_varcov", "ml_ggm",
    "Model", "TwoLevelStats", "twolevel_stats", "datasets", "runmodel", "fit", "parameters", "getmatrix", "MIs",
    "prune", "stepup", "modelsearch", "compare", "plot_network", "plot_path", "parse_model", "generate",
    "ConvergenceWarning", "DataWarning", "ImproperSolutionWarning", "ModelSyntaxError",
    "__version__",
]
