"""Simulated two-level factor models of growing width, for the size benchmark.

``p`` observed variables load on ``p / 10`` factors (ten indicators each, the
same loadings on both levels, as ``ml_lvm``); 300 clusters of 5 to 15 units.
Run as a script to write the data and the lavaan syntax of every size::

    python bench/size_cases.py OUTDIR        # writes size_<p>.csv and size_<p>.lav

The lavaan timings in ``bench/lavaan_sizes.json`` were measured on exactly
these files (``bench/lavaan_sizes.R``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

SIZES = (10, 30, 60, 100)
N_CLUSTERS = 300
CLUSTER_SIZES = (5, 15)


def simulate(p: int, *, seed: int = 2026) -> pd.DataFrame:
    """Data with ``p`` indicators (``y1..yp``) of ``p // 10`` correlated factors, column ``cluster``."""
    if p % 10:
        raise ValueError(f"`p`: expected a multiple of 10, got {p}.")
    rng = np.random.default_rng(seed + p)
    m = p // 10
    lam = np.zeros((p, m))
    for k in range(m):
        lam[10 * k:10 * (k + 1), k] = rng.uniform(0.6, 1.2, size=10)
    lam[0::10] = np.where(lam[0::10] != 0, 1.0, 0.0)  # markers
    psi_w = 0.3 + 0.7 * np.eye(m)
    psi_b = 0.4 * (0.4 + 0.6 * np.eye(m))
    theta_w = np.diag(rng.uniform(0.4, 0.8, size=p))
    theta_b = np.diag(rng.uniform(0.02, 0.10, size=p))
    sigma_w = lam @ psi_w @ lam.T + theta_w
    sigma_b = lam @ psi_b @ lam.T + theta_b
    mu = rng.normal(0.0, 1.0, size=p)
    sizes = rng.integers(CLUSTER_SIZES[0], CLUSTER_SIZES[1] + 1, size=N_CLUSTERS)
    cluster = np.repeat(np.arange(1, N_CLUSTERS + 1), sizes)
    between = rng.multivariate_normal(np.zeros(p), sigma_b, size=N_CLUSTERS)
    within = rng.multivariate_normal(np.zeros(p), sigma_w, size=int(sizes.sum()))
    y = mu + between[cluster - 1] + within
    frame = pd.DataFrame(y, columns=[f"y{i + 1}" for i in range(p)])
    frame["cluster"] = cluster
    return frame


def psychonetrics_syntax(p: int) -> str:
    """The factor structure in this package's syntax (shared by both levels)."""
    return "\n".join(
        f"F{k + 1} =~ " + " + ".join(f"y{10 * k + i + 1}" for i in range(10)) for k in range(p // 10)
    )


def lavaan_syntax(p: int) -> str:
    """The same model in lavaan's two-level syntax (loadings equal across levels by labels)."""
    lines = []
    for level, prefix in ((1, "fw"), (2, "fb")):
        lines.append(f"level: {level}")
        for k in range(p // 10):
            terms = [f"y{10 * k + 1}"] + [f"l{10 * k + i + 1}*y{10 * k + i + 1}" for i in range(1, 10)]
            lines.append(f"  {prefix}{k + 1} =~ " + " + ".join(terms))
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else ".")
    out.mkdir(parents=True, exist_ok=True)
    for p in SIZES:
        simulate(p).to_csv(out / f"size_{p}.csv", index=False, float_format="%.15g")
        (out / f"size_{p}.lav").write_text(lavaan_syntax(p))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
