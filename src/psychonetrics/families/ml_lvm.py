"""The two-level latent variable model (psychonetrics' ``ml_lvm``).

Model (one group), each level X (within, between) with its loadings::

    mu      = nu + Lambda_B A_B nu_eta
    Sigma_X = Lambda_X A_X Psi_X A_X' Lambda_X' + Theta_X,    A_X = (I - B_X)^-1

with Psi_X the latent (zeta) block and Theta_X the residual (epsilon) block
of level X, each parameterized by its own covariance type.  In
psychonetrics' ``ml_lvm`` both levels share one loading matrix ``lambda``.

Derivatives (rank-2 form d Sigma = a b' + b a', see :mod:`.base`; C = A Psi A')::

    d Sigma_X / d Lambda_rc  : a = e_r,           b = (Lambda C)_c
    d Sigma_X / d B_ij       : a = (Lambda A)_i,  b = (Lambda C)_j
    d Sigma_X / d Psi element: a, b of the latent type, premultiplied by Lambda A
    d Sigma_X / d Theta elem.: a, b of the residual type
    d mu / d Lambda_rc       = e_r (A_B nu_eta)_c      (levels with latent means)
    d mu / d B_B,ij          = (Lambda A)_i (A nu_eta)_j
    d mu / d nu_eta_k        = (Lambda A)_k
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.stats import TwoLevelStats
from ..linalg import FloatArray, IntArray
from ..parameterizations import derived_matrices
from ..parameterizations.base import unit_columns
from ..spec.matrices import MatrixSpec
from .base import Block, Elements, Family, MomentDerivatives, Moments, start_covariances

LEVELS = ("within", "between")


@dataclass(frozen=True)
class _LevelValues:
    """Matrices of one level at the current parameter values."""

    lam: FloatArray  # (p, m)
    a: FloatArray  # (m, m) (I - B)^-1
    psi: FloatArray  # (m, m)
    c: FloatArray  # (m, m) A Psi A'
    theta: FloatArray  # (p, p)
    la: FloatArray  # (p, m) Lambda A
    lc: FloatArray  # (p, m) Lambda C


class MlLvm(Family):
    """Two-level latent variable model with loadings shared across levels."""

    name = "ml_lvm"

    def __init__(
        self,
        observed: tuple[str, ...],
        latents: tuple[str, ...],
        *,
        within_latent: str = "cov",
        between_latent: str = "cov",
        within_residual: str = "cov",
        between_residual: str = "cov",
    ) -> None:
        self.observed = tuple(observed)
        self.latents = tuple(latents)
        self.types = {
            "zeta_within": within_latent,
            "zeta_between": between_latent,
            "epsilon_within": within_residual,
            "epsilon_between": between_residual,
        }
        args = {
            "zeta_within": "within_latent",
            "zeta_between": "between_latent",
            "epsilon_within": "within_residual",
            "epsilon_between": "between_residual",
        }
        self._blocks = {
            b: Block.make(b, self.latents if b.startswith("zeta") else self.observed, t,
                          argument=args[b], residual=b.startswith("epsilon"))
            for b, t in self.types.items()
        }
        # which level and block each covariance-type matrix belongs to
        self._block_of = {name: block for block in self._blocks.values() for name in block.matrix_names()}

    # ----------------------------------------------------------- structure
    def blocks(self) -> list[Block]:
        return list(self._blocks.values())

    def specs(self) -> list[MatrixSpec]:
        obs, lat = self.observed, self.latents
        p, m = len(obs), len(lat)
        out = [
            MatrixSpec("lambda", "lambda", (p, m), "full", obs, lat, op="=~"),
            MatrixSpec("nu", "nu", (p, 1), "full", obs, ("1",), op="~1"),
            MatrixSpec("nu_eta", "nu_eta", (m, 1), "full", lat, ("1",), op="~1"),
            MatrixSpec("beta_within", "beta", (m, m), "full", lat, lat, fixed_diagonal=0.0, op="~", block="within"),
            MatrixSpec("beta_between", "beta", (m, m), "full", lat, lat, fixed_diagonal=0.0, op="~", block="between"),
        ]
        for block in self._blocks.values():
            out.extend(block.specs())
        return out

    def default_patterns(self) -> dict[str, object]:
        pats: dict[str, object] = {
            "lambda": "full",
            "nu": "full",
            "nu_eta": "zero",
            "beta_within": "zero",
            "beta_between": "zero",
        }
        for block in self._blocks.values():
            for kind, pat in block.ctype.default_patterns(residual=block.residual).items():
                pats[block.matrix_name(kind)] = pat
        return pats

    # -------------------------------------------------------------- moments
    def _level(self, mats: dict[str, FloatArray], level: str) -> _LevelValues:
        m = len(self.latents)
        lam = mats["lambda"]
        beta = mats[f"beta_{level}"]
        a = np.linalg.inv(np.eye(m) - beta) if beta.any() else np.eye(m)
        if not np.all(np.isfinite(a)):
            raise np.linalg.LinAlgError("I - B is singular")
        psi = self._blocks[f"zeta_{level}"].sigma(mats)
        c = a @ psi @ a.T
        theta = self._blocks[f"epsilon_{level}"].sigma(mats)
        la = lam @ a
        return _LevelValues(lam, a, psi, c, theta, la, lam @ c)

    def _levels(self, mats: dict[str, FloatArray]) -> dict[str, _LevelValues]:
        return {level: self._level(mats, level) for level in LEVELS}

    def implied(self, mats: dict[str, FloatArray], levels: dict[str, _LevelValues] | None = None) -> Moments:
        lv = self._levels(mats) if levels is None else levels
        mu = mats["nu"][:, 0] + lv["between"].la @ mats["nu_eta"][:, 0]
        sigma = {}
        for level, v in lv.items():
            s = v.lc @ v.lam.T + v.theta
            sigma[level] = 0.5 * (s + s.T)
        return Moments(mu, sigma["within"], sigma["between"])

    def moments_and_derivatives(self, mats: dict[str, FloatArray], elements: Elements,
                                ) -> tuple[Moments, MomentDerivatives]:
        levels = self._levels(mats)
        return self.implied(mats, levels), self.derivatives(mats, elements, levels)

    def derivatives(self, mats: dict[str, FloatArray], elements: Elements,
                    levels: dict[str, _LevelValues] | None = None) -> MomentDerivatives:
        lv = self._levels(mats) if levels is None else levels
        p = len(self.observed)
        out = MomentDerivatives.zeros(p, elements.count)
        a_nu = lv["between"].a @ mats["nu_eta"][:, 0]
        for name, idx, r, c in elements.by_matrix:
            if name == "lambda":
                for level, v in lv.items():
                    out.set_level(level, idx, unit_columns(p, r), v.lc[:, c])
                out.mu[:, idx] = unit_columns(p, r, a_nu[c])
            elif name in ("beta_within", "beta_between"):
                level = name.split("_")[1]
                v = lv[level]
                out.set_level(level, idx, v.la[:, r], v.lc[:, c])
                if level == "between":
                    out.mu[:, idx] = v.la[:, r] * a_nu[c]
            elif name == "nu":
                out.mu[:, idx] = unit_columns(p, r)
            elif name == "nu_eta":
                out.mu[:, idx] = lv["between"].la[:, r]
            else:
                block = self._block_of[name]
                level = block.name.split("_")[1]
                a, b = block.derivatives(mats, name, r, c)
                if not block.residual:
                    a, b = lv[level].la @ a, lv[level].la @ b
                out.set_level(level, idx, a, b)
        return out

    # --------------------------------------------------------------- starts
    def start(self, stats: TwoLevelStats, codes: dict[str, np.ndarray], fixed: dict[str, np.ndarray],
              moments: Moments | None = None) -> dict[str, FloatArray]:
        """Data-based start values.

        Loadings: per factor, the first principal component of the within
        covariance of its indicators (rescaled to the marker or to unit
        latent variance).  Residual variances: half the observed variance of
        each level.  Latent covariances: Lambda^+ (S - Theta) Lambda^+', made
        positive definite.  S is the saturated model's covariance of each
        level when ``moments`` is given, else a moment estimate.
        """
        p, m = len(self.observed), len(self.latents)
        s_w, s_b = start_covariances(stats, moments)
        lam_codes = codes["lambda"]
        lam = np.where(lam_codes > 0, 0.0, fixed["lambda"])
        for k in range(m):
            free = np.flatnonzero(lam_codes[:, k] > 0)
            if free.size == 0:
                continue
            markers = np.flatnonzero((lam_codes[:, k] == 0) & (fixed["lambda"][:, k] != 0))
            items = np.concatenate([markers[:1], free])
            vals, vecs = np.linalg.eigh(s_w[np.ix_(items, items)])
            v = vecs[:, -1] * np.sqrt(max(vals[-1], 1e-6))
            if v.sum() < 0:
                v = -v
            if markers.size and abs(v[0]) > 1e-8:
                v = v / v[0] * fixed["lambda"][markers[0], k]
                lam[free, k] = v[1:]
            else:
                lam[free, k] = v[-free.size:]
        mean = stats.grand_mean if moments is None else moments.mu
        out: dict[str, FloatArray] = {
            "lambda": lam,
            "nu": mean.reshape(p, 1),
            "nu_eta": np.zeros((m, 1)),
            "beta_within": np.zeros((m, m)),
            "beta_between": np.zeros((m, m)),
        }
        pinv = np.linalg.pinv(lam)
        for level, s in (("within", s_w), ("between", s_b)):
            theta = np.diag(np.maximum(0.5 * np.diag(s), 1e-4 * max(np.diag(s).mean(), 1e-8)))
            from ..linalg import nearest_positive_definite

            psi = nearest_positive_definite(pinv @ (s - theta) @ pinv.T, floor=0.05)
            for block, sigma in ((f"zeta_{level}", psi), (f"epsilon_{level}", theta)):
                for kind, mat in self._blocks[block].ctype.from_sigma(sigma).items():
                    out[self._blocks[block].matrix_name(kind)] = mat
        return out

    def derived(self, mats: dict[str, FloatArray]) -> dict[str, FloatArray]:
        mom = self.implied(mats)
        lv = self._levels(mats)
        out: dict[str, FloatArray] = {
            "mu": mom.mu.reshape(-1, 1),
            "sigma_within": mom.sigma_within,
            "sigma_between": mom.sigma_between,
        }
        for level, v in lv.items():
            out[f"sigma_eta_{level}"] = v.c
            out.update(derived_matrices(v.psi, f"zeta_{level}"))
            out.update(derived_matrices(v.theta, f"epsilon_{level}"))
            sigma = mom.sigma_within if level == "within" else mom.sigma_between
            out.update(derived_matrices(sigma, level))
            out[f"sigma_{level}"] = sigma
        return out
