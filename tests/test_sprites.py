"""The procedural sprites (data=sprites, data=dsprites): drawn exactly, read back exactly, trained,
analysed and explored like any dataset of the framework, in grey and in colour."""

from __future__ import annotations

from itertools import islice, product

import numpy as np
import pytest
import torch

from heatmap_latent.core.conf import compose_config
from heatmap_latent.data import SpriteDataModule
from heatmap_latent.data.sprites import AREA, HALF_SIZE, SHAPES, centre, coverage, read_sprites, sprites
from heatmap_latent.data.sprites_datamodule import LazySprites
from heatmap_latent.models import VAE
from tests.browser import needs_chromium, open_page
from tests.conftest import in_process_run

SQUARE, ELLIPSE, HEART = range(3)


def draw(shape, scale=1.0, orientation=0.0, pos_x=0.5, pos_y=0.5, size=64):
    one = lambda v: np.array([float(v)])  # noqa: E731
    return coverage(one(shape), one(scale), one(orientation), one(pos_x), one(pos_y), size)[0]


@pytest.mark.parametrize("shape", SHAPES)
def test_a_sprites_area_grows_with_the_square_of_its_scale_and_its_centroid_is_its_position(shape):
    size = 64
    g = (np.arange(size) + 0.5) / size
    for scale, pos_x, pos_y in ((0.5, 0.0, 1.0), (0.75, 0.3, 0.6), (1.0, 1.0, 0.0)):
        image = draw(SHAPES.index(shape), scale, 0.7, pos_x, pos_y, size)
        area = image.sum() / size**2  # in image units
        assert area == pytest.approx(AREA[shape] * (HALF_SIZE * scale) ** 2, rel=0.02)
        cx, cy = (image.sum(0) * g).sum() / image.sum(), (image.sum(1) * g).sum() / image.sum()
        assert abs(cx - centre(pos_x)) * size < 0.06 and abs(cy - centre(pos_y)) * size < 0.06  # pixels
        assert set(np.unique(image * 16)) <= set(range(17))  # shares of 4 x 4 supersamples, exact in float32


def test_a_turned_square_has_its_corners_on_the_diagonals_and_none_on_the_axes():
    size, reach = 64, HALF_SIZE * 64  # the half side in pixels (7.68)
    upright, turned = draw(SQUARE, size=size), draw(SQUARE, orientation=np.pi / 4, size=size)
    c = size // 2  # the pixel right of and below the centre (the centre is a pixel corner)
    corner = int(reach * 0.9)
    assert upright[c + corner, c + corner] == 1 and turned[c + corner, c + corner] == 0  # the upright's corner
    tip = int(reach * 1.1)  # a turned corner reaches sqrt(2) half sides along the axes, past the upright edge
    assert turned[c, c + tip] == 1 and turned[c + tip, c] == 1 and upright[c, c + tip] == 0
    np.testing.assert_array_equal(draw(SQUARE, orientation=np.pi / 2, size=size), upright)  # 4-fold symmetry
    assert not np.array_equal(draw(HEART, orientation=np.pi, size=size), draw(HEART, size=size))


def test_the_same_factors_draw_the_same_pixels_alone_and_in_any_block():
    dm = SpriteDataModule(position={"size": 3})
    f = dm.factor_values()
    block = dm.render(f)
    for i in (0, 7, 500, len(block) - 1):
        np.testing.assert_array_equal(dm.render({k: v[i : i + 1] for k, v in f.items()})[0], block[i])


@pytest.mark.parametrize("colour", [False, True])
def test_the_inverse_reads_every_image_of_a_test_grid_back_exactly(colour):
    dm = SpriteDataModule(scale={"size": 2}, position={"size": 3}, colour=colour)
    dm.setup()
    assert dm.images.shape == (3 * 2 * 9 * 9 * (4 if colour else 1), 3 if colour else 1, 32, 32)
    read = dm.declaration.invert(dm.images.numpy())
    for name in dm.declaration.names:  # 9 orientations over [0, 2 pi): no two turns draw the same image
        np.testing.assert_array_equal(read[name], dm.factors[name], err_msg=name)


def test_on_dsprites_grid_a_symmetric_turn_reads_as_the_smallest_that_draws_the_same_image():
    grid = {
        "shape": np.arange(3.0),
        "scale": np.array([1.0]),
        "orientation": np.linspace(0, 2 * np.pi, 40),
        "pos_x": np.array([0.5]),
        "pos_y": np.array([0.25]),
    }
    rows = np.array(list(product(*grid.values())))
    f = {k: rows[:, i] for i, k in enumerate(grid)}
    images = sprites(f, 64)
    read = read_sprites(images, grid, 64)
    np.testing.assert_array_equal(sprites(read, 64), images)  # the image read is the image drawn
    same = read["orientation"] == f["orientation"]
    assert not same[f["orientation"] == 2 * np.pi].any() and same[f["orientation"] < 2 * np.pi].all()  # 2 pi reads 0


