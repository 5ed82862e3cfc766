"""The field's disentanglement scores on reference codes whose answers follow from the definitions."""

from __future__ import annotations

import numpy as np
import pytest

from heatmap_latent.analysis.similarity import relative_strength, udr
from heatmap_latent.scores.supervised import beta_vae_score, factor_labels, factor_vae_score, modularity_explicitness

# its module fixtures train or analyse: every test of this file runs on one xdist worker (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("scores")

FAST = {"batch_size": 64, "num_train": 2000, "num_eval": 1000}


@pytest.fixture(scope="module")
def grid():
    """The study's factor grid (11,875 points), standardised, with its labels and 6000 training and
    1500 test points for modularity and explicitness (a logistic regression over 25 classes per factor
    takes seconds on the 80/20 split, and the answers below need no more points)."""
    values = np.arange(0.1, 5, 0.2)
    rho = np.arange(-0.95, 0.95, 0.1)
    factors = np.array(np.meshgrid(values, values, rho, indexing="ij")).reshape(3, -1).T
    order = np.random.default_rng(0).permutation(len(factors))
    return (factors - factors.mean(0)) / factors.std(0), factor_labels(factors), order[:6000], order[6000:7500]


def all_scores(codes, grid):
    f, labels, train, test = grid
    active = codes.var(axis=0) > 0.01
    return (
        beta_vae_score(codes, labels, 0, **FAST)["eval_accuracy"],
        factor_vae_score(codes, labels, active, 0, **FAST)["eval_accuracy"],
        modularity_explicitness(codes[train], labels[train], codes[test], labels[test]),
    )


def test_identity_codes_score_perfectly(grid):
    beta, factor, me = all_scores(grid[0], grid)
    assert beta == 1.0 and factor == 1.0  # each factor's fixed batches vary least in its own code
    assert me["modularity"] > 0.999 and me["explicitness_test"] > 0.99


def test_noise_scores_at_chance(grid):
    beta, factor, me = all_scores(np.random.default_rng(1).normal(size=grid[0].shape), grid)
    assert beta == pytest.approx(1 / 3, abs=0.05) and factor == pytest.approx(1 / 3, abs=0.05)  # 3 factors
    assert me["explicitness_test"] == pytest.approx(0.5, abs=0.03)  # ROC-AUC of a guess


def test_a_rotation_mixing_two_factors_lowers_every_score_but_explicitness(grid):
    f = grid[0]
    mixed = np.stack([(f[:, 0] + f[:, 1]) / np.sqrt(2), (f[:, 0] - f[:, 1]) / np.sqrt(2), f[:, 2]], axis=1)
    beta, factor, me = all_scores(mixed, grid)
    # fixing f0 or f1 changes |dz0| and |dz1| alike: neither score can tell those two apart, f2 is
    # still its own code: 2/3 for both
    assert beta == pytest.approx(2 / 3, abs=0.07) and factor == pytest.approx(2 / 3, abs=0.07)
    # z0 and z1 carry f0 and f1 equally: their modularity is 1 - 1/2, z2's is 1
    assert me["modularity"] == pytest.approx((0.5 + 0.5 + 1) / 3, abs=0.05)
    assert me["explicitness_test"] > 0.95  # every factor still readable


def test_a_duplicated_factor_leaves_one_unexplained(grid):
    f = grid[0]
    duplicated = np.stack([f[:, 0], f[:, 0] + 1e-3 * f[:, 1], f[:, 1]], axis=1)  # f2 is nowhere
    _, factor, me = all_scores(duplicated, grid)
    assert factor < 0.8  # f2's batches have no lowest-variance code of their own
    assert me["modularity"] > 0.95  # each code is about one factor: modularity does not see the missing one
    assert me["explicitness_test"] == pytest.approx((1 + 1 + 0.5) / 3, abs=0.04)


def test_a_collapsed_dimension_is_left_out_of_the_factor_vae_score(grid):
    f, labels, _, _ = grid
    collapsed = np.concatenate([f, np.zeros((len(f), 1))], axis=1)
    active = collapsed.var(axis=0) > 0.01
    scores = factor_vae_score(collapsed, labels, active, 0, **FAST)
    assert scores["n_active"] == 3 and scores["eval_accuracy"] == 1.0
    # keeping every dimension, as disentanglement_lib's default threshold does, divides by a zero scale
    with np.errstate(invalid="ignore", divide="ignore"):
        kept_all = factor_vae_score(collapsed, labels, np.ones(4, bool), 0, **FAST)
    assert kept_all["eval_accuracy"] < 1.0


