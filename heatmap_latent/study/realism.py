"""Decoded realism: how far a decoded image is from the exact heatmap of the factors fitted to it
(the heatmaps' inverse, ``data/heatmap_fit.py``, fits the factors; the distance to their exact
heatmap is the realism), the same with the fitted factors kept inside the data's range, and the
distance to the nearest image of the data."""

from __future__ import annotations

from typing import Any

import numpy as np

from heatmap_latent.analysis.encoded import EncodedRun
from heatmap_latent.analysis.reconstruction import error_summary
from heatmap_latent.core.pixels import displayed
from heatmap_latent.data.heatmap_fit import realism_distance


def realism_of(encoded: EncodedRun, images: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Realism distance of each image of run ``e``'s grid and the factors fitted to it."""
    grid = encoded.run.cfg.data.grid
    return realism_distance(images, grid.low, grid.high, encoded.run.datamodule.dfs)  # its inverse's candidate df


def data_bounds(encoded: EncodedRun) -> dict[str, tuple[float, float]]:
    """The range of each continuous factor over the run's data."""
    return {k: (float(encoded.factors[k].min()), float(encoded.factors[k].max())) for k in ("var_x", "var_y", "rho")}


def bounded_realism_of(encoded: EncodedRun, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Realism with the fitted factors clipped into the data's range, and whether they were inside."""
    grid = encoded.run.cfg.data.grid
    bounds = data_bounds(encoded)
    dist, fitted = realism_distance(images, grid.low, grid.high, encoded.run.datamodule.dfs, bounds)
    inside = np.all([(fitted[k] >= lo) & (fitted[k] <= hi) for k, (lo, hi) in bounds.items()], axis=0)
    return dist, inside


def nearest_image_distance(images: np.ndarray, data: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Each image's Frobenius distance to the nearest of the ``data`` images."""
    data = np.asarray(data, dtype=np.float64).reshape(len(data), -1)
    norms = (data**2).sum(1)
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    out = np.empty(len(flat))
    for start in range(0, len(flat), chunk):  # a matrix product a chunk at a time: no (N, M, P) array
        part = flat[start : start + chunk]
        sq = (part**2).sum(1)[:, None] + norms[None, :] - 2.0 * part @ data.T
        out[start : start + chunk] = np.sqrt(np.clip(sq.min(1), 0.0, None))
    return out


def decoded_realism(encoded: EncodedRun, images: np.ndarray, reference: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every realism figure of decoded ``images``: the summary of their realism, the same with the
    fitted factors kept inside the data's range (``bounded_mean``), the share fitted inside it, the
    mean distance to the nearest data image; with ``reference`` (the same figures of the model's test
    reconstructions) each figure's excess over the model's own blur on the data."""
    real, _ = realism_of(encoded, images)
    bounded, inside = bounded_realism_of(encoded, images)
    out: dict[str, Any] = {
        **error_summary(real),
        "bounded_mean": float(bounded.mean()),
        "in_range_share": float(inside.mean()),
        "nearest_image_mean": float(nearest_image_distance(images, displayed(encoded.run.datamodule.images)).mean()),
    }
    if reference is not None:
        out["excess"] = out["mean"] - reference["mean"]
        out["bounded_excess"] = out["bounded_mean"] - reference["bounded_mean"]
    return out
