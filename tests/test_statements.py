"""Claim 9's measures: where the study places images on its named axes."""

from __future__ import annotations

import numpy as np

from heatmap_latent.study.statements import study_statements


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
