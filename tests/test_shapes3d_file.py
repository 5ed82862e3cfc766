"""3dshapes from its file: a tiny ``3dshapes.h5`` in exactly the published format (``images`` N x 64 x
64 x 3 uint8, ``labels`` N x 6 float64 in the dataset's factor order) read through the data module
and ``train.py``; a missing or malformed file is one line. Nothing is downloaded."""

from __future__ import annotations

import itertools
import json
import subprocess

import numpy as np
import pytest

from heatmap_latent.core.errors import UserError
from heatmap_latent.data import Shapes3DFileDataModule
from tests.conftest import ROOT, train_cmd

h5py = pytest.importorskip("h5py", reason='h5py is the datasets extra: pip install -e ".[datasets]"')


def write_shapes3d(path, sizes=(2, 2, 2, 2, 4, 3)):
    """A 3dshapes file of a small grid: its value conventions (hues in [0, 1), scale 0.75-1.25,
    shape 0-3, orientation -30 to 30), each image a flat colour of its factors so rows differ."""
    axes = [
        np.linspace(0, 0.9, sizes[0]),
        np.linspace(0, 0.9, sizes[1]),
        np.linspace(0, 0.9, sizes[2]),
        np.linspace(0.75, 1.25, sizes[3]),
        np.arange(sizes[4], dtype=np.float64),
        np.linspace(-30, 30, sizes[5]),
    ]
    labels = np.array(list(itertools.product(*axes)), dtype=np.float64)
    images = np.zeros((len(labels), 64, 64, 3), np.uint8)
    images[:, :32] = (labels[:, None, None, :3] * 255).astype(np.uint8)  # the three hues, top half
    # shape (0-3) and orientation (-30, 0, 30) in one channel, each pair its own level: no two rows alike
    images[:, 32:, :, 0] = (labels[:, None, None, 4] * 60 + (labels[:, None, None, 5] + 30) / 2).astype(np.uint8)
    images[:, 32:, :, 1] = (labels[:, None, None, 3] * 100).astype(np.uint8)
    with h5py.File(path, "w") as f:
        f.create_dataset("images", data=images, compression="gzip")
        f.create_dataset("labels", data=labels)
    return path


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    return write_shapes3d(tmp_path_factory.mktemp("shapes3d") / "3dshapes.h5")


def test_the_file_reads_as_its_six_factors_with_uint8_rgb_in_memory(tiny_file):
    data = Shapes3DFileDataModule(str(tiny_file))
    data.setup()
    assert data.images.pixels.dtype == np.uint8 and data.images.shape == (192, 3, 64, 64)
    assert list(data.factors) == ["floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation"]
    batch = data.images[np.array([1, 7])]
    assert batch.dtype.is_floating_point and float(batch.max()) <= 1.0
    assert len(np.unique(data.images.pixels.reshape(len(data.images), -1), axis=0)) == len(data.images)
    rows = np.array([0, 50, 191])
    rendered = data.declaration.render({k: v[rows] for k, v in data.factors.items()})
    assert np.array_equal(rendered, data.images[rows].numpy())  # the file's own images
    assert {f.name: f.kind.name for f in data.declaration.factors}["shape"] == "CATEGORICAL"


def test_a_missing_or_malformed_file_is_one_line_naming_it(tmp_path):
    with pytest.raises(UserError, match=r"none\.h5 \(data\.path\): no such file; 3dshapes is published at"):
        Shapes3DFileDataModule(str(tmp_path / "none.h5")).setup()
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.create_dataset("images", data=np.zeros((2, 64, 64, 3), np.uint8))
    with pytest.raises(UserError, match=r"not a 3dshapes file: no labels"):
        Shapes3DFileDataModule(str(tmp_path / "other.h5")).setup()
    (tmp_path / "torn.h5").write_bytes(b"\x89HDF\r\n\x1a\n torn")
    with pytest.raises(UserError, match=r"torn\.h5 \(data\.path\): not a readable HDF5 file"):
        Shapes3DFileDataModule(str(tmp_path / "torn.h5")).setup()


@pytest.mark.slow
def test_train_py_trains_on_the_file_in_colour(tiny_file, tmp_path):
    run = tmp_path / "run"
    args = ["data=shapes3d", f"data.path={tiny_file}", "model=vae", "model/net=dlib_conv", "model.latent_dim=6"]
    args += ["trainer.max_epochs=1", "logger=none", "callbacks=none", f"hydra.run.dir={run}"]
    done = subprocess.run(train_cmd(*args, tiny=False), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads((run / "job.json").read_text())
    assert record["status"] == "completed" and np.isfinite(record["metrics"]["test/loss"])
