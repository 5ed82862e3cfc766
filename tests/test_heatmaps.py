import numpy as np
import pytest
from scipy import stats

from heatmap_latent.data import GaussianHeatmapDataModule, StudentTHeatmapDataModule
from heatmap_latent.data.heatmaps import (
    Range,
    factor_grid,
    gaussian_heatmaps,
    student_t_df,
    student_t_heatmaps,
)
from heatmap_latent.data.splits import split_indices

SPEC_VAR = Range(0.1, 5.0, 0.2)
SPEC_RHO = Range(-0.95, 0.95, 0.1)
GRID = {"low": -3.0, "high": 3.0, "size": 36}


def covariance(var_x, var_y, rho):
    c = rho * np.sqrt(var_x * var_y)
    return np.array([[var_x, c], [c, var_y]])


def scipy_image(dist):
    """Reference: the density at x = g[j] (columns), y = g[i] (rows), divided by its max."""
    g = np.linspace(-3, 3, 36)
    x, y = np.meshgrid(g, g)
    pdf = dist.pdf(np.stack([x, y], axis=-1))
    return pdf / pdf.max()


def test_factor_grid_matches_spec():
    factors = factor_grid(SPEC_VAR, SPEC_RHO)
    assert {k: len(np.unique(v)) for k, v in factors.items()} == {"var_x": 25, "var_y": 25, "rho": 19}
    assert len(factors["rho"]) == 11_875
    assert np.isclose(factors["rho"].min(), -0.95) and np.isclose(factors["rho"].max(), 0.85)
    assert np.isclose(factors["var_x"].min(), 0.1) and np.isclose(factors["var_x"].max(), 4.9)
    combos = np.stack([factors["var_x"], factors["var_y"], factors["rho"]], axis=1).round(6)
    assert len(np.unique(combos, axis=0)) == 11_875


def test_gaussian_images_match_scipy():
    factors = factor_grid(SPEC_VAR, SPEC_RHO)
    pick = np.random.default_rng(0).choice(11_875, size=40, replace=False)
    images = gaussian_heatmaps(*(factors[k][pick] for k in ("var_x", "var_y", "rho")), **GRID)
    for image, n in zip(images, pick):
        cov = covariance(factors["var_x"][n], factors["var_y"][n], factors["rho"][n])
        ref = scipy_image(stats.multivariate_normal(mean=[0, 0], cov=cov))
        np.testing.assert_allclose(image, ref, atol=1e-5)


def test_student_t_images_match_scipy():
    factors = factor_grid(SPEC_VAR, SPEC_RHO)
    pick = np.random.default_rng(1).choice(11_875, size=40, replace=False)
    df = np.tile([2, 200], 20)
    images = student_t_heatmaps(*(factors[k][pick] for k in ("var_x", "var_y", "rho")), df, **GRID)
    for image, n, d in zip(images, pick, df):
        shape = covariance(factors["var_x"][n], factors["var_y"][n], factors["rho"][n])
        ref = scipy_image(stats.multivariate_t(loc=[0, 0], shape=shape, df=d))
        np.testing.assert_allclose(image, ref, atol=1e-5)


def test_orientation_var_x_widens_columns_and_rho_tilts():
    wide, tall, tilted = gaussian_heatmaps(
        np.array([4.0, 0.3, 2.0]), np.array([0.3, 4.0, 2.0]), np.array([0.0, 0.0, 0.8])
    )
    assert wide[18].sum() > wide[:, 18].sum()  # mass spreads along a row: wide in x
    assert tall[:, 18].sum() > tall[18].sum()
    # positive rho: mass along the main diagonal (x and y grow together; row 0 is y = -3)
    assert np.trace(tilted) > np.trace(np.fliplr(tilted))


def test_images_are_max_normalised():
    images = gaussian_heatmaps(np.array([0.1, 4.9]), np.array([4.9, 0.1]), np.array([-0.95, 0.85]))
    np.testing.assert_allclose(images.max(axis=(1, 2)), 1.0)
    assert images.min() >= 0


def test_df_rule_is_seeded_and_follows_spec():
    factors = factor_grid(SPEC_VAR, SPEC_RHO)
    df = student_t_df(factors["var_x"], factors["var_y"], seed=7)
    level = np.random.default_rng(7).uniform(0, 10, size=11_875)
    expected = np.where((factors["var_x"] + factors["var_y"]) ** 2 - level > 20, 2, 200)
    np.testing.assert_array_equal(df, expected)
    assert 0.35 < np.mean(df == 2) < 0.65
    assert not np.array_equal(df, student_t_df(factors["var_x"], factors["var_y"], seed=8))


