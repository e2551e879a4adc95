"""Shared fixtures: the lavaan reference cases in ../shared/reference."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REFERENCE_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
COMPLETE_CASES = ["seed_example", "seed_example_18", "unbalanced", "demo_twolevel", "sem_regressions", "tiny_clusters"]


@dataclass(frozen=True)
class ReferenceCase:
    name: str
    data: pd.DataFrame
    model: dict
    reference: dict
    lavaan_seconds: float


def load_case(name: str) -> ReferenceCase:
    folder = REFERENCE_DIR / name
    if not folder.exists():
        pytest.skip(f"reference case {name} not found (expected the shared folder beside the project)")
    spec = json.loads((folder / "expected.json").read_text())
    data = pd.read_csv(folder / spec.get("data", "data.csv"))
    return ReferenceCase(name, data, spec["model"], spec["reference"], spec.get("lavaan_seconds", np.nan))


def model_kwargs(case: ReferenceCase) -> dict:
    """ml_lvm keyword arguments reproducing the case's model."""
    m = case.model
    kwargs = {
        "lambda_": np.asarray(m["lambda"]),
        "clusters": m["clusters"],
        "vars": m["vars"],
        "beta_within": m["beta_within"] if isinstance(m["beta_within"], str) else np.asarray(m["beta_within"]),
        "beta_between": m["beta_between"] if isinstance(m["beta_between"], str) else np.asarray(m["beta_between"]),
        "within_latent": m["within_latent"],
        "between_latent": m["between_latent"],
        "within_residual": m["within_residual"],
        "between_residual": m["between_residual"],
    }
    if m.get("groups"):
        kwargs["groups"] = m["groups"]
        kwargs["equal"] = m.get("equal", [])
    known = set(kwargs) | {"family", "clusters", "groups", "equal", "estimator", "missing", "lambda", "vars"}
    for key, value in m.items():
        if key not in known:
            kwargs[key] = value if isinstance(value, str) else np.asarray(value)
    return kwargs


@pytest.fixture(params=COMPLETE_CASES)
def complete_case(request) -> ReferenceCase:
    return load_case(request.param)
