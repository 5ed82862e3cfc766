"""Per-dimension latent traversals, the figure every VAE tool has: for one code (by default the
mean code), one row per latent dimension, that coordinate swept over +-``span`` standard deviations
of the dimension's codes (posterior means) over the data, the others held."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from heatmap_latent.core.plotting import image_tiles, mosaic, plt


def traversal_points(
    codes: np.ndarray, centre: np.ndarray | None = None, n_steps: int = 9, span: float = 3.0
) -> tuple[np.ndarray, np.ndarray]:
    """``(points (D, n_steps, D), values (D, n_steps))``: row d moves coordinate d alone."""
    centre = codes.mean(0) if centre is None else np.asarray(centre, dtype=np.float64)
    std = codes.std(0)
    steps = np.linspace(-span, span, n_steps)
    dim = codes.shape[1]
    points = np.repeat(np.repeat(centre[None, None], dim, axis=0), n_steps, axis=1)
    values = centre[:, None] + std[:, None] * steps[None]
    for d in range(dim):
        points[d, :, d] = values[d]
    return points, values


def traversal_grid(images: np.ndarray, gap: int = 1) -> np.ndarray:
    """``(D, n, S, S)`` (or ``(D, n, S, S, 3)``) images as one ``(D*(S+gap)-gap, n*(S+gap)-gap)`` image
    (``, 3)`` in colour), gaps white."""
    return mosaic(images, gap, gap, 1.0)[0]


def traversal_figure(images: np.ndarray, values: np.ndarray) -> plt.Figure:
    """One row per latent dimension, its value over each column."""
    dim, n = images.shape[:2]
    fig, ax = plt.subplots(figsize=(1.0 * n, 1.1 * dim))
    titles = [[f"{v:.2f}" for v in row] for row in values]
    image_tiles(ax, images, titles=titles, row_labels=[f"z{d}" for d in range(dim)])
    fig.tight_layout()
    return fig


def traversal_gif(images: np.ndarray, scale: int = 4, frame_ms: int = 120) -> bytes:
    """An animated GIF (Pillow): each frame shows every dimension's image side by side at one step,
    the steps going from -span to +span and back."""
    dim, n, size = images.shape[0], images.shape[1], images.shape[2]
    order = list(range(n)) + list(range(n - 2, 0, -1))
    frames = []
    for t in order:
        row = np.ones((size, dim * (size + 2) - 2, *images.shape[4:]), dtype=np.float32)
        for d in range(dim):
            row[:, d * (size + 2) : d * (size + 2) + size] = images[d, t]
        pixels = (np.clip(row, 0, 1) * 255).round().astype(np.uint8)
        mode = "L" if pixels.ndim == 2 else "RGB"
        frames.append(Image.fromarray(pixels, mode=mode).resize((row.shape[1] * scale, size * scale), Image.NEAREST))
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=frame_ms, loop=0)
    return buf.getvalue()
