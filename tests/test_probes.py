"""Claim 7's instrument: a label read from the code against the same label read from the factors."""

from __future__ import annotations

import numpy as np

from heatmap_latent.analysis.probes import knn_against_reference
from heatmap_latent.analysis.step import NA_KEY


def labelled(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A factor ``r`` that decides the label outside |r| < 0.3; inside that band only a hidden
    feature ``t`` (the heatmaps' tails) decides it."""
    rng = np.random.default_rng(seed)
    r, t = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    label = np.where(np.abs(r) < 0.3, t > 0, r > 0).astype(int)
    return r, t, label


def test_only_a_code_that_reads_the_hidden_feature_beats_the_factors_where_they_are_ambiguous():
    (r, t, y), (r2, t2, y2) = labelled(3000, 0), labelled(1000, 1)
    reads = knn_against_reference((np.c_[r, t], r[:, None], y), (np.c_[r2, t2], r2[:, None], y2))
    ignores = knn_against_reference((np.c_[r, 0 * t], r[:, None], y), (np.c_[r2, 0 * t2], r2[:, None], y2))
    band = reads["ambiguous"]
    assert 0.2 < band["share"] < 0.5 and band["n"] == round(band["share"] * 1000)
    assert band["factors_accuracy"] < 0.7 and band["accuracy"] > 0.85  # the code reads the band itself
    assert abs(ignores["ambiguous"]["accuracy"] - ignores["ambiguous"]["factors_accuracy"]) < 0.1
    # overall both codes reach the factors' accuracy, and both are far above the majority baseline
    assert reads["accuracy"] >= reads["factors"]["accuracy"] - 0.02
    assert ignores["accuracy"] > ignores["majority_baseline"] + 0.2  # why the baseline tells nothing


def test_a_reference_that_decides_every_image_leaves_no_ambiguous_band():
    rng = np.random.default_rng(0)
    r = np.r_[rng.uniform(-1, -0.5, 500), rng.uniform(0.5, 1, 500)]
    y = (r > 0).astype(int)
    got = knn_against_reference((r[:, None], r[:, None], y), (r[:, None], r[:, None], y))
    assert got["ambiguous"]["n"] == 0 and NA_KEY in got["ambiguous"]["accuracy"]
