"""Pure numpy geometry of a latent point cloud: axes, hulls and the study's decoded paths.

Every path is an ``(n, D)`` array of latent points, derived from the data (never hard-coded axes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import ConvexHull, cKDTree
from sklearn.linear_model import QuantileRegressor


@dataclass
class Path:
    """A named latent path; ``plane`` is the pair of axes it is best drawn on. A path that is not
    ``connected`` is a set of separate points (e.g. random perturbations)."""

    name: str
    points: np.ndarray  # (n, D)
    plane: tuple[int, int]
    description: str
    connected: bool = True


def tracking_axis(latents: np.ndarray, factor: np.ndarray) -> int:
    """The latent axis whose coordinate correlates most (in absolute value) with ``factor``."""
    z = latents - latents.mean(0)
    f = factor - factor.mean()
    corr = (z * f[:, None]).sum(0) / (np.linalg.norm(z, axis=0) * np.linalg.norm(f) + 1e-12)
    return int(np.argmax(np.abs(corr)))


def line(start: np.ndarray, end: np.ndarray, n: int) -> np.ndarray:
    """``n`` evenly spaced points from ``start`` to ``end``, ``(n, D)``."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) * start[None] + t * end[None]


def principal_line(latents: np.ndarray, plane: tuple[int, int], n: int, quantile: float = 0.02) -> np.ndarray:
    """A straight path in ``plane`` through the centroid along the data's main direction there.

    The other coordinates stay at the centroid; the path spans the ``quantile``..``1-quantile``
    range of the data projected on that direction.
    """
    centre = latents.mean(0)
    xy = latents[:, plane] - centre[list(plane)]
    direction = np.linalg.svd(xy, full_matrices=False)[2][0]  # (2,)
    proj = xy @ direction
    lo, hi = np.quantile(proj, [quantile, 1 - quantile])
    start, end = centre.copy(), centre.copy()
    start[list(plane)] += lo * direction
    end[list(plane)] += hi * direction
    return line(start, end, n)


def circle(latents: np.ndarray, plane: tuple[int, int], n: int) -> np.ndarray:
    """A closed circular path in ``plane`` around the centroid, radius the median radial distance."""
    centre = latents.mean(0)
    radius = np.median(np.linalg.norm(latents[:, plane] - centre[list(plane)], axis=1))
    angle = np.linspace(0, 2 * np.pi, n)
    points = np.repeat(centre[None], n, axis=0)
    points[:, plane[0]] += radius * np.cos(angle)
    points[:, plane[1]] += radius * np.sin(angle)
    return points


def hull_distance(hull: ConvexHull, points: np.ndarray) -> np.ndarray:
    """Signed distance to the hull surface: positive inside, negative outside, ``(n,)``."""
    return -(points @ hull.equations[:, :-1].T + hull.equations[:, -1]).max(axis=1)


def bounding_planes(latents: np.ndarray, count: int = 2) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``count`` largest distinct planes of the convex hull, as ``(normal, vertices on it)``.

    Facets are grouped by (nearly) equal normal; groups are ranked by their total area.
    """
    hull = ConvexHull(latents)
    normals, offsets = hull.equations[:, :-1], hull.equations[:, -1]
    areas = _facet_areas(latents, hull)
    groups: list[list[int]] = []
    for f in np.argsort(-areas):
        for g in groups:
            if normals[f] @ normals[g[0]] > 0.98:
                g.append(f)
                break
        else:
            groups.append([f])
    groups.sort(key=lambda g: -areas[g].sum())
    planes = []
    for g in groups[:count]:
        normal, offset = normals[g[0]], offsets[g[0]]
        near = np.abs(latents @ normal + offset) < 1e-2 * np.ptp(latents, axis=0).max()
        planes.append((normal, latents[near]))
    return planes


def _facet_areas(points: np.ndarray, hull: ConvexHull) -> np.ndarray:
    if points.shape[1] != 3:
        return np.ones(len(hull.simplices))
    a, b, c = (points[hull.simplices[:, i]] for i in range(3))
    return 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)


def path_on_plane(normal: np.ndarray, on_plane: np.ndarray, n: int) -> np.ndarray:
    """A straight path between the two most distant data points lying on a bounding plane."""
    if len(on_plane) < 2:
        raise ValueError("fewer than two data points lie on this bounding plane")
    dist = np.linalg.norm(on_plane[:, None] - on_plane[None], axis=-1)
    i, j = np.unravel_index(np.argmax(dist), dist.shape)
    return line(on_plane[i], on_plane[j], n)


def near_hull_perturbations(
    latents: np.ndarray, n_points: int, n_draws: int, scale: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Random Gaussian perturbations of the ``n_points`` data points closest to the hull surface.

    ``scale`` is relative to the per-axis standard deviation. Returns ``(anchors (k, D),
    perturbed (k * n_draws, D))``.
    """
    hull = ConvexHull(latents)
    # every hull vertex is at distance 0 (+-1e-17): rounded, so that the lower index, not the
    # rounding of one CPU, decides between them
    distance = np.round(hull_distance(hull, latents) / (latents.std(0).max() * 1e-9))
    anchors = latents[np.argsort(distance, kind="stable")[:n_points]]
    noise = np.random.default_rng(seed).normal(size=(n_points, n_draws, latents.shape[1]))
    perturbed = anchors[:, None] + scale * latents.std(0) * noise
    return anchors, perturbed.reshape(-1, latents.shape[1])


