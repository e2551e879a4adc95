"""Small helpers that make every argument error read the same way.

Template: "`argument`: what was wrong (what was expected)."
"""

from __future__ import annotations

from collections.abc import Iterable


def choice(name: str, value: object, options: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``options``, else raise ValueError naming ``name``."""
    opts = list(options)
    if not isinstance(value, str) or value not in opts:
        raise ValueError(f"`{name}`: {value!r} is not a valid choice (expected one of {', '.join(map(repr, opts))}).")
    return value


def preview(items: Iterable[object], limit: int = 12) -> str:
    """Comma-separated preview of a few items, for error messages."""
    items = list(items)
    text = ", ".join(repr(i) for i in items[:limit])
    return text + (", ..." if len(items) > limit else "")
