"""Optimizers for the two-level objective.

* ``"fisher"``: Fisher scoring with the analytic expected information,
  backtracking (a step that leaves the parameter space, where the
  likelihood is -inf, is halved) and bounds handled by an active set.
  Converges in a handful of iterations on well-posed models.
* ``"lbfgs"``: scipy's L-BFGS-B with the analytic gradient; a point outside
  the parameter space returns a large finite value so the line search
  backs off.
* ``"default"``: Fisher scoring, falling back to L-BFGS-B when it fails.

Convergence is judged by the Newton decrement g' I^-1 g (the score test of
"we are at the maximum", in log-likelihood units) and the projected
gradient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .._arg import choice
from ..linalg import FloatArray, read_only
from .objective import Objective

if TYPE_CHECKING:
    from ..report.progress import Progress

OPTIMIZERS = ("default", "fisher", "lbfgs", "quasi-newton")
#: Iterations between checks that the implied distribution of the data has not become degenerate (from
#: this iteration on: a fit that converges sooner is checked once, at its end, by the caller).
DEGENERACY_CHECK_EVERY = 5
#: Newton decrement g' H^-1 g (log-likelihood units) at which a fit has converged: the log-likelihood is
#: within about half of it of its maximum and every estimate within sqrt(1e-9) = 3e-5 standard errors.
FIT_TOLERANCE = 1e-9
#: Backtracking fraction below which a scoring step counts as far too long: the next steps are damped.
SHORT_STEP = 2.0 ** -10
#: Log-likelihood gain below which a step that holds the blocks whose full step left the parameter space
#: counts as stalled; after STALLED_STEPS such iterations in a row, those blocks move part of the way
#: toward the boundary instead.
STALL_GAIN = 1e-6
STALLED_STEPS = 10
#: How a result whose likelihood has no maximum begins its message (no fallback or retry can help it).
UNBOUNDED = "unbounded likelihood"
#: How a result at a maximum on the boundary of the parameter space begins its message.
AT_BOUNDARY = "converged at the boundary of the parameter space"
#: A fit crawls along a boundary when BOUNDARY_STEPS iterations in a row were held or crawling (each gaining
#: less than CRAWL_GAIN near a nearly singular block) and together gained less than BOUNDARY_GAIN.
BOUNDARY_STEPS = 10
BOUNDARY_GAIN = 1e-3
CRAWL_GAIN = 1e-4


def _crawled(gains: list[float]) -> bool:
    """Whether the gains of the last held or crawling iterations say the fit is at a boundary maximum."""
    return len(gains) >= BOUNDARY_STEPS and sum(gains[-BOUNDARY_STEPS:]) < BOUNDARY_GAIN


@dataclass(frozen=True)
class OptimizerResult:
    """What the optimizer reports; it is kept on the fitted model."""

    x: FloatArray
    loglik: float
    converged: bool
    iterations: int
    gradient_norm: float
    optimizer: str
    message: str
    information: FloatArray | None = None  # expected information at x, when the optimizer has it

    def __post_init__(self) -> None:
        object.__setattr__(self, "x", read_only(self.x))
        if self.information is not None:
            object.__setattr__(self, "information", read_only(self.information))


def _projected_gradient(x: FloatArray, grad: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
    """Gradient of logL with components at an active bound (pointing outward) removed."""
    g = grad.copy()
    g[(x <= lo + 1e-10) & (g < 0)] = 0.0
    g[(x >= hi - 1e-10) & (g > 0)] = 0.0
    return g


def _max_step(x: FloatArray, step: FloatArray, lo: FloatArray, strict: np.ndarray, tau: float = 0.9) -> float:
    """Largest multiple (<= 1) of ``step`` that keeps parameters with an open lower bound inside it.

    A parameter may cover at most ``tau`` of its distance to the bound in one
    iteration (the fraction-to-boundary rule of interior-point methods), so
    it approaches a bound geometrically but never reaches it.
    """
    toward = strict & (step < 0)
    if not toward.any():
        return 1.0
    room = tau * (x[toward] - lo[toward]) / -step[toward]
    return float(min(1.0, room.min()))


def fisher_scoring(obj: Objective, x0: FloatArray, *, max_iter: int = 300, tol: float = FIT_TOLERANCE,
                   progress: "Progress | None" = None) -> OptimizerResult:
    """Maximize logL by Fisher scoring with a secant correction, backtracking and bound handling.

    The metric is H_k = I(x_k) + A_k: the expected information plus a
    symmetric rank-one (SR1) correction A_k updated so that H_k satisfies
    the secant condition on the analytic gradients (the structured
    quasi-Newton idea of Dennis, Gay and Welsch).  Pure Fisher scoring
    converges linearly; the correction makes the last iterations
    superlinear.  A correction that makes the step a non-ascent direction
    is dropped.  The full step is evaluated with its gradient and
    information at once; only a rejected step triggers a likelihood-only
    backtracking line search.  Closed bounds are handled by an active set;
    open ones (network and correlation scales) by the fraction-to-boundary
    rule of :func:`_max_step`; a step that leaves the parameter space of
    some blocks by :class:`_Inside`.
    """
    lo, hi = obj.table.bounds()
    strict = obj.table.strict_bounds()
    x = np.clip(x0.astype(float), np.where(strict, lo + 1e-8 * np.maximum(np.abs(x0), 1.0), lo), hi)
    ll, grad, info = obj.scoring_quantities(x)
    if not np.isfinite(ll):
        return OptimizerResult(x, ll, False, 0, np.inf, "fisher", "start values are outside the parameter space")

    def result(point: FloatArray, gradient: FloatArray, it: int, converged: bool, message: str,
               information: FloatArray | None = None, loglik: float | None = None) -> OptimizerResult:
        norm = float(np.linalg.norm(_projected_gradient(point, gradient, lo, hi)))
        return OptimizerResult(point, ll if loglik is None else loglik, converged, it, norm, "fisher", message,
                               information)

    correction = np.zeros_like(info)
    ridge = 0.0
    grad_tol = 1e-4 * max(1.0, obj.n_units) ** 0.5
    blocked: list[float] = []  # logl gains of consecutive iterations whose full step left the parameter space
    inside = _Inside(obj, lo, hi, strict, tol)
    for it in range(1, max_iter + 1):
        if progress is not None:
            progress.update(f"iteration {it}, logl {ll:.4f}")
        step = _scoring_step(x, grad, info + correction, lo, hi, ridge)
        decrement = float(grad @ step)
        if (not np.isfinite(decrement) or decrement < 0) and correction.any():
            correction[:] = 0.0
            step = _scoring_step(x, grad, info, lo, hi, ridge)
            decrement = float(grad @ step)
        pg = _projected_gradient(x, grad, lo, hi)
        if 0 <= decrement < tol and np.max(np.abs(pg), initial=0.0) < grad_tol:
            return result(x, grad, it - 1, True, "converged", info)
        if not np.isfinite(decrement) or decrement < 0:
            ridge = max(ridge * 10, 1e-6)
            if ridge > 1e6:
                break
            continue
        scale = _max_step(x, step, lo, strict)
        trial = np.clip(x + scale * step, lo, hi)
        ll_new, grad_new, info_new = obj.scoring_quantities(trial)
        outside = not np.isfinite(ll_new)
        if outside:
            moved = inside.step(x, ll, grad, info + correction, step, trial, ridge)
            if moved is not None:
                trial = moved
                ll_new, grad_new, info_new = obj.scoring_quantities(trial)
        if not (np.isfinite(ll_new) and ll_new >= ll + 1e-4 * scale * decrement - 1e-12 * abs(ll)) and not (
                outside and np.isfinite(ll_new) and ll_new > ll):
            correction[:] = 0.0
            alpha = _backtrack(obj, x, ll, scale * step, scale * decrement, lo, hi)
            if alpha is None:
                if decrement < 1e-6:
                    return result(x, grad, it, True, "converged (no further improvement possible)", info)
                ridge = max(ridge * 10, 1e-4)
                if ridge > 1e6:
                    break
                continue
            trial = np.clip(x + alpha * scale * step, lo, hi)
            ll_new, grad_new, info_new = obj.scoring_quantities(trial)
            if alpha < SHORT_STEP:
                # the information badly underestimates the curvature along the step (a Cholesky or network
                # parameterization near a singular covariance, where the expected information of some
                # direction vanishes while the likelihood still bends): damp the next steps
                ridge = max(ridge * 100, 1e-3)
        ridge = ridge / 10 if ridge > 1e-8 else 0.0
        # A maximum on the boundary of the parameter space (a network, precision or Cholesky block of a
        # level whose covariance is singular, common on real data) is approached only asymptotically:
        # the full steps keep leaving the space, or parameters sit on a closed bound where the
        # parameterization degenerates, and the gains vanish.  Stop there rather than run to the limit.
        on_bound = bool(np.any((trial <= lo + 1e-12) & ~strict))
        # a step that gains nothing where a block is nearly singular stalls on the boundary too (the scoring
        # model of a network near its singularity predicts gains the likelihood does not have)
        stalled = ll_new - ll < CRAWL_GAIN and obj.near_boundary(trial)
        blocked = blocked + [ll_new - ll] if (outside or on_bound or stalled) else []
        if _crawled(blocked) and (on_bound or obj.near_boundary(trial)):
            return result(trial, grad_new, it, True, AT_BOUNDARY, info_new, ll_new)
        if decrement < 1e-1:  # far from the optimum the secant information misleads: correct only at the end
            _sr1_update(correction, trial - x, grad - grad_new, info_new)
        x, ll, grad, info = trial, ll_new, grad_new, info_new
        if it % DEGENERACY_CHECK_EVERY == 0 and it > DEGENERACY_CHECK_EVERY:
            reason = obj.degenerate(x)
            if reason:  # the likelihood grows without bound there: no maximum to converge to
                return result(x, grad, it, False, f"{UNBOUNDED}: {reason}")
    return result(x, grad, max_iter, False, "iteration limit reached or no ascent direction")


def _backtrack(obj: Objective, x: FloatArray, ll: float, step: FloatArray, decrement: float, lo: FloatArray,
               hi: FloatArray) -> float | None:
    """The first of 1/2, 1/4, ... (40 halvings) whose point along ``step`` gains the Armijo fraction of
    ``decrement``; None when none does."""
    alpha = 0.5
    for _ in range(40):
        ll_try = obj.loglik(np.clip(x + alpha * step, lo, hi))
        if np.isfinite(ll_try) and ll_try >= ll + 1e-4 * alpha * decrement - 1e-12 * abs(ll):
            return alpha
        alpha *= 0.5
    return None


def _sr1_update(correction: FloatArray, s_vec: FloatArray, y_vec: FloatArray, info_new: FloatArray) -> None:
    """SR1 secant correction in place: (I(x_new) + A) s = y with y the change in -d logL; skipped when
    the update's denominator is relatively tiny or not finite."""
    with np.errstate(over="ignore", invalid="ignore"):
        residual = y_vec - (info_new + correction) @ s_vec
        denom = float(residual @ s_vec)
        scale = float(np.linalg.norm(residual) * np.linalg.norm(s_vec))
    if np.isfinite(scale) and np.isfinite(denom) and abs(denom) > 1e-8 * scale:
        correction += np.outer(residual, residual) / denom


