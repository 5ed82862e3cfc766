"""Pure numpy construction of the heatmap datasets (see SPEC.md).

Every image is a max-normalised density on a square pixel grid. The exponent of both the
Gaussian and the Student-t density is a function of the quadratic form
``Q = [x y] S^-1 [x y]^T``, which is linear in three fixed pixel features ``(x^2, xy, y^2)``:
one ``(N, 3) @ (3, P)`` matmul gives ``Q`` for every image at once.
"""

from __future__ import annotations

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


def quadratic_forms(var_x: np.ndarray, var_y: np.ndarray, rho: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``Q[n, p] = [x_p y_p] S_n^-1 [x_p y_p]^T`` for covariance ``S_n`` of each image; ``(N, P)``."""
    var_x, var_y, rho = (np.asarray(a, dtype=np.float64) for a in (var_x, var_y, rho))
    if np.any(var_x <= 0) or np.any(var_y <= 0):
        raise ValueError("variances must be positive")
    if np.any(np.abs(rho) >= 1):
        raise ValueError("correlations must lie strictly inside (-1, 1)")
    cov = rho * np.sqrt(var_x * var_y)
    det = var_x * var_y - cov**2
    # S^-1 = [[var_y, -cov], [-cov, var_x]] / det, so Q = (var_y x^2 - 2 cov xy + var_x y^2) / det
    coeffs = np.stack([var_y, -2.0 * cov, var_x], axis=1) / det[:, None]  # (N, 3)
    features = np.stack([x.ravel() ** 2, x.ravel() * y.ravel(), y.ravel() ** 2])  # (3, P)
    return coeffs @ features  # (N, P)


def _normalised(log_density: np.ndarray, size: int) -> np.ndarray:
    """Divide each image by its maximum, in log space: ``exp(l - max l)``; ``(N, size, size)``."""
    log_density = log_density - log_density.max(axis=1, keepdims=True)
    return np.exp(log_density).reshape(-1, size, size)


def gaussian_heatmaps(
    var_x: np.ndarray, var_y: np.ndarray, rho: np.ndarray, low: float = -3.0, high: float = 3.0, size: int = 36
) -> np.ndarray:
    """Max-normalised zero-mean bivariate normal densities; float64 ``(N, size, size)``."""
    x, y = pixel_grid(low, high, size)
    q = quadratic_forms(var_x, var_y, rho, x, y)
    return _normalised(-0.5 * q, size)


def student_t_heatmaps(
    var_x: np.ndarray,
    var_y: np.ndarray,
    rho: np.ndarray,
    df: np.ndarray,
    low: float = -3.0,
    high: float = 3.0,
    size: int = 36,
) -> np.ndarray:
    """Max-normalised zero-mean bivariate Student-t densities (shape matrix S); ``(N, size, size)``."""
    df = np.asarray(df, dtype=np.float64)
    if np.any(df <= 0):
        raise ValueError("degrees of freedom must be positive")
    x, y = pixel_grid(low, high, size)
    q = quadratic_forms(var_x, var_y, rho, x, y)
    # log density up to a per-image constant, dimension 2: -(df + 2)/2 * log(1 + Q/df)
    return _normalised(-0.5 * (df[:, None] + 2.0) * np.log1p(q / df[:, None]), size)


def student_t_df(var_x: np.ndarray, var_y: np.ndarray, seed: int) -> np.ndarray:
    """SPEC's df rule: ``l ~ U(0, 10)`` per image; ``df = 2`` if ``(var_x + var_y)^2 - l > 20`` else 200."""
    level = np.random.default_rng(seed).uniform(0.0, 10.0, size=np.shape(var_x))
    return np.where((np.asarray(var_x) + np.asarray(var_y)) ** 2 - level > 20, *DF_VALUES).astype(np.int64)


def split_indices(n: int, train_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random permutation of ``range(n)`` cut into train and test index arrays."""
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must lie in (0, 1), got {train_fraction}")
    perm = np.random.default_rng(seed).permutation(n)
    n_train = int(round(train_fraction * n))
    return np.sort(perm[:n_train]), np.sort(perm[n_train:])
