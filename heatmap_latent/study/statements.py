"""The study's statements about where images lie in a 3-D code, measured on the study's named axes
(``study.geometry.study_axes``: z tracks rho, x tracks var_x − var_y, y the third)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import spearmanr

TAIL_QUANTILE = 0.9  # "large |var_x − var_y|": the top tenth of the data


def study_statements(latents: np.ndarray, factors: dict[str, np.ndarray], axes: dict[str, Any]) -> dict[str, float]:
    """``z_rho_spearman``: |Spearman| of a code's height on z with its rho ("the height of the point
    in the z axis is directly related to the correlation"). ``tails_exterior_ratio``: the mean
    distance from the codes' centre in the x-y plane (each axis scaled by its spread) of the images
    with the largest |var_x − var_y| (top tenth) over that of all images, and ``tails_exterior_spearman``
    the |Spearman| of the distance with |var_x − var_y| ("located in the sides of the manifold,
    towards the exterior": above 1, and positive)."""
    z = latents[:, axes["z"]]
    plane = latents[:, [axes["x"], axes["y"]]]
    plane = (plane - np.median(plane, axis=0)) / (plane.std(axis=0) + 1e-12)
    radius = np.linalg.norm(plane, axis=1)
    gap = np.abs(factors["var_x"] - factors["var_y"])
    tails = gap >= np.quantile(gap, TAIL_QUANTILE)
    spearman = spearmanr(gap, radius).statistic
    return {
        "z_rho_spearman": float(abs(spearmanr(z, factors["rho"]).statistic)),
        "tails_exterior_ratio": float(radius[tails].mean() / radius.mean()),
        "tails_exterior_spearman": float(spearman) if np.isfinite(spearman) else 0.0,
    }