def test_dsprites_is_its_own_grid_and_is_drawn_by_the_batch_not_held():
    cfg = compose_config("train", ["data=dsprites"])
    dm = SpriteDataModule(**{k: v for k, v in cfg.data.items() if k not in ("_target_",)})
    dm.setup()
    assert isinstance(dm.images, LazySprites) and dm.images.shape == (737_280, 1, 64, 64)
    assert [len(dm.declaration[n].values) for n in dm.declaration.names] == [3, 6, 40, 32, 32]
    rows = torch.tensor([0, 123_456, 737_279])
    drawn = dm.render({k: v[rows.numpy()] for k, v in dm.factors.items()})
    np.testing.assert_array_equal(dm.images[rows].numpy(), drawn)
    batch = next(iter(dm.train_dataloader()))
    assert batch["image"].shape == (dm.batch_size, 1, 64, 64)


def test_loader_processes_draw_the_same_batches_in_the_same_order():
    """data.num_workers: processes draw dSprites' batches (drawn per batch: 0.5 ms an image on a CPU
    core), while the sampler stays here, so the batches are those of the training process alone."""
    cfg = compose_config("train", ["data=dsprites", "data.num_workers=2", "data.batch_size=8"])
    data = {k: v for k, v in cfg.data.items() if k not in ("_target_",)}
    assert data["num_workers"] == 2  # a key of every data module's schema
    loaders = []
    for workers in (0, 2):
        dm = SpriteDataModule(**{**data, "num_workers": workers})
        dm.setup()
        loaders.append(dm.train_dataloader())
    assert (loaders[0].num_workers, loaders[1].num_workers, loaders[1].persistent_workers) == (0, 2, True)
    alone, drawn_apart = (list(islice(loader, 3)) for loader in loaders)
    for a, b in zip(alone, drawn_apart, strict=True):
        torch.testing.assert_close(a["image"], b["image"], rtol=0, atol=0)
        assert all(torch.equal(a["factors"][k], b["factors"][k]) for k in a["factors"])
    with pytest.raises(ValueError, match="data.num_workers must be >= 0, got -1"):
        SpriteDataModule(num_workers=-1)


def test_the_colour_option_is_a_fifth_factor_on_three_channels_and_the_model_follows():
    cfg = compose_config("train", ["data=sprites", "data.colour=true"])
    assert cfg.data.image_channels == 3 and cfg.model.image_channels == 3
    assert compose_config("train", ["data=sprites"]).model.image_channels == 1
    with pytest.raises(ValueError, match="data.image_channels is 3 but data.colour=false draws 1"):
        SpriteDataModule(image_channels=3)
    with pytest.raises(ValueError, match="data.shapes must be some of square, ellipse, heart"):
        SpriteDataModule(shapes=["circle"])


@pytest.mark.parametrize(("size", "channels"), [(32, 1), (64, 1), (64, 3)])
@pytest.mark.parametrize("recon_loss", ["bce", "mse"])
def test_the_backbone_takes_the_datas_size_and_channels_under_both_likelihoods(size, channels, recon_loss):
    model = VAE(image_size=size, image_channels=channels, recon_loss=recon_loss)
    dm = SpriteDataModule(image_size=size, colour=channels == 3, scale={"size": 1}, position={"size": 2})
    dm.setup()
    x = dm.images[:8]
    assert model(x).shape == (8, channels, size, size) and model.decode_batched(model.embed(x)).shape == x.shape
    terms = model.loss_terms(x)
    assert torch.isfinite(terms["loss"]) and terms["loss"] > 0
    terms["loss"].backward()


@pytest.fixture(scope="module")
def colour_run(tmp_path_factory):
    """One epoch on a small colour grid (3 x 2 x 9 x 3 x 3 x 4 hues: 1,944 images, small enough for
    the page to carry them, explorer/page.py TABLE_BUDGET), in this process."""
    run_dir = tmp_path_factory.mktemp("sprites") / "run"
    return in_process_run(
        run_dir,
        "data=sprites",
        "data.colour=true",
        "data.scale.size=2",
        "data.position.size=3",
        "model=beta_vae",
        "trainer.max_epochs=1",
        "logger=none",
        tiny=False,
    )


