"""How the data fill the latent space: nearest-neighbour distances and empty regions."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def standardise(latents: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Scale by the reference cloud's per-axis mean and std, so runs compare on one scale."""
    return (latents - reference.mean(0)) / (reference.std(0) + 1e-12)


def latent_density(
    latents: np.ndarray, n_probe: int = 20000, far_factor: float = 3.0, seed: int = 0
) -> tuple[dict[str, float], np.ndarray]:
    """Nearest-neighbour statistics of standardised codes and the share of their bounding box
    farther than ``far_factor`` x the median NN distance from any data point.

    Returns the figures and the empty probe points (in the original latent coordinates).
    """
    z = standardise(latents, latents)
    tree = cKDTree(z)
    nn = tree.query(z, k=2)[0][:, 1]
    lo, hi = z.min(0), z.max(0)
    probes = np.random.default_rng(seed).uniform(lo, hi, size=(n_probe, z.shape[1]))
    dist = tree.query(probes)[0]
    threshold = far_factor * np.median(nn)
    empty = probes[dist > threshold]
    figures = {
        "nn_median": float(np.median(nn)),
        "nn_p95": float(np.quantile(nn, 0.95)),
        "empty_threshold": float(threshold),
        "empty_share": float(np.mean(dist > threshold)),
        "probe_distance_median": float(np.median(dist)),
    }
    return figures, empty * (latents.std(0) + 1e-12) + latents.mean(0)
