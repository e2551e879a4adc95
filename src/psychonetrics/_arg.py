"""Small helpers that make every argument error read the same way.

Template: "`argument`: what was wrong (what was expected)."
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def choice(name: str, value: object, options: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``options``, else raise ValueError naming ``name``."""
    opts = list(options)
    if not isinstance(value, str) or value not in opts:
        raise ValueError(f"`{name}`: {value!r} is not a valid choice (expected one of {', '.join(map(repr, opts))}).")
    return value


def flag(name: str, value: object) -> bool:
    """Return ``value`` if it is True or False, else raise TypeError naming ``name``.

    Only real booleans count (numpy's too): ``"False"`` is a non-empty string
    that Python reads as true, and ``None`` or ``0`` would silently mean False.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"`{name}`: expected True or False, got {value!r} (a {type(value).__name__}).")


def optional_flag(name: str, value: object) -> bool | None:
    """As :func:`flag`, with None (meaning "the default") also accepted and returned."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    raise TypeError(f"`{name}`: expected True, False or None, got {value!r} (a {type(value).__name__}).")


def preview(items: Iterable[object], limit: int = 12) -> str:
    """Comma-separated preview of a few items, for error messages."""
    items = list(items)
    text = ", ".join(repr(i) for i in items[:limit])
    return text + (", ..." if len(items) > limit else "")
