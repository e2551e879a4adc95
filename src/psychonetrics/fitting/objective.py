"""The objective of a model as a function of its free parameters.

The gradient is an explicit chain rule::

    d logL / d theta = sum_g J_g' (d logL_g / d phi_g),
    J_g = (d phi_g / d element) (d element / d theta)

with ``d logL / d phi`` from the likelihood route, ``d phi / d element`` from
the family (rank-2 factors, assembled only for the elements that are
needed), and ``d element / d theta`` the 0/1 map of the parameter table.
The expected information is ``sum_g J_g' I_g(phi) J_g`` with the same J,
contracted by the route without forming I_g(phi).

The loop over groups (matrices -> moments -> route -> Jacobian) is written
once, in :meth:`Objective.evaluate`; everything else calls it.

Columns
-------
The Jacobian's columns are the free parameters by default.  A column map
(one entry per table row: the column it adds to, or -1) gives other
derivatives with the same machinery: modification indices append one
column per candidate element (or per element shared across groups).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.stats import TwoLevelStats
from ..derivatives import Elements
from ..families.base import Family
from ..likelihood import Route
from ..linalg import FloatArray
from ..moments import Moments
from ..partable.table import ParTable


@dataclass(frozen=True)
class Evaluation:
    """Log-likelihood and, when asked for, its gradient and expected information in the columns."""

    loglik: float
    gradient: FloatArray | None = None  # (n_columns,)
    information: FloatArray | None = None  # (n_columns, n_columns)


@dataclass(frozen=True, eq=False)
class Objective:
    """-2 logL / N of a model, with analytic gradient and expected information.

    ``scale`` = 1 / N_total keeps the optimizer's tolerances independent of
    sample size.
    """

    family: Family
    table: ParTable
    stats: tuple[TwoLevelStats, ...]
    routes: tuple[Route, ...]

    @property
    def n_units(self) -> int:
        return sum(s.n_units for s in self.stats)

    def moments(self, x: FloatArray) -> list[Moments]:
        values = self.table.values_at(x)
        return [self.family.implied(self.table.matrices(values, g)) for g in range(len(self.stats))]

    @property
    def _free_elements(self) -> tuple[tuple[np.ndarray, Elements, np.ndarray, bool], ...]:
        """Per group, the free parameters' elements (cached by the table)."""
        return self.table.free_elements

    def _elements(self, group: int, columns: np.ndarray) -> tuple[np.ndarray, Elements, np.ndarray, bool]:
        """(table rows, their elements, their target columns, whether the targets are distinct)."""
        return self.table.elements(group, columns)

    def _moments_and_jacobian(self, mats: dict[str, FloatArray],
                              layout: tuple[np.ndarray, Elements, np.ndarray, bool], n_columns: int,
                              ) -> tuple[Moments, FloatArray]:
        """Implied moments and d phi_g / d column, (n_phi, n_columns): the element derivatives folded
        into columns."""
        rows, elements, target, distinct = layout
        mom, derivatives = self.family.moments_and_derivatives(mats, elements)
        jac = np.zeros((self.family.n_phi, n_columns))
        if rows.size == 0:
            return mom, jac
        element = derivatives.phi()
        if distinct:
            jac[:, target] = element
        else:  # equality constraints: several elements share a column
            np.add.at(jac.T, target, element.T)
        return mom, jac

    def evaluate(self, x: FloatArray, *, gradient: bool = False, information: bool = False,
                 columns: np.ndarray | None = None, n_columns: int | None = None) -> Evaluation:
        """Log-likelihood at ``x`` (-inf outside the parameter space), with gradient and expected information.

        Parameters
        ----------
        x : (n_free,) array
            Free parameter values.
        gradient, information : bool
            Also return d logL / d column and the expected information J' I J.
        columns, n_columns : (n_rows,) int array and int, optional
            Column of each table row (-1: none); default the free parameters
            (``par - 1``).
        """
        default = columns is None
        if default:
            columns, n_columns = self.table.par - 1, self.table.n_free
        assert columns is not None and n_columns is not None
        values = self.table.values_at(x)
        nan_grad = np.full(n_columns, np.nan) if gradient else None
        nan_info = np.full((n_columns, n_columns), np.nan) if information else None
        if not np.all(np.isfinite(values)):
            return Evaluation(-np.inf, nan_grad, nan_info)
        total = 0.0
        grad = np.zeros(n_columns) if gradient else None
        info = np.zeros((n_columns, n_columns)) if information else None
        for g, (st, route) in enumerate(zip(self.stats, self.routes)):
            mats = self.table.matrices(values, g)
            try:
                if gradient or information:
                    layout = self._free_elements[g] if default else self._elements(g, columns)
                    mom, jac = self._moments_and_jacobian(mats, layout, n_columns)
                else:
                    mom, jac = self.family.implied(mats), None
            except np.linalg.LinAlgError:
                return Evaluation(-np.inf, nan_grad, nan_info)
            if information:
                ll, d_phi, info_g = route.scoring(mom, st, jac)
            elif gradient:
                ll, d_phi = route.dloglik(mom, st)
            else:
                ll = route.loglik(mom, st)
            if not np.isfinite(ll):
                return Evaluation(-np.inf, nan_grad, nan_info)
            total += ll
            if gradient:
                grad += d_phi @ jac
            if information:
                info += info_g
        if info is not None:
            info = 0.5 * (info + info.T)
        return Evaluation(total, grad, info)

    def outside_blocks(self, x: FloatArray) -> tuple[np.ndarray, list[str]]:
        """The covariance blocks whose parameters at ``x`` leave their type's parameter space (a network
        whose I - omega, or a correlation matrix, is not positive definite): a mask over the free
        parameters of those blocks' matrices, and the blocks' names."""
        table = self.table
        values = table.values_at(x)
        names = table.names()
        mask = np.zeros(table.n_free, dtype=bool)
        outside: list[str] = []
        for g in range(len(self.stats)):
            mats = table.matrices(values, g)
            for block in self.family.blocks():
                try:
                    block.sigma(mats)
                except (np.linalg.LinAlgError, ValueError, FloatingPointError):
                    rows = (table.group == g) & (table.par > 0) & np.isin(names, block.matrix_names())
                    mask[table.par[rows] - 1] = True
                    outside.append(block.name)
        return mask, list(dict.fromkeys(outside))

    def near_boundary(self, x: FloatArray) -> bool:
        """Whether some network, precision or correlation block at ``x`` is nearly singular (the smallest
        eigenvalue of its correlation matrix below 1e-3, as the diagnostics report it)."""
        from ..linalg import cov2cor

        table = self.table
        values = table.values_at(x)
        for g in range(len(self.stats)):
            mats = table.matrices(values, g)
            for block in self.family.blocks():
                if not (block.ctype.needs_regular or block.ctype.name == "cor") or len(block.labels) < 2:
                    continue
                try:
                    sigma = block.sigma(mats)
                except (np.linalg.LinAlgError, ValueError, FloatingPointError):
                    return True
                diag = np.diag(sigma)
                if np.any(diag <= 0) or np.linalg.eigvalsh(cov2cor(0.5 * (sigma + sigma.T)))[0] < 1e-3:
                    return True
        return False

    def degenerate(self, x: FloatArray) -> str:
        """Why the implied distribution of the data at ``x`` is degenerate, "" when it is not (see
        :func:`psychonetrics.likelihood.singular_covariances`)."""
        for mom, st in zip(self.moments(x), self.stats):
            reason = self.family.degenerate(mom, st)
            if reason:
                return reason if len(self.stats) == 1 or st.group is None else f"group {st.group!r}: {reason}"
        return ""

    # convenience forms used by the optimizer and inference -----------------
    def loglik(self, x: FloatArray) -> float:
        """Total log-likelihood (-inf outside the parameter space)."""
        return self.evaluate(x).loglik

    def loglik_and_gradient(self, x: FloatArray) -> tuple[float, FloatArray]:
        """Log-likelihood and its gradient in the free parameters."""
        ev = self.evaluate(x, gradient=True)
        return ev.loglik, ev.gradient  # type: ignore[return-value]

    def scoring_quantities(self, x: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        """Log-likelihood, gradient and expected information at ``x``."""
        ev = self.evaluate(x, gradient=True, information=True)
        return ev.loglik, ev.gradient, ev.information  # type: ignore[return-value]

    def jacobian(self, x: FloatArray, group: int, *, free_only: bool = True) -> FloatArray:
        """d phi_g / d theta (n_phi, n_free), or per table row when ``free_only`` is False."""
        values = self.table.values_at(x)
        mats = self.table.matrices(values, group)
        if free_only:
            return self._moments_and_jacobian(mats, self._free_elements[group], self.table.n_free)[1]
        columns = np.where(self.table.group == group, np.arange(self.table.n_rows), -1)
        return self._moments_and_jacobian(mats, self._elements(group, columns), self.table.n_rows)[1]

    def cluster_scores(self, x: FloatArray) -> FloatArray:
        """Per-cluster gradients d logL_j / d theta of every cluster of every group, (J_total, n_free).

        They sum to the gradient; S'S is the meat of the cluster-robust covariance.  Needs the unit
        rows of every group (the route's :meth:`~psychonetrics.likelihood.Route.scores`).
        """
        values = self.table.values_at(x)
        out = []
        for g, (st, route) in enumerate(zip(self.stats, self.routes)):
            mom, jac = self._moments_and_jacobian(self.table.matrices(values, g), self._free_elements[g],
                                                  self.table.n_free)
            out.append(route.scores(mom, st) @ jac)
        return np.concatenate(out, axis=0) if out else np.zeros((0, self.table.n_free))

    def information(self, x: FloatArray, *, kind: str = "expected") -> FloatArray:
        """Information matrix of logL in the free parameters (sum over groups and clusters)."""
        if kind == "observed":
            return self.observed_information(x)
        return self.evaluate(x, information=True).information  # type: ignore[return-value]

    def observed_information(self, x: FloatArray, *, step: float = 1e-6) -> FloatArray:
        """Minus the Hessian of logL in the free parameters.

        With the chain rule, -d2 logL = J' I_obs(phi) J - sum_i g_i d2 phi_i / dtheta2
        (g = d logL / dphi).  Where every route has I_obs(phi) in closed form,
        the first term is analytic and the second is forward differences of
        J(theta)' g with g held fixed (no likelihood evaluations); otherwise the
        whole Hessian is forward differences of the analytic gradient.  Forward
        steps (up, away from the lower bounds of variances) of 1e-6 relative
        agree with central differences to about 1e-5 relative in the SEs.
        """
        closed = self._observed_closed_form(x, step)
        if closed is not None:
            return closed
        n = x.size
        g0 = self.loglik_and_gradient(x)[1]
        hess = np.zeros((n, n))
        for k in range(n):
            h = step * max(1.0, abs(x[k]))
            up = x.copy()
            up[k] += h
            hess[:, k] = (self.loglik_and_gradient(up)[1] - g0) / h
        return -0.5 * (hess + hess.T)

    def _observed_closed_form(self, x: FloatArray, step: float) -> FloatArray | None:
        n = self.table.n_free
        values = self.table.values_at(x)
        info = np.zeros((n, n))
        gradients = []
        for g, (st, route) in enumerate(zip(self.stats, self.routes)):
            if route.observed_fn is None:
                return None
            mom, jac = self._moments_and_jacobian(self.table.matrices(values, g), self._free_elements[g], n)
            part = route.observed(mom, st, jac)
            if part is None:
                return None
            info += part
            gradients.append(route.dloglik(mom, st)[1])

        def chained(point: FloatArray) -> FloatArray:
            """J(point)' g with g held fixed, from the rank-2 element derivatives (no dense Jacobian)."""
            vals = self.table.values_at(point)
            out = np.zeros(n)
            for g, grad in enumerate(gradients):
                rows, elements, target, _ = self._free_elements[g]
                if rows.size:
                    _, derivatives = self.family.moments_and_derivatives(self.table.matrices(vals, g), elements)
                    np.add.at(out, target, derivatives.contract(grad))
            return out

        base = chained(x)
        second = np.zeros((n, n))
        # parameters whose every element is linear in phi (and in no other derivative) have a zero column
        table = self.table
        linear = np.isin(table.names(), list(self.family.linear_matrices()))
        free = table.par > 0
        nonlinear = np.unique(table.par[free & ~linear]) - 1
        for k in nonlinear:
            h = step * max(1.0, abs(x[k]))
            up = x.copy()
            up[k] += h
            second[:, k] = (chained(up) - base) / h
        info -= 0.5 * (second + second.T)
        return 0.5 * (info + info.T)

    # scaled objective for the optimizer ------------------------------------
    def value_and_gradient(self, x: FloatArray) -> tuple[float, FloatArray]:
        """(-2 logL / N, its gradient)."""
        ll, grad = self.loglik_and_gradient(x)
        scale = -2.0 / self.n_units
        return scale * ll, scale * grad