class _Inside:
    """Where to go when the full scoring step leaves the parameter space of some blocks (a network or
    correlation block pressed against its boundary).

    Hold those blocks and step in the other parameters.  When that has gained (almost) nothing for
    :data:`STALLED_STEPS` iterations in a row, those blocks must move: backtrack along the full step.
    When neither finds an ascent, a Marquardt-damped step (:func:`_damped_step`).
    """

    def __init__(self, obj: Objective, lo: FloatArray, hi: FloatArray, strict: np.ndarray, tol: float) -> None:
        self.obj, self.lo, self.hi, self.strict, self.tol = obj, lo, hi, strict, tol
        self.stalls = 0

    def step(self, x: FloatArray, ll: float, grad: FloatArray, metric: FloatArray, step: FloatArray,
             trial: FloatArray, ridge: float) -> FloatArray | None:
        """A point inside the space with a higher likelihood than ``x``, or None."""
        obj, lo, hi, strict = self.obj, self.lo, self.hi, self.strict
        frozen, _ = obj.outside_blocks(trial)
        if frozen.any() and not frozen.all():
            held = _held_step(x, grad, metric, lo, hi, ridge, frozen)
            ascends = not 0 <= float(grad @ held) < self.tol
            candidate = _ascent(obj, x, ll, grad, held, lo, hi, strict, min_gain=STALL_GAIN) if ascends else None
            self.stalls = self.stalls + 1 if candidate is None else 0
            if candidate is None and self.stalls >= STALLED_STEPS:
                candidate = _ascent(obj, x, ll, grad, step, lo, hi, strict)
            elif candidate is None and ascends:
                candidate = _ascent(obj, x, ll, grad, held, lo, hi, strict)
            if candidate is not None:
                return candidate
        return _damped_step(obj, x, ll, grad, metric, lo, hi, strict)


