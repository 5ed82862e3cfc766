"""MPI3D from its file: tiny ``mpi3d_*.npz`` files in exactly the published format (one array,
``images`` N x S x S x 3 uint8, every combination of the seven factors in C order, no labels), stored
as ``np.savez`` stores (memory-mapped here) and as ``np.savez_compressed`` does; the layout read from
the length, a missing or malformed file one line. Nothing is downloaded."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from heatmap_latent.core.errors import UserError
from heatmap_latent.data import MPI3DFileDataModule
from heatmap_latent.data.mpi3d_file import CATEGORICAL, LAYOUTS, NAMES
from tests.conftest import ROOT, train_cmd

SMALL = (2, 2, 2, 2, 2, 2, 2)


def write_mpi3d(path, sizes=SMALL, side=64, compressed=False):
    """Every combination of ``sizes`` in C order (the published layout); each image's pixels spell its
    factor indices (one band of rows per factor), so no two images are alike."""
    index = np.indices(sizes).reshape(len(sizes), -1).T  # (N, 7), C order
    images = np.zeros((len(index), side, side, 3), np.uint8)
    band = max(side // len(sizes), 1)
    for k in range(len(sizes)):
        images[:, k * band : (k + 1) * band, :, k % 3] = (40 + 30 * index[:, k, None, None]).astype(np.uint8)
    (np.savez_compressed if compressed else np.savez)(path, images=images)
    return path


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    return write_mpi3d(tmp_path_factory.mktemp("mpi3d") / "mpi3d_toy.npz")


def test_the_file_reads_as_its_seven_factors_memory_mapped_or_whole(tiny_file, tmp_path):
    data = MPI3DFileDataModule(str(tiny_file), factor_sizes=list(SMALL))
    data.setup()
    assert isinstance(data.images.pixels, np.memmap)  # np.savez stores the array: nothing read until used
    assert data.images.pixels.dtype == np.uint8 and data.images.shape == (128, 3, 64, 64)
    assert list(data.factors) == list(NAMES)
    # C order: the last factor varies fastest, the first slowest
    assert data.factors["vertical_axis"][:4].tolist() == [0, 1, 0, 1] and data.factors["object_color"][63] == 0
    assert data.factors["object_color"][64] == 1
    rows = np.array([0, 37, 127])
    rendered = data.declaration.render({k: v[rows] for k, v in data.factors.items()})
    assert np.array_equal(rendered, data.images[rows].numpy())  # the file's own images
    assert len(np.unique(np.asarray(data.images.pixels).reshape(128, -1), axis=0)) == 128
    kinds = {f.name: f.kind.name for f in data.declaration.factors}
    assert kinds["object_shape"] == "CATEGORICAL" and kinds["horizontal_axis"] == "CONTINUOUS"
    packed = MPI3DFileDataModule(str(write_mpi3d(tmp_path / "c.npz", compressed=True)), factor_sizes=list(SMALL))
    packed.setup()
    assert not isinstance(packed.images.pixels, np.memmap)
    assert np.array_equal(packed.images.pixels, np.asarray(data.images.pixels))


def test_the_layout_is_read_from_the_length(tmp_path):
    """460,800 images are the challenge release's layout (4, 4, 2, 3, 3, 40, 40): written at a side of 2
    pixels, 5.5 MB, to read the length as the published file's."""
    sizes = LAYOUTS[460_800]
    data = MPI3DFileDataModule(str(write_mpi3d(tmp_path / "mpi3d_real.npz", sizes, side=2)), image_size=2)
    data.setup()
    assert [len(np.unique(data.factors[n])) for n in NAMES] == list(sizes)
    assert data.factors["horizontal_axis"][:41].tolist() == [0] * 40 + [1]
    with pytest.raises(UserError, match=r"128 images, not a published MPI3D length: 1,036,800 \(factor sizes"):
        MPI3DFileDataModule(str(write_mpi3d(tmp_path / "small.npz")), image_size=64).setup()


def test_a_missing_or_malformed_file_is_one_line_naming_it(tmp_path):
    with pytest.raises(UserError, match=r"none\.npz \(data\.path\): no such file; MPI3D is published at"):
        MPI3DFileDataModule(str(tmp_path / "none.npz")).setup()
    np.savez(tmp_path / "other.npz", imgs=np.zeros((2, 64, 64, 3), np.uint8))
    with pytest.raises(UserError, match=r"not an MPI3D file: no images"):
        MPI3DFileDataModule(str(tmp_path / "other.npz")).setup()
    np.savez(tmp_path / "grey.npz", images=np.zeros((128, 64, 64), np.uint8))
    with pytest.raises(UserError, match=r"expected images \(N, 64, 64, 3\) uint8; got \(128, 64, 64\)"):
        MPI3DFileDataModule(str(tmp_path / "grey.npz"), factor_sizes=list(SMALL)).setup()
    (tmp_path / "torn.npz").write_bytes(b"PK\x03\x04 torn")
    with pytest.raises(UserError, match=r"torn\.npz \(data\.path\): not a readable \.npz file"):
        MPI3DFileDataModule(str(tmp_path / "torn.npz")).setup()
    with pytest.raises(UserError, match=r"data\.factor_sizes \[2, 2\] \(one per factor of object_color"):
        MPI3DFileDataModule(str(write_mpi3d(tmp_path / "t.npz")), factor_sizes=[2, 2]).setup()


@pytest.mark.slow
def test_train_py_trains_on_the_file_and_analyze_py_reads_the_run(tiny_file, tmp_path):
    run = tmp_path / "run"
    args = ["data=mpi3d", f"data.path={tiny_file}", "data.factor_sizes=[2,2,2,2,2,2,2]", "model=vae"]
    args += ["model/net=dlib_conv", "model.latent_dim=7", "trainer.max_epochs=1", "logger=none", "callbacks=none"]
    done = subprocess.run(
        train_cmd(*args, f"hydra.run.dir={run}", tiny=False), cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((run / "job.json").read_text())["status"] == "completed"
    out = tmp_path / "analysis"
    fast = ["figures=false", "explorer=false", "scores.beta_vae.enabled=false", "scores.factor_vae.enabled=false"]
    cmd = ["python", "analyze.py", f"run={run}", f"output_dir={out}", *fast]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    (run_metrics,) = metrics["runs"].values()
    ordered = {n for n in NAMES if n not in CATEGORICAL}  # the regressors read the ordered factors
    assert set(run_metrics["recoverability"]) == ordered and np.isfinite(run_metrics["reconstruction"]["mean"])
