"""Warnings that point at the user's line, not into the package.

A fixed ``stacklevel`` is right for one call path only: the same warning
raised a call deeper (``prune()`` refitting, an engine helper) would name a
line inside psychonetrics.  :func:`warn` instead attributes the warning to
the first frame outside the package, as pandas does, so that the filename
and line a user sees (and filters on) are their own.
"""

from __future__ import annotations

import os
import sys
import warnings

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes ``warnings.warn``, called from :func:`warn`, name the first frame
    outside the package (1 is :func:`warn` itself, 2 its caller, ...)."""
    frame = sys._getframe(2)  # the caller of warn()
    level = 2
    while frame is not None and frame.f_code.co_filename.startswith(PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level


def warn(message: str, category: type[Warning]) -> None:
    """``warnings.warn(message, category)`` attributed to the user's code (see the module docstring)."""
    warnings.warn(message, category, stacklevel=user_stacklevel())


__all__ = ["warn", "user_stacklevel"]