#: Largest number of free parameters for which a step that leaves the parameter space is retried with
#: Marquardt damping (each try is a solve with the information, O(n^3)).
DAMPED_STEPS_MAX_PARAMETERS = 2000


def _damped_step(obj: Objective, x: FloatArray, ll: float, grad: FloatArray, info: FloatArray, lo: FloatArray,
                 hi: FloatArray, strict: np.ndarray) -> FloatArray | None:
    """A point with a higher likelihood along a Marquardt-damped scoring step, when the full step left the
    parameter space; None when no damping level gives one.

    (I + lambda diag(I)) s = g damps the directions of small curvature most.  On a level whose covariance
    is nearly singular the flat directions run into the boundary of the parameter space while the
    well-determined ones (the other level's parameters, say) would take a full Newton step: damping keeps
    those steps, where shortening the whole step would stall them.
    """
    if x.size > DAMPED_STEPS_MAX_PARAMETERS:
        return None
    scale = np.clip(np.diag(info), 1e-12, None)
    for lam in (1e-6, 1e-4, 1e-2, 1.0, 1e2):
        try:
            step = np.linalg.solve(info + lam * np.diag(scale), grad)
        except np.linalg.LinAlgError:
            continue
        at_bound = ((x <= lo + 1e-12) & (step < 0)) | ((x >= hi - 1e-12) & (step > 0))
        step[at_bound] = 0.0
        decrement = float(grad @ step)
        if not np.isfinite(decrement) or decrement <= 0:
            continue
        frac = _max_step(x, step, lo, strict)
        trial = np.clip(x + frac * step, lo, hi)
        ll_try = obj.loglik(trial)
        if np.isfinite(ll_try) and ll_try >= ll + 1e-4 * frac * decrement - 1e-12 * abs(ll):
            return trial
    return None


