"""The covariance of the estimates from an information matrix, and what the information says about identification.

Scaled coordinates
------------------
Every quantity here is computed on the information scaled to unit diagonal,
``I_s = D^-1/2 I D^-1/2`` with ``D = diag(I)`` (the information of the
estimates standardized by their conditional standard errors), so the
thresholds below do not depend on the units of the parameters.  Its
eigenvalues lie in (0, n]; the smallest is 1 over the largest variance
inflation of any standardized combination of estimates.

Null directions (parameters that are not identified)
-----------------------------------------------------
The null space is the numerical kernel of the scaled *expected* information
(analytic, so accurate to rounding; the observed information of some routes
is differenced and would blur the kernel).  An eigenvalue below the
numerical-rank tolerance ``n eps lambda_max`` (numpy's ``matrix_rank``)
is 0.  A parameter lies in a null direction when its unit vector has a
component in the kernel larger than the rounding error of the computed
kernel itself; by the Davis-Kahan bound that error is about
``eps lambda_max / gap``, with ``gap`` the smallest nonzero eigenvalue, so::

    flagged_k  <=>  || N' e_k || > min(0.1, 100 eps lambda_max / gap)

On a nearly singular level this keeps the parameters of the other level
(and every other parameter orthogonal to the kernel) estimable: their
variances come from the information restricted to the complement of the
kernel, which is their exact variance when they are orthogonal to it.
Flagged parameters have no standard error (NaN).

The bread of a sandwich is inverted with a coarser cut, :data:`SANDWICH_FLOOR`
(directions below sqrt(eps) lambda_max count as null): the sandwich weighs a
direction by 1 / lambda^2.

Weak directions (an empirically under-identified solution: a ridge)
-------------------------------------------------------------------
A direction with a scaled eigenvalue below :data:`RIDGE_EIGENVALUE` is a
near-flat ridge of the likelihood (a variance near zero with large
loadings that compensate, for example): the standard errors of the
parameters moving along it are more than 100 times their conditional
standard errors.  Those parameters are reported by :func:`weak_parameters`
(the variance inflation ``vcov_kk I_kk`` of each parameter, above
:data:`RIDGE_INFLATION`); they keep their (large, honest) standard errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..linalg import FloatArray

EPS = float(np.finfo(float).eps)
#: Scaled eigenvalue below which a direction is a ridge (variance inflation above 1e4, SEs 100 x).
RIDGE_EIGENVALUE = 1e-4
#: Variance inflation (vcov_kk I_kk) above which a parameter moves along a ridge.
RIDGE_INFLATION = 1.0 / RIDGE_EIGENVALUE
#: The largest share of a parameter's unit vector that may lie in the kernel and still count as rounding.
MAX_KERNEL_SHARE = 0.1
#: Relative eigenvalue below which a direction is left out of the bread of a sandwich (A^-1 B A^-1): the
#: sandwich weighs a direction by 1 / lambda^2, so one at the numerical-rank level turns rounding (and, at a
#: boundary maximum, the nonzero mean of the scores) into arbitrary variances; sqrt(eps), as psychonetrics
#: uses for its inverses.
SANDWICH_FLOOR = float(np.sqrt(EPS))


@dataclass(frozen=True)
class Kernel:
    """The numerical null space of an information matrix, in its scaled coordinates.

    Attributes
    ----------
    scale : (n,) array
        sqrt of the information's diagonal (the scaling of the coordinates).
    basis : (n, k) array
        Orthonormal basis of the kernel (k = 0: the information is regular).
    complement : (n, n - k) array or None
        Orthonormal basis of its complement (None when k = 0).
    flagged : (n,) bool array
        Parameters with a component in the kernel (not identified).
    """

    scale: FloatArray
    basis: FloatArray
    complement: FloatArray | None
    flagged: np.ndarray

    @property
    def regular(self) -> bool:
        return self.basis.shape[1] == 0


def _scaled(info: FloatArray, scale: FloatArray) -> FloatArray:
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = info / np.outer(scale, scale)
    return 0.5 * (out + out.T)


def _cholesky_inverse_half(scaled: FloatArray, max_inflation: float = 1e10) -> FloatArray | None:
    """L^-1 for ``scaled`` = L L' when it is clearly regular (every pivot and every variance inflation
    far from the rank tolerance), else None."""
    from scipy.linalg import solve_triangular

    try:
        low = np.linalg.cholesky(scaled)
    except np.linalg.LinAlgError:
        return None
    if np.min(np.diag(low)) ** 2 < 1e-8:
        return None
    half = solve_triangular(low, np.eye(low.shape[0]), lower=True)
    inflation = np.sum(half * half, axis=0)  # diag of scaled^-1
    if not np.all(np.isfinite(inflation)) or inflation.max() > max_inflation:
        return None
    return half


def kernel(expected: FloatArray, *, floor: float = 0.0) -> Kernel | None:
    """The null space of ``expected`` (an expected information); None when it is not finite.

    Parameters
    ----------
    expected : (n, n) array
        Expected information of the log-likelihood in the free parameters.
    floor : float
        Also treat directions whose scaled eigenvalue is below ``floor`` times the largest as null
        (default: only the numerical kernel, below ``n eps``).
    """
    return _kernel(expected, floor)[0]


def _kernel(expected: FloatArray, floor: float = 0.0) -> tuple[Kernel | None, FloatArray | None]:
    """The kernel, and L^-1 of the scaled ``expected`` when the fast regular path decided it."""
    n = expected.shape[0]
    if not np.all(np.isfinite(expected)):
        return None, None
    scale = np.sqrt(np.clip(np.diag(expected), 1e-300, None))
    scaled = _scaled(expected, scale)
    if not np.all(np.isfinite(scaled)):
        return None, None
    empty = np.zeros((n, 0))
    regular = Kernel(scale, empty, None, np.zeros(n, dtype=bool))
    if n == 0:
        return regular, np.zeros((0, 0))
    half = _cholesky_inverse_half(scaled, 1e10 if floor <= 0 else min(1e10, 1e-2 / floor))
    if half is not None:  # the usual case: clearly regular
        return regular, half
    vals, vecs = np.linalg.eigh(scaled)
    top = max(float(vals[-1]), 1e-300)
    exact = vals < n * EPS * top
    null = exact | (vals < floor * top)
    if not null.any():
        return regular, None
    flagged = np.zeros(n, dtype=bool)
    if exact.any():
        gap = float(vals[~exact].min()) if (~exact).any() else top
        threshold = min(MAX_KERNEL_SHARE, 100.0 * EPS * top / max(gap, 1e-300))
        flagged |= _share(vecs[:, exact]) > threshold
    if (null & ~exact).any():  # directions below the floor: only parameters that mostly move along them
        flagged |= _share(vecs[:, null & ~exact]) > MAX_KERNEL_SHARE
    return Kernel(scale, vecs[:, null], vecs[:, ~null], flagged), None


def _share(basis: FloatArray) -> FloatArray:
    """Length of each parameter's unit vector projected on the span of ``basis`` (orthonormal columns)."""
    return np.sqrt(np.sum(basis * basis, axis=1))