def path_along_bound_holding(
    xyz: np.ndarray, line: tuple[float, float], factor: np.ndarray, n: int, band: float = 0.05, quantile: float = 0.02
) -> np.ndarray:
    """``(n, 3)`` oriented points on the plane ``z = a + b * y`` along the direction of the x-y plane
    in which ``factor`` does not change (to first order: a least-squares plane of the factor over the
    codes within ``band`` of the bound), through those codes' median, over their ``quantile``..``1 -
    quantile`` range along that direction."""
    a, b = line
    near = np.abs(xyz[:, 2] - (a + b * xyz[:, 1])) <= band * np.ptp(xyz[:, 2])
    if near.sum() < 4:
        raise ValueError("fewer than four codes lie near this bounding plane")
    xy = xyz[near, :2]
    grad = np.linalg.lstsq(np.column_stack([xy, np.ones(len(xy))]), factor[near], rcond=None)[0][:2]
    if not np.any(grad):
        raise ValueError("the factor does not change near this bounding plane")
    direction = np.array([-grad[1], grad[0]]) / np.linalg.norm(grad)
    direction *= np.sign(direction[1]) or 1.0  # along growing y, as the study's paths go
    centre = np.median(xy, axis=0)
    lo, hi = np.quantile((xy - centre) @ direction, [quantile, 1 - quantile])
    t = np.linspace(lo, hi, n)[:, None]
    points = centre + t * direction
    return np.column_stack([points, a + b * points[:, 1]])


def near_data_perturbations(
    latents: np.ndarray, candidates: np.ndarray, n_points: int, move: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Codes near the data: ``n_points`` of the ``candidates`` (indices into ``latents``) drawn at
    random, each moved in a random direction by ``move`` (the control: half) of the distance to its
    nearest other code, kept where the move stays inside the codes' convex hull (for 2 to 6
    dimensions). Returns ``(anchor indices, moved codes)``, aligned: the control compares each moved
    code with its own anchor."""
    rng = np.random.default_rng(seed)
    picked = rng.choice(candidates, size=min(n_points, len(candidates)), replace=False)
    nn = cKDTree(latents).query(latents[picked], k=2)[0][:, 1]
    direction = rng.normal(size=(len(picked), latents.shape[1]))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    moved = latents[picked] + move * nn[:, None] * direction
    if 2 <= latents.shape[1] <= 6:
        hull = ConvexHull(latents)
        inside = (moved @ hull.equations[:, :-1].T + hull.equations[:, -1] <= 1e-12).all(axis=1)
        picked, moved = picked[inside], moved[inside]
    return picked, moved


def tails(latents: np.ndarray, factor: np.ndarray, share: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Centroids of the two tails: the data with the lowest and the highest ``share`` of ``factor``."""
    lo, hi = np.quantile(factor, [share, 1 - share])
    return latents[factor <= lo].mean(0), latents[factor >= hi].mean(0)


def projection_bounds(
    y: np.ndarray, z: np.ndarray, quantile: float = 0.02, max_points: int = 2000
) -> dict[str, tuple[float, float]]:
    """The lines bounding the ``(y, z)`` projection from above and from below, ``{"top": (a, b),
    "bottom": (a, b)}`` with ``z = a + b * y``: linear quantile regressions of z on y at
    ``1 - quantile`` and ``quantile`` (so a few outlying codes do not tilt them, as hull edges would),
    fitted on at most ``max_points`` evenly spaced codes."""
    pick = np.linspace(0, len(y) - 1, min(len(y), max_points)).astype(int)
    out = {}
    for name, q in (("top", 1 - quantile), ("bottom", quantile)):
        fit = QuantileRegressor(quantile=q, alpha=0.0, solver="highs").fit(y[pick, None], z[pick])
        out[name] = (float(fit.intercept_), float(fit.coef_[0]))
    return out


def path_along_bound(
    xyz: np.ndarray, line: tuple[float, float], n: int, band: float = 0.05, quantile: float = 0.02
) -> np.ndarray:
    """``(n, 3)`` oriented points on the plane ``z = a + b * y`` (it contains the x direction), at the
    constant x of the codes within ``band`` (a share of z's range) of it, along y over those codes'
    ``quantile``..``1 - quantile`` range."""
    a, b = line
    near = np.abs(xyz[:, 2] - (a + b * xyz[:, 1])) <= band * np.ptp(xyz[:, 2])
    if near.sum() < 2:
        raise ValueError("fewer than two codes lie near this bounding plane")
    x0 = float(np.median(xyz[near, 0]))
    lo, hi = np.quantile(xyz[near, 1], [quantile, 1 - quantile])
    ys = np.linspace(lo, hi, n)
    return np.stack([np.full(n, x0), ys, a + b * ys], axis=1)
