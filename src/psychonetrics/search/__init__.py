"""Model search and comparison."""

from .compare import compare
from .steps import SearchWarning, modelsearch, network_matrices, prune, stepup

__all__ = ["compare", "modelsearch", "network_matrices", "prune", "stepup", "SearchWarning"]