def test_split_is_seeded_disjoint_and_80_20():
    train, test = split_indices(11_875, 0.8, seed=3)
    assert len(train) == 9_500 and len(test) == 2_375
    assert len(np.intersect1d(train, test)) == 0
    np.testing.assert_array_equal(np.union1d(train, test), np.arange(11_875))
    np.testing.assert_array_equal(train, split_indices(11_875, 0.8, seed=3)[0])
    assert not np.array_equal(train, split_indices(11_875, 0.8, seed=4)[0])


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.5])
def test_split_rejects_bad_fraction(bad):
    with pytest.raises(ValueError, match="train_fraction"):
        split_indices(10, bad, seed=0)


def test_full_datamodule_exposes_aligned_dataset():
    dm = StudentTHeatmapDataModule(grid=GRID, var=vars(SPEC_VAR), rho=vars(SPEC_RHO), seed=5, val_fraction=0.0)
    dm.setup()
    assert dm.images.shape == (11_875, 1, 36, 36) and str(dm.images.dtype) == "torch.float32"
    assert set(dm.factors) == {"var_x", "var_y", "rho", "df"}
    assert all(len(v) == 11_875 for v in dm.factors.values())
    assert len(dm.train_idx) == 9_500 and np.array_equal(dm.val_idx, dm.test_idx)
    n = int(dm.test_idx[17])
    f = {k: v[n] for k, v in dm.factors.items()}
    expected = student_t_heatmaps(np.array([f["var_x"]]), np.array([f["var_y"]]), np.array([f["rho"]]), [f["df"]])
    np.testing.assert_allclose(dm.images[n, 0].numpy(), expected[0], atol=1e-6)


def test_batches_carry_images_and_factors():
    dm = GaussianHeatmapDataModule(
        grid={"low": -3, "high": 3, "size": 12},
        var={"start": 0.1, "stop": 5, "step": 1.0},
        rho={"start": -0.95, "stop": 0.95, "step": 0.5},
        batch_size=16,
        val_fraction=0.25,
    )
    dm.setup()
    assert len(np.intersect1d(dm.val_idx, dm.train_idx)) == 0 and len(np.intersect1d(dm.val_idx, dm.test_idx)) == 0
    loader = dm.train_dataloader()
    batches = list(loader)
    assert len(batches) == len(loader) == int(np.ceil(len(dm.train_idx) / 16))
    seen = np.concatenate([b["factors"]["rho"].numpy() for b in batches])
    assert len(seen) == len(dm.train_idx)
    first = batches[0]
    assert first["image"].shape == (16, 1, 12, 12)
    # the factors travel with their images: re-render the first image from its batch factors
    f = {k: v[:1].double().numpy() for k, v in first["factors"].items()}
    np.testing.assert_allclose(
        first["image"][0, 0].numpy(), gaussian_heatmaps(**f, low=-3, high=3, size=12)[0], atol=1e-6
    )
    # each epoch reshuffles, and the order is seeded
    second_epoch = np.concatenate([b["factors"]["rho"].numpy() for b in loader])
    assert not np.array_equal(second_epoch, seen)
    np.testing.assert_array_equal(np.concatenate([b["factors"]["rho"].numpy() for b in dm.train_dataloader()]), seen)


@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize("val_fraction", [0.05, 0.1, 0.3])
def test_the_validation_split_is_held_out_of_train_and_never_touches_test(seed, val_fraction):
    spec = {"grid": GRID, "var": vars(SPEC_VAR), "rho": vars(SPEC_RHO)}
    dm = GaussianHeatmapDataModule(**spec, seed=seed, val_fraction=val_fraction)
    dm.setup()
    train, val, test = (set(map(int, i)) for i in (dm.train_idx, dm.val_idx, dm.test_idx))
    assert not train & val and not train & test and not val & test
    assert len(train | val | test) == 11_875 and len(test) == 2_375
    assert len(val) == round(val_fraction * 9_500)


def test_validation_is_held_out_by_default_and_the_seeds_protocol_is_one_switch():
    default = GaussianHeatmapDataModule(grid=GRID, var=vars(SPEC_VAR), rho=vars(SPEC_RHO))
    seeds = GaussianHeatmapDataModule(grid=GRID, var=vars(SPEC_VAR), rho=vars(SPEC_RHO), val_fraction=0.0)
    default.setup()
    seeds.setup()
    assert len(default.val_idx) == 950 and not set(default.val_idx) & set(default.test_idx)
    assert np.array_equal(seeds.val_idx, seeds.test_idx)  # data.val_fraction=0: validate on test
    assert np.array_equal(default.test_idx, seeds.test_idx)  # the test split does not move
