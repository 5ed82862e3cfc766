"""Claim 9's measures: where the study places images on its named axes."""

from __future__ import annotations

import numpy as np
import pytest

from heatmap_latent.data.heatmaps import gaussian_heatmaps
from heatmap_latent.study.statements import kink, study_statements


def grid() -> dict[str, np.ndarray]:
    v = np.arange(0.1, 5, 0.4)
    r = np.arange(-0.95, 0.95, 0.2)
    vx, vy, rho = (a.ravel() for a in np.meshgrid(v, v, r, indexing="ij"))
    return {"var_x": vx, "var_y": vy, "rho": rho}


def test_a_code_laid_out_as_the_study_says_passes_and_a_shuffled_one_does_not():
    f = grid()
    rng = np.random.default_rng(0)
    codes = np.c_[f["var_x"] - f["var_y"], f["var_x"] + f["var_y"], f["rho"]]
    codes = codes + 0.01 * rng.normal(size=codes.shape)
    axes = {"x": 0, "y": 1, "z": 2}
    got = study_statements(codes, f, axes)
    assert got["z_rho_spearman"] > 0.99 and got["tails_exterior_ratio"] > 1.3 and got["tails_exterior_spearman"] > 0.3
    shuffled = codes[rng.permutation(len(codes))]
    bad = study_statements(shuffled, f, axes)
    assert bad["z_rho_spearman"] < 0.1 and abs(bad["tails_exterior_ratio"] - 1) < 0.1
    # axes named otherwise: z is the first column
    assert study_statements(codes[:, [2, 0, 1]], f, {"x": 1, "y": 2, "z": 0}) == got


def _render(f):
    return gaussian_heatmaps(f["var_x"], f["var_y"], f["rho"])


def test_the_kink_reads_a_decoder_that_slows_rho_where_a_variance_is_largest():
    f = grid()
    top = max(f["var_x"].max(), f["var_y"].max())
    codes = np.c_[f["var_x"], f["var_y"], 3 * f["rho"]] @ np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))[0]
    inverse = np.linalg.inv(np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))[0])

    def exact(z):  # the code is (var_x, var_y, 3 rho) rotated: the renderer of the factors it holds
        vx, vy, r = (z @ inverse).T
        return _render({"var_x": vx, "var_y": vy, "rho": r / 3})

    def kinked(z):  # rho moves the image a quarter as much where a variance is at its largest
        vx, vy, r = (z @ inverse).T
        slow = np.isclose(np.maximum(vx, vy), top)
        centre = -0.95 + 0.2 * np.round((r / 3 + 0.95) / 0.2)  # the grid's rho nearest
        return _render({"var_x": vx, "var_y": vy, "rho": np.where(slow, centre + (r / 3 - centre) / 4, r / 3)})

    plain = kink(codes, f, exact, _render, seed=0)
    inside = (f["rho"] > f["rho"].min()) & (f["rho"] < f["rho"].max())
    maxed = np.isclose(np.maximum(f["var_x"], f["var_y"]), top) & inside
    assert plain["ratio"] == pytest.approx(plain["data_ratio"], rel=1e-6)
    assert plain["n"] == [maxed.sum(), (inside & ~maxed).sum()]  # the configured sample: every code
    assert kink(codes, f, exact, _render, seed=0, sample=20)["n"] == [20, 20]
    bent = kink(codes, f, kinked, _render, seed=0)
    assert bent["ratio"] == pytest.approx(plain["ratio"] / 4, rel=0.05) and bent["data_ratio"] == plain["data_ratio"]
    assert "no direction" in kink(np.zeros_like(codes), f, exact, _render)["not_applicable"]
