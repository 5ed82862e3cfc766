"""MIG, SAP and DCI for known factors, from latent codes (N, D) and factors (N, K).

Conventions: MIG (Chen et al. 2018) on codes discretised into equal-width bins; SAP (Kumar et al.
2018) with per-dimension linear R^2 for continuous factors; DCI (Eastwood & Williams 2018) with
random-forest importances, informativeness as held-out R^2.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mutual_info_score


def _discretise(values: np.ndarray, bins: int) -> np.ndarray:
    edges = np.histogram_bin_edges(values, bins=bins)
    return np.digitize(values, edges[1:-1])


def mig(latents: np.ndarray, factors: np.ndarray, bins: int = 20) -> float:
    """Mean over factors of the gap between the two most informative codes, divided by H(factor)."""
    codes = [_discretise(latents[:, d], bins) for d in range(latents.shape[1])]
    gaps = []
    for k in range(factors.shape[1]):
        labels = np.unique(factors[:, k], return_inverse=True)[1]
        entropy = mutual_info_score(labels, labels)
        mi = np.sort([mutual_info_score(labels, c) for c in codes])[::-1]
        second = mi[1] if len(mi) > 1 else 0.0
        gaps.append((mi[0] - second) / entropy if entropy > 0 else 0.0)
    return float(np.mean(gaps))


def sap(latents: np.ndarray, factors: np.ndarray) -> float:
    """Mean over factors of the gap between the two best single-code linear R^2 scores."""
    z = (latents - latents.mean(0)) / (latents.std(0) + 1e-12)
    f = (factors - factors.mean(0)) / (factors.std(0) + 1e-12)
    r2 = ((z.T @ f) / len(z)) ** 2  # (D, K): squared correlation = R^2 of a 1-D linear fit
    top = np.sort(r2, axis=0)[::-1]
    second = top[1] if len(top) > 1 else np.zeros(r2.shape[1])
    return float(np.mean(top[0] - second))


def _entropy_scores(p: np.ndarray, base: int) -> np.ndarray:
    """``1 - H(row)/log(base)`` for each row of a non-negative matrix."""
    p = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
    h = -(p * np.log(np.clip(p, 1e-12, None))).sum(axis=1) / np.log(base)
    return 1.0 - h


def dci(
    train_z: np.ndarray, train_f: np.ndarray, test_z: np.ndarray, test_f: np.ndarray, seed: int = 0
) -> dict[str, float]:
    """Disentanglement, completeness and informativeness (held-out R^2, mean over factors)."""
    importance = np.zeros((train_z.shape[1], train_f.shape[1]))
    informativeness = []
    for k in range(train_f.shape[1]):
        forest = RandomForestRegressor(n_estimators=50, max_depth=8, random_state=seed, n_jobs=-1)
        forest.fit(train_z, train_f[:, k])
        importance[:, k] = forest.feature_importances_
        informativeness.append(forest.score(test_z, test_f[:, k]))
    return {**importance_scores(importance), "informativeness": float(np.mean(informativeness))}


def importance_scores(importance: np.ndarray) -> dict[str, float]:
    """DCI's disentanglement and completeness of an ``(codes, factors)`` importance matrix."""
    n_codes, n_factors = importance.shape
    weights = importance.sum(axis=1) / importance.sum()
    disentanglement = float(weights @ _entropy_scores(importance, n_factors)) if n_factors > 1 else 1.0
    completeness = float(np.mean(_entropy_scores(importance.T, n_codes))) if n_codes > 1 else 1.0
    return {"disentanglement": disentanglement, "completeness": completeness}
