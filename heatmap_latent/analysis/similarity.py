"""How alike two codes of the same images are: linear CKA and the orthogonal-Procrustes disparity
(blind to rotation, sign and one uniform scale), the mean squared canonical correlation and the
overlap of each image's nearest neighbours (blind to any invertible linear map), and all of them
between the seeds of one group."""

from __future__ import annotations

from itertools import combinations

import numpy as np
from scipy.spatial import cKDTree, procrustes
from scipy.stats import rankdata

from heatmap_latent.analysis.instruments import instrument
from heatmap_latent.analysis.step import not_applicable


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


RANK_TOLERANCE = 1e-6  # a direction whose spread is below this share of the largest is no direction


def whiten(codes: np.ndarray) -> np.ndarray:
    """``(N, D)`` codes centred and mapped to an orthonormal basis of their span (``(N, r)``, r the
    numerical rank): the same result, up to a rotation, for the codes and any invertible linear map
    of them. A direction of any spread above ``RANK_TOLERANCE`` of the largest counts fully."""
    centred = codes - codes.mean(0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    return u[:, s > RANK_TOLERANCE * (s[0] if len(s) else 0.0)] if len(s) and s[0] > 0 else u[:, :0]


def mean_squared_canonical_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """CKA of the whitened codes: the mean of the squared canonical correlations of ``(N, D1)`` and
    ``(N, D2)`` codes of the same images over the min(D1, D2) canonical pairs: 1 for codes that are an
    invertible linear map of each other (a stretch, a shear, a rotation), near 0 for independent ones."""
    qa, qb = whiten(a), whiten(b)
    pairs = min(qa.shape[1], qb.shape[1])
    return float(np.linalg.norm(qa.T @ qb) ** 2 / pairs) if pairs else 0.0


def knn_overlap(a: np.ndarray, b: np.ndarray, k: int | None = None) -> float:
    """The mean share of each image's ``k`` nearest neighbours (among the other images, in the
    whitened codes) that both codes agree on: 1 for codes that are an invertible linear map of each
    other, about k / N for unrelated ones."""
    if len(a) != len(b):
        raise ValueError(f"neighbour overlap needs codes of the same images, got {len(a)} and {len(b)}")
    k = min(instrument("knn_k", k), len(a) - 1)
    if k < 1:
        return 0.0
    na, nb = (cKDTree(whiten(x)).query(whiten(x), k=k + 1)[1][:, 1:] for x in (a, b))
    shared = (na[:, :, None] == nb[:, None, :]).sum(axis=(1, 2))  # (N, k, k) booleans: 1.2M for 11,875 codes
    return float(shared.mean() / k)


def similarity(a: np.ndarray, b: np.ndarray, k: int | None = None) -> dict[str, float]:
    """Every measure of how alike two codes of the same images are."""
    out = {"cka": linear_cka(a, b), "cca": mean_squared_canonical_correlation(a, b), "knn": knn_overlap(a, b, k)}
    if a.shape == b.shape:
        out["procrustes"] = procrustes_disparity(a, b)
    return out


def spread(codes: np.ndarray) -> dict[str, float | list[float]]:
    """How stretched a code is: the standard deviations along its principal axes (largest first) and
    the largest over the smallest, the shape that linear CKA and Procrustes cannot see past."""
    std = np.sqrt(np.clip(np.linalg.eigvalsh(np.cov(codes.T).reshape(codes.shape[1], -1))[::-1], 0, None))
    anisotropy = float(std[0] / std[-1]) if std[-1] > 0 else None  # None: a collapsed axis
    return {"principal_std": [float(x) for x in std], "anisotropy": anisotropy}


def seed_to_seed(codes: dict[str, np.ndarray], k: int | None = None) -> dict[str, dict[str, float]]:
    """For each run of one group (``codes``: run name -> its codes of the same images), the mean of
    each ``similarity`` measure to every other run; empty for fewer than two runs. ``others``: the
    same mean over the pairs of the *other* runs (leave-one-out; none below three runs), a baseline
    that shares no run with the one it is compared to."""
    pairs = {(a, b): similarity(codes[a], codes[b], k) for a, b in combinations(codes, 2)}
    out = {}
    for name in codes if len(codes) > 1 else ():
        mine = [v for key, v in pairs.items() if name in key]
        rest = [v for key, v in pairs.items() if name not in key]
        out[name] = {m: float(np.mean([v[m] for v in mine])) for m in mine[0]} | {"n_pairs": len(mine)}
        out[name]["others"] = (
            {m: float(np.mean([v[m] for v in rest])) for m in rest[0]} | {"n_pairs": len(rest)}
            if rest
            else not_applicable("two seeds: no pair of other seeds (leave-one-out needs three)")
        )
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