def test_a_colour_sprites_run_is_analysed_with_every_generic_step(colour_run, tmp_path):
    from heatmap_latent.analyze import analyze

    result = analyze(compose_config("analyze", [f"output_dir={tmp_path}", f"run={colour_run}", "figures=false"]))
    (metrics,) = result["runs"].values()
    names = ["shape", "scale", "orientation", "pos_x", "pos_y", "hue"]
    assert metrics["disentanglement"]["factors"] == names
    assert set(metrics["round_trip"]) == set(names)
    assert (
        set(metrics["round_trip"]["shape"]) == {"share_wrong"} and metrics["round_trip"]["orientation"]["mean"] <= np.pi
    )
    # the heatmap study is not run on another dataset: none of its steps, no claims
    assert not {"trajectories", "realism", "df_classifier"} & set(metrics) and "claims" not in result


@needs_chromium
def test_the_colour_sprites_page_decodes_and_encodes_three_channels_as_torch(colour_run, tmp_path):
    from heatmap_latent.analysis.loading import load_run
    from heatmap_latent.explorer import write_explorer

    run = load_run(colour_run)
    page_path = write_explorer(run, tmp_path / "explorer.html")
    rng = np.random.default_rng(0)
    latents = run.model.embed(run.datamodule.images).numpy()
    z = latents[rng.choice(len(latents), 10)] + 0.1 * rng.normal(size=(10, latents.shape[1]))
    images = run.datamodule.images[rng.choice(len(latents), 10)]
    with open_page(page_path) as (page, errors):
        got = np.array(page.evaluate("zs => zs.map(z => Array.from(window.heatmapLatent.decode(z)))", z.tolist()))
        assert np.abs(got - run.model.decode_batched(z).numpy().reshape(10, -1)).max() < 1e-4
        codes = np.array(
            page.evaluate(
                "xs => xs.map(x => Array.from(window.heatmapLatent.encode(x)))", images.reshape(10, -1).tolist()
            )
        )
        assert np.abs(codes - run.model.embed(images).numpy()).max() < 1e-4
        assert errors == []


@needs_chromium
def test_the_sprites_page_has_a_factor_panel_that_draws_and_reads_the_declared_factors(colour_run, tmp_path):
    from heatmap_latent.analysis.loading import load_run
    from heatmap_latent.explorer import write_explorer

    run = load_run(colour_run)
    page_path = write_explorer(run, tmp_path / "explorer.html")
    values = run.datamodule.factor_values()
    names = ["shape", "scale", "orientation", "pos_x", "pos_y", "hue"]
    row = 101
    wanted = {k: float(values[k][row]) for k in names}
    with open_page(page_path) as (page, errors):
        assert page.locator("#factor-panel").is_visible()
        assert page.evaluate("window.heatmapLatent.declaration.map(f => f.name)") == names
        assert page.locator("#factor-shape").evaluate("e => e.tagName") == "SELECT"  # categorical: a picker
        assert page.locator("#factor-orientation").get_attribute("type") == "range"
        page.evaluate("f => window.heatmapLatent.actions.setFactors(f)", wanted)
        drawn = np.array(page.evaluate("Array.from(window.heatmapLatent.probes.factorImage)"))
        # that very sprite (the page carries the images in steps of 1/255)
        assert np.abs(drawn - run.datamodule.images[row].numpy().reshape(-1)).max() <= 0.5 / 255 + 1e-6
        fit = page.evaluate("window.heatmapLatent.probes.factorFit")
        assert set(names) <= set(fit)  # the decoded image read back as factors
        assert fit["shape"] in (0, 1, 2) and 0 <= fit["pos_x"] <= 1
        assert errors == []


@pytest.mark.slow
def test_train_analyze_and_explore_a_sprites_beta_vae_from_the_command_line(tmp_path):
    """The README's commands on sprites, as a user runs them (a small grid, 2 epochs)."""
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT

    run = tmp_path / "run"
    small = ["data.scale.size=2", "data.position.size=4", "trainer.max_epochs=2", "logger=none"]
    trained = subprocess.run(
        [sys.executable, "train.py", "data=sprites", "model=beta_vae", *small, f"hydra.run.dir={run}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert json.loads((run / "job.json").read_text())["status"] == "completed"
    out = tmp_path / "analysis"
    analysed = subprocess.run(
        [sys.executable, "analyze.py", f"run={run}", f"output_dir={out}", "figures=false"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert analysed.returncode == 0, analysed.stderr[-3000:]
    (metrics,) = json.loads((out / "metrics.json").read_text())["runs"].values()
    assert metrics["disentanglement"]["factors"] == ["shape", "scale", "orientation", "pos_x", "pos_y"]
    page = tmp_path / "page.html"
    explored = subprocess.run(
        [sys.executable, "-m", "heatmap_latent.explorer", str(run), "-o", str(page)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert explored.returncode == 0, explored.stderr[-3000:]
    assert page.stat().st_size > 0 and "images_u8" in page.read_text()  # the page carries the sprites
