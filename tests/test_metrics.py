"""Each analysis metric on sanity cases with known answers."""

import numpy as np
import pytest

from heatmap_latent.analysis.density import latent_density
from heatmap_latent.analysis.probes import knn_classifier, recoverability
from heatmap_latent.analysis.reconstruction import error_summary
from heatmap_latent.data.heatmap_fit import fit_factors, realism_distance
from heatmap_latent.data.heatmaps import Range, factor_grid, gaussian_heatmaps, student_t_heatmaps
from heatmap_latent.scores.disentanglement import dci, mig, sap

# its module fixtures train or analyse: every test of this file runs on one xdist worker (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("metrics")


@pytest.fixture(scope="module")
def factors():
    f = factor_grid(Range(0.1, 5.0, 0.4), Range(-0.95, 0.95, 0.2))
    return np.stack([f["var_x"], f["var_y"], f["rho"]], axis=1)


def split(n, seed=0):
    perm = np.random.default_rng(seed).permutation(n)
    return perm[: int(0.8 * n)], perm[int(0.8 * n) :]


def test_identity_code_scores_high_and_noise_low(factors):
    identity = (factors - factors.mean(0)) / factors.std(0)
    noise = np.random.default_rng(0).normal(size=factors.shape)
    tr, te = split(len(factors))
    assert mig(identity, factors) > 0.8 and mig(noise, factors) < 0.05
    assert sap(identity, factors) > 0.9 and sap(noise, factors) < 0.05
    good, bad = (
        dci(identity[tr], factors[tr], identity[te], factors[te]),
        dci(noise[tr], factors[tr], noise[te], factors[te]),
    )
    assert good["disentanglement"] > 0.9 and good["completeness"] > 0.9 and good["informativeness"] > 0.95
    assert bad["informativeness"] < 0.1


def test_mixed_code_is_informative_but_not_disentangled(factors):
    rotation = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))[0]
    mixed = ((factors - factors.mean(0)) / factors.std(0)) @ rotation
    tr, te = split(len(factors))
    scores = dci(mixed[tr], factors[tr], mixed[te], factors[te])
    assert scores["informativeness"] > 0.9 and scores["disentanglement"] < 0.6
    assert mig(mixed, factors) < 0.4


def test_recoverability_linear_vs_knn(factors):
    code = np.stack([np.sin(factors[:, 2] * 3), factors[:, 0], factors[:, 1]], axis=1)  # rho non-monotone
    tr, te = split(len(factors))
    named = {k: factors[:, i] for i, k in enumerate(("var_x", "var_y", "rho"))}
    r2 = recoverability(code[tr], {k: v[tr] for k, v in named.items()}, code[te], {k: v[te] for k, v in named.items()})
    assert r2["var_x"]["linear_r2"] > 0.99 and r2["var_y"]["knn_r2"] > 0.95
    assert r2["rho"]["linear_r2"] < 0.8 < r2["rho"]["knn_r2"]


def test_knn_classifier_picks_k_by_cv_and_scores_on_test():
    rng = np.random.default_rng(0)
    y = rng.choice([2, 200], size=600)
    z = rng.normal(size=(600, 3)) + (y == 2)[:, None] * 3.0
    out = knn_classifier(z[:480], y[:480], z[480:], y[480:])
    assert out["accuracy"] > 0.95 and out["f1_macro"] > 0.95 and out["k"] in (1, 3, 5, 9, 15, 25, 41)
    chance = knn_classifier(rng.normal(size=(480, 3)), y[:480], rng.normal(size=(120, 3)), y[480:])
    assert chance["accuracy"] < 0.7


def test_density_finds_empty_space_between_clusters():
    rng = np.random.default_rng(0)
    uniform = rng.uniform(size=(3000, 3))
    clusters = np.concatenate([rng.normal(0, 0.05, (1500, 3)), rng.normal(1, 0.05, (1500, 3))])
    full, _ = latent_density(uniform)
    sparse, empty = latent_density(clusters)
    assert full["empty_share"] < 0.05 < 0.5 < sparse["empty_share"]
    assert len(empty) > 0 and np.all(np.linalg.norm(empty - empty.mean(0), axis=1) < 2)  # in original coordinates


