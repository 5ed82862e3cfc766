"""The latent snapshots a run writes while it trains: their format, writer and reader.

A run directory with snapshots holds::

    snapshots/index.json        {"format": "heatmap-latent-snapshots", "version": 1,
                                 "snapshots": [{"epoch", "step", "file", "bytes", "seconds", "final"}, ...]}
    snapshots/epoch_0005.npz    one per snapshot (numpy's npz: ``numpy.load`` reads it, nothing else needed)

Each ``.npz`` holds ``index`` (n,) int64, the images' positions in the dataset (the same images in
every snapshot); ``codes`` (n, D) float32, their codes (the posterior mean for a VAE); ``split`` (n,)
uint8 (0 train, 1 validation, 2 test); ``factor.<name>`` (n,) float64; ``decoder.<parameter>``
float32, the decoder's ``state_dict`` at that epoch; ``encode.<parameter>`` float32, the weights
``model.encode`` reads at that epoch, keyed as in the model's ``state_dict`` (``encode.encoder.*``,
``encode.bottleneck.*``; version 3, unless written with ``encoder=false``); ``kl_per_dim`` (D,)
float32 for a VAE, the mean KL of each dimension over these images; ``score.<name>`` float64, the
cheap scores of these codes (``scores/timeline.py``: MIG, SAP, BetaVAE, FactorVAE, active units;
version 2), also in the index entry as ``scores``; and ``epoch`` and ``step``. ``epoch`` counts
completed training epochs. Every file is written atomically, the index last.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from heatmap_latent.core.atomic import write_atomic
from heatmap_latent.core.errors import UserError

FORMAT, VERSION = "heatmap-latent-snapshots", 3  # 3 added the encoder, 2 the scores; older are refused in one line
DIRNAME, INDEX = "snapshots", "index.json"
SPLITS = ("train", "validation", "test")


class SnapshotError(UserError):
    """A snapshot index or file that cannot be read; the message names it."""


@dataclass
class Snapshot:
    epoch: int
    step: int
    index: np.ndarray  # (n,) int64
    codes: np.ndarray  # (n, D) float32
    split: np.ndarray  # (n,) uint8
    factors: dict[str, np.ndarray]
    decoder: dict[str, np.ndarray]  # the decoder's state_dict, float32
    encoder: dict[str, np.ndarray] = field(default_factory=dict)  # model.encoding_state_dict(); none with encoder=false
    kl_per_dim: np.ndarray | None = None
    scores: dict[str, float] = field(default_factory=dict)  # name -> value (none with scores=false)
    info: dict[str, Any] = field(default_factory=dict)  # its index entry (file, bytes, seconds, final)

    def to_npz(self) -> bytes:
        arrays: dict[str, np.ndarray] = {
            "epoch": np.int64(self.epoch),
            "step": np.int64(self.step),
            "index": self.index.astype(np.int64),
            "codes": self.codes.astype(np.float32),
            "split": self.split.astype(np.uint8),
            **{f"factor.{k}": np.asarray(v, dtype=np.float64) for k, v in self.factors.items()},
            **{f"decoder.{k}": np.asarray(v, dtype=np.float32) for k, v in self.decoder.items()},
            **{f"encode.{k}": np.asarray(v, dtype=np.float32) for k, v in self.encoder.items()},
        }
        if self.kl_per_dim is not None:
            arrays["kl_per_dim"] = self.kl_per_dim.astype(np.float32)
        arrays.update({f"score.{k}": np.float64(v) for k, v in self.scores.items()})
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        return buf.getvalue()


def snapshot_file(epoch: int) -> str:
    return f"epoch_{epoch:04d}.npz"


def read_index(run_dir: Path) -> list[dict[str, Any]]:
    """The run's snapshot entries sorted by epoch; empty when it has none."""
    path = Path(run_dir) / DIRNAME / INDEX
    if not path.is_file():
        return []
    try:
        index = json.loads(path.read_text())
        if index.get("format") != FORMAT:
            raise ValueError(f"format is {index.get('format')!r}, not {FORMAT!r}")
        entries = sorted(index["snapshots"], key=lambda s: s["epoch"])
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise SnapshotError(f"unreadable snapshot index {path}: {err}") from err
    if index.get("version") != VERSION:  # no reader of older formats: one line naming the version
        raise SnapshotError(
            f"{path} holds snapshots of format version {index.get('version')}; this heatmap-latent reads "
            f"version {VERSION} (train the run again to write them)"
        )
    return entries


def write_index(run_dir: Path, entries: list[dict[str, Any]]) -> None:
    index = {"format": FORMAT, "version": VERSION, "snapshots": sorted(entries, key=lambda s: s["epoch"])}
    write_atomic(Path(run_dir) / DIRNAME / INDEX, json.dumps(index, indent=1))


def write_snapshot(run_dir: Path, snapshot: Snapshot, entry: dict[str, Any]) -> dict[str, Any]:
    """Write one snapshot and then the index with its entry (replacing one of the same epoch)."""
    data = snapshot.to_npz()
    name = snapshot_file(snapshot.epoch)
    write_atomic(Path(run_dir) / DIRNAME / name, data)
    entry = {"epoch": snapshot.epoch, "step": snapshot.step, "file": name, "bytes": len(data), **entry}
    kept = [e for e in read_index(run_dir) if e["epoch"] != snapshot.epoch]
    write_index(run_dir, [*kept, entry])
    return entry


def load_snapshot(run_dir: Path, entry: dict[str, Any], weights: bool = True) -> Snapshot:
    """One snapshot; ``weights=False`` leaves its decoder and encoder unread (empty)."""
    path = Path(run_dir) / DIRNAME / entry["file"]
    try:
        with np.load(path) as npz:
            keys = [k for k in npz.files if weights or not k.startswith(("decoder.", "encode."))]
            arrays = {k: npz[k] for k in keys}
    except (OSError, ValueError, KeyError) as err:
        raise SnapshotError(f"unreadable snapshot {path}: {err}") from err

    def prefixed(prefix: str) -> dict[str, np.ndarray]:
        return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}

    return Snapshot(
        epoch=int(arrays["epoch"]),
        step=int(arrays["step"]),
        index=arrays["index"],
        codes=arrays["codes"],
        split=arrays["split"],
        factors=prefixed("factor."),
        decoder=prefixed("decoder."),
        encoder=prefixed("encode."),
        kl_per_dim=arrays.get("kl_per_dim"),
        scores={k: float(v) for k, v in prefixed("score.").items()},
        info=dict(entry),
    )


def load_snapshots(run_dir: Path, every: int = 1, weights: bool = True) -> list[Snapshot]:
    """The run's snapshots in epoch order; ``every`` k keeps every k-th one and always the last
    (``weights=False``: their decoders and encoders unread)."""
    entries = read_index(run_dir)
    if every < 1:
        return []
    kept = [e for i, e in enumerate(entries) if i % every == 0 or i == len(entries) - 1]
    return [load_snapshot(run_dir, e, weights) for e in kept]
