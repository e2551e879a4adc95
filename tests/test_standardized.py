"""The standardized solution (``parameters(standardized=True)``) against an independent oracle.

Oracle: lavaan 0.6-14's ``standardizedSolution(fit, type = "std.all")`` for the
same model (two-level CFA on Demo.twolevel y1..y6, loadings equal across the
levels by labels = psychonetrics' ``ml_lvm`` with ``lambda_=[[1,0]]*3+[[0,1]]*3``),
fitted with ``information = "expected"`` as psychonetrics computes its SEs;
see ``data/lavaan_extra/standardized_shared/generator.R``.

Tolerances: standardized estimates 1e-4 absolute, delta-method SEs 1e-4
relative.  The two programs stop their optimizers at slightly different
points (the raw estimates differ by ~1e-5), and that is all that separates
them: the observed differences are at most 1.2e-5 for the estimates and
1.2e-5 relative for the SEs, so the tolerances keep a margin of about 8x.
(A looser 1e-3 / 2% would let a wrong derivative term of a percent or two
through.)

The delta-method SEs are also checked against an independent numerical
Jacobian computed here from the unstandardized parameter table and the
model's covariance of the estimates (``model.fitted.vcov``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychonetrics as pn

DATA = Path(__file__).resolve().parent / "data"
CASE = DATA / "lavaan_extra" / "standardized_shared"
VARS = [f"y{i}" for i in range(1, 7)]
LAMBDA = [[1, 0]] * 3 + [[0, 1]] * 3
# lavaan's latent names per level -> ours (the same latents on both levels).
LATENT = {"fw1": "Eta_1", "fw2": "Eta_2", "fb1": "Eta_1", "fb2": "Eta_2"}
EST_TOL = 1e-4
SE_RTOL = 1e-4


@pytest.fixture(scope="module")
def spec() -> dict:
    return json.loads((CASE / "expected.json").read_text())


@pytest.fixture(scope="module")
def model(spec):
    data = pd.read_csv(CASE / spec["data"])
    return pn.ml_lvm(data, lambda_=LAMBDA, vars=VARS, clusters="cluster", estimator="ML").runmodel()


@pytest.fixture(scope="module")
def standardized(model) -> pd.DataFrame:
    return model.parameters(standardized=True)


@pytest.fixture(scope="module")
def lavaan(spec) -> pd.DataFrame:
    return pd.DataFrame(spec["reference"]["standardized"]).rename(columns={"est.std": "est_std"})


def _ours(frame: pd.DataFrame, row) -> pd.DataFrame:
    """Our rows for one lavaan std.all row (empty if we have no such row)."""
    level = row.level
    if row.op == "=~":
        return frame[(frame["matrix"] == "lambda") & (frame["level"] == level) & (frame["var1"] == LATENT[row.lhs])
                     & (frame["var2"] == row.rhs)]
    if row.op == "~~":
        block = "zeta" if row.lhs in LATENT else "epsilon"
        a, b = LATENT.get(row.lhs, row.lhs), LATENT.get(row.rhs, row.rhs)
        sel = frame[frame["matrix"] == f"sigma_{block}_{level}"]
        return sel[((sel["var1"] == a) & (sel["var2"] == b)) | ((sel["var1"] == b) & (sel["var2"] == a))]
    if row.op == "~1" and level == "between" and row.lhs not in LATENT:
        return frame[(frame["matrix"] == "nu") & (frame["var1"] == row.lhs)]
    raise AssertionError(f"no psychonetrics counterpart for {row.lhs} {row.op} {row.rhs} ({level})")


def _compare(standardized: pd.DataFrame, rows: pd.DataFrame) -> int:
    problems, checked = [], 0
    for row in rows.itertuples(index=False):
        ours = _ours(standardized, row)
        label = f"{row.lhs} {row.op} {row.rhs} ({row.level})"
        if len(ours) != 1:
            problems.append(f"{label}: {len(ours)} rows in parameters(standardized=True)")
            continue
        est, se = float(ours["est_std"].iloc[0]), float(ours["se"].iloc[0])
        if abs(est - row.est_std) > EST_TOL:
            problems.append(f"{label}: est_std {est:.6f} vs lavaan {row.est_std:.6f}")
        if not abs(se - row.se) <= SE_RTOL * row.se:
            problems.append(f"{label}: se {se:.6f} vs lavaan {row.se:.6f} ({se / row.se - 1:+.2e} relative)")
        checked += 1
    assert not problems, "\n".join(problems)
    return checked


def test_same_optimum_as_lavaan(model, spec) -> None:
    assert spec["reference"]["converged"]
    assert model.fitted.information_kind == "expected"
    assert abs(model.fit()["logl"] - spec["reference"]["logl"]) < 1e-4


def test_standardized_loadings_per_level(standardized, lavaan) -> None:
    rows = lavaan[lavaan["op"] == "=~"]
    assert _compare(standardized, rows) == 12  # 6 loadings x 2 levels, each level its own values


def test_standardized_latent_covariances_per_level(standardized, lavaan) -> None:
    rows = lavaan[(lavaan["op"] == "~~") & lavaan["lhs"].isin(list(LATENT)) & (lavaan["lhs"] != lavaan["rhs"])]
    assert _compare(standardized, rows) == 2


def test_standardized_residual_variances_per_level(standardized, lavaan) -> None:
    rows = lavaan[(lavaan["op"] == "~~") & ~lavaan["lhs"].isin(list(LATENT))]
    assert _compare(standardized, rows) == 12


def test_standardized_between_intercepts(standardized, lavaan) -> None:
    rows = lavaan[(lavaan["op"] == "~1") & (lavaan["level"] == "between") & ~lavaan["lhs"].isin(list(LATENT))]
    assert _compare(standardized, rows) == 6


def test_standardized_latent_variances_are_one_without_inference(standardized, lavaan) -> None:
    """lavaan reports the standardized latent variances as 1 with SE 0 (and no z or p).

    Ours may leave these constant rows out, but the rows it does report must
    be exactly that: 1 with no sampling variability, not a z statistic of a
    constant, and all latents of both levels must be treated alike.
    """
    rows = lavaan[(lavaan["op"] == "~~") & lavaan["lhs"].isin(list(LATENT)) & (lavaan["lhs"] == lavaan["rhs"])]
    assert len(rows) == 4
    assert np.allclose(rows["est_std"], 1.0) and np.all(rows["se"] == 0)
    present, problems = [], []
    for row in rows.itertuples(index=False):
        ours = _ours(standardized, row)
        present.append(len(ours))
        for r in ours.itertuples(index=False):
            label = f"{r.matrix} {r.var1} ~~ {r.var2}"
            if abs(r.est_std - 1.0) > 1e-12:
                problems.append(f"{label}: est_std {r.est_std!r}, expected 1")
            if not (np.isnan(r.se) or r.se == 0.0):
                problems.append(f"{label}: se {r.se!r} (z = {r.z:.3g}, p = {r.p:.3g}) for a constant")
    if len(set(present)) != 1:
        problems.append(f"rows reported for (within Eta_1, Eta_2, between Eta_1, Eta_2): {present}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------- delta method, independently


def _free_layout(model) -> tuple[pd.DataFrame, np.ndarray]:
    """The unstandardized table and the estimate of every free parameter (index par - 1)."""
    params = model.parameters()
    free = params[params["par"] > 0]
    theta = np.zeros(model.npar)
    for r in free.itertuples(index=False):
        theta[r.par - 1] = r.est
    return params, theta


def _std_values(params: pd.DataFrame, theta: np.ndarray) -> dict:
    """std.all values written out from the model equations (no psychonetrics code)."""
    p, m = len(VARS), 2
    mats = {"lambda": np.zeros((p, m)), "nu": np.zeros(p)}
    for name, size in (("sigma_zeta_within", m), ("sigma_zeta_between", m),
                       ("sigma_epsilon_within", p), ("sigma_epsilon_between", p)):
        mats[name] = np.zeros((size, size))
    for r in params.itertuples(index=False):
        if r.matrix not in mats:
            continue
        value = theta[r.par - 1] if r.par > 0 else r.est
        if r.matrix == "nu":
            mats["nu"][r.row - 1] = value
        else:
            mats[r.matrix][r.row - 1, r.col - 1] = value
            if r.matrix.startswith("sigma_"):
                mats[r.matrix][r.col - 1, r.row - 1] = value
    lam, out = mats["lambda"], {}
    for level in ("within", "between"):
        psi, th = mats[f"sigma_zeta_{level}"], mats[f"sigma_epsilon_{level}"]
        sigma = lam @ psi @ lam.T + th
        sd_y, sd_eta = np.sqrt(np.diag(sigma)), np.sqrt(np.diag(psi))
        for i, j in zip(*np.nonzero(lam)):
            out[("lambda", level, f"Eta_{j + 1}", VARS[i])] = lam[i, j] * sd_eta[j] / sd_y[i]
        out[(f"sigma_zeta_{level}", level, "Eta_2", "Eta_1")] = psi[1, 0] / (sd_eta[0] * sd_eta[1])
        for i in range(p):
            out[(f"sigma_epsilon_{level}", level, VARS[i], VARS[i])] = th[i, i] / sigma[i, i]
        if level == "between":
            for i in range(p):
                out[("nu", level, VARS[i], "")] = mats["nu"][i] / sd_y[i]
    return out


def test_delta_method_against_an_independent_jacobian(model, standardized) -> None:
    params, theta = _free_layout(model)
    free = params[params["par"] > 0]
    vcov = np.asarray(model.fitted.vcov, dtype=float)
    assert vcov.shape == (model.npar, model.npar)
    np.testing.assert_allclose(np.sqrt(np.diag(vcov))[free["par"].to_numpy() - 1], free["se"], rtol=1e-10)

    base = _std_values(params, theta)
    keys = list(base)
    jac = np.zeros((len(keys), theta.size))
    for k in range(theta.size):  # central differences with a relative step (src uses 1e-6 absolute)
        h = 1e-5 * max(abs(theta[k]), 0.1)
        up, down = theta.copy(), theta.copy()
        up[k] += h
        down[k] -= h
        hi, lo = _std_values(params, up), _std_values(params, down)
        jac[:, k] = [(hi[key] - lo[key]) / (2 * h) for key in keys]
    se = np.sqrt(np.einsum("ik,kl,il->i", jac, vcov, jac))

    problems = []
    for key, value, s in zip(keys, (base[k] for k in keys), se):
        matrix, level, v1, v2 = key
        sel = standardized[(standardized["matrix"] == matrix) & (standardized["level"] == level)
                           & (standardized["var1"] == v1) & (standardized["var2"] == v2)]
        assert len(sel) == 1, key
        if abs(float(sel["est_std"].iloc[0]) - value) > 1e-10:
            problems.append(f"{key}: est_std {float(sel['est_std'].iloc[0])!r} vs {value!r}")
        if abs(float(sel["se"].iloc[0]) - s) > 1e-6 * s:
            problems.append(f"{key}: se {float(sel['se'].iloc[0])!r} vs {s!r}")
    assert len(keys) == 32
    assert not problems, "\n".join(problems)
