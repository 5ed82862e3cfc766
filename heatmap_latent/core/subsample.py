"""Evenly spaced subsampling: the one rule every callback, figure and analysis step uses."""

from __future__ import annotations

import numpy as np


def evenly_spaced(n_total: int, n: int) -> np.ndarray:
    """``min(n, n_total)`` indices into ``range(n_total)``, evenly spaced, first and last included."""
    if n_total <= 0 or n <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.linspace(0, n_total - 1, min(n, n_total)).round().astype(np.int64)
