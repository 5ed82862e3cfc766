"""The explorer's data from a run's snapshots alone, for a run that is still training (the
TensorBoard tab): no checkpoint, no dataset; the latest snapshot is the last frame, and its
encoder (snapshot version 3) is the page's encoder."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra.utils import instantiate

from heatmap_latent.analysis.loading import load_config
from heatmap_latent.core.errors import UserError
from heatmap_latent.data.factors import declaration_of
from heatmap_latent.explorer.page import (
    DATA_VERSION,
    _b64,
    decoder_layers,
    domain_data,
    encoder_layers,
    epoch_frames,
    factor_panel_data,
    realism_scale,
)
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
    encoder = None
    if latest.encoder:  # snapshots of version 3: the latest one's encoder, the last frame's codes
        wanted = set(model.encoding_state_dict())
        if set(latest.encoder) != wanted:
            raise UserError(f"{run_dir}'s latest snapshot holds other encoder weights than its config builds")
        model.load_state_dict({k: torch.from_numpy(v) for k, v in latest.encoder.items()}, strict=False)
        encoder = {"layers": encoder_layers(model), "label": f"the latest snapshot's (epoch {latest.epoch})"}
    factors = {k: np.asarray(v, dtype=np.float64) for k, v in latest.factors.items()}
    # the data module's declaration needs no images built; no dataset images travel (a table
    # domain's renderer is the static page's)
    declaration = declaration_of(instantiate(cfg.data))
    domain = domain_data(declaration, cfg.data, None)
    if domain["domain"] is None:
        domain["no_render"] = "the Latent tab carries no dataset images (the static page does)"
    with torch.no_grad():
        decoded = torch.sigmoid(model.decoder(torch.from_numpy(latest.codes[:300]).float())).numpy()
    earlier = snapshots[:-1]
    return {
        "version": DATA_VERSION,
        "name": run_dir.name,
        "checkpoint": str(run_dir / "snapshots" / latest.info["file"]),
        "final_label": f"epoch {latest.epoch} (latest snapshot)",
        "final_epoch": latest.epoch,
        "final_kl": latest.kl_per_dim.tolist() if latest.kl_per_dim is not None else None,
        "model": type(model).__name__,
        "latent_dim": int(latest.codes.shape[1]),
        "image_size": int(model.hparams.image_size),
        **domain,
        "factor_declaration": factor_panel_data(declaration),
        "n": int(len(latest.codes)),
        "index": base64.b64encode(latest.index.astype("<i4").tobytes()).decode(),
        "codes": _b64(latest.codes),
        "factors": {k: _b64(v) for k, v in factors.items()},
        "factors_range": {k: [float(v.min()), float(v.max())] for k, v in factors.items()},
        "colourings": {},
        "split": base64.b64encode((latest.split == 2).astype(np.uint8).tobytes()).decode(),
        "paths": {},
        "realism_scale": realism_scale(declaration, domain, decoded, None),
        "decoder": {"layers": layers},
        "encoder": encoder,
        "no_encoder": None if encoder else "these snapshots hold no encoder (written before snapshot version 3)",
        "snapshots": epoch_frames(model.decoder, earlier, latest.codes, every) if earlier else None,
        "epochs": [s.epoch for s in snapshots],
    }
