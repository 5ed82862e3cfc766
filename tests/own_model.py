"""A model of the user's own, in one file beside its YAML (tests/own_conf/model/sparse_ae.yaml), with
no line of the package changed: an AE whose loss adds an L1 penalty on the code, logged as its own
term. The recipe is docs/architecture.md's "A model of one's own"."""

from __future__ import annotations

from typing import Any

import torch

from heatmap_latent.models import AE
from heatmap_latent.models.losses import reconstruction_loss


class SparseAE(AE):
    """Plain autoencoder plus ``l1`` times the mean L1 norm of the code."""

    KIND = "sparse_ae"  # what its runs are called in groups, labels and the report

    def __init__(self, l1: float = 0.01, **kwargs: Any) -> None:
        if l1 < 0:
            raise ValueError(f"model.l1 must be >= 0, got {l1}")
        super().__init__(**kwargs)

    def loss_terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        z = self.encode(x)
        logits = self.decoder(z)
        recon = reconstruction_loss(logits, x, self.hparams.recon_loss).mean()
        sparsity = self.hparams.l1 * z.abs().sum(dim=1).mean()
        return {
            "loss": recon + sparsity,
            "recon": recon,
            "sparsity": sparsity,
            "logits": logits,
            "logged": ("sparsity",),
        }
