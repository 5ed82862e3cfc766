"""One LightningModule owns the backbone; AE and VAE override only the bottleneck and the loss."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import hydra
import lightning.pytorch as pl
import numpy as np
import torch
from omegaconf import DictConfig, ListConfig, OmegaConf
from torch import nn

from heatmap_latent.core import checks
from heatmap_latent.models.backbone import ACTIVATIONS, Decoder, Encoder
from heatmap_latent.models.losses import RECON_LOSSES, frobenius_error, gaussian_kl, reconstruction_loss


def _plain(value: Any) -> Any:
    """OmegaConf containers -> plain dicts/lists, so checkpoints hold only primitive hparams.

    From a config, Hydra hands every model plain containers already (``_convert_: all`` in the model
    schemas); this covers a direct call of the base with OmegaConf values."""
    if isinstance(value, (DictConfig, ListConfig)):
        return OmegaConf.to_container(value, resolve=True)
    return value


class LatentAutoencoder(pl.LightningModule):
    """Conv encoder -> bottleneck -> latent ``z`` -> transposed-conv decoder.

    Named methods for callbacks and analysis: :meth:`encode` (deterministic code: the posterior
    mean for a VAE), :meth:`decode` (pixel intensities in [0, 1]), :meth:`reconstruct` and
    :meth:`embed` (encode a whole tensor in batches, in eval mode).

    This signature is the one source of the hyperparameters and their defaults: the config schema
    is derived from it (``training/schema.py``). ``image_channels`` (1 grey, 3 colour) and
    ``image_size`` come from the data (``conf/model/_backbone.yaml``). ``channels`` are the conv
    blocks' widths (each block: conv with ``padding`` (None: ``kernel_size // 2``), activation,
    max-pool ``pool``; ``conf/model/net/`` names two networks), ``hidden_dims`` the fully
    connected layers after them; ``recon_loss`` is ``bce`` or ``mse``; ``channels_last`` trains in the
    channels-last memory format (1.14x faster epochs on a 2-core CPU, ``python -m heatmap_latent.bench``).
    ``optimizer`` and ``scheduler`` are Hydra partials (``conf/model/_backbone.yaml``, ``conf/model/scheduler/``);
    without an optimizer the module uses torch's ``Adam`` with its own defaults, without a scheduler none.
    """

    # what a run is, for grouping and a study's roles (analysis/grouping.py Role): named by the model
    # itself, not by the config file that chose it; each subclass names its own
    KIND = "autoencoder"

    @property
    def kind(self) -> str:
        return self.KIND

    def __init__(
        self,
        image_size: int = 36,
        latent_dim: int = 3,
        channels: Sequence[int] = (16, 32),
        hidden_dims: Sequence[int] = (128,),
        kernel_size: int = 3,
        stride: int = 1,
        pool: int = 2,
        padding: int | None = None,
        activation: str = "relu",
        recon_loss: str = "bce",
        optimizer: Mapping | None = None,
        scheduler: Mapping | None = None,
        channels_last: bool = True,
        image_channels: int = 1,
    ) -> None:
        super().__init__()
        channels, hidden_dims, optimizer, scheduler = (_plain(v) for v in (channels, hidden_dims, optimizer, scheduler))
        self._validate(dict(locals()))
        channels, hidden_dims = list(channels), list(hidden_dims)
        self.save_hyperparameters(logger=False)  # train() logs the whole run config instead
        self.best_val_loss = math.inf
        self._train_sums: torch.Tensor | None = None
        self.encoder = Encoder(
            image_size, channels, hidden_dims, kernel_size, stride, pool, activation, image_channels, padding
        )
        self.bottleneck = self._build_bottleneck(self.encoder.out_dim, latent_dim)
        self.decoder = Decoder(image_size, latent_dim, channels, hidden_dims, stride, pool, activation, image_channels)
        if channels_last:
            self.to(memory_format=torch.channels_last)

    @staticmethod
    def _validate(hp: dict[str, Any]) -> None:
        checks.integer("model.image_size", hp["image_size"], 2)
        checks.integer("model.image_channels", hp["image_channels"], 1)
        checks.integer("model.latent_dim", hp["latent_dim"], 1)
        checks.integers("model.channels", hp["channels"], 1)
        checks.integers("model.hidden_dims", hp["hidden_dims"], 1, allow_empty=True)
        kernel = checks.integer("model.kernel_size", hp["kernel_size"], 1)
        if hp["padding"] is None and kernel % 2 == 0:
            raise ValueError(
                f"model.kernel_size must be odd unless model.padding is set, got {kernel} "
                "(an even kernel pads unevenly: set model.padding, as model/net=dlib_conv does)"
            )
        if hp["padding"] is not None:
            checks.integer("model.padding", hp["padding"], 0)
        checks.integer("model.stride", hp["stride"], 1)
        checks.integer("model.pool", hp["pool"], 1)
        checks.choice("model.activation", hp["activation"], sorted(ACTIVATIONS))
        checks.choice("model.recon_loss", hp["recon_loss"], RECON_LOSSES)
        optimizer = hp["optimizer"] or {}
        if "lr" in optimizer:
            checks.number("model.optimizer.lr", optimizer["lr"], 0.0, strict=True)
        if "weight_decay" in optimizer:
            checks.number("model.optimizer.weight_decay", optimizer["weight_decay"], 0.0)

    # --- what subclasses define -------------------------------------------------------------
    def _build_bottleneck(self, in_dim: int, latent_dim: int) -> nn.Module:
        raise NotImplementedError

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Deterministic latent code ``(B, D)`` of images ``(B, C, S, S)``."""
        raise NotImplementedError

    def loss_terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``loss`` (batch mean) and its parts; ``logits`` of the reconstruction used."""
        raise NotImplementedError

    # --- shared API ---------------------------------------------------------------------------
    ENCODING = ("encoder", "bottleneck")  # the modules encode() reads, in order

    def encoding_state_dict(self) -> dict[str, torch.Tensor]:
        """The weights ``encode`` reads, keyed as in ``state_dict()`` (``encoder.*``, ``bottleneck.*``)."""
        return {k: v for k, v in self.state_dict().items() if k.split(".", 1)[0] in self.ENCODING}

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images ``(B, C, S, S)`` with values in [0, 1] from latent codes ``(B, D)``."""
        return torch.sigmoid(self.decoder(z))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def reconstruct_from_terms(self, x: torch.Tensor, terms: dict[str, torch.Tensor]) -> torch.Tensor:
        """``reconstruct(x)``, reusing what ``loss_terms(x)`` already computed (validation then runs
        the encoder once per batch, not twice)."""
        return self.reconstruct(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.reconstruct(x)

    @torch.no_grad()
    def embed(self, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """Encode a whole ``(N, C, S, S)`` tensor in eval mode; returns ``(N, D)`` on the CPU."""
        was_training = self.training
        self.eval()
        try:
            codes = [self.encode(chunk.to(self.device, self.dtype)).cpu() for chunk in images.split(batch_size)]
        finally:
            self.train(was_training)
        return torch.cat(codes)

    @torch.no_grad()
    def decode_batched(self, z: torch.Tensor | np.ndarray, batch_size: int = 256) -> torch.Tensor:
        """Decode a whole ``(N, D)`` array of codes in eval mode; returns ``(N, C, S, S)`` on the CPU,
        float32 (float64 from a model in float64, as the analysis runs it).

        The one decode that callbacks, the analysis and the explorer share.
        """
        was_training = self.training
        self.eval()
        dtype = torch.float64 if self.dtype == torch.float64 else torch.float32
        try:
            codes = torch.as_tensor(z, dtype=dtype)
            out = [self.decode(chunk.to(self.device)).to(dtype).cpu() for chunk in codes.split(batch_size)]
        finally:
            self.train(was_training)
        side = self.hparams.image_size
        return torch.cat(out) if out else torch.empty(0, self.hparams.image_channels, side, side)

    def _batch_images(self, batch: dict) -> torch.Tensor:
        x = batch["image"]
        return x.contiguous(memory_format=torch.channels_last) if self.hparams.channels_last else x

    def _named_terms(self, terms: dict[str, torch.Tensor], stage: str) -> dict[str, torch.Tensor]:
        named = {f"{stage}/loss": terms["loss"], f"{stage}/recon": terms["recon"]}
        if "kl" in terms:
            named[f"{stage}/kl"] = terms["kl"]
            named.update({f"{stage}/kl_dim{i}": v for i, v in enumerate(terms["kl_per_dim"])})
        named.update({f"{stage}/{name}": terms[name] for name in terms.get("logged", ())})
        return named

    def optimized_parameters(self) -> Any:
        """The parameters the main optimizer trains (FactorVAE keeps its discriminator apart)."""
        return self.parameters()

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        x = self._batch_images(batch)
        terms = self.loss_terms(x)
        self._accumulate_train(terms, x.shape[0])
        return terms["loss"]

    def _accumulate_train(self, terms: dict[str, torch.Tensor], batch_size: int) -> None:
        # our own, not self.log(on_epoch=True): the per-step logging costs an epoch 9.5%
        # (docs/architecture.md, "Library mechanisms"); summed on the device, logged once per epoch
        named = self._named_terms(terms, "train")
        weighted = torch.stack([v.detach().float() for v in named.values()]) * batch_size
        if self._train_sums is None:
            self._train_sums, self._train_names, self._train_count = weighted, list(named), 0
        else:
            self._train_sums = self._train_sums + weighted
        self._train_count += batch_size

    def on_train_epoch_end(self) -> None:
        if self._train_sums is not None:
            means = self._train_sums / self._train_count
            self.log_dict(dict(zip(self._train_names, means)), sync_dist=True)
        self._train_sums = None

    def _eval_step(self, batch: dict, stage: str) -> torch.Tensor:
        x = self._batch_images(batch)
        terms = self.loss_terms(x)
        log = dict(on_step=False, on_epoch=True, batch_size=x.shape[0], sync_dist=True)
        self.log_dict(self._named_terms(terms, stage), **log)
        self.log(f"{stage}/frobenius", frobenius_error(self.reconstruct_from_terms(x, terms), x).mean(), **log)
        return terms["loss"]

    def validation_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        return self._eval_step(batch, "val")

    def test_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        return self._eval_step(batch, "test")

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
        if self.hparams.optimizer:
            optimizer = hydra.utils.instantiate(self.hparams.optimizer)(params=self.optimized_parameters())
        else:
            optimizer = torch.optim.Adam(self.optimized_parameters())
        if not self.hparams.scheduler:
            return optimizer
        sched_cfg = dict(self.hparams.scheduler)
        monitor = sched_cfg.pop("monitor", "val/loss")
        scheduler = hydra.utils.instantiate(sched_cfg)(optimizer=optimizer)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "monitor": monitor}}