def test_error_summary_tail_measures():
    light = np.full(1000, 1.0) + np.random.default_rng(0).normal(0, 0.01, 1000)
    heavy = light.copy()
    heavy[:20] = 10.0
    a, b = error_summary(light), error_summary(heavy)
    assert a["tail_share"] == 0 and b["tail_share"] == pytest.approx(0.02)
    assert b["tail_ratio"] > 5 * a["tail_ratio"] and b["excess_kurtosis"] > a["excess_kurtosis"]
    assert a["mean"] == pytest.approx(1.0, abs=0.01) and a["p99"] >= a["median"]


def test_moment_estimator_recovers_known_factors():
    rng = np.random.default_rng(0)
    vx, vy, rho = rng.uniform(0.1, 4.9, 50), rng.uniform(0.1, 4.9, 50), rng.uniform(-0.95, 0.85, 50)
    est = fit_factors(gaussian_heatmaps(vx, vy, rho))
    for key, truth in (("var_x", vx), ("var_y", vy), ("rho", rho)):
        np.testing.assert_allclose(est[key], truth, rtol=1e-4, atol=1e-5)
    df = rng.choice([2, 200], 50)
    dist, est_t = realism_distance(student_t_heatmaps(vx, vy, rho, df), dfs=(2, 200))
    np.testing.assert_array_equal(est_t["df"], df)
    np.testing.assert_allclose(est_t["var_x"], vx, rtol=1e-4)
    assert dist.max() < 1e-4


def test_realism_distance_grows_for_non_ellipses():
    exact = gaussian_heatmaps(np.array([1.0]), np.array([2.0]), np.array([0.3]))
    two_blobs = np.roll(exact, 8, axis=2) + np.roll(exact, -8, axis=2)
    noisy = np.clip(exact + np.random.default_rng(0).normal(0, 0.1, exact.shape), 0, 1)
    d = realism_distance(np.concatenate([exact, noisy, two_blobs / two_blobs.max()]))[0]
    assert d[0] < 1e-6 and d[1] > 1.0 and d[2] > 1.0


def test_active_units_find_a_known_dead_dimension():
    from heatmap_latent.scores.timeline import active_units

    rng = np.random.default_rng(0)
    codes = np.stack([rng.normal(size=1000), np.full(1000, 0.3), rng.normal(scale=0.05, size=1000)], axis=1)
    assert active_units(codes).tolist() == [True, False, False]  # var 1, 0, 0.0025 against 0.01
    assert active_units(codes, threshold=0.001).tolist() == [True, False, True]


def test_spearman_of_values_constant_to_rounding_is_no_trend():
    from heatmap_latent.analysis.standard_steps import abs_spearman

    steps = np.arange(40)
    # the fitted rho along a path of a collapsed model: 0 +- 1e-17, ranked by rounding before
    noise = np.random.default_rng(0).choice([-1.8e-17, 0.0, 1.8e-17], size=40)
    assert abs_spearman(steps, noise) == 0.0
    assert abs_spearman(steps, 2.5 + noise) == 0.0
    assert abs_spearman(steps, steps * 1e-6) == pytest.approx(1.0)  # a small trend is still one
    assert abs_spearman(steps, -(steps**2)) == pytest.approx(1.0)


def test_near_ties_become_exact_ties_and_nothing_else_moves():
    from heatmap_latent.core.ties import snap_near_ties

    codes = np.array([[0.062, 1.0], [0.062 * (1 + 3e-16), 2.0], [0.05, 2.0 + 4e-16], [0.0621, -3.0]])
    snapped = snap_near_ties(codes)
    assert snapped[0, 0] == snapped[1, 0] == 0.062 and snapped[2, 0] == 0.05 and snapped[3, 0] == 0.0621
    assert snapped[1, 1] == snapped[2, 1] == 2.0 and snapped[0, 1] == 1.0
    assert snap_near_ties(codes.astype(np.float32)).dtype == np.float32
    rng = np.random.default_rng(0)
    real = rng.normal(size=(11875, 3))  # codes of a trained model: nothing is that close
    assert np.array_equal(snap_near_ties(real), real)
