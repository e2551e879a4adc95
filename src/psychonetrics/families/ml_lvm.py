"""The two-level latent variable model (psychonetrics' ``ml_lvm``).

Model (one group), Lambda shared by both levels::

    mu      = nu + Lambda A_B nu_eta
    Sigma_W = Lambda A_W Psi_W A_W' Lambda' + Theta_W
    Sigma_B = Lambda A_B Psi_B A_B' Lambda' + Theta_B
    A_X     = (I - B_X)^-1

with Psi_X the latent (zeta) block and Theta_X the residual (epsilon) block
of level X, each parameterized by its own covariance type.

Jacobians (column-major vec; C = A Psi A', K the commutation matrix)::

    d vec Sigma / d vec Lambda = (I + K_p)(Lambda C kron I_p)
    d vec Sigma / d vec B      = (Lambda kron Lambda)(I + K_m)(C kron A)
    d vec Sigma / d vec Psi    = (Lambda A kron Lambda A) d vec Psi / d theta_type
    d mu / d vec Lambda        = (A nu_eta)' kron I_p
    d mu / d vec B_B           = (A nu_eta)' kron Lambda A
    d mu / d nu_eta            = Lambda A
"""

from __future__ import annotations

import numpy as np

from ..data.stats import TwoLevelStats
from ..linalg import kron, FloatArray, nearest_positive_definite, sym_jacobian
from ..parameterizations import derived_matrices
from ..spec.matrices import MatrixSpec
from .base import Block, Family, Moments, sample_between_cov, vech_rows

