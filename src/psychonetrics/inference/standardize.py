"""The completely standardized solution (lavaan's std.all), per level, with delta-method SEs.

The family gives the standardized values of one group
(:meth:`~psychonetrics.families.base.Family.standardized`: each level with
its own variances, so loadings shared by the levels get two standardized
values).  Standard errors: J V J' with V the covariance of the free
parameters and J the Jacobian of the standardized values, by central
differences.  Values that are 1 by definition (the standardized variance of
an exogenous latent variable) are left out, as they carry no inference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..families.base import Family
from ..partable.table import ParTable


def _values(family: Family, table: ParTable, x: np.ndarray) -> tuple[np.ndarray, list[tuple], np.ndarray]:
    values = table.values_at(x)
    out, keys, constant = [], [], []
    for g, label in enumerate(table.group_labels):
        std = family.standardized(table.matrices(values, g))
        out.extend(std.values)
        keys.extend((label, *key) for key in std.keys)
        constant.extend(std.constant)
    return np.asarray(out), keys, np.asarray(constant, dtype=bool)


def standardized_solution(family: Family, table: ParTable, vcov: np.ndarray) -> pd.DataFrame:
    """std.all estimates of every nonzero element, per level, with delta-method SEs, z and p-values.

    Parameters
    ----------
    family, table : Family, ParTable
        A fitted model's family and parameter table (estimates in its free rows).
    vcov : (n_free, n_free) array
        Covariance of the estimates.
    """
    from scipy import stats as sps

    x = table.start_vector()
    est, keys, constant = _values(family, table, x)
    jac = np.zeros((est.size, x.size))
    for k in range(x.size):
        h = 1e-6 * max(1.0, abs(x[k]))
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h
        jac[:, k] = (_values(family, table, up)[0] - _values(family, table, down)[0]) / (2 * h)
    cov = np.nan_to_num(vcov, nan=0.0)
    se = np.sqrt(np.clip(np.einsum("ik,kl,il->i", jac, cov, jac), 0.0, None))
    unknown = np.isnan(np.diag(vcov))
    se[(np.abs(jac) > 0).astype(float) @ unknown.astype(float) > 0] = np.nan
    se[np.abs(jac).sum(axis=1) == 0] = np.nan
    frame = pd.DataFrame(keys, columns=["group", "matrix", "level", "var1", "op", "var2"])
    frame["est_std"] = est
    frame["se"] = se
    with np.errstate(divide="ignore", invalid="ignore"):
        z = est / se
    frame["z"] = z
    frame["p"] = np.where(np.isfinite(z), 2 * sps.norm.sf(np.abs(z)), np.nan)
    keep = ~constant & ((np.abs(est) > 1e-12) | np.isfinite(se))
    columns = ["group", "level", "var1", "op", "var2", "est_std", "se", "z", "p", "matrix"]
    return frame.loc[keep, columns].reset_index(drop=True)
