"""The heatmap study's own geometry: the isovariance spline (the strip where var_x ≈ var_y, along the
axis that tracks rho) and the study's named axes (z tracks rho, x var_x − var_y, y var_x + var_y).
The generic geometry of a point cloud (axes, hulls, paths) is ``analysis.geometry``'s."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import make_interp_spline, make_smoothing_spline

from heatmap_latent.analysis.geometry import tracking_axis


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