def covariance(info: FloatArray, null: Kernel) -> FloatArray | None:
    """The inverse of ``info`` on the complement of ``null`` (the covariance of the estimates).

    Parameters in a null direction get NaN rows and columns.  Returns None
    when ``info`` is not positive definite on the complement (an observed
    information at a bound or on a nearly singular level).
    """
    n = info.shape[0]
    if n == 0:
        return np.zeros((0, 0))
    if not np.all(np.isfinite(info)):
        return None
    scaled = _scaled(info, null.scale)
    if not np.all(np.isfinite(scaled)):
        return None
    from scipy.linalg import solve_triangular

    basis = np.eye(n) if null.complement is None else null.complement
    restricted = basis.T @ scaled @ basis
    try:
        low = np.linalg.cholesky(0.5 * (restricted + restricted.T))
    except np.linalg.LinAlgError:
        return None
    if np.min(np.diag(low)) ** 2 < n * EPS * max(float(np.max(np.diag(restricted))), 1e-300):
        return None
    half = solve_triangular(low, basis.T, lower=True)  # L^-1 U'
    return _finish(half, null)


def _finish(half: FloatArray, null: Kernel) -> FloatArray:
    cov = (half.T @ half) / np.outer(null.scale, null.scale)
    if null.flagged.any():
        cov[null.flagged, :] = np.nan
        cov[:, null.flagged] = np.nan
    return 0.5 * (cov + cov.T)


