"""One LightningModule owns the backbone; AE and VAE override only the bottleneck and the loss."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import hydra
import lightning.pytorch as pl
import torch
from omegaconf import DictConfig, ListConfig, OmegaConf
from torch import nn

from heatmap_latent.models.backbone import Decoder, Encoder
from heatmap_latent.models.losses import RECON_LOSSES, frobenius_error, gaussian_kl, reconstruction_loss


def _plain(value: Any) -> Any:
    """OmegaConf containers -> plain dicts/lists, so checkpoints hold only primitive hparams."""
    if isinstance(value, (DictConfig, ListConfig)):
        return OmegaConf.to_container(value, resolve=True)
    return value


class LatentAutoencoder(pl.LightningModule):
    """Conv encoder -> bottleneck -> latent ``z`` -> transposed-conv decoder.

    Named methods for callbacks and analysis: :meth:`encode` (deterministic code: the posterior
    mean for a VAE), :meth:`decode` (pixel intensities in [0, 1]), :meth:`reconstruct` and
    :meth:`embed` (encode a whole tensor in batches, in eval mode).
    """

    def __init__(
        self,
        image_size: int = 36,
        latent_dim: int = 3,
        channels: Sequence[int] = (16, 32),
        hidden_dims: Sequence[int] = (128,),
        kernel_size: int = 3,
        stride: int = 1,
        pool: int = 2,
        activation: str = "relu",
        recon_loss: str = "bce",
        optimizer: Mapping | None = None,
        scheduler: Mapping | None = None,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        channels, hidden_dims, optimizer, scheduler = (_plain(v) for v in (channels, hidden_dims, optimizer, scheduler))
        channels, hidden_dims = list(channels), list(hidden_dims)
        self._validate(latent_dim, channels, hidden_dims, kernel_size, recon_loss, optimizer)
        self.save_hyperparameters(logger=False)  # train() logs the whole run config instead
        self.best_val_loss = math.inf
        self.encoder = Encoder(image_size, channels, hidden_dims, kernel_size, stride, pool, activation)
        self.bottleneck = self._build_bottleneck(self.encoder.out_dim, latent_dim)
        self.decoder = Decoder(image_size, latent_dim, channels, hidden_dims, stride, pool, activation)
        if channels_last:
            self.to(memory_format=torch.channels_last)

    @staticmethod
    def _validate(latent_dim, channels, hidden_dims, kernel_size, recon_loss, optimizer) -> None:
        if latent_dim < 1:
            raise ValueError(f"model.latent_dim must be >= 1, got {latent_dim}")
        if not channels or min(channels) < 1:
            raise ValueError(f"model.channels must be a non-empty list of positive ints, got {channels}")
        if hidden_dims and min(hidden_dims) < 1:
            raise ValueError(f"model.hidden_dims must hold positive ints, got {hidden_dims}")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"model.kernel_size must be a positive odd int, got {kernel_size}")
        if recon_loss not in RECON_LOSSES:
            raise ValueError(f"model.recon_loss must be one of {RECON_LOSSES}, got {recon_loss!r}")
        lr = (optimizer or {}).get("lr")
        if lr is not None and not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
            raise ValueError(f"model.optimizer.lr must be a positive number, got {lr}")

    # --- what subclasses define -------------------------------------------------------------
    def _build_bottleneck(self, in_dim: int, latent_dim: int) -> nn.Module:
        raise NotImplementedError

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Deterministic latent code ``(B, D)`` of images ``(B, 1, S, S)``."""
        raise NotImplementedError

    def loss_terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``loss`` (batch mean) and its parts; ``logits`` of the reconstruction used."""
        raise NotImplementedError

    # --- shared API ---------------------------------------------------------------------------
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images ``(B, 1, S, S)`` with values in [0, 1] from latent codes ``(B, D)``."""
        return torch.sigmoid(self.decoder(z))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.reconstruct(x)

    @torch.no_grad()
    def embed(self, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """Encode a whole ``(N, 1, S, S)`` tensor in eval mode; returns ``(N, D)`` on the CPU."""
        was_training = self.training
        self.eval()
        try:
            codes = [self.encode(chunk.to(self.device)).cpu() for chunk in images.split(batch_size)]
        finally:
            self.train(was_training)
        return torch.cat(codes)

    def on_after_batch_transfer(self, batch: dict, dataloader_idx: int) -> dict:
        if self.hparams.channels_last:
            batch["image"] = batch["image"].contiguous(memory_format=torch.channels_last)
        return batch

    def _shared_step(self, batch: dict, stage: str) -> torch.Tensor:
        x = batch["image"]
        terms = self.loss_terms(x)
        # epoch-level only: no per-step host sync; under DDP reduced across ranks once per epoch
        log = dict(on_step=False, on_epoch=True, batch_size=x.shape[0], sync_dist=True)
        self.log(f"{stage}/loss", terms["loss"], prog_bar=True, **log)
        self.log(f"{stage}/recon", terms["recon"], **log)
        if "kl" in terms:
            self.log(f"{stage}/kl", terms["kl"], **log)
            kl_dims = {f"{stage}/kl_dim{i}": v for i, v in enumerate(terms["kl_per_dim"])}
            self.log_dict(kl_dims, **log)
        if stage != "train":
            with torch.no_grad():
                error = frobenius_error(self.reconstruct(x), x).mean()
            self.log(f"{stage}/frobenius", error, **log)
        return terms["loss"]

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        return self._shared_step(batch, "train")

    def validation_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        return self._shared_step(batch, "val")

    def test_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        return self._shared_step(batch, "test")

    def on_validation_epoch_end(self) -> None:
        # the hparams tab's metric: the best validation loss so far
        val_loss = self.trainer.callback_metrics.get("val/loss")
        if self.trainer.sanity_checking or val_loss is None:
            return
        self.best_val_loss = min(self.best_val_loss, float(val_loss))
        self.log("hp/best_val_loss", self.best_val_loss)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["best_val_loss"] = self.best_val_loss

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.best_val_loss = checkpoint.get("best_val_loss", math.inf)

    def configure_optimizers(self) -> Any:
        opt_cfg = self.hparams.optimizer or {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3}
        optimizer = hydra.utils.instantiate(opt_cfg)(params=self.parameters())
        if not self.hparams.scheduler:
            return optimizer
        sched_cfg = dict(self.hparams.scheduler)
        monitor = sched_cfg.pop("monitor", "val/loss")
        scheduler = hydra.utils.instantiate(sched_cfg)(optimizer=optimizer)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "monitor": monitor}}


