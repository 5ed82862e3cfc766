"""Claim 4's instruments: gaps inside the convex hull of whitened codes, blind to any linear map."""

from __future__ import annotations

import numpy as np
import pytest

from heatmap_latent.analysis.density import hull_gaps, latent_density

RNG = np.random.default_rng(0)
N = 3000


def ball() -> np.ndarray:
    x = RNG.normal(size=(N, 3))
    return x / np.linalg.norm(x, axis=1, keepdims=True) * RNG.uniform(size=(N, 1)) ** (1 / 3)


def curved_sheet() -> np.ndarray:
    """A thin half-cylinder shell: its hull holds the empty inside of the curve."""
    angle, height = RNG.uniform(0, np.pi, N), RNG.uniform(-1, 1, N)
    radius = 1 + 0.01 * RNG.normal(size=N)
    return np.c_[radius * np.cos(angle), radius * np.sin(angle), height]


def two_clusters() -> np.ndarray:
    x = RNG.normal(size=(N, 3)) * 0.3
    x[: N // 2, 0] += 3.0
    return x


def test_a_ball_has_no_gaps_and_a_sheet_and_two_clusters_have_them_in_the_expected_order():
    got = {name: hull_gaps(make()) for name, make in (("ball", ball), ("sheet", curved_sheet), ("two", two_clusters))}
    assert got["ball"]["empty_share"] < 0.01 and got["ball"]["largest_gap"] < 4
    assert got["sheet"]["empty_share"] > 0.3 and got["two"]["empty_share"] > 0.05
    assert (
        got["ball"]["largest_gap"] < got["two"]["largest_gap"]
        and got["ball"]["largest_gap"] < got["sheet"]["largest_gap"]
    )
    assert all(g["n_probes"] == 20000 for g in got.values())


def test_a_linear_map_changes_no_gap_but_moves_the_boxs_empty_share():
    cloud = RNG.normal(size=(N, 3))
    sheared = cloud @ np.array([[1.0, 3.0, 0.0], [0.0, 1.0, 2.0], [0.0, 0.0, 0.2]])
    a, b = hull_gaps(cloud), hull_gaps(sheared)
    assert b["empty_share"] == pytest.approx(a["empty_share"], abs=0.01)
    assert b["largest_gap"] == pytest.approx(a["largest_gap"], rel=0.15)
    # the box of the sheared cloud has empty corners: the old measure counts them
    assert latent_density(sheared)[0]["empty_share"] > latent_density(cloud)[0]["empty_share"] + 0.05


def test_the_hull_is_measured_in_two_to_six_directions_only():
    assert "not_applicable" in hull_gaps(RNG.normal(size=(200, 1)))
    assert "not_applicable" in hull_gaps(RNG.normal(size=(200, 8)))
    assert "not_applicable" in hull_gaps(np.c_[RNG.normal(size=(200, 1)), np.zeros((200, 2))])  # one direction
    assert hull_gaps(RNG.uniform(size=(500, 2)))["empty_share"] < 0.01  # a uniform square: no gap
