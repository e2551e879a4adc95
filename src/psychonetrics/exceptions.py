"""Error and warning classes of psychonetrics.

Every error the package raises on bad input is a ``ValueError`` or a
``TypeError`` whose message names the argument and what was expected.
Warnings have their own classes so that users can filter them.
"""

from __future__ import annotations


class PsychonetricsWarning(UserWarning):
    """Base class of every warning issued by psychonetrics."""


class DataWarning(PsychonetricsWarning):
    """Something in the data deserves attention (dropped rows, zero variance, few clusters)."""


class ConvergenceWarning(PsychonetricsWarning):
    """The optimizer did not reach a maximum of the likelihood."""


class ImproperSolutionWarning(PsychonetricsWarning):
    """The solution has a negative variance, a non-positive-definite matrix or a singular information."""


class ComparisonWarning(PsychonetricsWarning):
    """A model comparison whose difference test is not valid as asked (e.g. an ML and a robust model)."""


class ModelSyntaxError(ValueError):
    """A model syntax string could not be parsed (line and token are named)."""


class NotFittedError(ValueError):
    """A result was asked of a model that has not been run (call ``runmodel()``)."""