def _ascent(obj: Objective, x: FloatArray, ll: float, grad: FloatArray, step: FloatArray, lo: FloatArray,
            hi: FloatArray, strict: np.ndarray, *, min_gain: float = 0.0) -> FloatArray | None:
    """A point along ``step`` (backtracking from the largest fraction that keeps open bounds) with an
    Armijo increase of the likelihood of at least ``min_gain``; None when there is none."""
    decrement = float(grad @ step)
    if not np.isfinite(decrement) or decrement <= 0:
        return None
    alpha = _max_step(x, step, lo, strict)
    for _ in range(30):
        trial = np.clip(x + alpha * step, lo, hi)
        ll_try = obj.loglik(trial)
        if np.isfinite(ll_try) and ll_try >= ll + max(1e-4 * alpha * decrement, min_gain) - 1e-12 * abs(ll):
            return trial
        alpha *= 0.5
    return None


def _held_step(x: FloatArray, grad: FloatArray, info: FloatArray, lo: FloatArray, hi: FloatArray, ridge: float,
               held: np.ndarray) -> FloatArray:
    """The scoring step with the parameters ``held`` fixed (zero step there)."""
    step = np.zeros_like(x)
    idx = np.flatnonzero(~held)
    step[idx] = _scoring_step(x[idx], grad[idx], info[np.ix_(idx, idx)], lo[idx], hi[idx], ridge)
    return step