def test_udr_ranks_seeds_that_agree_above_one_that_does_not():
    rng = np.random.default_rng(0)
    f = rng.uniform(size=(3000, 3))
    codes = {"a": f, "b": -2 * f[:, [2, 0, 1]], "c": f + 0.01 * rng.normal(size=f.shape), "d": rng.normal(size=f.shape)}
    every = {k: np.ones(3, bool) for k in codes}
    scores = udr(codes, every)
    assert min(scores[k]["score"] for k in "abc") > 0.9 and scores["d"]["score"] < 0.1
    assert all(s["n_pairs"] == 3 for s in scores.values())
    # an uninformative dimension is left out of the comparison
    two = np.array([True, True, False])
    assert udr({"a": f, "b": f}, {"a": two, "b": two})["a"]["score"] > 0.9
    # ... and one model with a dimension the other lacks scores lower, as in disentanglement_lib
    assert 0.6 < udr({"a": f, "b": f}, {"a": two, "b": every["b"]})["a"]["score"] < 0.9
    assert relative_strength(np.zeros((0, 0))) == 0.0 and udr({"a": f}, every) == {}


def test_the_scores_a_snapshot_writes_see_a_factorised_code_and_a_random_one():
    from heatmap_latent.scores.timeline import latent_scores

    rng = np.random.default_rng(0)
    n = 2000
    factors = {"a": rng.integers(0, 10, n) * 0.5, "b": rng.integers(0, 8, n) * 0.25, "c": rng.integers(0, 6, n) * 1.0}
    aligned = np.stack([factors[k] for k in factors], axis=1) + 1e-3 * rng.normal(size=(n, 3))
    good = latent_scores(aligned, factors, seed=1)
    assert good["mig"] > 0.5 and good["sap"] > 0.5 and good["beta_vae"] > 0.95 and good["factor_vae"] > 0.95
    assert good["active_units"] == 3
    noise = latent_scores(rng.normal(size=(n, 3)), factors, seed=1)
    assert noise["mig"] < 0.05 and noise["sap"] < 0.05 and noise["factor_vae"] < 0.5  # chance: 1/3
    dead = latent_scores(np.c_[aligned[:, :2], np.zeros(n)], factors, seed=1)
    assert dead["active_units"] == 2
    assert latent_scores(aligned, factors, seed=1) == good  # seeded: the same scores again


def _classes(seed=0):
    """Three factors of 4 classes each, every combination 8 times (512 points), codes = the factors."""
    grid = np.array(np.meshgrid(*[np.arange(4.0)] * 3, indexing="ij")).reshape(3, -1).T
    factors = np.repeat(grid, 8, axis=0)
    order = np.random.default_rng(seed).permutation(len(factors))
    return factors, order[:384], order[384:]


def test_disentanglement_libs_dci_and_sap_see_a_factorised_code_and_a_mixed_one():
    from heatmap_latent.scores.dlib_variants import dci_gradient_boosting, sap_discrete

    factors, tr, te = _classes()
    labels = factor_labels(factors)
    codes = factors + 0.05 * np.random.default_rng(1).normal(size=factors.shape)
    mixed = np.c_[codes[:, 0] + codes[:, 1], codes[:, 0] - codes[:, 1], codes[:, 2]]

    def both(z):
        train, test = (z[tr], labels[tr]), (z[te], labels[te])
        return dci_gradient_boosting(train, test, 300, 100, 0), sap_discrete(train, test, 300, 100, 0)

    (dci, sap), (dci_mixed, sap_mixed) = both(codes), both(mixed)
    assert dci["disentanglement"] > 0.9 and dci["completeness"] > 0.9 and dci["informativeness"] > 0.95
    assert dci["informativeness_train"] == 1.0
    # each factor's own dimension classifies it, the others at chance (1/4); a one-vs-rest linear SVM on
    # one dimension cannot pick out the two middle classes of four, so even this code stays near 0.5
    assert 0.45 < sap <= 1.0
    # two factors spread over two dimensions: each dimension is about both, and one dimension alone
    # reads neither factor well
    assert dci_mixed["disentanglement"] < dci["disentanglement"] - 0.3
    assert sap_mixed < sap - 0.25
    noise = np.random.default_rng(2).normal(size=factors.shape)
    dci_noise, sap_noise = both(noise)
    assert dci_noise["disentanglement"] < 0.05 and dci_noise["informativeness"] < 0.35 and sap_noise < 0.05
    assert dci_mixed["informativeness"] > 0.9  # still readable from both dimensions together


def test_the_dlib_scores_step_runs_on_a_run_when_turned_on(tmp_path):
    from heatmap_latent.analysis.dlib_scores import DLIB_SCORES
    from heatmap_latent.analysis.loading import load_run
    from heatmap_latent.analysis.pipeline import analyze_run
    from tests.golden import GOLDEN_RUN

    scores = {"dlib": {"enabled": True, "num_train": 40, "num_test": 10}}
    analysis = analyze_run(load_run(GOLDEN_RUN), [DLIB_SCORES], scores=scores)
    got = analysis.metrics["dlib_scores"]
    assert got["num_train"] == 40 and got["num_test"] == 10 and got["factors"] == ["var_x", "var_y", "rho"]
    assert 0 <= got["dci"]["disentanglement"] <= 1 and 0 <= got["sap"] <= 1 and got["dci"]["informativeness"] > 0
