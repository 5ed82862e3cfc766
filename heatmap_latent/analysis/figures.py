"""Figures of the analysis report: matplotlib for static panels, plotly for interactive 3-D."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from heatmap_latent.analysis.geometry import Path
from heatmap_latent.core.plotting import image_tiles, plt
from heatmap_latent.core.subsample import evenly_spaced


def error_histogram(errors: dict[str, np.ndarray], summaries: dict[str, dict[str, float]]) -> plt.Figure:
    """Per-image test reconstruction error of each run, overlaid; dashed mean, dotted p99."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    hi = max(np.quantile(e, 0.999) for e in errors.values())
    bins = np.linspace(0, hi, 80)
    for (name, e), colour in zip(errors.items(), plt.rcParams["axes.prop_cycle"].by_key()["color"]):
        s = summaries[name]
        ax.hist(e, bins=bins, alpha=0.5, color=colour, label=f"{name}: mean {s['mean']:.3f}, p99 {s['p99']:.3f}")
        ax.axvline(s["mean"], color=colour, ls="--")
        ax.axvline(s["p99"], color=colour, ls=":")
    ax.set_xlabel("Frobenius norm of image - reconstruction (test split)")
    ax.set_ylabel("images")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def examples_figure(images: np.ndarray, recons: np.ndarray, errors: np.ndarray, n: int = 8) -> plt.Figure:
    """The ``n`` best and ``n`` worst reconstructions: originals above reconstructions."""
    order = np.argsort(errors)
    picks = {"best": order[:n], "worst": order[::-1][:n]}
    fig, axes = plt.subplots(2, 1, figsize=(1.3 * n, 4.8))
    for ax, (label, idx) in zip(axes, picks.items()):
        tiles = np.stack([images[idx], recons[idx]])  # (2, n, H, W): originals, reconstructions
        titles = [[f"{errors[i]:.3f}" for i in idx], [""] * len(idx)]
        image_tiles(ax, tiles, titles=titles, row_labels=[f"{label}\noriginal", f"{label}\nrecon"], fontsize=8)
    fig.tight_layout()
    return fig


def trajectory_figure(
    latents: np.ndarray,
    colour: np.ndarray,
    colour_name: str,
    path: Path,
    decoded: np.ndarray,
    nearest_factors: list[dict[str, float]],
    realism: np.ndarray,
    extra_points: np.ndarray | None = None,
) -> plt.Figure:
    """The path drawn on the latent projection, and the strip of heatmaps decoded along it."""
    n = len(decoded)
    fig = plt.figure(figsize=(4 + 1.25 * n, 4.2))
    grid = fig.add_gridspec(2, n + 3)
    ax = fig.add_subplot(grid[:, :3])
    i, j = path.plane
    ax.scatter(latents[:, i], latents[:, j], c=colour, s=2, cmap="viridis", alpha=0.5)
    if extra_points is not None:
        ax.scatter(extra_points[:, i], extra_points[:, j], c="k", s=6, marker="x")
    if path.connected:
        ax.plot(path.points[:, i], path.points[:, j], "r-", lw=2)
        ax.scatter(path.points[0, i], path.points[0, j], c="r", s=30, marker="o")
    else:
        ax.scatter(path.points[:, i], path.points[:, j], c="r", s=14, marker="o")
    ax.set_xlabel(f"z{i}")
    ax.set_ylabel(f"z{j}")
    ax.set_title(f"{path.name} (colour: {colour_name})", fontsize=9)
    steps = evenly_spaced(len(path.points), n)
    strip = fig.add_subplot(grid[:, 3:])
    image_tiles(
        strip,
        np.asarray(decoded)[None],
        titles=[[f"#{steps[c]}\nreal. {d:.2f}" for c, d in enumerate(realism)]],
        below=[["\n".join(f"{k} {v:.2f}" for k, v in f.items()) for f in nearest_factors]],
    )
    fig.suptitle(path.description + "  —  below each image: factors of the nearest data point", fontsize=9)
    fig.tight_layout()
    return fig


def latent_3d(latents: np.ndarray, colourings: dict[str, np.ndarray], paths: list[Path], title: str) -> go.Figure:
    """Interactive 3-D scatter of the code; a dropdown chooses the colouring (``colourings``: the
    dataset's factors and derived colourings by name); hovering a point shows them all."""
    axes = [0, 1, 2] if latents.shape[1] >= 3 else [0, 1, 1]
    colours = {k: np.asarray(v, dtype=np.float32) for k, v in colourings.items()}
    names = list(colours)
    xyz = latents[:, axes].astype(np.float32)
    hover = "<br>".join(f"{name}=%{{customdata[{k}]:.2f}}" for k, name in enumerate(names)) + "<extra></extra>"
    fig = go.Figure(
        go.Scatter3d(
            x=xyz[:, 0],
            y=xyz[:, 1],
            z=xyz[:, 2],
            mode="markers",
            name="codes",
            marker={"size": 1.8, "color": colours[names[0]], "colorscale": "Viridis", "colorbar": {"title": names[0]}},
            customdata=np.stack([colours[n] for n in names], axis=1),
            hovertemplate=hover,
        )
    )
    for p in paths:
        pts = p.points[:, axes]
        fig.add_trace(
            go.Scatter3d(
                x=pts[:, 0],
                y=pts[:, 1],
                z=pts[:, 2],
                name=p.name,
                mode="lines" if p.connected else "markers",
                line={"width": 5},
            )
        )
    buttons = [
        {
            "label": name,
            "method": "restyle",
            "args": [{"marker.color": [colours[name]], "marker.colorbar.title.text": name}, [0]],
        }
        for name in names
    ]
    fig.update_layout(
        title=title,
        height=620,
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        scene={"xaxis_title": f"z{axes[0]}", "yaxis_title": f"z{axes[1]}", "zaxis_title": f"z{axes[2]}"},
        updatemenus=[{"buttons": buttons, "x": 0.0, "y": 1.0, "xanchor": "left", "showactive": True}],
        legend={"itemsizing": "constant", "x": 0.0, "y": 0.0, "xanchor": "left", "yanchor": "bottom"},
    )
    return fig
