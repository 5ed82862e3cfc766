"""What an analysis reads (``analyze.yaml`` max_images, skip): a dataset above the cap is seen through a
seeded uniform subset, each image with its own factors and split; steps can be left out by name; the
heatmap study is refused both (its claims are judged on every image and read every step)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from heatmap_latent.analysis.loading import RunLoadError
from heatmap_latent.analysis.subset import SubsetDataModule, images_read, images_record
from heatmap_latent.core.errors import UserError
from heatmap_latent.core.subsample import random_subset
from heatmap_latent.data.file_images import Uint8Images
from heatmap_latent.data.sprites_datamodule import SpriteDataModule
from tests.conftest import analyze_in_process


@pytest.fixture(scope="module")
def sprites():
    data = SpriteDataModule()
    data.setup()
    return data


def test_a_random_subset_is_distinct_sorted_seeded_and_capped():
    rows = random_subset(1000, 100, seed=3)
    assert len(set(rows)) == 100 and np.all(np.diff(rows) > 0) and rows.max() < 1000
    assert np.array_equal(rows, random_subset(1000, 100, seed=3))
    assert not np.array_equal(rows, random_subset(1000, 100, seed=4))
    assert np.array_equal(random_subset(5, 100, seed=0), np.arange(5))


def test_the_subset_keeps_each_images_pixels_factors_and_split(sprites):
    seen = images_read(sprites, 500, seed=0)
    assert isinstance(seen, SubsetDataModule) and len(seen.images) == 500 and seen.images.shape[1:] == (1, 32, 32)
    rows = seen.rows
    picks = np.array([0, 7, 499])
    assert torch.equal(seen.images[torch.from_numpy(picks)], sprites.images[torch.from_numpy(rows[picks])])
    assert torch.equal(seen.images[slice(10, 20)], sprites.images[torch.from_numpy(rows[10:20])])
    for name, values in sprites.factors.items():
        assert np.array_equal(seen.factors[name], np.asarray(values)[rows])
    for split in ("train_idx", "val_idx", "test_idx"):  # an image of a split stays in it, and only there
        assert set(rows[getattr(seen, split)]) == set(getattr(sprites, split)) & set(rows)
    assert len(seen.train_idx) + len(seen.val_idx) + len(seen.test_idx) == 500
    # everything else is the data module's own
    assert seen.name == sprites.name and seen.declaration is sprites.declaration
    assert images_record(seen) == {"read": 500, "of": len(sprites.images), "chosen": "uniform random subset"}
    # the codes of the subset's images, encoded batch by batch as the analysis does
    chunks = list(seen.images.split(128))
    assert [len(c) for c in chunks] == [128, 128, 128, 116]


def test_a_dataset_at_or_below_the_cap_is_read_whole(sprites):
    n = len(sprites.images)
    assert images_read(sprites, n, seed=0) is sprites and images_read(sprites, None, seed=0) is sprites
    assert images_record(sprites) == {"read": n, "of": n, "chosen": "all"}


def test_a_subset_of_file_images_reads_only_its_rows():
    pixels = np.arange(20 * 4 * 4, dtype=np.uint8).reshape(20, 4, 4)

    class Module:
        images = Uint8Images(pixels, 255)
        factors = {"i": np.arange(20.0)}
        train_idx, val_idx, test_idx = np.arange(12), np.arange(12, 16), np.arange(16, 20)

    seen = images_read(Module(), 6, seed=1)
    assert np.array_equal(seen.factors["i"], seen.rows)
    assert np.allclose(seen.images[np.arange(6)].numpy()[:, 0], pixels[seen.rows] / 255)


@pytest.mark.slow  # trains the tiny runs (shared)
def test_the_heatmap_study_is_refused_a_subset_in_one_line(tiny_runs, tmp_path):
    with pytest.raises(RunLoadError, match=r"max_images=50 would analyse .* on a subset of its \d+ images"):
        analyze_in_process(tmp_path / "out", f"run={tiny_runs / '1'}", "max_images=50", "figures=false")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    with pytest.raises(ValueError, match="max_images"):
        analyze_in_process(tmp_path / "out", f"run={tiny_runs / '1'}", "max_images=0", "figures=false")


@pytest.mark.slow  # trains the tiny runs (shared)
def test_a_step_left_out_must_exist_and_the_study_is_refused_any(tiny_runs, tmp_path):
    with pytest.raises(UserError, match=r"skip: no analysis step named nope; the steps are .*round_trip"):
        analyze_in_process(tmp_path / "out", f"run={tiny_runs / '1'}", "skip=[nope]", "figures=false")
    with pytest.raises(UserError, match=r"the heatmap study's claims read every step"):
        analyze_in_process(tmp_path / "out", f"run={tiny_runs / '1'}", "skip=[round_trip]", "figures=false")
