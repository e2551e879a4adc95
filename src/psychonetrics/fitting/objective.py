"""The objective of a model as a function of its free parameters.

The gradient is an explicit chain rule::

    d logL / d theta = sum_g J_g' (d logL_g / d phi_g),
    J_g = (d phi_g / d element) (d element / d theta)

with ``d logL / d phi`` from the likelihood route, ``d phi / d element`` from
the family, and ``d element / d theta`` the 0/1 map of the parameter table.
The expected information is ``sum_g J_g' I_g(phi) J_g`` with the same J.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.stats import TwoLevelStats
from ..families.base import Family, Moments
from ..likelihood import Route
from ..linalg import FloatArray
from ..spec.partable import ParTable


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

    def loglik(self, x: FloatArray) -> float:
        """Total log-likelihood (-inf outside the parameter space)."""
        values = self.table.values_at(x)
        total = 0.0
        for g, (st, route) in enumerate(zip(self.stats, self.routes)):
            mats = self.table.matrices(values, g)
            try:
                mom = self.family.implied(mats)
            except np.linalg.LinAlgError:
                return -np.inf
            ll = route.loglik(mom, st)
            if not np.isfinite(ll):
                return -np.inf
            total += ll
        return total

    def jacobian(self, x: FloatArray, group: int, *, free_only: bool = True) -> FloatArray:
        """d phi_g / d theta (n_phi, n_free), or per table row when ``free_only`` is False."""
        values = self.table.values_at(x)
        mats = self.table.matrices(values, group)
        jac = self.table.element_jacobian(self.family.jacobian(mats), group, self.family.n_phi)
        return jac @ self.table.free_map() if free_only else jac

    def loglik_and_gradient(self, x: FloatArray) -> tuple[float, FloatArray]:
        """Log-likelihood and its gradient in the free parameters."""
        values = self.table.values_at(x)
        total = 0.0
        grad = np.zeros(self.table.n_free)
        free_map = self.table.free_map()
        for g, (st, route) in enumerate(zip(self.stats, self.routes)):
            mats = self.table.matrices(values, g)
            try:
                mom = self.family.implied(mats)
            except np.linalg.LinAlgError:
                return -np.inf, np.full(self.table.n_free, np.nan)
            ll, d_phi = route.dloglik(mom, st)
            if not np.isfinite(ll):
                return -np.inf, np.full(self.table.n_free, np.nan)
            total += ll
            jac = self.table.element_jacobian(self.family.jacobian(mats), g, self.family.n_phi)
            grad += (d_phi @ jac) @ free_map
        return total, grad

    def scoring_quantities(self, x: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        """Log-likelihood, gradient and expected information at ``x``, sharing one Jacobian per group."""
        values = self.table.values_at(x)
        n = self.table.n_free
        total = 0.0
        grad = np.zeros(n)
        info = np.zeros((n, n))
        free_map = self.table.free_map()
        for g, (st, route) in enumerate(zip(self.stats, self.routes)):
            mats = self.table.matrices(values, g)
            try:
                mom, jac_mats = self.family.moments_and_jacobian(mats)
            except np.linalg.LinAlgError:
                return -np.inf, np.full(n, np.nan), np.full((n, n), np.nan)
            ll, d_phi, info_phi = route.scoring(mom, st)
            if not np.isfinite(ll):
                return -np.inf, np.full(n, np.nan), np.full((n, n), np.nan)
            total += ll
            jac = self.table.element_jacobian(jac_mats, g, self.family.n_phi) @ free_map
            grad += d_phi @ jac
            info += jac.T @ info_phi @ jac
        return total, grad, 0.5 * (info + info.T)

    def information(self, x: FloatArray, *, kind: str = "expected") -> FloatArray:
        """Information matrix of logL in the free parameters (sum over groups and clusters)."""
        if kind == "observed":
            return self.observed_information(x)
        values = self.table.values_at(x)
        info = np.zeros((self.table.n_free, self.table.n_free))
        for g, (st, route) in enumerate(zip(self.stats, self.routes)):
            mats = self.table.matrices(values, g)
            mom = self.family.implied(mats)
            jac = self.table.element_jacobian(self.family.jacobian(mats), g, self.family.n_phi) @ self.table.free_map()
            info += jac.T @ route.information(mom, st) @ jac
        return 0.5 * (info + info.T)

    def observed_information(self, x: FloatArray, *, step: float = 1e-5) -> FloatArray:
        """Minus the Hessian of logL, by central differences of the analytic gradient."""
        n = x.size
        hess = np.zeros((n, n))
        for k in range(n):
            h = step * max(1.0, abs(x[k]))
            up, down = x.copy(), x.copy()
            up[k] += h
            down[k] -= h
            hess[:, k] = (self.loglik_and_gradient(up)[1] - self.loglik_and_gradient(down)[1]) / (2 * h)
        return -0.5 * (hess + hess.T)

    # scaled objective for the optimizer ------------------------------------
    def value_and_gradient(self, x: FloatArray) -> tuple[float, FloatArray]:
        """(-2 logL / N, its gradient)."""
        ll, grad = self.loglik_and_gradient(x)
        scale = -2.0 / self.n_units
        return scale * ll, scale * grad
