"""The study's statements about where images lie in a 3-D code, measured on the study's named axes
(``study.geometry.study_axes``: z tracks rho, x tracks var_x − var_y, y the third)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from heatmap_latent.analysis.instruments import instrument
from heatmap_latent.analysis.step import not_applicable


def study_statements(
    latents: np.ndarray, factors: dict[str, np.ndarray], axes: dict[str, Any], tail_quantile: float | None = None
) -> dict[str, float]:
    """``z_rho_spearman``: |Spearman| of a code's height on z with its rho ("the height of the point
    in the z axis is directly related to the correlation"). ``tails_exterior_ratio``: the mean
    distance from the codes' centre in the x-y plane (each axis scaled by its spread) of the images
    with the largest |var_x − var_y| (above its ``tail_quantile``: the top tenth) over that of all
    images, and ``tails_exterior_spearman``
    the |Spearman| of the distance with |var_x − var_y| ("located in the sides of the manifold,
    towards the exterior": above 1, and positive)."""
    z = latents[:, axes["z"]]
    plane = latents[:, [axes["x"], axes["y"]]]
    plane = (plane - np.median(plane, axis=0)) / (plane.std(axis=0) + 1e-12)
    radius = np.linalg.norm(plane, axis=1)
    gap = np.abs(factors["var_x"] - factors["var_y"])
    tails = gap >= np.quantile(gap, instrument("tail_quantile", tail_quantile))
    spearman = spearmanr(gap, radius).statistic
    return {
        "z_rho_spearman": float(abs(spearmanr(z, factors["rho"]).statistic)),
        "tails_exterior_ratio": float(radius[tails].mean() / radius.mean()),
        "tails_exterior_spearman": float(spearman) if np.isfinite(spearman) else 0.0,
    }


def kink(
    latents: np.ndarray,
    factors: dict[str, np.ndarray],
    decode: Callable[[np.ndarray], np.ndarray],
    render: Callable[[dict[str, np.ndarray]], np.ndarray],
    seed: int = 0,
    step: float | None = None,
    sample: int | None = None,
) -> dict[str, Any]:
    """The study's kink: "where a variance is maxed out, the image changes less with rho". At a code,
    the image's derivative in rho is the distance between the decodes of the code moved by
    ±``step`` of rho along the direction that reads rho linearly from the code (least squares:
    the move changes the linear prediction of rho by exactly that step), over 2 x the step; the same
    of the exact images (``render`` at rho ± the step) is the data's. ``ratio``: the mean derivative
    at codes whose image has var_x or var_y at its largest value over the mean at the other codes
    (below 1: the image changes less there); ``data_ratio`` the same of the exact images (the answer a
    code that is the factors gives). Images at rho's two extreme values are left out (a move would
    leave the range); up to ``sample`` codes a side, drawn with ``seed`` (``step``, ``sample``: the
    instruments' ``kink_step``, ``kink_sample``)."""
    step, sample = instrument("kink_step", step), instrument("kink_sample", sample)
    rho = factors["rho"]
    centred = latents - latents.mean(0)
    w, *_ = np.linalg.lstsq(centred, rho - rho.mean(), rcond=None)
    if not np.any(w):
        return not_applicable("no direction of the codes reads rho")
    move = step * w / (w @ w)  # changes the linear prediction of rho by ``step``
    top = np.maximum(factors["var_x"], factors["var_y"]) >= max(factors["var_x"].max(), factors["var_y"].max())
    inside = (rho > rho.min()) & (rho < rho.max())
    rng = np.random.default_rng(seed)
    sides = [np.flatnonzero(inside & top), np.flatnonzero(inside & ~top)]
    picked = [rng.choice(s, min(sample, len(s)), replace=False) if len(s) else s for s in sides]
    if not all(len(p) for p in picked):
        return not_applicable("no image on one side of the kink (a variance at its largest value, or not)")

    def derivative(idx: np.ndarray) -> tuple[float, float]:
        codes = latents[idx]
        ahead, back = decode(codes + move), decode(codes - move)
        model = np.linalg.norm((ahead - back).reshape(len(idx), -1), axis=1) / (2 * step)
        shifted = [{k: v[idx] + (k == "rho") * d for k, v in factors.items()} for d in (step, -step)]
        exact = np.asarray(render(shifted[0]), np.float64) - np.asarray(render(shifted[1]), np.float64)
        data = np.linalg.norm(exact.reshape(len(idx), -1), axis=1) / (2 * step)
        return float(model.mean()), float(data.mean())

    (high, data_high), (rest, data_rest) = derivative(picked[0]), derivative(picked[1])
    return {
        "ratio": high / rest if rest > 0 else float("inf"),
        "data_ratio": data_high / data_rest,
        "derivative_maxed": high,
        "derivative_rest": rest,
        "n": [len(p) for p in picked],
    }
