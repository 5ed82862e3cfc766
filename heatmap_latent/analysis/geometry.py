"""Pure numpy geometry of a latent point cloud: axes, hulls and the study's decoded paths.

Every path is an ``(n, D)`` array of latent points, derived from the data (never hard-coded axes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import make_interp_spline, make_smoothing_spline
from scipy.spatial import ConvexHull
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


def isovariance_spline(
    latents: np.ndarray,
    var_x: np.ndarray,
    var_y: np.ndarray,
    rho: np.ndarray,
    n: int,
    n_bins: int = 10,
    tolerance: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The spline through the isovariance strip (``|var_x - var_y|`` small).

    Points of the strip are binned along the latent axis that tracks ``rho``; the per-bin medians
    of the other coordinates are fitted by one cubic spline per coordinate (a spline in each
    plane that contains the rho axis), smoothed by cross-validation. Returns ``(path (n, D), knots (k, D))``.
    """
    diff = np.abs(var_x - var_y)
    if tolerance is None:
        tolerance = np.min(diff[diff > 0]) if np.any(diff > 0) else 0.0
    strip = latents[diff <= tolerance + 1e-9]
    if len(strip) < 4:
        raise ValueError(f"the isovariance strip holds only {len(strip)} points; raise the tolerance")
    axis = tracking_axis(latents, rho)
    # bins of equal count by rank (a stable sort: equal codes, which a saturated encoder gives many
    # images, keep their order), not by quantile edges, where equal codes leave bins empty and a
    # last-digit change of one code moves it to another bin
    order = np.argsort(strip[:, axis], kind="stable")
    knots = np.array([np.median(strip[b], axis=0) for b in np.array_split(order, min(n_bins, len(strip)))])
    knots = knots[np.argsort(knots[:, axis], kind="stable")]
    span = max(float(np.ptp(knots[:, axis])), 1e-300)
    knots = knots[np.concatenate([[True], np.diff(knots[:, axis]) > 1e-9 * span])]  # strictly increasing
    if len(knots) < 2:
        raise ValueError("the isovariance strip's codes do not vary along the axis that tracks rho")
    t = np.linspace(knots[0, axis], knots[-1, axis], n)
    # fitted on [0, 1] x unit scale: at the codes' own scale (a collapsed model's codes span 1e-3)
    # the cross-validated smoothing is ill-posed, and a 1e-7 change of the codes (another CPU's
    # rounding) moves the whole path
    x0, width = knots[0, axis], knots[-1, axis] - knots[0, axis]
    u, u_path = (knots[:, axis] - x0) / width, (t - x0) / width
    path = np.empty((n, latents.shape[1]))
    for d in range(latents.shape[1]):
        if d == axis:
            path[:, d] = t
            continue
        centre, scale = knots[:, d].mean(), knots[:, d].std()
        scale = scale if scale > 0 else 1.0
        v = (knots[:, d] - centre) / scale
        if len(knots) >= 5:  # a cubic smoothing spline, smoothness by generalised cross-validation
            fitted = make_smoothing_spline(u, v)(u_path)
        else:
            fitted = make_interp_spline(u, v, k=min(3, len(knots) - 1))(u_path)
        path[:, d] = centre + scale * fitted
    return path, knots


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


def tails(latents: np.ndarray, factor: np.ndarray, share: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Centroids of the two tails: the data with the lowest and the highest ``share`` of ``factor``."""
    lo, hi = np.quantile(factor, [share, 1 - share])
    return latents[factor <= lo].mean(0), latents[factor >= hi].mean(0)


@dataclass(frozen=True)
class StudyAxes:
    """The study's names for three latent axes, each signed so that its coordinate grows with what
    it tracks: z with rho, x with var_x - var_y, y (the remaining one) with var_x + var_y."""

    x: int
    y: int
    z: int
    signs: tuple[float, float, float]  # of x, y, z

    def oriented(self, latents: np.ndarray) -> np.ndarray:
        """``(N, 3)`` coordinates (x, y, z), signed as above."""
        return latents[:, [self.x, self.y, self.z]] * np.asarray(self.signs)

    def to_latent(self, xyz: np.ndarray, fill: np.ndarray) -> np.ndarray:
        """``(n, D)`` latent points from oriented ``(n, 3)`` coordinates; other axes at ``fill``."""
        out = np.repeat(np.asarray(fill, dtype=np.float64)[None], len(xyz), axis=0)
        out[:, [self.x, self.y, self.z]] = xyz * np.asarray(self.signs)
        return out


def _correlation(values: np.ndarray, factor: np.ndarray) -> float:
    return float(np.corrcoef(values, factor)[0, 1]) if np.std(values) > 0 and np.std(factor) > 0 else 0.0


def study_axes(latents: np.ndarray, var_x: np.ndarray, var_y: np.ndarray, rho: np.ndarray) -> StudyAxes:
    """z: the axis tracking rho; x: of the other two, the one tracking var_x - var_y best; y: the
    third. A 3-D latent space only."""
    if latents.shape[1] != 3:
        raise ValueError(f"the study's axes are named in a 3-D latent space, not {latents.shape[1]}-D")
    z = tracking_axis(latents, rho)
    others = [d for d in range(3) if d != z]
    diff = var_x - var_y
    x = max(others, key=lambda d: abs(_correlation(latents[:, d], diff)))
    y = next(d for d in others if d != x)
    signs = tuple(
        1.0 if _correlation(latents[:, axis], f) >= 0 else -1.0 for axis, f in ((x, diff), (y, var_x + var_y), (z, rho))
    )
    return StudyAxes(x, y, z, signs)  # type: ignore[arg-type]


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
