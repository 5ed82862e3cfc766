"""Claim 5's instruments: realism with the fitted factors kept in the data's range, and the
distance to the nearest data image."""

from __future__ import annotations

import numpy as np
import pytest

from heatmap_latent.data.heatmap_fit import realism_distance
from heatmap_latent.data.heatmaps import gaussian_heatmaps
from heatmap_latent.study.realism import nearest_image_distance

BOUNDS = {"var_x": (0.1, 4.9), "var_y": (0.1, 4.9), "rho": (-0.95, 0.85)}


def test_an_ellipse_outside_the_data_is_realistic_only_without_the_datas_range():
    inside = gaussian_heatmaps(np.array([1.0]), np.array([2.0]), np.array([0.3]), -3, 3, 36)
    far = gaussian_heatmaps(np.array([40.0]), np.array([30.0]), np.array([0.5]), -3, 3, 36)  # 8x the largest variance
    for image in (inside, far):
        assert realism_distance(image)[0][0] < 1e-6  # both are exact ellipses
    assert realism_distance(inside, bounds=BOUNDS)[0][0] < 1e-6
    bounded, fitted = realism_distance(far, bounds=BOUNDS)
    assert bounded[0] > 1.0 and fitted["var_x"][0] == pytest.approx(40.0, rel=1e-3)  # the fit itself is not clipped


def test_the_nearest_data_image_is_found_whatever_the_chunk():
    rng = np.random.default_rng(0)
    data = rng.uniform(size=(300, 6, 6))
    images = np.r_[data[[5, 77]], data[[9]] + 0.1]
    for chunk in (1, 2, 512):
        got = nearest_image_distance(images, data, chunk=chunk)
        assert got[:2] == pytest.approx([0.0, 0.0], abs=1e-6) and got[2] <= 0.1 * 6 + 1e-9
    brute = np.sqrt(((images.reshape(3, 1, -1) - data.reshape(1, 300, -1)) ** 2).sum(-1)).min(1)
    assert nearest_image_distance(images, data) == pytest.approx(brute)
