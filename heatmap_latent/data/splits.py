"""The seeded train/test split every dataset of the framework uses (SPEC.md's 80/20 split)."""

from __future__ import annotations

import numpy as np


def split_indices(n: int, train_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random permutation of ``range(n)`` cut into train and test index arrays."""
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must lie in (0, 1), got {train_fraction}")
    perm = np.random.default_rng(seed).permutation(n)
    n_train = int(round(train_fraction * n))
    return np.sort(perm[:n_train]), np.sort(perm[n_train:])
