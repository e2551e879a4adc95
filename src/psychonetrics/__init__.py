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
from .exceptions import ConvergenceWarning, DataWarning, ImproperSolutionWarning, ModelSyntaxError
from .model import Model

__version__ = "0.1.0"

__all__ = [
    "ml_lvm", "ml_lnm", "ml_rnm", "ml_lrnm", "ml_varcov", "ml_ggm",
    "Model", "TwoLevelStats", "datasets",
    "ConvergenceWarning", "DataWarning", "ImproperSolutionWarning", "ModelSyntaxError",
    "__version__",
]
