"""Reconstruction and KL terms, each summed within an example and returned per example."""

from __future__ import annotations

import torch
import torch.nn.functional as F

RECON_LOSSES = ("bce", "mse")


def reconstruction_loss(logits: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    """Per-example loss summed over pixels, ``(B,)``; ``logits`` are pre-sigmoid decoder outputs."""
    if kind == "bce":
        per_pixel = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    elif kind == "mse":
        per_pixel = F.mse_loss(torch.sigmoid(logits), target, reduction="none")
    else:
        raise ValueError(f"unknown reconstruction loss {kind!r}; choose one of {RECON_LOSSES}")
    return per_pixel.flatten(1).sum(dim=1)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Closed-form ``KL(N(mu, diag(exp(logvar))) || N(0, I))`` per latent dim, ``(B, D)``."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def frobenius_error(recon: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image Frobenius norm of ``target - recon``, ``(B,)``."""
    return (target - recon).flatten(1).norm(dim=1)
