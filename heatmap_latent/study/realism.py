"""Decoded realism: how far a decoded image is from the exact heatmap that best explains it (the
heatmaps' inverse, ``data/heatmap_fit.py``, fits the factors; the distance to their exact heatmap is
the realism)."""

from __future__ import annotations

import numpy as np

from heatmap_latent.analysis.encoded import EncodedRun
from heatmap_latent.data.heatmap_fit import realism_distance


def realism_of(e: EncodedRun, images: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Realism distance of each image of run ``e``'s grid and the factors fitted to it."""
    grid = e.run.cfg.data.grid
    return realism_distance(images, grid.low, grid.high, e.run.datamodule.dfs)  # its inverse's candidate df
