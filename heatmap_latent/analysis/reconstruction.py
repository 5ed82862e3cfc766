"""Summaries of per-image reconstruction error (Frobenius norm of image - reconstruction)."""

from __future__ import annotations

import numpy as np


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
