"""Multiple-testing adjustment of p-values, matching R's ``stats::p.adjust``.

Every method follows R's source operation by operation, including the order of
the floating-point operations, so that results agree with R to the last bit.
``scipy.stats.false_discovery_control`` implements the same BH/BY formulas
but multiplies in a different order (so BY can differ in the last bit) and
rejects NaN inputs, which R passes through. That is why it is not used here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from psychonetrics._arg import choice

__all__ = ["P_ADJUST_METHODS", "p_adjust"]

#: Methods accepted by :func:`p_adjust` (R's ``p.adjust.methods`` plus the
#: lowercase aliases ``"bh"`` and ``"by"``).
P_ADJUST_METHODS: tuple[str, ...] = (
    "holm",
    "hochberg",
    "hommel",
    "bonferroni",
    "BH",
    "BY",
    "fdr",
    "none",
    "bh",
    "by",
)

_ALIASES: dict[str, str] = {"fdr": "BH", "bh": "BH", "by": "BY"}


def p_adjust(p: ArrayLike, method: str = "none") -> np.ndarray:
    """Adjust p-values for multiple comparisons, as R's ``p.adjust`` does.

    Parameters
    ----------
    p : array_like
        P-values, each in [0, 1] or NaN. Any shape; the number of tests ``n``
        is the number of non-NaN entries of the whole array.
    method : str, default "none"
        One of ``"holm"``, ``"hochberg"``, ``"hommel"``, ``"bonferroni"``,
        ``"BH"`` (alias ``"fdr"`` and ``"bh"``), ``"BY"`` (alias ``"by"``)
        or ``"none"``.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values (float) with the shape of ``p``, each in the same
        position as the p-value it adjusts. NaN entries stay NaN and are not
        counted in ``n``. With ``n <= 1`` the p-values are returned unchanged.

    Raises
    ------
    ValueError
        If ``method`` is not one of the names above, or if ``p`` is not
        numeric or has a value outside [0, 1].

    Notes
    -----
    As in R, ``"hommel"`` with ``n == 2`` is computed as ``"hochberg"`` (they
    coincide), and ties get equal adjusted values for every method.

    Examples
    --------
    >>> p_adjust([0.01, 0.02, 0.03], method="holm")
    array([0.03, 0.04, 0.04])
    """
    method = choice("method", method, P_ADJUST_METHODS)
    method = _ALIASES.get(method, method)

    try:
        arr = np.array(p, dtype=float)  # always a copy: the input is never modified
    except (TypeError, ValueError):
        raise ValueError(f"`p`: expected numeric p-values, got {type(p).__name__}.") from None
    bad = ~np.isnan(arr) & ((arr < 0.0) | (arr > 1.0))
    if bad.any():
        raise ValueError(
            f"`p`: p-values must lie in [0, 1] (or be NaN); got {arr[bad][0]!r}."
        )

    flat = arr.reshape(-1)
    keep = ~np.isnan(flat)
    values = flat[keep]
    n = values.size
    if n <= 1 or method == "none":
        return arr
    if n == 2 and method == "hommel":
        method = "hochberg"

    flat[keep] = _ADJUSTERS[method](values)
    return flat.reshape(arr.shape)


# --------------------------------------------------------------------------
# The methods. Each takes the non-NaN p-values (n >= 2) in input order and
# returns the adjusted values in that same order.
# --------------------------------------------------------------------------


def _bonferroni(p: np.ndarray) -> np.ndarray:
    # R: pmin(1, n * p)
    return np.minimum(1.0, p.size * p)


def _holm(p: np.ndarray) -> np.ndarray:
    # R: pmin(1, cummax((n - i + 1L) * p[o]))[ro], o = order(p)
    n = p.size
    o = np.argsort(p, kind="stable")
    i = np.arange(1, n + 1)
    adj = np.minimum(1.0, np.maximum.accumulate((n - i + 1) * p[o]))
    return _restore(adj, o)


def _hochberg(p: np.ndarray) -> np.ndarray:
    # R: pmin(1, cummin((n + 1L - i) * p[o]))[ro], i = n:1, o = order(p, decreasing = TRUE)
    n = p.size
    o = _order_decreasing(p)
    i = np.arange(n, 0, -1)
    adj = np.minimum(1.0, np.minimum.accumulate((n + 1 - i) * p[o]))
    return _restore(adj, o)


def _bh(p: np.ndarray) -> np.ndarray:
    # R: pmin(1, cummin(n / i * p[o]))[ro], i = n:1, o = order(p, decreasing = TRUE)
    n = p.size
    o = _order_decreasing(p)
    i = np.arange(n, 0, -1)
    adj = np.minimum(1.0, np.minimum.accumulate(n / i * p[o]))
    return _restore(adj, o)


def _by(p: np.ndarray) -> np.ndarray:
    # R: q <- sum(1/(1L:n)); pmin(1, cummin(q * n / i * p[o]))[ro]
    n = p.size
    o = _order_decreasing(p)
    i = np.arange(n, 0, -1)
    q = float(np.sum(1.0 / np.arange(1, n + 1)))
    adj = np.minimum(1.0, np.minimum.accumulate(q * n / i * p[o]))
    return _restore(adj, o)


def _hommel(p: np.ndarray) -> np.ndarray:
    # R's algorithm (stats::p.adjust, method = "hommel"), for n >= 3:
    #     i <- seq_len(n); o <- order(p); p <- p[o]; ro <- order(o)
    #     q <- pa <- rep.int(min(n*p/i), n)
    #     for (m in (n-1L):2L) {
    #         i1 <- seq_len(n-m+1L)
    #         i2 <- (n-m+2L):n
    #         q1 <- min(m*p[i2]/(2L:m))
    #         q[i1] <- pmin(m*p[i1], q1)
    #         q[i2] <- q[n-m+1L]
    #         pa <- pmax(pa, q)
    #     }
    #     pmax(pa, p)[ro]
    # Indices below are 0-based: R's i1 is [0, n-m], i2 is [n-m+1, n-1].
    n = p.size
    o = np.argsort(p, kind="stable")
    ps = p[o]
    i = np.arange(1, n + 1)
    pa = np.full(n, np.min(n * ps / i))
    q = pa.copy()
    for m in range(n - 1, 1, -1):
        cut = n - m + 1  # R's i1 = 1..cut, i2 = (cut+1)..n
        q1 = np.min(m * ps[cut:] / np.arange(2, m + 1))
        q[:cut] = np.minimum(m * ps[:cut], q1)
        q[cut:] = q[cut - 1]
        pa = np.maximum(pa, q)
    return _restore(np.maximum(pa, ps), o)


def _order_decreasing(p: np.ndarray) -> np.ndarray:
    """Permutation sorting ``p`` decreasingly (ties keep their input order)."""
    return np.argsort(-p, kind="stable")


def _restore(sorted_values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Put values computed in ``p[order]`` order back into input order (R's ``[ro]``)."""
    out = np.empty_like(sorted_values, dtype=float)
    out[order] = sorted_values
    return out


_ADJUSTERS = {
    "bonferroni": _bonferroni,
    "holm": _holm,
    "hochberg": _hochberg,
    "hommel": _hommel,
    "BH": _bh,
    "BY": _by,
}
