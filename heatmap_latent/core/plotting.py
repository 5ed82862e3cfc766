"""Matplotlib figures shared by the TensorBoard callbacks and the analysis report."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402


def mosaic(images: np.ndarray, gap_x: int, gap_y: float, fill: float) -> tuple[np.ndarray, list[int]]:
    """``(rows, cols, H, W)`` images (or ``(rows, cols, H, W, 3)`` in colour) as one ``float32`` image,
    ``gap_x`` pixels between columns and ``gap_y`` (rounded per row) between rows, the gaps ``fill``;
    returns it and each row's top pixel."""
    rows, cols, h, w = images.shape[:4]
    tops = [int(round(r * (h + gap_y))) for r in range(rows)]
    canvas = np.full((tops[-1] + h, (cols - 1) * (w + gap_x) + w, *images.shape[4:]), fill, dtype=np.float32)
    for r, top in enumerate(tops):
        for c in range(cols):
            canvas[top : top + h, c * (w + gap_x) : c * (w + gap_x) + w] = images[r, c]
    return canvas, tops


def image_tiles(ax, images: np.ndarray, titles=None, below=None, row_labels=None, fontsize: float = 7) -> None:
    """``images`` ``(rows, cols, H, W)`` (grey) or ``(rows, cols, H, W, 3)`` (colour) in [0, 1] drawn on
    ``ax`` as one framed mosaic (one ``imshow``):
    ``titles[r][c]`` above each tile, ``below[r][c]`` under it (monospace), ``row_labels[r]`` at the left.

    One Axes for all tiles instead of one per tile: each Axes costs its own layout and draw, and a
    report draws a few hundred tiles per run (docs/performance.md).
    """
    rows, cols, h, w = images.shape[:4]
    gap_x = max(2, w // 6)
    # room between rows for the texts of the rows after the first (titles) and before the last (below)
    titled = titles is not None and any(any(t) for t in titles[1:])
    labelled = below is not None and any(any(t) for t in below[:-1])
    colour = images.ndim == 5
    # grey gaps are NaN (drawn white by the colour map); colour images have no colour map: white itself
    canvas, tops = mosaic(images, gap_x, gap_x + h * 0.55 * titled + h * 0.9 * labelled, 1.0 if colour else np.nan)
    if colour:
        ax.imshow(np.clip(canvas, 0, 1), interpolation="nearest")
    else:
        ax.imshow(canvas, cmap=plt.get_cmap("gray").with_extremes(bad="white"), vmin=0, vmax=1, interpolation="nearest")
    lefts = [c * (w + gap_x) for c in range(cols)]
    frames = [Rectangle((left - 0.5, top - 0.5), w, h) for top in tops for left in lefts]
    ax.add_collection(PatchCollection(frames, facecolor="none", edgecolor="black", linewidth=0.8))
    ax.set_xlim(-1.0, canvas.shape[1])  # half a pixel more than imshow's limits: the frames' outer edges show
    ax.set_ylim(canvas.shape[0], -1.0)
    ax.set_axis_off()
    for r, top in enumerate(tops):
        for c, left in enumerate(lefts):
            if titles is not None and titles[r][c]:
                ax.text(left + (w - 1) / 2, top - 1, titles[r][c], ha="center", va="bottom", fontsize=fontsize)
            if below is not None and below[r][c]:
                ax.text(left - 0.5, top + h, below[r][c], ha="left", va="top", fontsize=fontsize, family="monospace")
        if row_labels is not None:
            ax.text(-1.5, top + (h - 1) / 2, row_labels[r], ha="right", va="center", fontsize=fontsize + 1)


def coordinate_planes(latent_dim: int) -> list[tuple[int, int]]:
    """Pairs of latent axes to project on: (0, 1), (0, 2), (1, 2) for a 3-D code."""
    return list(itertools.combinations(range(min(latent_dim, 3)), 2))


def projection_figure(latents: np.ndarray, values: np.ndarray, name: str) -> plt.Figure:
    """Scatter of the latents on each coordinate plane, coloured by ``values``."""
    canvas = ProjectionCanvas(latents.shape[1])
    canvas.show(latents, values, name)
    return canvas.fig


class ProjectionCanvas:
    """The projection figure's layout, built once and redrawn for each factor and step.

    The TensorBoard callback draws one projection per factor every few epochs; building the axes,
    their ticks and the colour bar is most of each draw's cost, so only the points, their colours,
    the limits and the labels change here. A plain ``Figure`` (not pyplot's): nothing to close.
    """

    def __init__(self, latent_dim: int) -> None:
        self.latent_dim = latent_dim
        self.planes = coordinate_planes(latent_dim) or [(0, 0)]
        self.fig = Figure(figsize=(4.2 * len(self.planes), 3.8))
        FigureCanvasAgg(self.fig)
        self.axes = self.fig.subplots(1, len(self.planes), squeeze=False)[0]
        self.points = []
        for ax, (i, j) in zip(self.axes, self.planes):
            self.points.append(ax.scatter(np.zeros(1), np.zeros(1), c=np.zeros(1), s=4, cmap="viridis"))
            ax.set_xlabel(f"z{i}")
            ax.set_ylabel(f"z{j}")
        self.colorbar = self.fig.colorbar(self.points[-1], ax=self.axes.tolist())
        self.title = self.fig.suptitle("")

    def show(self, latents: np.ndarray, values: np.ndarray, name: str) -> None:
        """Put ``latents`` coloured by ``values`` on the figure (drawn by ``render`` or ``savefig``)."""
        for ax, points, (i, j) in zip(self.axes, self.points, self.planes):
            xy = latents[:, [i, j]]
            points.set_offsets(xy)
            points.set_array(values)
            points.set_clim(values.min(), values.max())
            ax.ignore_existing_data_limits = True
            ax.update_datalim(xy)
            ax.autoscale_view()
        self.colorbar.update_normal(self.points[-1])
        self.colorbar.set_label(name)
        self.title.set_text(f"latent projections coloured by {name}")

    def render(self, latents: np.ndarray, values: np.ndarray, name: str) -> np.ndarray:
        """The projections of ``latents`` coloured by ``values`` as an ``(H, W, 3)`` uint8 image."""
        self.show(latents, values, name)
        self.fig.canvas.draw()
        return np.asarray(self.fig.canvas.buffer_rgba())[..., :3].copy()
