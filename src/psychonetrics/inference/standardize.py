"""The completely standardized solution (lavaan's std.all), per level, with delta-method SEs.

Because the loadings are shared by the two levels but the variances are
not, each level has its own standardized loadings.  For level X with
implied Sigma_X and latent covariance C_X = A Psi A'::

    lambda_std[i, j] = lambda[i, j] sqrt(C_jj) / sqrt(Sigma_ii)
    beta_std[i, j]   = beta[i, j]   sqrt(C_jj) / sqrt(C_ii)
    psi_std[i, j]    = Psi[i, j]    / sqrt(C_ii C_jj)
    theta_std[i, j]  = Theta[i, j]  / sqrt(Sigma_ii Sigma_jj)
    nu_std[i]        = nu[i]        / sqrt(Sigma_B,ii)            (between level)

Standard errors: J V J' with V the covariance of the free parameters and J
the Jacobian of the standardized values, by central differences.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats as sps

if TYPE_CHECKING:
    from ..model import Model


def _standardized_values(model: "Model", x: np.ndarray) -> tuple[np.ndarray, list[tuple]]:
    table, family = model.table, model.family
    values = table.values_at(x)
    out: list[float] = []
    keys: list[tuple] = []
    for g, label in enumerate(table.group_labels):
        mats = table.matrices(values, g)
        derived = family.derived(mats)
        levels = ("within", "between")
        if family.name == "ml_lvm":
            lam = mats["lambda"]
            obs, lat = family.observed, family.latents
            for level in levels:
                sigma = derived[f"sigma_{level}"]
                c = derived[f"sigma_eta_{level}"]
                sd_y, sd_eta = np.sqrt(np.diag(sigma)), np.sqrt(np.diag(c))
                for (i, j), v in np.ndenumerate(lam):
                    keys.append((label, f"lambda ({level})", lat[j], "=~", obs[i]))
                    out.append(v * sd_eta[j] / sd_y[i])
                beta = mats[f"beta_{level}"]
                for (i, j), v in np.ndenumerate(beta):
                    if i != j:
                        keys.append((label, f"beta_{level}", lat[i], "~", lat[j]))
                        out.append(v * sd_eta[j] / sd_eta[i])
                for block, scale, names in ((f"zeta_{level}", sd_eta, lat), (f"epsilon_{level}", sd_y, obs)):
                    cov = next(b for b in family.blocks() if b.name == block).sigma(mats)
                    r, cc = np.tril_indices(cov.shape[0])
                    for i, j in zip(r, cc):
                        keys.append((label, f"sigma_{block}", names[i], "~~", names[j]))
                        out.append(cov[i, j] / (scale[i] * scale[j]))
            sd_b = np.sqrt(np.diag(derived["sigma_between"]))
            for i, v in enumerate(mats["nu"][:, 0]):
                keys.append((label, "nu", obs[i], "~1", ""))
                out.append(v / sd_b[i])
        else:
            obs = family.observed
            for level in levels:
                sigma = derived[f"sigma_{level}"]
                sd = np.sqrt(np.diag(sigma))
                r, cc = np.tril_indices(sigma.shape[0])
                for i, j in zip(r, cc):
                    keys.append((label, f"sigma_{level}", obs[i], "~~", obs[j]))
                    out.append(sigma[i, j] / (sd[i] * sd[j]))
            sd_b = np.sqrt(np.diag(derived["sigma_between"]))
            for i, v in enumerate(derived["mu"][:, 0]):
                keys.append((label, "mu", obs[i], "~1", ""))
                out.append(v / sd_b[i])
    return np.asarray(out), keys


def standardized_solution(model: "Model") -> pd.DataFrame:
    """std.all estimates of every nonzero element, per level, with delta-method SEs and p-values."""
    fitted = model._require_fit("parameters(standardized=True)")
    x = model.table.start_vector()
    est, keys = _standardized_values(model, x)
    jac = np.zeros((est.size, x.size))
    for k in range(x.size):
        h = 1e-6 * max(1.0, abs(x[k]))
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h
        jac[:, k] = (_standardized_values(model, up)[0] - _standardized_values(model, down)[0]) / (2 * h)
    vcov = np.nan_to_num(fitted.vcov, nan=0.0)
    se = np.sqrt(np.clip(np.einsum("ik,kl,il->i", jac, vcov, jac), 0.0, None))
    se[np.abs(jac).sum(axis=1) == 0] = np.nan
    frame = pd.DataFrame(keys, columns=["group", "matrix", "var1", "op", "var2"])
    frame["est_std"] = est
    frame["se"] = se
    with np.errstate(divide="ignore", invalid="ignore"):
        z = est / se
    frame["z"] = z
    frame["p"] = np.where(np.isfinite(z), 2 * sps.norm.sf(np.abs(z)), np.nan)
    keep = (np.abs(est) > 1e-12) | np.isfinite(se)
    frame = frame.loc[keep & ~((frame["op"] == "~~") & (frame["var1"] == frame["var2"]) & (np.abs(frame["est_std"] - 1) < 1e-12) & frame["se"].isna())]
    return frame.reset_index(drop=True)
