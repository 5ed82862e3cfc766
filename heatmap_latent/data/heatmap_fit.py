"""The heatmaps' inverse (image -> factors): the factors of an image estimated from its shape, and how
far the image is from the exact heatmap of those factors.

The factors are estimated by weighted least squares on the pixel features ``(x^2, xy, y^2, 1)``:
for a Gaussian heatmap ``log(image)`` is exactly linear in them (the second moments of the density
live in those coefficients), for a Student-t heatmap with ``df`` degrees of freedom
``image ** (-2 / (df + 2))`` is. Exact heatmaps are recovered exactly; for any other image the fit is
the ellipse that best matches it, and the Frobenius distance between the image and that ellipse's
exact heatmap measures how un-ellipse-like the image is (the study's decoded realism).
"""

from __future__ import annotations

import numpy as np

from heatmap_latent.data.heatmaps import gaussian_heatmaps, pixel_grid, student_t_heatmaps

MAX_VARIANCE = 100.0


def fit_factors(
    images: np.ndarray, low: float = -3.0, high: float = 3.0, df: float | None = None, floor: float = 1e-3
) -> dict[str, np.ndarray]:
    """Estimate ``var_x``, ``var_y``, ``rho`` of each ``(N, S, S)`` image (Gaussian if ``df`` is None)."""
    images = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    size = int(round(np.sqrt(images.shape[1])))
    x, y = pixel_grid(low, high, size)
    features = np.stack([x.ravel() ** 2, x.ravel() * y.ravel(), y.ravel() ** 2, np.ones(x.size)], axis=1)  # (P, 4)
    scaled = images / np.clip(images.max(axis=1, keepdims=True), 1e-12, None)
    weights = np.where(scaled > floor, scaled, 0.0)  # (N, P)
    clipped = np.clip(scaled, floor, None)
    target = np.log(clipped) if df is None else clipped ** (-2.0 / (df + 2.0))
    gram = np.einsum("np,pi,pj->nij", weights, features, features) + 1e-9 * np.eye(4)
    rhs = np.einsum("np,pi,np->ni", weights, features, target)
    c = np.linalg.solve(gram, rhs[..., None])[..., 0]  # (N, 4)
    if df is None:  # log image = c3 - 0.5 * (P00 x^2 + 2 P01 xy + P11 y^2)
        p00, p01, p11 = -2 * c[:, 0], -c[:, 1], -2 * c[:, 2]
    else:  # t = alpha (1 + Q / df): coefficients are alpha / df * (P00, 2 P01, P11), alpha = c3
        scale = df / np.where(np.abs(c[:, 3]) > 1e-12, c[:, 3], 1e-12)
        p00, p01, p11 = c[:, 0] * scale, 0.5 * c[:, 1] * scale, c[:, 2] * scale
    precision = np.stack([np.stack([p00, p01], -1), np.stack([p01, p11], -1)], -2)  # (N, 2, 2)
    evals, evecs = np.linalg.eigh(precision)
    evals = np.clip(evals, 1.0 / MAX_VARIANCE, None)  # a flat or inverted blob becomes a very wide ellipse
    cov = np.einsum("nij,nj,nkj->nik", evecs, 1.0 / evals, evecs)
    var_x, var_y = cov[:, 0, 0], cov[:, 1, 1]
    rho = np.clip(cov[:, 0, 1] / np.sqrt(var_x * var_y), -0.999, 0.999)
    return {"var_x": var_x, "var_y": var_y, "rho": rho}


def realism_distance(
    images: np.ndarray,
    low: float = -3.0,
    high: float = 3.0,
    dfs: tuple[float, ...] | None = None,
    bounds: dict[str, tuple[float, float]] | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Frobenius distance of each image to the exact heatmap of its fitted factors, ``(N,)``, and
    the fitted factors.

    With ``dfs`` (Student-t data) each candidate df is fitted and the closer rendering kept. With
    ``bounds`` (factor -> (low, high), the data's range) the fitted factors are clipped into it
    before rendering: an image whose ellipse lies outside the data is as far from realistic as it is
    from the nearest ellipse the data holds. The factors returned are the fitted ones, unclipped.
    """
    images = np.asarray(images, dtype=np.float64)
    flat = images.reshape(len(images), images.shape[-2], images.shape[-1])
    size = flat.shape[-1]
    best_dist, best = None, None
    for df in dfs or (None,):
        f = fit_factors(flat, low, high, df)
        r = {k: np.clip(v, *bounds[k]) if bounds and k in bounds else v for k, v in f.items()}
        if df is None:
            render = gaussian_heatmaps(r["var_x"], r["var_y"], r["rho"], low, high, size)
        else:
            f["df"] = np.full(len(flat), float(df))
            render = student_t_heatmaps(r["var_x"], r["var_y"], r["rho"], f["df"], low, high, size)
        dist = np.linalg.norm((flat - render).reshape(len(flat), -1), axis=1)
        if best_dist is None:
            best_dist, best = dist, f
        else:
            better = dist < best_dist
            best_dist = np.where(better, dist, best_dist)
            best = {k: np.where(better, f[k], best[k]) for k in f}
    return best_dist, best