LATENT_BLOCKS = ("zeta_within", "zeta_between")
RESIDUAL_BLOCKS = ("epsilon_within", "epsilon_between")


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
            b: Block.make(b, self.latents if b in LATENT_BLOCKS else self.observed, t,
                          argument=args[b], residual=b in RESIDUAL_BLOCKS)
            for b, t in self.types.items()
        }

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
                pats[f"{kind}_{block.name}"] = pat
        return pats

    # -------------------------------------------------------------- moments
    def _level(self, mats: dict[str, FloatArray], level: str) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """(A, Psi, C, Theta) of one level."""
        m = len(self.latents)
        beta = mats[f"beta_{level}"]
        a = np.linalg.inv(np.eye(m) - beta) if beta.any() else np.eye(m)
        psi = self._blocks[f"zeta_{level}"].sigma(mats)
        c = a @ psi @ a.T
        theta = self._blocks[f"epsilon_{level}"].sigma(mats)
        return a, psi, c, theta

    def implied(self, mats: dict[str, FloatArray], levels: dict | None = None) -> Moments:
        lam = mats["lambda"]
        levels = levels or {lv: self._level(mats, lv) for lv in ("within", "between")}
        _, _, c_w, theta_w = levels["within"]
        a_b, _, c_b, theta_b = levels["between"]
        mu = mats["nu"][:, 0] + lam @ (a_b @ mats["nu_eta"][:, 0])
        sigma_w = lam @ c_w @ lam.T + theta_w
        sigma_b = lam @ c_b @ lam.T + theta_b
        return Moments(mu, 0.5 * (sigma_w + sigma_w.T), 0.5 * (sigma_b + sigma_b.T))

    def moments_and_jacobian(self, mats: dict[str, FloatArray]) -> tuple[Moments, dict[str, FloatArray]]:
        levels = {lv: self._level(mats, lv) for lv in ("within", "between")}
        return self.implied(mats, levels), self.jacobian(mats, levels)

    def jacobian(self, mats: dict[str, FloatArray], levels: dict | None = None) -> dict[str, FloatArray]:
        lam = mats["lambda"]
        levels = levels or {lv: self._level(mats, lv) for lv in ("within", "between")}
        p, m = lam.shape
        ps = p * (p + 1) // 2
        n_phi = p + 2 * ps
        rows = {"mu": slice(0, p), "within": slice(p, p + ps), "between": slice(p + ps, n_phi)}
        eye_p = np.eye(p)
        out: dict[str, FloatArray] = {}

        jac_lambda = np.zeros((n_phi, p * m))
        for level in ("within", "between"):
            a, _, c, _ = levels[level]
            jac_lambda[rows[level]] = vech_rows(sym_jacobian(kron(lam @ c, eye_p), p), p)
            # beta
            jac_beta = np.zeros((n_phi, m * m))
            d_c = sym_jacobian(kron(c, a), m)
            jac_beta[rows[level]] = vech_rows(kron(lam, lam) @ d_c, p)
            out[f"beta_{level}"] = jac_beta
            # latent block: d vec Sigma = (LA kron LA) d vec Psi
            la = lam @ a
            outer = kron(la, la)
            for name, jac in self._blocks[f"zeta_{level}"].jacobian(mats).items():
                block_jac = np.zeros((n_phi, jac.shape[1]))
                block_jac[rows[level]] = vech_rows(outer @ jac, p)
                out[name] = block_jac
            for name, jac in self._blocks[f"epsilon_{level}"].jacobian(mats).items():
                block_jac = np.zeros((n_phi, jac.shape[1]))
                block_jac[rows[level]] = vech_rows(jac, p)
                out[name] = block_jac
            if level == "between":
                a_nu = a @ mats["nu_eta"][:, 0]
                jac_lambda[rows["mu"]] = kron(a_nu[None, :], eye_p)
                out["beta_between"][rows["mu"]] = kron(a_nu[None, :], la)
                jac_nu_eta = np.zeros((n_phi, m))
                jac_nu_eta[rows["mu"]] = la
                out["nu_eta"] = jac_nu_eta
        out["lambda"] = jac_lambda
        jac_nu = np.zeros((n_phi, p))
        jac_nu[rows["mu"]] = eye_p
        out["nu"] = jac_nu
        return out

    # --------------------------------------------------------------- starts
    def start(self, stats: TwoLevelStats, codes: dict[str, np.ndarray], fixed: dict[str, np.ndarray]) -> dict[str, FloatArray]:
        """Data-based start values.

        Loadings: per factor, the first principal component of the within
        covariance of its indicators (rescaled to the marker or to unit
        latent variance).  Residual variances: half the observed variance of
        each level.  Latent covariances: Lambda^+ (S - Theta) Lambda^+', made
        positive definite.
        """
        p, m = len(self.observed), len(self.latents)
        s_w = nearest_positive_definite(stats.within_cov, floor=1e-3)
        s_b = sample_between_cov(stats)
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
        out: dict[str, FloatArray] = {
            "lambda": lam,
            "nu": stats.grand_mean.reshape(p, 1),
            "nu_eta": np.zeros((m, 1)),
            "beta_within": np.zeros((m, m)),
            "beta_between": np.zeros((m, m)),
        }
        pinv = np.linalg.pinv(lam)
        for level, s in (("within", s_w), ("between", s_b)):
            theta = np.diag(np.maximum(0.5 * np.diag(s), 1e-4 * max(np.diag(s).mean(), 1e-8)))
            psi = nearest_positive_definite(pinv @ (s - theta) @ pinv.T, floor=0.05)
            for block, sigma in ((f"zeta_{level}", psi), (f"epsilon_{level}", theta)):
                for kind, mat in self._blocks[block].ctype.from_sigma(sigma).items():
                    out[f"{kind}_{block}"] = mat
        return out

    def derived(self, mats: dict[str, FloatArray]) -> dict[str, FloatArray]:
        mom = self.implied(mats)
        out: dict[str, FloatArray] = {
            "mu": mom.mu.reshape(-1, 1),
            "sigma_within": mom.sigma_within,
            "sigma_between": mom.sigma_between,
        }
        for level in ("within", "between"):
            a, psi, c, theta = self._level(mats, level)
            out[f"sigma_eta_{level}"] = c
            out.update(derived_matrices(psi, f"zeta_{level}"))
            out.update(derived_matrices(theta, f"epsilon_{level}"))
            out.update(derived_matrices(out[f"sigma_{level}"], level))
            out[f"sigma_{level}"] = mom.sigma_within if level == "within" else mom.sigma_between
        return out
