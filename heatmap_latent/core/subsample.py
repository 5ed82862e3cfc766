"""Evenly spaced subsampling: the one rule every callback, figure and analysis step uses."""

from __future__ import annotations

import numpy as np


def evenly_spaced(n_total: int, n: int) -> np.ndarray:
    """``min(n, n_total)`` indices into ``range(n_total)``, evenly spaced, first and last included."""
    if n_total <= 0 or n <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.linspace(0, n_total - 1, min(n, n_total)).round().astype(np.int64)


def random_subset(n_total: int, n: int, seed: int) -> np.ndarray:
    """``min(n, n_total)`` distinct indices into ``range(n_total)``, drawn uniformly with ``seed``,
    sorted. For a sample of a factor grid's images: evenly spaced rows would alias with the grid's
    fastest-varying factor (every 7th of dSprites' 32 posY values, in a pattern)."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_total, size=min(n, n_total), replace=False))
