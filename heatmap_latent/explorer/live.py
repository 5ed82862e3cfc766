"""The explorer's data from a run's snapshots alone, for a run that is still training (the
TensorBoard tab): no checkpoint, no dataset; the latest snapshot is the last frame, and its
encoder is the page's encoder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra.utils import instantiate

from heatmap_latent.analysis.loading import load_config
from heatmap_latent.core.errors import UserError
from heatmap_latent.data.factors import declaration_of
from heatmap_latent.explorer.frames import pack
from heatmap_latent.explorer.page import (
    PageSource,
    decoder_weights,
    encoder_weights,
    epoch_frames,
    frame_blob,
    page_data,
)
from heatmap_latent.training.snapshots import Snapshot, load_snapshot, load_snapshots, read_index


def _model_at(run_dir: Path, cfg: Any, snap: Snapshot) -> Any:
    """The run's model (eval mode) with ``snap``'s decoder and, if it holds one, its encoder."""
    model = instantiate(cfg.model).eval()
    model.decoder.load_state_dict({k: torch.from_numpy(v) for k, v in snap.decoder.items()})
    if snap.encoder:
        if set(snap.encoder) != set(model.encoding_state_dict()):
            what = f"{run_dir}'s snapshot at epoch {snap.epoch}"
            raise UserError(f"{what} holds other encoder weights than its config builds")
        model.load_state_dict({k: torch.from_numpy(v) for k, v in snap.encoder.items()}, strict=False)
    return model


def snapshot_data(
    run_dir: Path,
    every: int = 1,
    frame_url: Callable[[int], str] | None = None,
    weights_url: Callable[[int], str] | None = None,
) -> dict[str, Any]:
    """What ``explorer.js`` takes, built from ``run_dir``'s snapshots and its config; the earlier
    frames' weights inline, or fetched from ``frame_url(epoch)`` (the tab's ``frame`` route); the
    latest snapshot's float32 weights inline, or (``weights_url(epoch)``, the tab's ``weights``
    route) left out of the layers for the host to fetch and fill in before it starts the page."""
    run_dir = Path(run_dir)
    snapshots = load_snapshots(run_dir, every, weights=frame_url is None)
    if not snapshots:
        raise UserError(f"{run_dir} has no snapshots yet")
    if frame_url is not None:  # weights read of the first (the blobs' steps) and the latest only
        snapshots[0] = load_snapshot(run_dir, snapshots[0].info)
        snapshots[-1] = load_snapshot(run_dir, snapshots[-1].info)
    cfg = load_config(run_dir)  # refuses a config that names anything this project does not configure
    latest = snapshots[-1]
    model = _model_at(run_dir, cfg, latest)
    # the data module's declaration needs no images built; no dataset images travel (a table
    # domain's renderer is the static page's)
    declaration = declaration_of(instantiate(cfg.data))
    earlier = snapshots[:-1]
    source = PageSource(
        name=run_dir.name,
        checkpoint=str(run_dir / "snapshots" / latest.info["file"]),
        final_label=f"epoch {latest.epoch} (latest snapshot)",
        model=model,
        codes=latest.codes,
        factors=dict(latest.factors),
        test=latest.split == 2,
        declaration=declaration,
        data_cfg=cfg.data,
        images=None,
        # snapshots hold the encoder unless written without it: the latest one's, with the last frame's codes
        encoder_label=f"the latest snapshot's (epoch {latest.epoch})" if latest.encoder else None,
        no_encoder="these snapshots hold no encoder (written with callbacks.latent_snapshots.encoder=false)",
        final_epoch=latest.epoch,
        final_kl=latest.kl_per_dim.tolist() if latest.kl_per_dim is not None else None,
        index=latest.index,
        snapshots=epoch_frames(model.decoder, earlier, latest.codes, every, frame_url) if earlier else None,
        weights_url=weights_url(latest.epoch) if weights_url else None,
        epochs=[s.epoch for s in snapshots],
    )
    data = page_data(source)
    if data["domain"] is None:
        data["no_render"] = "the Latent tab carries no dataset images (the static page does)"
    return data


def snapshot_frame(run_dir: Path, epoch: int) -> bytes:
    """The blob of the frame of ``run_dir``'s snapshot at ``epoch`` (``frames.py``): its decoder's
    integers minus the next snapshot's, at the first snapshot's steps. The latest snapshot has
    none: its float32 weights are in the data."""
    entries = read_index(run_dir)
    position = next((i for i, e in enumerate(entries) if e["epoch"] == epoch), None)
    if position is None:
        raise UserError(f"{run_dir} has no snapshot at epoch {epoch}")
    if position == len(entries) - 1:
        raise UserError(f"epoch {epoch} is {run_dir}'s latest snapshot: its weights are in the data")
    model = instantiate(load_config(run_dir).model)
    first, snap, following = (load_snapshot(run_dir, entries[i]) for i in (0, position, position + 1))
    return frame_blob(model.decoder, first, snap, following)


def latest_weights(run_dir: Path, epoch: int | None = None) -> bytes:
    """The float32 weights of ``run_dir``'s snapshot at ``epoch`` (None: its latest), a blob of
    ``frames.py``: ``epoch``, ``decoder.<layer>.w`` / ``.b`` per layer of ``decoder_layers``, and
    ``encoder.<layer>.w`` / ``.b`` of ``encoder_layers`` for a snapshot with its encoder."""
    entries = read_index(run_dir)
    entry = entries[-1] if epoch is None and entries else next((e for e in entries if e["epoch"] == epoch), None)
    if entry is None:
        raise UserError(f"{run_dir} has no snapshot at epoch {epoch}")
    snap = load_snapshot(run_dir, entry)
    model = _model_at(run_dir, load_config(run_dir), snap)
    parts = {"decoder": decoder_weights(model.decoder)}
    if snap.encoder:
        parts["encoder"] = encoder_weights(model)
    arrays = {"epoch": np.array([snap.epoch], "<i4")}
    for part, weights in parts.items():
        for i, pair in enumerate(weights):
            if pair is not None:
                arrays[f"{part}.{i}.w"], arrays[f"{part}.{i}.b"] = (a.astype("<f4").ravel() for a in pair)
    return pack(arrays, level=1)
