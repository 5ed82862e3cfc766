"""How alike two codes of the same images are, whatever rotation, sign or scale tells them apart:
linear CKA and the orthogonal-Procrustes disparity, and both between the seeds of one group."""

from __future__ import annotations

from itertools import combinations

import numpy as np
from scipy.spatial import procrustes
from scipy.stats import rankdata


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


def abs_spearman_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(D1, D2)`` |Spearman| between every dimension of ``a`` and of ``b`` (a constant one: 0)."""
    ranks_a, ranks_b = (np.apply_along_axis(rankdata, 0, x) for x in (a, b))
    ranks_a, ranks_b = ranks_a - ranks_a.mean(0), ranks_b - ranks_b.mean(0)
    norm = np.outer(np.linalg.norm(ranks_a, axis=0), np.linalg.norm(ranks_b, axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.abs(ranks_a.T @ ranks_b) / norm
    return np.nan_to_num(corr)


def relative_strength(corr: np.ndarray) -> float:
    """Duan et al.'s pairwise disentanglement: each dimension's strongest match squared over its
    total, averaged over the dimensions of both models (0 for an empty matrix)."""
    if corr.size == 0:
        return 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        cols = np.nan_to_num(corr.max(axis=0) ** 2 / corr.sum(axis=0))
        rows = np.nan_to_num(corr.max(axis=1) ** 2 / corr.sum(axis=1))
    return float((cols.mean() + rows.mean()) / 2)


def udr(codes: dict[str, np.ndarray], informative: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """UDR (Duan et al. 2020, the Spearman variant UDR_S) of each run of one group: the median over
    the other runs of the relative strength of their |Spearman| matrix restricted to both runs'
    informative dimensions (``informative``: run name -> boolean mask). Empty for fewer than two runs."""
    names = list(codes)
    out = {}
    for name in names if len(names) > 1 else ():
        scores = []
        for other in names:
            if other != name:
                corr = abs_spearman_matrix(codes[name], codes[other])[informative[name]][:, informative[other]]
                scores.append(relative_strength(corr))
        out[name] = {"score": float(np.median(scores)), "n_pairs": len(scores)}
    return out
