"""Summaries of per-image reconstruction error (Frobenius norm of image - reconstruction)."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from scipy.stats import spearmanr


def error_summary(errors: np.ndarray) -> dict[str, float]:
    """Mean, median, quantiles and tail measures of per-image errors.

    ``tail_ratio`` = p99 / median; ``tail_share`` = share of errors above 3 x the median;
    ``excess_kurtosis`` of the distribution (0 for a normal one).
    """
    errors = np.asarray(errors, dtype=np.float64)
    median = float(np.median(errors))
    centred = errors - errors.mean()
    kurtosis = float(np.mean(centred**4) / (np.mean(centred**2) ** 2 + 1e-300) - 3.0)
    quantiles = {f"p{q}": float(np.quantile(errors, q / 100)) for q in (10, 25, 75, 90, 95, 99)}
    return {
        "mean": float(errors.mean()),
        "median": median,
        **quantiles,
        "max": float(errors.max()),
        "tail_ratio": quantiles["p99"] / median if median > 0 else float("inf"),
        "tail_share": float(np.mean(errors > 3 * median)),
        "excess_kurtosis": kurtosis,
    }


def error_sparsity(latents: np.ndarray, test_idx: np.ndarray, errors: np.ndarray) -> dict[str, float]:
    """Whether the worst reconstructions come from codes in sparse regions (a reason for heavy-tailed
    errors): the Spearman correlation of each test image's error with its code's distance to the nearest other
    code (standardised codes, every image's code a neighbour), and the same distance's median for the
    test images with the top 1% of errors over that of all test images."""
    z = (latents - latents.mean(0)) / (latents.std(0) + 1e-12)
    nn = cKDTree(z).query(z[test_idx], k=2)[0][:, 1]
    corr = spearmanr(errors, nn).statistic
    worst = errors >= np.quantile(errors, 0.99)
    return {
        "spearman": float(corr) if np.isfinite(corr) else 0.0,
        "tail_distance_ratio": float(np.median(nn[worst]) / max(np.median(nn), 1e-12)),
    }
