"""Matplotlib figures shared by the TensorBoard callbacks and the analysis report."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def colour_factors(factors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The factors the study colours latent plots by: each factor and ``var_x - var_y``."""
    out = dict(factors)
    out["var_x-var_y"] = factors["var_x"] - factors["var_y"]
    return out


def coordinate_planes(latent_dim: int) -> list[tuple[int, int]]:
    """Pairs of latent axes to project on: (0, 1), (0, 2), (1, 2) for a 3-D code."""
    return list(itertools.combinations(range(min(latent_dim, 3)), 2))


def projection_figure(latents: np.ndarray, values: np.ndarray, name: str) -> plt.Figure:
    """Scatter of the latents on each coordinate plane, coloured by ``values``."""
    planes = coordinate_planes(latents.shape[1]) or [(0, 0)]
    fig, axes = plt.subplots(1, len(planes), figsize=(4.2 * len(planes), 3.8), squeeze=False)
    for ax, (i, j) in zip(axes[0], planes):
        points = ax.scatter(latents[:, i], latents[:, j], c=values, s=4, cmap="viridis")
        ax.set_xlabel(f"z{i}")
        ax.set_ylabel(f"z{j}")
    fig.colorbar(points, ax=axes[0].tolist(), label=name)
    fig.suptitle(f"latent projections coloured by {name}")
    return fig
