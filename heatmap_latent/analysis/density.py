"""How the data fill the latent space: nearest-neighbour distances and empty regions, in the
bounding box of standardised codes and inside the convex hull of whitened ones."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import ConvexHull, QhullError, cKDTree

from heatmap_latent.analysis.instruments import instrument
from heatmap_latent.analysis.similarity import whiten
from heatmap_latent.analysis.step import not_applicable

HULL_MAX_DIMS = 6  # Qhull's facets grow as N^(D/2): beyond this the hull of 11,875 codes takes minutes


def standardise(latents: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Scale by the reference cloud's per-axis mean and std, so runs compare on one scale."""
    return (latents - reference.mean(0)) / (reference.std(0) + 1e-12)


def latent_density(
    latents: np.ndarray,
    n_probe: int | None = None,
    far_factor: float | None = None,
    seed: int = 0,
    trimmed: float | None = None,
) -> tuple[dict[str, float], np.ndarray]:
    """Nearest-neighbour statistics of standardised codes and the share of their bounding box
    farther than ``far_factor`` x the median NN distance from any data point.

    Returns the figures and the empty probe points (in the original latent coordinates). The
    constants left out are ``conf/analyze.yaml``'s (``instruments``); ``trimmed``: the trimmed hull's share.
    """
    n_probe, far_factor = instrument("n_probe", n_probe), instrument("far_factor", far_factor)
    trimmed = instrument("trimmed_hull", trimmed)
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
        "trimmed_hull": hull_gaps(latents, n_probe=n_probe, far_factor=far_factor, seed=seed, keep=trimmed),
    }
    return figures, empty * (latents.std(0) + 1e-12) + latents.mean(0)


def hull_gaps(
    latents: np.ndarray, n_probe: int | None = None, far_factor: float | None = None, seed: int = 0, keep: float = 1.0
) -> dict[str, Any]:
    """Gaps where no invertible linear map of the codes can make or hide them: on whitened codes
    (unit variance in every direction), the share of the codes' convex hull farther than
    ``far_factor`` x the median nearest-neighbour distance from every code, and the largest empty
    ball inside the hull (the probe farthest from every code) over that median. Unlike the box's
    empty share, an elongated or curved cloud has no empty corners to count; unlike the median
    distance, thin sheets with holes between them do not read as dense. ``n_probe`` uniform points
    of the hull (drawn in its box, kept inside). ``keep`` < 1: the hull of the central ``keep`` share
    of the codes (by whitened radius), so that a few far codes do not make a hull mostly empty."""
    n_probe, far_factor = instrument("n_probe", n_probe), instrument("far_factor", far_factor)
    n, dims = latents.shape
    z = whiten(latents) * np.sqrt(max(n - 1, 1))
    if keep < 1.0:
        radius = np.linalg.norm(z, axis=1)
        z = z[radius <= np.quantile(radius, keep)]
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


def _grid_index(factors: dict[str, np.ndarray]) -> tuple[np.ndarray, list[int]] | None:
    """Each image's position on the factor grid (``(N, F)`` integer steps along each factor's sorted
    values) and the grid's shape; ``None`` when two images share a position (not a grid)."""
    steps, shape = [], []
    for values in factors.values():
        levels, index = np.unique(np.asarray(values), return_inverse=True)
        steps.append(index.ravel())
        shape.append(len(levels))
    if not steps:
        return None
    index = np.stack(steps, axis=1)
    if len(np.unique(np.ravel_multi_index(index.T, shape))) < len(index):
        return None
    return index, shape


def local_gaps(
    latents: np.ndarray, factors: dict[str, np.ndarray], ordered: tuple[str, ...], torn: float | None = None
) -> dict[str, Any]:
    """Gaps between images one factor-grid step apart: each step's distance between the two codes
    (whitened) over the local spread, the longer of the steps that continue it on either side along
    the same factor (at the grid's edge, the longest other step of that end). A cut through the codes
    tears the steps that cross it (both sides are dense, so the ratio is large); a far outlier does not
    (its own next step is as long), nor does a smooth warp (its steps lengthen gradually).
    ``gap_ratio_max`` the largest ratio, ``torn_share`` the share of steps over ``torn``. Needs the
    images on a grid of the ``factors`` (one image each); steps are taken along the ``ordered`` ones."""
    torn = instrument("torn", torn)
    grid = _grid_index(factors)
    if grid is None:
        return not_applicable("the images are not on a grid of their factors, one image each")
    index, shape = grid
    axes = [k for k, name in enumerate(factors) if name in ordered and shape[k] >= 3]
    if not axes:
        return not_applicable("no ordered factor has 3 grid values in a row")
    z = whiten(latents) * np.sqrt(max(len(latents) - 1, 1))
    where = np.full(int(np.prod(shape)), -1)
    where[np.ravel_multi_index(index.T, shape)] = np.arange(len(index))
    # step[x, a, 0 / 1]: the length of image x's step back / forward along axes[a] (nan: none)
    step = np.full((len(index), len(axes), 2), np.nan)
    for a, k in enumerate(axes):
        for side, move in enumerate((-1, 1)):
            moved = index.copy()
            moved[:, k] += move
            inside = (moved[:, k] >= 0) & (moved[:, k] < shape[k])
            other = np.full(len(index), -1)
            other[inside] = where[np.ravel_multi_index(moved[inside].T, shape)]
            has = other >= 0
            step[has, a, side] = np.linalg.norm(z[has] - z[other[has]], axis=1)
    ratios = []
    for a, _ in enumerate(axes):
        i = np.flatnonzero(np.isfinite(step[:, a, 1]))  # every forward step along this axis
        d = step[i, a, 1]
        j = where[np.ravel_multi_index((index[i] + np.eye(len(shape), dtype=int)[axes[a]]).T, shape)]
        others = np.delete(step, a, axis=1).reshape(len(index), -1)
        before = np.where(np.isfinite(step[i, a, 0]), step[i, a, 0], np.nanmax(others[i], axis=1, initial=0.0))
        after = np.where(np.isfinite(step[j, a, 1]), step[j, a, 1], np.nanmax(others[j], axis=1, initial=0.0))
        local = np.fmax(before, after)
        ok = local > 0
        ratios.append(d[ok] / local[ok])
    ratio = np.concatenate(ratios)
    if not len(ratio):
        return not_applicable("no step of the factor grid has a neighbouring step")
    return {
        "gap_ratio_max": float(ratio.max()),
        "gap_ratio_p99": float(np.quantile(ratio, 0.99)),
        "torn_share": float(np.mean(ratio > torn)),
        "n_steps": len(ratio),
    }
