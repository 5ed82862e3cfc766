"""The explorer's data from a run's snapshots alone, for a run that is still training (the
TensorBoard tab): no checkpoint, no dataset; the latest snapshot is the last frame."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra.utils import instantiate

from heatmap_latent.analysis.loading import load_config
from heatmap_latent.core.errors import UserError
from heatmap_latent.data.heatmaps import DF_VALUES
from heatmap_latent.explorer.page import _b64, decoder_layers, epoch_frames
from heatmap_latent.study.realism import realism_distance
from heatmap_latent.training.snapshots import load_snapshots


def snapshot_data(run_dir: Path, every: int = 1) -> dict[str, Any]:
    """What ``explorer.js`` takes, built from ``run_dir``'s snapshots and its config."""
    run_dir = Path(run_dir)
    snapshots = load_snapshots(run_dir, every)
    if not snapshots:
        raise UserError(f"{run_dir} has no snapshots yet")
    cfg = load_config(run_dir)  # refuses a config that names anything this project does not configure
    model = instantiate(cfg.model).eval()
    latest = snapshots[-1]
    model.decoder.load_state_dict({k: torch.from_numpy(v) for k, v in latest.decoder.items()})
    layers = decoder_layers(model.decoder)
    factors = {k: np.asarray(v, dtype=np.float64) for k, v in latest.factors.items()}
    grid = cfg.data.grid
    dfs = DF_VALUES if "df" in factors else None
    with torch.no_grad():
        decoded = torch.sigmoid(model.decoder(torch.from_numpy(latest.codes[:300]).float()))[:, 0].numpy()
    realism = realism_distance(decoded, grid.low, grid.high, dfs)[0]
    earlier = snapshots[:-1]
    return {
        "name": run_dir.name,
        "checkpoint": str(run_dir / "snapshots" / latest.info["file"]),
        "final_label": f"epoch {latest.epoch} (latest snapshot)",
        "final_epoch": latest.epoch,
        "final_kl": latest.kl_per_dim.tolist() if latest.kl_per_dim is not None else None,
        "model": type(model).__name__,
        "latent_dim": int(latest.codes.shape[1]),
        "image_size": int(model.hparams.image_size),
        "grid": {"low": float(grid.low), "high": float(grid.high)},
        "dfs": list(dfs) if dfs else None,
        "n": int(len(latest.codes)),
        "index": base64.b64encode(latest.index.astype("<i4").tobytes()).decode(),
        "codes": _b64(latest.codes),
        "factors": {k: _b64(v) for k, v in factors.items()},
        "split": base64.b64encode((latest.split == 2).astype(np.uint8).tobytes()).decode(),
        "paths": {},
        "realism_scale": float(max(2 * np.quantile(realism, 0.9), 1e-3)),
        "decoder": {"layers": layers},
        "encoder": None,  # snapshots hold decoders only: the tab does not encode
        "snapshots": epoch_frames(model.decoder, earlier, latest.codes, every) if earlier else None,
        "epochs": [s.epoch for s in snapshots],
    }
