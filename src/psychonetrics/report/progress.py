"""One status line on a terminal for work that takes a while (long fits, searches).

Silent when stderr is not a terminal (scripts, notebooks, CI logs) and for
work that ends within ``delay`` seconds: a quick fit prints nothing.
"""

from __future__ import annotations

import sys
import time


class Progress:
    """``update(text)`` rewrites one line on stderr; ``close()`` ends it.

    Parameters
    ----------
    what : str
        Prefix of the line (``"fitting ml_lvm"``, ``"modelsearch"``).
    delay : float
        Seconds of work before the first line is shown.
    enabled : bool, optional
        Force on or off (default: whether stderr is a terminal).
    """

    def __init__(self, what: str, *, delay: float = 1.0, enabled: bool | None = None) -> None:
        self.what = what
        self.delay = delay
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.started = time.monotonic()
        self.shown = False

    def update(self, text: str) -> None:
        if self.enabled and (self.shown or time.monotonic() - self.started >= self.delay):
            sys.stderr.write(f"\r{self.what}: {text}\x1b[K")
            sys.stderr.flush()
            self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.shown = False

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
