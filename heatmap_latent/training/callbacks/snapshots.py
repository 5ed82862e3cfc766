"""``LatentSnapshots``: the latent space as it forms, written to the run directory while it trains."""

from __future__ import annotations

import time
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_only

from heatmap_latent.core.subsample import evenly_spaced
from heatmap_latent.models.losses import gaussian_kl
from heatmap_latent.scores.timeline import latent_scores
from heatmap_latent.training.snapshots import DIRNAME, Snapshot, read_index, write_index, write_snapshot


@torch.no_grad()
def codes_and_kl(
    model: pl.LightningModule, images: torch.Tensor, batch_size: int = 256
) -> tuple[np.ndarray, np.ndarray | None]:
    """The codes of ``images`` (eval mode) and, for a VAE, the mean KL of each latent dimension over
    them, from one pass of the encoder (the posterior mean is a VAE's code)."""
    if not hasattr(model, "posterior"):
        return model.embed(images).numpy(), None
    was_training = model.training
    model.eval()
    codes, total = [], None
    for start in range(0, len(images), batch_size):
        mu, logvar = model.posterior(images[start : start + batch_size].to(model.device))
        mu, logvar = mu.float(), logvar.float()
        codes.append(mu.cpu())
        part = gaussian_kl(mu, logvar).sum(0)
        total = part if total is None else total + part
    model.train(was_training)
    return torch.cat(codes).numpy(), (total / len(images)).cpu().numpy()


class LatentSnapshots(pl.Callback):
    """Every ``every_n_epochs`` validation epochs and at the end of training: the codes of
    ``max_points`` evenly spaced images of the whole dataset (the same ones each time, with their
    factors and split), the decoder's weights and (``encoder=true``) the encoder's, a VAE's KL per
    dimension and the cheap scores of the codes (``scores=true``: MIG, SAP, BetaVAE, FactorVAE,
    active units, also logged to every logger as ``latent_scores/<name>``), one file per snapshot
    under ``<dirpath>/snapshots`` (format: ``heatmap_latent.training.snapshots``). Rank zero only.

    A resumed run keeps the snapshots up to the epoch it resumes from and drops later ones (they
    belong to the abandoned continuation), so its snapshots never repeat or skip an epoch.
    """

    def __init__(
        self, dirpath: str, every_n_epochs: int = 5, max_points: int = 2000, scores: bool = True, encoder: bool = True
    ) -> None:
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1, got {every_n_epochs}")
        if max_points < 1:
            raise ValueError(f"max_points must be >= 1, got {max_points}")
        self.dirpath, self.every_n_epochs, self.max_points = Path(dirpath), every_n_epochs, max_points
        self.scores, self.encoder = scores, encoder
        self._last_val_epoch: int | None = None

    @rank_zero_only
    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        completed = trainer.current_epoch  # restored from the checkpoint a resumed run starts from
        entries = read_index(self.dirpath)
        stale = [e for e in entries if e["epoch"] > completed]
        if stale:
            write_index(self.dirpath, [e for e in entries if e["epoch"] <= completed])
            for entry in stale:
                (self.dirpath / DIRNAME / entry["file"]).unlink(missing_ok=True)

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        self._last_val_epoch = trainer.current_epoch + 1
        if self._last_val_epoch % self.every_n_epochs == 0:
            self.write(trainer, pl_module, self._last_val_epoch, final=False)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        written = {e["epoch"] for e in read_index(self.dirpath)}
        if self._last_val_epoch is not None and self._last_val_epoch not in written:
            self.write(trainer, pl_module, self._last_val_epoch, final=True)

    @rank_zero_only
    def write(self, trainer: pl.Trainer, pl_module: pl.LightningModule, epoch: int, final: bool) -> None:
        start = time.perf_counter()
        dm = trainer.datamodule
        if dm is None or getattr(dm, "images", None) is None:
            raise RuntimeError("LatentSnapshots needs a FactorImageDataModule that has been set up")
        index = evenly_spaced(len(dm.images), self.max_points).astype(np.int64)
        split = np.zeros(len(dm.images), dtype=np.uint8)
        split[np.asarray(dm.val_idx, dtype=np.int64)] = 1
        split[np.asarray(dm.test_idx, dtype=np.int64)] = 2  # with val_fraction=0 validation is the test split
        images = dm.images[torch.from_numpy(index)]
        codes, kl = codes_and_kl(pl_module, images)
        factors = {k: np.asarray(v)[index] for k, v in dm.factors.items()}
        scored = time.perf_counter()
        scores = latent_scores(codes, factors, seed=epoch) if self.scores else {}
        scored = time.perf_counter() - scored
        for logger in trainer.loggers:
            if scores:
                logger.log_metrics({f"latent_scores/{k}": v for k, v in scores.items()}, step=trainer.global_step)
        snapshot = Snapshot(
            epoch=epoch,
            step=trainer.global_step,
            index=index,
            codes=codes,
            split=split[index],
            factors=factors,
            decoder={k: v.detach().float().cpu().numpy() for k, v in pl_module.decoder.state_dict().items()},
            encoder={k: v.detach().float().cpu().numpy() for k, v in pl_module.encoding_state_dict().items()}
            if self.encoder
            else {},
            kl_per_dim=kl,
            scores=scores,
        )
        entry = {"seconds": time.perf_counter() - start, "scores_seconds": scored, "final": final, "scores": scores}
        write_snapshot(self.dirpath, snapshot, entry)
