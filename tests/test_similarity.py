"""Claim 8's instruments: measures of shape that no invertible linear map of a code can fool."""

from __future__ import annotations

import numpy as np
import pytest

from heatmap_latent.analysis.similarity import (
    knn_overlap,
    linear_cka,
    mean_squared_canonical_correlation,
    seed_to_seed,
    similarity,
    spread,
    whiten,
)

RNG = np.random.default_rng(0)
CLOUD = RNG.normal(size=(3000, 3))


def linear_map(codes: np.ndarray, seed: int = 1) -> np.ndarray:
    """A stretch (10:1:1), a shear, a rotation (or reflection) and a shift of ``codes``."""
    rng = np.random.default_rng(seed)
    shear = np.array([[1.0, 0.8, 0.0], [0.0, 1.0, -0.5], [0.0, 0.0, 1.0]])
    rotation = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    return codes @ np.diag([10.0, 1.0, 1.0]) @ shear @ rotation + [4.0, -2.0, 7.0]


def test_a_stretched_sheared_rotated_copy_is_the_same_shape_to_the_invariant_measures_only():
    moved = linear_map(CLOUD)
    assert mean_squared_canonical_correlation(CLOUD, moved) == pytest.approx(1.0, abs=1e-9)
    assert knn_overlap(CLOUD, moved) == pytest.approx(1.0)
    # what claim 8 measured before: a stretch alone already costs linear CKA about 0.4
    stretched = CLOUD * [10.0, 1.0, 1.0]
    assert 0.5 < linear_cka(CLOUD, stretched) < 0.7
    assert knn_overlap(CLOUD, stretched) == pytest.approx(1.0)


def test_an_unrelated_code_is_about_zero_and_a_noisy_copy_in_between():
    other = RNG.normal(size=CLOUD.shape)
    assert mean_squared_canonical_correlation(CLOUD, other) < 0.01
    assert knn_overlap(CLOUD, other) < 0.01  # chance: 10 of 2,999 neighbours
    noisy = [CLOUD + s * RNG.normal(size=CLOUD.shape) for s in (0.1, 0.5, 2.0)]
    cca = [mean_squared_canonical_correlation(CLOUD, x) for x in noisy]
    # neighbours are local: a smaller noise already scrambles them; the map changes nothing
    knn = [knn_overlap(CLOUD, linear_map(CLOUD + s * RNG.normal(size=CLOUD.shape))) for s in (0.01, 0.05, 0.2)]
    assert 1 > cca[0] > cca[1] > cca[2] > 0.01 and 1 > knn[0] > knn[1] > knn[2] > 0.01


def test_codes_of_other_widths_and_a_collapsed_axis():
    assert mean_squared_canonical_correlation(CLOUD, CLOUD[:, :2] @ [[2.0, 1.0], [0.0, 3.0]]) == pytest.approx(1.0)
    collapsed = np.c_[CLOUD[:, :2], np.zeros(len(CLOUD))]
    assert whiten(collapsed).shape == (len(CLOUD), 2)  # a constant axis is no direction
    assert whiten(np.ones((5, 3))).shape == (5, 0)
    assert mean_squared_canonical_correlation(np.ones((5, 3)), CLOUD[:5]) == 0.0
    with pytest.raises(ValueError, match="same images"):
        knn_overlap(CLOUD, CLOUD[:10])
    assert set(similarity(CLOUD, CLOUD[:, :2])) == {"cka", "cca", "knn"}  # no Procrustes across widths


def test_spread_names_the_stretch_that_linear_cka_cannot_see_past():
    got = spread(CLOUD * [10.0, 1.0, 1.0])
    assert got["principal_std"][0] == pytest.approx(10.0, rel=0.05) and got["anisotropy"] == pytest.approx(10, rel=0.1)
    assert spread(np.c_[CLOUD[:, :2], np.zeros(len(CLOUD))])["anisotropy"] is None


def test_seed_to_seed_averages_every_measure_over_the_other_runs():
    codes = {"a": CLOUD, "b": linear_map(CLOUD), "c": RNG.normal(size=CLOUD.shape)}
    got = seed_to_seed(codes)
    pair_ab, pair_ac = similarity(CLOUD, codes["b"]), similarity(CLOUD, codes["c"])
    for key in ("cka", "cca", "knn", "procrustes"):
        assert got["a"][key] == pytest.approx((pair_ab[key] + pair_ac[key]) / 2)
    assert got["a"]["n_pairs"] == 2 and seed_to_seed({"a": CLOUD}) == {}
    # leave-one-out: a's baseline is the pair of the other two runs alone, b's and c's likewise
    pair_bc = similarity(codes["b"], codes["c"])
    for key in ("cca", "knn"):
        assert got["a"]["others"][key] == pytest.approx(pair_bc[key])
        assert got["c"]["others"][key] == pytest.approx(pair_ab[key])
    assert got["a"]["others"]["n_pairs"] == 1
    two = seed_to_seed({"a": CLOUD, "b": linear_map(CLOUD)})
    assert "not_applicable" in two["a"]["others"]  # two runs: no pair of others
