"""Property-based tests (hypothesis).

Profiles: ``ci`` (default, bounded examples so CI stays fast) and ``large``
(``HYPOTHESIS_PROFILE=large pytest tests/test_properties.py``) for a longer
local run.  Properties:

* random valid specifications (types, patterns, equality labels, beta
  structures) on random data raise nothing but the package's documented
  errors (ValueError / TypeError) and warnings;
* shuffling rows and relabelling clusters never changes a result;
* fitting data simulated from a model recovers it at large J (slow).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import psychonetrics as pn
from psychonetrics.exceptions import PsychonetricsWarning

settings.register_profile("ci", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("large", max_examples=400, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

TYPES = ["cov", "chol", "prec", "ggm", "cor"]


def _simulate(rng: np.random.Generator, p: int, m: int, j: int, sizes: tuple[int, int]) -> tuple[pd.DataFrame, np.ndarray]:
    lam = np.zeros((p, m))
    for i in range(p):
        lam[i, i % m] = rng.uniform(0.6, 1.2)
    psi_w = np.eye(m) * rng.uniform(0.6, 1.4, m)
    psi_b = np.eye(m) * rng.uniform(0.2, 0.6, m)
    sigma_w = lam @ psi_w @ lam.T + np.diag(rng.uniform(0.3, 0.7, p))
    sigma_b = lam @ psi_b @ lam.T + np.diag(rng.uniform(0.05, 0.3, p))
    n = rng.integers(sizes[0], sizes[1] + 1, size=j)
    cl = np.repeat(np.arange(j), n)
    b = rng.multivariate_normal(np.zeros(p), sigma_b, size=j)
    y = rng.normal(size=p) + b[cl] + rng.multivariate_normal(np.zeros(p), sigma_w, size=cl.size)
    frame = pd.DataFrame(y, columns=[f"x{i}" for i in range(p)])
    frame["cluster"] = cl
    pattern = (lam != 0).astype(int)
    return frame, pattern


@st.composite
def specifications(draw):  # noqa: ANN201
    seed = draw(st.integers(0, 2**31 - 1))
    p = draw(st.integers(3, 6))
    m = draw(st.integers(1, min(2, p // 2)))
    j = draw(st.integers(25, 70))
    sizes = draw(st.sampled_from([(2, 6), (5, 12), (1, 4)]))
    types = {k: draw(st.sampled_from(TYPES)) for k in ("within_latent", "between_latent", "within_residual",
                                                       "between_residual")}
    beta = draw(st.sampled_from(["zero", "lower"])) if m == 2 else "zero"
    equal_loadings = draw(st.booleans())
    identification = draw(st.sampled_from(["loadings", "variance"]))
    estimator = draw(st.sampled_from(["default", "ML", "FIML"]))
    missing = draw(st.sampled_from([0.0, 0.0, 0.05]))
    return dict(seed=seed, p=p, m=m, j=j, sizes=sizes, types=types, beta=beta, equal_loadings=equal_loadings,
                identification=identification, estimator=estimator, missing=missing)


def _build(spec: dict) -> pn.Model:
    rng = np.random.default_rng(spec["seed"])
    data, pattern = _simulate(rng, spec["p"], spec["m"], spec["j"], spec["sizes"])
    if spec["missing"]:
        values = data.iloc[:, : spec["p"]].to_numpy(copy=True)
        values[rng.random(values.shape) < spec["missing"]] = np.nan
        data.iloc[:, : spec["p"]] = values
    lam = pattern.copy()
    if spec["equal_loadings"]:
        free = np.argwhere(lam == 1)
        if len(free) >= 4:  # two non-marker loadings of the first factor share label 2
            rows = [r for r, c in free if c == 0][1:3]
            if len(rows) == 2:
                lam[rows[0], 0] = lam[rows[1], 0] = 2
    kwargs = dict(spec["types"])
    if spec["beta"] == "lower":
        kwargs["beta_within"] = kwargs["beta_between"] = np.array([[0, 0], [1, 0]])
        for level, key in (("within", "within_latent"), ("between", "between_latent")):
            if kwargs[key] in ("cov", "prec", "chol"):
                kind = {"cov": "sigma", "prec": "kappa", "chol": "lowertri"}[kwargs[key]]
                kwargs[f"{kind}_zeta_{level}"] = "diag"
            elif kwargs[key] in ("ggm", "cor"):
                kind = {"ggm": "omega", "cor": "rho"}[kwargs[key]]
                kwargs[f"{kind}_zeta_{level}"] = "zero"
    return pn.ml_lvm(data, lambda_=lam, clusters="cluster", identification=spec["identification"],
                     estimator=spec["estimator"], **kwargs)


@given(specifications())
def test_random_specifications_raise_only_documented_errors(spec: dict) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PsychonetricsWarning)
        try:
            model = _build(spec)
        except (ValueError, TypeError) as exc:
            assert str(exc)  # a message, never an empty error
            return
        fitted = model.runmodel()
    fit = fitted.fit()
    assert np.isfinite(fit["logl"])
    assert fit["npar"] == fitted.npar
    assert 0.0 <= fit["cfi"] <= 1.0 or np.isnan(fit["cfi"])
    params = fitted.parameters()
    assert params["est"].notna().all()
    proper = all(np.linalg.eigvalsh(m)[0] >= -1e-10 for mom in fitted.fitted.moments
                 for m in (mom.sigma_within, mom.sigma_between))
    if fitted.converged and proper:
        # a proper solution never beats the (PSD-constrained) saturated model
        assert fit["logl"] <= fit["unrestricted.logl"] + 1e-4
    if fit["chisq"] < -1e-4:
        # explained: an improper solution, or a fit that did not converge
        assert not proper or not fitted.converged
        assert ("negative chi-square" in fit.attrs.get("warning", "")
                or "did not converge" in fit.attrs.get("warning", ""))


@given(st.integers(0, 2**31 - 1), st.sampled_from(["ML", "FIML"]))
def test_row_order_and_cluster_labels_do_not_matter(seed: int, estimator: str) -> None:
    rng = np.random.default_rng(seed)
    data, pattern = _simulate(rng, 4, 1, 30, (2, 8))
    shuffled = data.sample(frac=1.0, random_state=seed % 1000).reset_index(drop=True)
    labels = {c: f"school-{rng.integers(1e9)}-{c}" for c in data["cluster"].unique()}
    shuffled["cluster"] = shuffled["cluster"].map(labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PsychonetricsWarning)
        a = pn.ml_lvm(data, lambda_=pattern, clusters="cluster", estimator=estimator).runmodel()
        b = pn.ml_lvm(shuffled, lambda_=pattern, clusters="cluster", estimator=estimator).runmodel()
    assert abs(a.fit()["logl"] - b.fit()["logl"]) < 1e-8 * abs(a.fit()["logl"])
    np.testing.assert_allclose(a.table.start_vector(), b.table.start_vector(), rtol=1e-6, atol=1e-8)


@pytest.mark.slow
@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_recovery_at_large_j(seed: int) -> None:
    rng = np.random.default_rng(seed)
    model = pn.ml_lvm(pn.datasets.seed_example(), "F1 =~ y1 + y2 + y3\nF2 =~ y4 + y5 + y6",
                      clusters="cluster").runmodel()
    data = pn.generate(model, n_clusters=2000, cluster_size=(5, 15), seed=int(rng.integers(2**31)))
    refit = pn.ml_lvm(data, "F1 =~ y1 + y2 + y3\nF2 =~ y4 + y5 + y6", clusters="cluster").runmodel()
    for name in ("lambda", "sigma_zeta_within", "sigma_zeta_between", "sigma_epsilon_within"):
        np.testing.assert_allclose(refit.getmatrix(name), model.getmatrix(name), atol=0.12, err_msg=name)
