"""How alike two codes of the same images are, whatever rotation, sign or scale tells them apart:
linear CKA and the orthogonal-Procrustes disparity, and both between the seeds of one group."""

from __future__ import annotations

from itertools import combinations

import numpy as np
from scipy.spatial import procrustes


def linear_cka(a: np.ndarray, b: np.ndarray) -> float:
    """Linear centred kernel alignment (Kornblith et al. 2019) of ``(N, D1)`` and ``(N, D2)`` codes of
    the same N images: 1 for codes equal up to rotation and isotropic scale, near 0 for independent ones."""
    a = a - a.mean(0)
    b = b - b.mean(0)
    cross = np.linalg.norm(b.T @ a) ** 2
    norm = np.linalg.norm(a.T @ a) * np.linalg.norm(b.T @ b)
    return float(cross / norm) if norm > 0 else 0.0


def procrustes_disparity(a: np.ndarray, b: np.ndarray) -> float:
    """``scipy.spatial.procrustes``' disparity: both codes centred and scaled to unit Frobenius norm,
    ``b`` rotated (and reflected) onto ``a``; the remaining sum of squares, 0 (same shape) to 1."""
    if a.shape != b.shape:
        raise ValueError(f"Procrustes needs codes of one shape, got {a.shape} and {b.shape}")
    return float(procrustes(a, b)[2])


def seed_to_seed(codes: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """For each run of one group (``codes``: run name -> its codes of the same images), the mean CKA
    and Procrustes disparity to every other run; empty for fewer than two runs."""
    pairs: dict[tuple[str, str], tuple[float, float]] = {
        (a, b): (linear_cka(codes[a], codes[b]), procrustes_disparity(codes[a], codes[b]))
        for a, b in combinations(codes, 2)
    }
    out = {}
    for name in codes if len(codes) > 1 else ():
        mine = [v for k, v in pairs.items() if name in k]
        out[name] = {
            "cka": float(np.mean([c for c, _ in mine])),
            "procrustes": float(np.mean([p for _, p in mine])),
            "n_pairs": len(mine),
        }
    return out