def _scoring_step(x: FloatArray, grad: FloatArray, info: FloatArray, lo: FloatArray, hi: FloatArray,
                  ridge: float) -> FloatArray:
    """Solve (I + ridge) step = grad, holding parameters at an active bound fixed."""
    n = x.size
    at_bound = (x <= lo + 1e-12) | (x >= hi - 1e-12)
    scale = max(float(np.mean(np.abs(np.diag(info)))), 1e-12) if n and (ridge or at_bound.any()) else 1.0
    if not at_bound.any():  # the usual case: one solve
        metric = info + ridge * scale * np.eye(n) if ridge else info
        try:
            return np.linalg.solve(metric, grad)
        except np.linalg.LinAlgError:
            return np.linalg.lstsq(metric, grad, rcond=None)[0]
    free = np.ones(n, dtype=bool)
    step = np.zeros(n)
    for _ in range(3):
        idx = np.flatnonzero(free)
        sub = info[np.ix_(idx, idx)] + ridge * scale * np.eye(idx.size)
        try:
            step_sub = np.linalg.solve(sub, grad[idx])
        except np.linalg.LinAlgError:
            step_sub = np.linalg.lstsq(sub, grad[idx], rcond=None)[0]
        step = np.zeros(n)
        step[idx] = step_sub
        blocked = ((x <= lo + 1e-12) & (step < 0)) | ((x >= hi - 1e-12) & (step > 0))
        if not (blocked & free).any():
            break
        free &= ~blocked
    return step


def quasi_newton(obj: Objective, x0: FloatArray, *, max_iter: int = 300, tol: float = FIT_TOLERANCE,
                 progress: "Progress | None" = None) -> OptimizerResult:
    """Maximize logL by BFGS started from the observed information, for a likelihood without an expected
    information (the exact multilevel VAR(1)).

    The metric H_0 is minus the Hessian at the start (differences of the analytic gradient, made positive
    definite); BFGS updates H_k from the gradients (H_k+1 s = y with y the change in -d logL).  From a start
    near the maximum (the lag pairs' estimates) the first steps are Newton steps and the convergence is
    superlinear, at one gradient per iteration.  Bounds and the open lower bounds of scales as in
    :func:`fisher_scoring`; convergence on the same Newton decrement.
    """
    lo, hi = obj.table.bounds()
    strict = obj.table.strict_bounds()
    x = np.clip(x0.astype(float), np.where(strict, lo + 1e-8 * np.maximum(np.abs(x0), 1.0), lo), hi)
    ll, grad = obj.loglik_and_gradient(x)
    if not np.isfinite(ll):
        return OptimizerResult(x, ll, False, 0, np.inf, "quasi-newton", "start values are outside the parameter space")
    metric = _symmetric(obj.information(x))
    grad_tol = 1e-4 * max(1.0, obj.n_units) ** 0.5
    blocked: list[float] = []  # gains of the last steps that crawled along a nearly singular block
    for it in range(1, max_iter + 1):
        if progress is not None:
            progress.update(f"iteration {it}, logl {ll:.4f}")
        step = _scoring_step(x, grad, metric, lo, hi, 0.0)
        decrement = float(grad @ step)
        pg = _projected_gradient(x, grad, lo, hi)
        if 0 <= decrement < tol and np.max(np.abs(pg), initial=0.0) < grad_tol:
            return OptimizerResult(x, ll, True, it - 1, float(np.linalg.norm(pg)), "quasi-newton", "converged")
        if not np.isfinite(decrement) or decrement <= 0:
            break
        scale = _max_step(x, step, lo, strict)
        alpha = 1.0
        for _ in range(40):
            trial = np.clip(x + alpha * scale * step, lo, hi)
            ll_new, grad_new = obj.loglik_and_gradient(trial)
            if np.isfinite(ll_new) and ll_new >= ll + 1e-4 * alpha * scale * decrement - 1e-12 * abs(ll):
                break
            alpha *= 0.5
        else:
            if decrement < 1e-6:
                return OptimizerResult(x, ll, True, it, float(np.linalg.norm(pg)), "quasi-newton",
                                       "converged (no further improvement possible)")
            break
        s_vec, y_vec = trial - x, grad - grad_new
        curvature = float(s_vec @ y_vec)
        if curvature > 1e-12 * float(np.linalg.norm(s_vec) * np.linalg.norm(y_vec)):  # keeps the metric PD
            hs = metric @ s_vec
            metric = metric - np.outer(hs, hs) / float(s_vec @ hs) + np.outer(y_vec, y_vec) / curvature
        # a maximum where a network block's covariance is singular (a between level whose unconstrained
        # maximum is indefinite) is approached only asymptotically, as in fisher_scoring
        blocked = blocked + [ll_new - ll] if ll_new - ll < CRAWL_GAIN and obj.near_boundary(trial) else []
        x, ll, grad = trial, ll_new, grad_new
        if _crawled(blocked):
            pg = _projected_gradient(x, grad, lo, hi)
            return OptimizerResult(x, ll, True, it, float(np.linalg.norm(pg)), "quasi-newton", AT_BOUNDARY)
    pg = _projected_gradient(x, grad, lo, hi)
    return OptimizerResult(x, ll, False, max_iter, float(np.linalg.norm(pg)), "quasi-newton",
                           "iteration limit reached or no ascent direction")