def invert_information(info: FloatArray, *, expected: FloatArray | None = None, floor: float = 0.0,
                       ) -> tuple[FloatArray | None, Kernel | None]:
    """The covariance of the estimates from ``info``, with the kernel found on ``expected``.

    Parameters
    ----------
    info : (n, n) array
        The information of the standard errors (observed or expected).
    expected : (n, n) array, optional
        The expected information, which decides the null directions
        (default: ``info`` itself).
    floor : float
        Relative eigenvalue below which a direction counts as null too (see :func:`kernel`);
        :data:`SANDWICH_FLOOR` for the bread of a sandwich.

    Returns
    -------
    vcov : (n, n) array or None
        NaN rows and columns for parameters in a null direction; None when
        ``info`` is not positive definite on the complement of the kernel.
    kernel : Kernel or None
        None when ``expected`` is not finite (then ``vcov`` is None too).
    """
    null, half = _kernel(info if expected is None else expected, floor)
    if null is None:
        return None, None
    if expected is None and half is not None:
        return _finish(half, null), null
    return covariance(info, null), null


def invert_observed(info: FloatArray, *, floor: float = SANDWICH_FLOOR) -> FloatArray | None:
    """The covariance of the estimates from an observed information that has no expected counterpart (the
    exact multilevel VAR likelihood), also where it is not positive definite.

    The scaled information D^-1/2 I D^-1/2 = V diag(lambda) V' is inverted on its eigenvectors with
    lambda >= ``floor`` lambda_max; the others (negative ones included: at a boundary, or differencing noise
    in a nearly flat direction) are null directions, and a parameter with more than
    :data:`MAX_KERNEL_SHARE` of its unit vector in them gets NaN (no standard error), as in :func:`kernel`.

    Returns
    -------
    (n, n) array or None
        None when ``info`` is not finite.
    """
    n = info.shape[0]
    if not np.all(np.isfinite(info)):
        return None
    if n == 0:
        return np.zeros((0, 0))
    scale = np.sqrt(np.clip(np.diag(info), 1e-300, None))
    vals, vecs = np.linalg.eigh(_scaled(info, scale))
    keep = vals >= floor * max(float(vals[-1]), 1e-300)
    flagged = _share(vecs[:, ~keep]) > MAX_KERNEL_SHARE if (~keep).any() else np.zeros(n, dtype=bool)
    half = (vecs[:, keep] / np.sqrt(vals[keep])).T
    return _finish(half, Kernel(scale, vecs[:, ~keep], vecs[:, keep], flagged))


def weak_parameters(vcov: FloatArray, info: FloatArray) -> np.ndarray:
    """Parameters moving along a ridge of the likelihood: variance inflation vcov_kk I_kk above
    :data:`RIDGE_INFLATION` (NaN variances, of parameters not identified, are not weak)."""
    with np.errstate(invalid="ignore", over="ignore"):
        inflation = np.diag(vcov) * np.diag(info)
    return np.isfinite(inflation) & (inflation > RIDGE_INFLATION)


def standard_errors(vcov: FloatArray) -> FloatArray:
    """sqrt of the diagonal of ``vcov`` (NaN where it is NaN)."""
    diag = np.diag(vcov)
    se = np.sqrt(np.clip(diag, 0.0, None))
    se[np.isnan(diag)] = np.nan
    return se


__all__ = ["Kernel", "kernel", "covariance", "invert_information", "invert_observed", "weak_parameters", "standard_errors", "RIDGE_EIGENVALUE",
           "RIDGE_INFLATION"]