class AE(LatentAutoencoder):
    """Plain autoencoder: deterministic linear bottleneck, reconstruction loss only."""

    def _build_bottleneck(self, in_dim: int, latent_dim: int) -> nn.Module:
        return nn.Linear(in_dim, latent_dim)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.bottleneck(self.encoder(x))

    def loss_terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        logits = self.decoder(self.encode(x))
        recon = reconstruction_loss(logits, x, self.hparams.recon_loss).mean()
        return {"loss": recon, "recon": recon, "logits": logits}


class VAE(LatentAutoencoder):
    """Gaussian-posterior VAE; loss = -ELBO = recon + beta * KL, both summed per example, batch-averaged."""

    def __init__(self, beta: float = 1.0, **kwargs: Any) -> None:
        if not (beta >= 0 and math.isfinite(beta)):
            raise ValueError(f"model.beta must be a finite number >= 0, got {beta}")
        # save_hyperparameters() in the base collects this frame's locals too: keep them plain
        kwargs = {k: _plain(v) for k, v in kwargs.items()}
        super().__init__(**kwargs)

    def _build_bottleneck(self, in_dim: int, latent_dim: int) -> nn.Module:
        return nn.Linear(in_dim, 2 * latent_dim)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)``, each ``(B, D)``."""
        return self.bottleneck(self.encoder(x)).chunk(2, dim=1)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.posterior(x)[0]

    def loss_terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        mu, logvar = self.posterior(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()  # reparameterisation
        logits = self.decoder(z)
        recon = reconstruction_loss(logits, x, self.hparams.recon_loss).mean()
        kl_per_dim = gaussian_kl(mu, logvar).mean(dim=0)  # (D,)
        kl = kl_per_dim.sum()
        return {
            "loss": recon + self.hparams.beta * kl,
            "recon": recon,
            "kl": kl,
            "kl_per_dim": kl_per_dim,
            "logits": logits,
        }
