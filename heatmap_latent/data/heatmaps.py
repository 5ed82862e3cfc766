"""Pure numpy construction of the heatmap datasets (see SPEC.md).

Every image is a max-normalised density on a square pixel grid. The exponent of both the
Gaussian and the Student-t density is a function of the quadratic form
``Q = [x y] S^-1 [x y]^T``, which is linear in three fixed pixel features ``(x^2, xy, y^2)``:
one ``(N, 3) x (3, P)`` product gives ``Q`` for every image at once (computed block by block,
so that each block stays in cache).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

FACTOR_NAMES = ("var_x", "var_y", "rho")
DF_VALUES = (2, 200)


@dataclass(frozen=True)
class Range:
    """A half-open ``np.arange(start, stop, step)``."""

    start: float
    stop: float
    step: float

    def values(self) -> np.ndarray:
        if self.step <= 0:
            raise ValueError(f"range step must be positive, got {self.step}")
        values = np.arange(self.start, self.stop, self.step)
        if values.size == 0:
            raise ValueError(f"empty range: arange({self.start}, {self.stop}, {self.step})")
        return values


def factor_grid(var: Range, rho: Range) -> dict[str, np.ndarray]:
    """Every combination of ``var_x``, ``var_y`` (both from ``var``) and ``rho``, as flat arrays."""
    rho_v, var_x, var_y = np.meshgrid(rho.values(), var.values(), var.values(), indexing="ij")
    return {"var_x": var_x.ravel(), "var_y": var_y.ravel(), "rho": rho_v.ravel()}


def pixel_grid(low: float, high: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates ``(x, y)``, each ``(size, size)``: ``x`` varies along columns, ``y`` along rows."""
    if size < 2:
        raise ValueError(f"image grid size must be at least 2, got {size}")
    g = np.linspace(low, high, size)
    x, y = np.meshgrid(g, g, indexing="xy")  # x[i, j] = g[j], y[i, j] = g[i]
    return x, y


def _precision_coefficients(var_x: np.ndarray, var_y: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Per image, the coefficients of ``Q = a x^2 + b xy + c y^2`` with ``Q = v^T S^-1 v``; ``(N, 3)``."""
    var_x, var_y, rho = (np.asarray(a, dtype=np.float64) for a in (var_x, var_y, rho))
    if np.any(var_x <= 0) or np.any(var_y <= 0):
        raise ValueError("variances must be positive")
    if np.any(np.abs(rho) >= 1):
        raise ValueError("correlations must lie strictly inside (-1, 1)")
    cov = rho * np.sqrt(var_x * var_y)
    det = var_x * var_y - cov**2
    # S^-1 = [[var_y, -cov], [-cov, var_x]] / det
    return np.stack([var_y, -2.0 * cov, var_x], axis=1) / det[:, None]


def _pixel_features(low: float, high: float, size: int) -> np.ndarray:
    """``(x^2, xy, y^2)`` of every pixel, ``(3, P)``."""
    x, y = (a.ravel() for a in pixel_grid(low, high, size))
    return np.stack([x**2, x * y, y**2])


def _blockwise(n_images: int, size: int, render: Callable[[slice], np.ndarray], block: int = 128) -> np.ndarray:
    """Render blocks of images into one float32 ``(N, size, size)`` array, on every core.

    A block of 128 images (1.3 MB of float64 at 36x36) stays in the core's cache through all
    the element-wise passes, and numpy releases the GIL, so threads run the blocks in parallel.
    """
    out = np.empty((n_images, size * size), dtype=np.float32)

    def work(start: int) -> None:
        rows = slice(start, min(start + block, n_images))
        out[rows] = render(rows)

    starts = range(0, n_images, block)
    if len(starts) == 1:
        work(0)
    else:
        with ThreadPoolExecutor(max_workers=min(len(starts), os.cpu_count() or 1)) as pool:
            list(pool.map(work, starts))
    return out.reshape(n_images, size, size)


def gaussian_heatmaps(
    var_x: np.ndarray, var_y: np.ndarray, rho: np.ndarray, low: float = -3.0, high: float = 3.0, size: int = 36
) -> np.ndarray:
    """Max-normalised zero-mean bivariate normal densities; float32 ``(N, size, size)``.

    The log-density is ``-Q/2`` with ``Q`` linear in the pixel features ``(x^2, xy, y^2)``: one
    ``(N, 3) x (3, P)`` product gives every image. Subtracting each image's largest log-density
    before ``exp`` divides the image by its maximum pixel.
    """
    coeffs = -0.5 * _precision_coefficients(var_x, var_y, rho)  # (N, 3)
    features = _pixel_features(low, high, size)  # (3, P)

    def render(rows: slice) -> np.ndarray:
        log_density = np.einsum("nk,kp->np", coeffs[rows], features)  # (n, P)
        log_density -= log_density.max(axis=1, keepdims=True)
        return np.exp(log_density, out=log_density)

    return _blockwise(len(coeffs), size, render)


def student_t_heatmaps(
    var_x: np.ndarray,
    var_y: np.ndarray,
    rho: np.ndarray,
    df: np.ndarray,
    low: float = -3.0,
    high: float = 3.0,
    size: int = 36,
) -> np.ndarray:
    """Max-normalised zero-mean bivariate Student-t densities (shape matrix S); float32 ``(N, size, size)``.

    In 2-D the density is proportional to ``(df + Q) ** (-(df + 2) / 2)``, so the image is
    ``((df + Q) / (df + min Q)) ** (-(df + 2) / 2)``.
    """
    df = np.asarray(df, dtype=np.float64)
    if np.any(df <= 0):
        raise ValueError("degrees of freedom must be positive")
    # a constant fourth feature adds df inside the same product: rows give df + Q
    coeffs = np.concatenate([_precision_coefficients(var_x, var_y, rho), df[:, None]], axis=1)  # (N, 4)
    features = np.concatenate([_pixel_features(low, high, size), np.ones((1, size * size))])  # (4, P)
    exponent = -0.5 * (df + 2.0)

    def render(rows: slice) -> np.ndarray:
        ratio = np.einsum("nk,kp->np", coeffs[rows], features)  # (n, P): df + Q
        ratio /= ratio.min(axis=1, keepdims=True)
        log_image = np.log(ratio, out=ratio)
        log_image *= exponent[rows, None]
        return np.exp(log_image, out=log_image)

    return _blockwise(len(coeffs), size, render)


def student_t_df(var_x: np.ndarray, var_y: np.ndarray, seed: int) -> np.ndarray:
    """SPEC's df rule: ``l ~ U(0, 10)`` per image; ``df = 2`` if ``(var_x + var_y)^2 - l > 20`` else 200."""
    level = np.random.default_rng(seed).uniform(0.0, 10.0, size=np.shape(var_x))
    return np.where((np.asarray(var_x) + np.asarray(var_y)) ** 2 - level > 20, *DF_VALUES).astype(np.int64)