def _symmetric(a: FloatArray) -> FloatArray:
    return 0.5 * (a + a.T)


def lbfgs(obj: Objective, x0: FloatArray, *, max_iter: int = 3000) -> OptimizerResult:
    """Maximize logL with scipy's L-BFGS-B and the analytic gradient."""
    lo, hi = obj.table.bounds()
    x0 = np.clip(x0.astype(float), lo, hi)
    big = [1e10]

    def fun(x: FloatArray) -> tuple[float, FloatArray]:
        f, g = obj.value_and_gradient(x)
        if not np.isfinite(f):
            return big[0], np.zeros_like(x)
        big[0] = max(big[0], abs(f) * 10 + 1e6)
        return f, g

    bounds = list(zip(np.where(np.isfinite(lo), lo, None), np.where(np.isfinite(hi), hi, None)))
    from scipy import optimize as sopt

    res = sopt.minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                        options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-9, "maxcor": 20})
    ll, grad = obj.loglik_and_gradient(res.x)
    pg = _projected_gradient(res.x, grad, lo, hi)
    # judge convergence on the scale-free decrement
    dec = np.inf
    if np.isfinite(ll):
        info = obj.information(res.x)
        if np.all(np.isfinite(info)) and np.all(np.isfinite(pg)):
            dec = float(pg @ np.linalg.lstsq(info, pg, rcond=None)[0])
    converged = bool(np.isfinite(ll) and dec < 1e-6)
    return OptimizerResult(res.x, ll, converged, int(res.nit), float(np.linalg.norm(pg)), "lbfgs", str(res.message))


def optimize(obj: Objective, x0: FloatArray, *, optimizer: str = "default", fallback: bool = True,
             progress: "Progress | None" = None, tol: float = FIT_TOLERANCE, max_iter: int = 300) -> OptimizerResult:
    """Run the chosen optimizer; ``"default"`` is Fisher scoring with an L-BFGS-B fallback
    (skipped when ``fallback`` is False, as for retries from alternative starts)."""
    choice("optimizer", optimizer, OPTIMIZERS)
    if optimizer == "lbfgs":
        return lbfgs(obj, x0)
    if optimizer == "quasi-newton":
        return quasi_newton(obj, x0, progress=progress, tol=tol, max_iter=max_iter)
    result = fisher_scoring(obj, x0, progress=progress, tol=tol, max_iter=max_iter)
    if result.converged or optimizer == "fisher" or not fallback or result.message.startswith(UNBOUNDED):
        return result
    fallback = lbfgs(obj, result.x if np.isfinite(result.loglik) else x0)
    if fallback.converged or fallback.loglik > result.loglik:
        polished = fisher_scoring(obj, fallback.x, max_iter=50)
        if polished.loglik >= fallback.loglik - 1e-9 and polished.converged:
            return OptimizerResult(polished.x, polished.loglik, True, fallback.iterations + polished.iterations,
                                   polished.gradient_norm, "lbfgs+fisher", polished.message)
        return fallback
    return result