class AE(LatentAutoencoder):
    """Plain autoencoder: deterministic linear bottleneck, reconstruction loss only."""

    KIND = "ae"

    def _build_bottleneck(self, in_dim: int, latent_dim: int) -> nn.Module:
        return nn.Linear(in_dim, latent_dim)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.bottleneck(self.encoder(x))

    def loss_terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        logits = self.decoder(self.encode(x))
        recon = reconstruction_loss(logits, x, self.hparams.recon_loss).mean()
        return {"loss": recon, "recon": recon, "logits": logits}

    def reconstruct_from_terms(self, x: torch.Tensor, terms: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.sigmoid(terms["logits"])  # the loss's own logits are decode(encode(x))


class VAE(LatentAutoencoder):
    """Gaussian-posterior VAE; loss = -ELBO = recon + beta * KL, both summed per example, batch-averaged."""

    KIND = "vae"

    def __init__(self, beta: float = 1.0, **kwargs: Any) -> None:
        checks.number("model.beta", beta, 0.0)
        super().__init__(**kwargs)

    @property
    def kind(self) -> str:
        """``vae``, or ``beta_vae`` when beta is not 1 (the VAE family names its own kinds)."""
        if self.KIND == "vae" and float(self.hparams.beta) != 1.0:
            return "beta_vae"
        return self.KIND

    def _build_bottleneck(self, in_dim: int, latent_dim: int) -> nn.Module:
        return nn.Linear(in_dim, 2 * latent_dim)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)``, each ``(B, D)``."""
        return self.bottleneck(self.encoder(x)).chunk(2, dim=1)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.posterior(x)[0]

    def reconstruct_from_terms(self, x: torch.Tensor, terms: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.decode(terms["mu"])  # the posterior mean, as encode(x) gives it

    def loss_terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        mu, logvar = self.posterior(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()  # reparameterisation
        logits = self.decoder(z)
        recon = reconstruction_loss(logits, x, self.hparams.recon_loss).mean()
        kl_per_dim = gaussian_kl(mu, logvar).mean(dim=0)  # (D,)
        terms = {
            "recon": recon,
            "kl": kl_per_dim.sum(),
            "kl_per_dim": kl_per_dim,
            "logits": logits,
            "mu": mu,
            "logvar": logvar,
            "z": z,
        }
        regulariser, logs = self.regulariser(terms)
        terms.update(logs)
        terms["loss"] = recon + regulariser
        terms["logged"] = tuple(logs)  # the regulariser's own terms, logged as <stage>/<name>
        return terms

    def regulariser(self, terms: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """What the ELBO adds to the reconstruction, ``beta * KL``, and the scalar terms it logs (none).
        The VAE family overrides this alone: each returns its term and its logs (disent's
        ``compute_ave_reg_loss``), so no caller lists a model's term names."""
        return self.hparams.beta * terms["kl"], {}
