"""Latent snapshots while training: cadence, format, resume, and the explorer's epoch frames."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from omegaconf import open_dict

from heatmap_latent.training import train
from heatmap_latent.training.callbacks import LatentSnapshots
from heatmap_latent.training.snapshots import (
    DIRNAME,
    Snapshot,
    SnapshotError,
    load_snapshots,
    read_index,
    write_snapshot,
)


def cfg_in(make_cfg, out, *overrides):
    cfg = make_cfg("logger=none", "~callbacks.early_stopping", "log_latents_every_n_epochs=2", *overrides)
    with open_dict(cfg):
        cfg.paths.output_dir = str(out)
    return cfg


def test_snapshots_at_the_cadence_and_at_the_end_in_a_format_numpy_reads(make_cfg, tmp_path):
    cfg = cfg_in(make_cfg, tmp_path, "trainer.max_epochs=3")
    train(cfg)
    index = json.loads((tmp_path / DIRNAME / "index.json").read_text())  # no project code needed to read it
    assert index["format"] == "heatmap-latent-snapshots" and index["version"] == 3
    assert [(e["epoch"], e["final"]) for e in index["snapshots"]] == [(2, False), (3, True)]
    assert [e["step"] for e in index["snapshots"]] == [10, 15]  # 5 batches of 16 per epoch
    with np.load(tmp_path / DIRNAME / "epoch_0002.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    n = len(arrays["index"])
    assert arrays["codes"].shape == (n, 3) and arrays["codes"].dtype == np.float32
    assert arrays["split"].dtype == np.uint8 and set(np.unique(arrays["split"])) <= {0, 1, 2}
    assert {k for k in arrays if k.startswith("factor.")} == {"factor.var_x", "factor.var_y", "factor.rho"}
    assert arrays["kl_per_dim"].shape == (3,) and (arrays["kl_per_dim"] >= 0).all()
    assert int(arrays["epoch"]) == 2 and int(arrays["step"]) == 10
    # the decoder's weights at that epoch, float32: decoding with them is the model at epoch 2
    decoder = {k[len("decoder.") :]: v for k, v in arrays.items() if k.startswith("decoder.")}
    assert all(v.dtype == np.float32 for v in decoder.values())
    later = load_snapshots(tmp_path)[-1]
    assert not all(np.array_equal(decoder[k], later.decoder[k]) for k in decoder)  # it moved between epochs
    assert np.array_equal(arrays["index"], later.index)  # the same images every time
    assert index["snapshots"][0]["bytes"] == (tmp_path / DIRNAME / "epoch_0002.npz").stat().st_size
    assert not list((tmp_path / DIRNAME).glob(".*"))  # no temporary file left


def test_the_snapshot_codes_are_the_models_codes_of_those_images(make_cfg, tmp_path):
    from hydra.utils import instantiate

    cfg = cfg_in(make_cfg, tmp_path, "trainer.max_epochs=2", "model=ae")
    train(cfg)
    snap = load_snapshots(tmp_path)[-1]
    assert snap.kl_per_dim is None  # an AE has no posterior
    model = instantiate(cfg.model)
    state = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    model.load_state_dict(state)
    dm = instantiate(cfg.data)
    dm.setup()
    codes = model.embed(dm.images[torch.from_numpy(snap.index)]).numpy()
    assert np.allclose(snap.codes, codes, atol=1e-6)
    assert all(np.array_equal(snap.decoder[k], v.numpy()) for k, v in model.decoder.state_dict().items())
    # and the weights encode() reads (version 3): a fresh model given them alone encodes as the model
    encoding = model.encoding_state_dict()
    assert set(snap.encoder) == set(encoding) and {k.split(".")[0] for k in encoding} == {"encoder", "bottleneck"}
    assert all(np.array_equal(snap.encoder[k], v.numpy()) for k, v in encoding.items())
    fresh = instantiate(cfg.model)
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in snap.encoder.items()}, strict=False)
    assert np.allclose(fresh.embed(dm.images[torch.from_numpy(snap.index)]).numpy(), snap.codes, atol=1e-6)
    split = np.zeros(len(dm.images), dtype=np.uint8)
    split[dm.test_idx] = 2  # TINY_DATA validates on the test split (val_fraction=0)
    assert np.array_equal(snap.split, split[snap.index])


def test_a_resumed_run_neither_repeats_nor_skips_a_snapshot(make_cfg, tmp_path):
    train(cfg_in(make_cfg, tmp_path, "trainer.max_epochs=3"))
    train(cfg_in(make_cfg, tmp_path, "trainer.max_epochs=6", "ckpt_path=last"))
    entries = read_index(tmp_path)
    assert [e["epoch"] for e in entries] == [2, 3, 4, 6]  # 3: the first run's end; 6: cadence and end, once
    assert [e["step"] for e in entries] == [10, 15, 20, 30]
    assert sorted(p.name for p in (tmp_path / DIRNAME).glob("*.npz")) == [f"epoch_000{e}.npz" for e in (2, 3, 4, 6)]
    # resuming from an earlier point drops the snapshots of the abandoned continuation
    LatentSnapshots(str(tmp_path)).on_train_start(SimpleNamespace(current_epoch=3), None)
    assert [e["epoch"] for e in read_index(tmp_path)] == [2, 3]
    assert sorted(p.name for p in (tmp_path / DIRNAME).glob("*.npz")) == ["epoch_0002.npz", "epoch_0003.npz"]


def test_every_kth_snapshot_keeps_the_last_and_a_bad_index_is_one_clear_error(tmp_path):
    rng = np.random.default_rng(0)
    for epoch in (1, 2, 3, 4, 5):
        snap = Snapshot(epoch, 10 * epoch, np.arange(4), rng.normal(size=(4, 2)), np.zeros(4), {}, {"w": np.ones(2)})
        write_snapshot(tmp_path, snap, {"seconds": 0.0, "final": epoch == 5})
    assert [s.epoch for s in load_snapshots(tmp_path, every=2)] == [1, 3, 5]
    assert [s.epoch for s in load_snapshots(tmp_path, every=3)] == [1, 4, 5]
    assert load_snapshots(tmp_path, every=0) == []
    (tmp_path / DIRNAME / "index.json").write_text('{"format": "something else"}')
    with pytest.raises(SnapshotError, match="unreadable snapshot index .*index.json"):
        read_index(tmp_path)
    with pytest.raises(ValueError, match="every_n_epochs"):
        LatentSnapshots(str(tmp_path), every_n_epochs=0)


def tensorboard_run(make_cfg, out, epochs: int, every: int):
    """A tiny run with the default callbacks and TensorBoard, and its event files, read whole."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    cfg = make_cfg(
        "logger=tensorboard",
        "~callbacks.early_stopping",
        f"trainer.max_epochs={epochs}",
        f"log_latents_every_n_epochs={every}",
    )
    with open_dict(cfg):
        cfg.paths.output_dir = str(out)
    train(cfg)
    events = EventAccumulator(str(out / "tensorboard"), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    return cfg, events


def test_traversals_reach_tensorboards_images_during_training(make_cfg, tmp_path):
    # the default callbacks (conf/callbacks/default.yaml: latent_traversals) at every epoch
    cfg, events = tensorboard_run(make_cfg, tmp_path, epochs=2, every=1)
    images = events.Images("latent/traversals")
    assert [e.step for e in images] == [5, 10]  # each validation epoch (5 batches each)
    size, n = cfg.data.grid.size, 9
    assert (images[0].height, images[0].width) == (3 * (size + 1) - 1, n * (size + 1) - 1)  # 3 rows of 9


def test_each_snapshot_writes_its_scores_and_logs_them_to_tensorboard(make_cfg, tmp_path):
    from heatmap_latent.scores.timeline import NAMES, latent_scores

    _, events = tensorboard_run(make_cfg, tmp_path, epochs=3, every=2)
    snapshots, entries = load_snapshots(tmp_path), read_index(tmp_path)
    assert [s.epoch for s in snapshots] == [2, 3]
    for snap, entry in zip(snapshots, entries):
        # the scores of exactly these codes and factors, as the analysis's functions compute them
        assert snap.scores == pytest.approx(latent_scores(snap.codes, snap.factors, seed=snap.epoch), abs=1e-12)
        assert set(snap.scores) == set(NAMES) and entry["scores"] == snap.scores
        assert 0 <= snap.scores["mig"] <= 1 and snap.scores["active_units"] <= 3
        assert entry["scores_seconds"] <= entry["seconds"]
    for name in NAMES:  # read back from the event files, one point per snapshot at its step
        logged = {e.step: e.value for e in events.Scalars(f"latent_scores/{name}")}
        assert logged == pytest.approx({s.step: s.scores[name] for s in snapshots}, rel=1e-6)
    # snapshots without scores or encoder (as versions 1 and 2 were) still load
    off = ["callbacks.latent_snapshots.scores=false", "callbacks.latent_snapshots.encoder=false"]
    cfg_off = cfg_in(make_cfg, tmp_path / "off", "trainer.max_epochs=2", *off)
    train(cfg_off)
    assert [(s.scores, s.encoder) for s in load_snapshots(tmp_path / "off")] == [({}, {})]
    assert not any(k.startswith("encode.") for k in np.load(tmp_path / "off" / "snapshots" / "epoch_0002.npz").files)
