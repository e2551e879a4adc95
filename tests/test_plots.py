"""Tests of psychonetrics.report.plots (network plots and two-level path diagrams)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from psychonetrics.report import plots
from psychonetrics.report.plots import plot_network, plot_networks, plot_path_diagram

needs_mpl = pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="matplotlib not installed")

LABELS = ["V1", "V2", "V3", "V4", "V5", "V6"]
WITHIN = np.array([
    [0.00, 0.35, 0.10, -0.20, 0.00, 0.00],
    [0.35, 0.00, 0.30, 0.00, 0.00, 0.05],
    [0.10, 0.30, 0.00, 0.25, -0.10, 0.00],
    [-0.20, 0.00, 0.25, 0.00, 0.40, 0.00],
    [0.00, 0.00, -0.10, 0.40, 0.00, 0.30],
    [0.00, 0.05, 0.00, 0.00, 0.30, 0.00],
])
BETWEEN = np.array([
    [0.00, 0.50, 0.00, 0.00, -0.30, 0.00],
    [0.50, 0.00, 0.20, 0.00, 0.00, 0.00],
    [0.00, 0.20, 0.00, 0.60, 0.00, 0.00],
    [0.00, 0.00, 0.60, 0.00, 0.00, -0.25],
    [-0.30, 0.00, 0.00, 0.00, 0.00, 0.45],
    [0.00, 0.00, 0.00, -0.25, 0.45, 0.00],
])
LAMBDA = np.array([[0.8, 0.0], [0.7, 0.0], [0.6, 0.3], [0.0, 0.9], [0.0, -0.5], [0.0, 0.7]])
N_EDGES = int((np.triu(WITHIN, 1) != 0).sum())


def assert_image(path: Path) -> None:
    from matplotlib.image import imread

    assert path.exists()
    assert path.stat().st_size > 5_000
    assert float(np.var(imread(path))) > 0.0


def with_gid(fig: object, prefix: str, axes: int = 0) -> list:
    ax = fig.axes[axes]  # type: ignore[attr-defined]
    return [a for a in ax.get_children() if (a.get_gid() or "").startswith(prefix)]


def centres(fig: object, axes: int = 0) -> np.ndarray:
    return np.array([c.center for c in with_gid(fig, "node:", axes)])


# ---------------------------------------------------------------------------- plot_network
@needs_mpl
def test_network_png(tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    fig = plot_network(WITHIN, LABELS, title="Within", edge_labels=True, filename=tmp_path / "net.png")
    assert isinstance(fig, Figure)
    assert_image(tmp_path / "net.png")
    assert len(with_gid(fig, "edge:")) == N_EDGES
    assert len(with_gid(fig, "node:")) == 6
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert sorted(texts[-6:]) == LABELS and "0.35" in texts and "-0.20" in texts
    assert len(texts) == N_EDGES + 6


@needs_mpl
@pytest.mark.parametrize("ext, magic", [("svg", b"<svg"), ("pdf", b"%PDF")])
def test_network_vector_formats(tmp_path: Path, ext: str, magic: bytes) -> None:
    path = tmp_path / f"net.{ext}"
    plot_network(WITHIN, LABELS, filename=str(path))
    assert magic in path.read_bytes()[:2000]


@needs_mpl
def test_significant_draws_fewer_edges() -> None:
    sig = np.abs(WITHIN) >= 0.25
    all_edges = with_gid(plot_network(WITHIN, LABELS), "edge:")
    sig_edges = with_gid(plot_network(WITHIN, LABELS, significant=sig), "edge:")
    assert len(sig_edges) < len(all_edges)
    assert {e.get_gid() for e in sig_edges} == {f"edge:{i}-{j}" for i, j in zip(*np.nonzero(np.triu(sig, 1)))}


@needs_mpl
def test_min_weight_and_colours_and_widths() -> None:
    edges = {e.get_gid(): e for e in with_gid(plot_network(WITHIN, LABELS, min_weight=0.1), "edge:")}
    assert len(edges) == int((np.abs(np.triu(WITHIN, 1)) > 0.1).sum())
    assert "edge:2-4" not in edges  # |-0.10| <= min_weight
    assert edges["edge:0-1"].get_color() == plots.POSITIVE_COLOR
    assert edges["edge:0-3"].get_color() == plots.NEGATIVE_COLOR
    strongest, weaker = edges["edge:3-4"], edges["edge:1-2"]  # 0.40 (the maximum) and 0.30
    assert strongest.get_alpha() == pytest.approx(1.0)
    assert weaker.get_linewidth() / strongest.get_linewidth() == pytest.approx(0.75)
    assert weaker.get_alpha() == pytest.approx(0.75)


@needs_mpl
def test_max_weight_caps_scale() -> None:
    edges = {e.get_gid(): e for e in with_gid(plot_network(WITHIN, LABELS, max_weight=0.8), "edge:")}
    assert edges["edge:3-4"].get_alpha() == pytest.approx(0.5)


@needs_mpl
def test_circle_layout_starts_on_top_clockwise() -> None:
    pos = centres(plot_network(WITHIN, LABELS))
    assert pos[0] == pytest.approx([0.0, 1.0])
    assert pos[1][0] > 0 and pos[1][1] < 1.0  # second node to the right: clockwise


@needs_mpl
def test_spring_layout_is_deterministic_and_positions_override() -> None:
    a = centres(plot_network(WITHIN, LABELS, layout="spring"))
    b = centres(plot_network(WITHIN, LABELS, layout="spring"))
    np.testing.assert_allclose(a, b)
    assert np.abs(a).max() == pytest.approx(1.0)
    assert not np.allclose(a, centres(plot_network(WITHIN, LABELS)))
    grid = np.array([[0, 0], [1, 0], [2, 0], [0, 1], [1, 1], [2, 1]], dtype=float)
    np.testing.assert_allclose(centres(plot_network(WITHIN, LABELS, positions=grid)), (grid - [1, 0.5]))


@needs_mpl
def test_draw_into_given_axes() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4))
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    assert plot_network(WITHIN, LABELS, ax=right) is fig
    assert len(with_gid(fig, "edge:", axes=1)) == N_EDGES
    assert with_gid(fig, "edge:", axes=0) == []


# ---------------------------------------------------------------------------- plot_networks
@needs_mpl
def test_networks_side_by_side(tmp_path: Path) -> None:
    fig = plot_networks({"Within": WITHIN, "Between": BETWEEN}, LABELS, title="Two levels",
                        filename=tmp_path / "nets.png")
    assert_image(tmp_path / "nets.png")
    assert [ax.get_title() for ax in fig.axes] == ["Within", "Between"]
    np.testing.assert_allclose(centres(fig, 0), centres(fig, 1))
    # shared scale: the overall maximum is |0.60| (between), so the within maximum 0.40 is not full width
    within = {e.get_gid(): e for e in with_gid(fig, "edge:", 0)}
    between = {e.get_gid(): e for e in with_gid(fig, "edge:", 1)}
    assert between["edge:2-3"].get_alpha() == pytest.approx(1.0)
    assert within["edge:3-4"].get_alpha() == pytest.approx(0.4 / 0.6)


@needs_mpl
def test_networks_significant_and_spring(tmp_path: Path) -> None:
    sig = {"Between": np.abs(BETWEEN) > 0.4}
    fig = plot_networks({"Within": WITHIN, "Between": BETWEEN}, LABELS, significant=sig, layout="spring",
                        filename=tmp_path / "nets.svg")
    assert (tmp_path / "nets.svg").stat().st_size > 5_000
    assert len(with_gid(fig, "edge:", 0)) == N_EDGES
    assert len(with_gid(fig, "edge:", 1)) == 3
    np.testing.assert_allclose(centres(fig, 0), centres(fig, 1))


@needs_mpl
def test_networks_on_different_nodes() -> None:
    fig = plot_networks({"Within": WITHIN[:4, :4], "Between": BETWEEN[:1, :1]},
                        {"Within": LABELS[:4], "Between": ["B1"]})
    assert len(centres(fig, 0)) == 4 and len(centres(fig, 1)) == 1
    assert len(with_gid(fig, "edge:", 1)) == 0
    np.testing.assert_allclose(centres(fig, 1), [[0.0, 0.0]])  # a single node sits in the middle
    assert [t.get_text() for t in fig.axes[1].texts] == ["B1"]
    # the same labels per panel: one layout, as with shared labels
    same = plot_networks({"Within": WITHIN, "Between": BETWEEN}, {"Within": LABELS, "Between": LABELS},
                         layout="spring")
    np.testing.assert_allclose(centres(same, 0), centres(same, 1))


# ---------------------------------------------------------------------------- model.plot
LEVEL_MODEL = "level: 1\n fw1 =~ y1+y2+y3\n fw2 =~ y4+y5+y6\nlevel: 2\n fb =~ y1+y2+y3+y4+y5+y6"
TUTORIAL = "level: 1\n fw =~ y1 + y2 + y3\n fw ~ x1 + x2 + x3\nlevel: 2\n fb =~ y1 + y2 + y3\n fb ~ w1 + w2"


def _node_labels(fig: object, axes: int) -> list[str]:
    return [t.get_text() for t in fig.axes[axes].texts]  # type: ignore[attr-defined]


@needs_mpl
def test_level_specific_latent_networks_have_their_own_nodes(tmp_path: Path) -> None:
    import psychonetrics as pn

    for build in (pn.ml_lvm, pn.ml_lnm):  # derived networks, and network matrices (with p-values)
        model = build(pn.datasets.demo_twolevel(), LEVEL_MODEL, clusters="cluster").runmodel()
        fig = model.plot(filename=tmp_path / "levels.png", significant=build is pn.ml_lnm, alpha=0.5)
        assert_image(tmp_path / "levels.png")
        assert [ax.get_title() for ax in fig.axes] == ["Within latent network", "Between latent network"]
        assert _node_labels(fig, 0) == ["fw1", "fw2"] and _node_labels(fig, 1) == ["fb"]
        assert len(with_gid(fig, "edge:", 0)) == 1 and len(with_gid(fig, "edge:", 1)) == 0


@needs_mpl
def test_observed_covariates_are_not_latent_network_nodes() -> None:
    import psychonetrics as pn

    data = pn.datasets.demo_twolevel()
    tutorial = pn.ml_lvm(data, TUTORIAL, clusters="cluster").runmodel()
    fig = tutorial.plot()
    assert _node_labels(fig, 0) == ["fw"] and _node_labels(fig, 1) == ["fb"]
    # residual networks: the covariates have no residual, so they are not nodes either
    fig = pn.plot_network(tutorial, ["omega_epsilon_within", "omega_epsilon_between"])
    assert _node_labels(fig, 0) == ["y1", "y2", "y3"] and _node_labels(fig, 1) == ["y1", "y2", "y3"]
    # a level whose latent variables are all covariates has no latent network
    covariates_only = pn.ml_lvm(data, "level: 1\n fw =~ y1 + y2 + y3\nlevel: 2\n y1 ~ w1", clusters="cluster")
    fig = covariates_only.runmodel(reference=False).plot()
    assert [ax.get_title() for ax in fig.axes] == ["Within latent network"]
    with pytest.raises(ValueError, match="`matrix`: 'omega_zeta_between' has no network nodes"):
        covariates_only.runmodel(reference=False).plot("omega_zeta_between")


# ---------------------------------------------------------------------------- plot_path_diagram
@needs_mpl
def test_path_diagram(tmp_path: Path) -> None:
    cov_w = np.array([[1.0, 0.3], [0.3, 1.0]])
    cov_b = np.array([[0.5, 0.2], [0.2, 0.4]])
    beta_b = np.array([[0.0, 0.0], [0.45, 0.0]])
    fig = plot_path_diagram(LAMBDA, ["F1", "F2"], LABELS, latent_cov_within=cov_w, latent_cov_between=cov_b,
                            beta_between=beta_b, title="Two-level CFA", filename=tmp_path / "path.png")
    assert_image(tmp_path / "path.png")
    n_load = int((LAMBDA != 0).sum())
    assert len(with_gid(fig, "loading:between:")) == n_load
    assert len(with_gid(fig, "loading:within:")) == n_load
    assert [a.get_gid() for a in with_gid(fig, "cov:")] == ["cov:between:0-1", "cov:within:0-1"]
    assert [a.get_gid() for a in with_gid(fig, "beta:")] == ["beta:between:0-1"]
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"Between", "Within", "0.80", "-0.50", "0.45", "0.30", "Two-level CFA"} <= texts
    ys = {a.get_gid(): a.center[1] for a in with_gid(fig, "latent:")}
    assert ys["latent:between:0"] > 0 > ys["latent:within:0"]


@needs_mpl
def test_path_diagram_svg_minimal(tmp_path: Path) -> None:
    plot_path_diagram(LAMBDA[:, :1] + 0.1, ["F"], LABELS, filename=tmp_path / "path.svg")
    assert (tmp_path / "path.svg").stat().st_size > 5_000


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, error, match", [
    ({"weights": np.zeros((3, 4))}, ValueError, r"`weights`: has shape \(3, 4\) \(expected a square"),
    ({"weights": np.zeros(6)}, ValueError, "`weights`: has 1 dimension"),
    ({"weights": np.triu(np.ones((6, 6)))}, ValueError, "`weights`: is not symmetric"),
    ({"weights": np.full((6, 6), np.nan)}, ValueError, "`weights`: contains NaN"),
    ({"labels": LABELS[:5]}, ValueError, r"`labels`: got 5 names \(expected 6"),
    ({"labels": "V1"}, TypeError, "`labels`: got str"),
    ({"layout": "grid"}, ValueError, "`layout`: 'grid' is not a valid choice"),
    ({"significant": np.ones((6, 6))}, TypeError, "`significant`: has dtype float64 .expected a boolean"),
    ({"significant": np.ones((5, 5), bool)}, ValueError, r"`significant`: has shape \(5, 5\)"),
    ({"max_weight": 0.0}, ValueError, "`max_weight`: got 0.0 .expected a finite number > 0"),
    ({"min_weight": -1.0}, ValueError, "`min_weight`: got -1.0"),
    ({"positions": np.zeros((6, 3))}, ValueError, r"`positions`: has shape \(6, 3\)"),
    ({"filename": "net.jpg"}, ValueError, r"`filename`: extension '.jpg' is not supported"),
])
def test_network_errors(kwargs: dict, error: type, match: str) -> None:
    args = {"weights": WITHIN, "labels": LABELS} | kwargs
    with pytest.raises(error, match=match):
        plot_network(args.pop("weights"), args.pop("labels"), **args)


@needs_mpl
def test_network_bad_axes() -> None:
    with pytest.raises(TypeError, match="`ax`: got str .expected a matplotlib Axes"):
        plot_network(WITHIN, LABELS, ax="left")  # type: ignore[arg-type]


def test_networks_errors() -> None:
    with pytest.raises(ValueError, match=r"`networks`: is empty \(expected at least one panel\)"):
        plot_networks({}, LABELS)
    with pytest.raises(TypeError, match="`networks`: got list .expected a mapping"):
        plot_networks([WITHIN], LABELS)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"`networks\['Between'\]`: has shape \(5, 5\)"):
        plot_networks({"Within": WITHIN, "Between": BETWEEN[:5, :5]}, LABELS)
    with pytest.raises(ValueError, match="`significant`: unknown panel"):
        plot_networks({"Within": WITHIN}, LABELS, significant={"Level 2": WITHIN > 0})
    with pytest.raises(ValueError, match="`labels`: got 7 names"):
        plot_networks({"Within": WITHIN}, LABELS + ["V7"])
    with pytest.raises(ValueError, match=r"`labels`: no labels for 'Between' \(expected one label list per panel"):
        plot_networks({"Within": WITHIN, "Between": BETWEEN}, {"Within": LABELS})
    with pytest.raises(ValueError, match=r"`labels\['Between'\]`: got 6 names \(expected 5"):
        plot_networks({"Within": WITHIN, "Between": BETWEEN[:5, :5]}, {"Within": LABELS, "Between": LABELS})
    with pytest.raises(ValueError, match="`positions`: the panels have different nodes"):
        plot_networks({"Within": WITHIN, "Between": BETWEEN[:5, :5]}, {"Within": LABELS, "Between": LABELS[:5]},
                      positions=np.zeros((6, 2)))


@pytest.mark.parametrize("kwargs, match", [
    ({"lambda_": LAMBDA.T}, r"`lambda_`: has shape \(2, 6\) \(expected \(6, 2\): one row per `observed`"),
    ({"latents": ["F1"]}, r"`lambda_`: has shape \(6, 2\) \(expected \(6, 1\)"),
    ({"observed": LABELS[:4]}, r"`lambda_`: has shape \(6, 2\) \(expected \(4, 2\)"),
    ({"latent_cov_within": np.eye(3)}, r"`latent_cov_within`: has shape \(3, 3\) \(expected \(2, 2\)"),
    ({"latent_cov_between": [[1.0, 0.2], [0.0, 1.0]]}, "`latent_cov_between`: is not symmetric"),
    ({"beta_within": np.eye(2)}, "`beta_within`: has a non-zero diagonal"),
])
def test_path_diagram_errors(kwargs: dict, match: str) -> None:
    args = {"lambda_": LAMBDA, "latents": ["F1", "F2"], "observed": LABELS} | kwargs
    with pytest.raises(ValueError, match=match):
        plot_path_diagram(args.pop("lambda_"), args.pop("latents"), args.pop("observed"), **args)


# ---------------------------------------------------------------------------- optional dependency
MISSING = r'Plotting needs matplotlib: pip install "psychonetrics\[plot\]"'


@pytest.mark.parametrize("draw", [
    lambda: plot_network(WITHIN, LABELS),
    lambda: plot_networks({"Within": WITHIN}, LABELS),
    lambda: plot_path_diagram(LAMBDA, ["F1", "F2"], LABELS),
])
def test_missing_matplotlib_message(monkeypatch: pytest.MonkeyPatch, draw) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib...` fail
    with pytest.raises(ImportError, match=MISSING):
        draw()


def test_plot_functions_go_through_the_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> None:
        raise ImportError(plots.MISSING_MATPLOTLIB)

    monkeypatch.setattr(plots, "_require_matplotlib", missing)
    with pytest.raises(ImportError, match=MISSING):
        plot_network(WITHIN, LABELS)


def test_module_import_does_not_import_matplotlib() -> None:
    code = "import sys, psychonetrics.report.plots; print('matplotlib' in sys.modules)"
    src = str(Path(plots.__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"
