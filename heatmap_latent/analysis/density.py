"""How the data fill the latent space: nearest-neighbour distances and empty regions, in the
bounding box of standardised codes and inside the convex hull of whitened ones."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import ConvexHull, QhullError, cKDTree

from heatmap_latent.analysis.similarity import whiten
from heatmap_latent.analysis.step import not_applicable

HULL_MAX_DIMS = 6  # Qhull's facets grow as N^(D/2): beyond this the hull of 11,875 codes takes minutes


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
    figures: dict[str, Any] = {
        "nn_median": float(np.median(nn)),
        "nn_p95": float(np.quantile(nn, 0.95)),
        "empty_threshold": float(threshold),
        "empty_share": float(np.mean(dist > threshold)),
        "probe_distance_median": float(np.median(dist)),
        "hull": hull_gaps(latents, n_probe=n_probe, far_factor=far_factor, seed=seed),
    }
    return figures, empty * (latents.std(0) + 1e-12) + latents.mean(0)


def hull_gaps(latents: np.ndarray, n_probe: int = 20000, far_factor: float = 3.0, seed: int = 0) -> dict[str, Any]:
    """Gaps where no invertible linear map of the codes can make or hide them: on whitened codes
    (unit variance in every direction), the share of the codes' convex hull farther than
    ``far_factor`` x the median nearest-neighbour distance from every code, and the largest empty
    ball inside the hull (the probe farthest from every code) over that median. Unlike the box's
    empty share, an elongated or curved cloud has no empty corners to count; unlike the median
    distance, thin sheets with holes between them do not read as dense. ``n_probe`` uniform points
    of the hull (drawn in its box, kept inside)."""
    n, dims = latents.shape
    z = whiten(latents) * np.sqrt(max(n - 1, 1))
    if z.shape[1] < 2 or z.shape[1] > HULL_MAX_DIMS:
        why = f"{z.shape[1]} directions of spread: the hull is measured for 2 to {HULL_MAX_DIMS}"
        return not_applicable(why)
    try:
        hull = ConvexHull(z)
    except QhullError as err:
        return not_applicable(f"no convex hull of the codes: {str(err).splitlines()[0]}")
    tree = cKDTree(z)
    nn_median = float(np.median(tree.query(z, k=2)[0][:, 1]))
    rng = np.random.default_rng(seed)
    lo, hi = z.min(0), z.max(0)
    inside: list[np.ndarray] = []
    for _ in range(100):  # the hull of a 6-D ball fills 8% of its box: 20,000 probes in a few rounds
        probes = rng.uniform(lo, hi, size=(n_probe, z.shape[1]))
        keep = probes[(probes @ hull.equations[:, :-1].T + hull.equations[:, -1] <= 1e-12).all(axis=1)]
        inside.append(keep)
        if sum(len(x) for x in inside) >= n_probe:
            break
    probes = np.concatenate(inside)[:n_probe]
    dist = tree.query(probes)[0]
    return {
        "empty_share": float(np.mean(dist > far_factor * nn_median)),
        "largest_gap": float(dist.max() / nn_median) if nn_median > 0 else None,
        "nn_median": nn_median,
        "n_probes": len(probes),
        "share_of_box": float(hull.volume / np.prod(hi - lo)),
    }
