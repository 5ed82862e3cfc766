"""Reconstruction and KL terms, each summed within an example and returned per example."""

from __future__ import annotations

import math

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


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Elementwise ``log N(z; mu, exp(logvar))``."""
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).pow(2) * torch.exp(-logvar))


def log_importance_weights(batch_size: int, dataset_size: int, estimator: str) -> torch.Tensor:
    """``(B, B)`` log-weights of posterior ``j`` in the estimate of ``q(z_i)`` (Chen et al. 2018, app. C).

    ``mws`` (minibatch-weighted sampling): every weight ``1 / (N M)``, as in the paper; its estimates
    of ``log q(z)`` carry a constant offset of about ``-log N`` (so TC about ``+(D-1) log N``), which
    does not change gradients. ``mss`` (minibatch-stratified sampling): the sample's own posterior
    ``1 / N``, one other ``(N - M) / (N M)``, the rest ``1 / M`` with ``M = B - 1``; the weights sum
    to 1 and the estimates are consistent, so logged values read as nats.
    """
    n, b = float(dataset_size), batch_size
    if estimator == "mws":
        return torch.full((b, b), -math.log(n * b), dtype=torch.float64)
    if estimator != "mss":
        raise ValueError(f"unknown TC estimator {estimator!r}; choose mws or mss")
    m = b - 1
    weights = torch.full((b, b), 1.0 / m, dtype=torch.float64)
    idx = torch.arange(b)
    weights[idx, idx] = 1.0 / n
    weights[idx, (idx + 1) % b] = (n - m) / (n * m)
    return weights.log()


def tc_decomposition(
    z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, dataset_size: int, estimator: str = "mss"
) -> dict[str, torch.Tensor]:
    """The KL term split into index-code MI, total correlation and dimension-wise KL, batch means.

    ``z`` ``(B, D)`` is a sample of the posteriors ``N(mu, exp(logvar))``; the aggregate posterior
    ``q(z)`` and its marginals are estimated on the minibatch (``log_importance_weights``).
    """
    b = z.shape[0]
    if b < 2:  # stratification needs another sample in the batch
        estimator = "mws"
    pair = log_normal(z[:, None, :], mu[None], logvar[None])  # (B, B, D): sample i under posterior j
    log_w = log_importance_weights(b, dataset_size, estimator).to(z)
    log_qz = torch.logsumexp(log_w + pair.sum(2), dim=1)
    log_prod_qzd = torch.logsumexp(log_w[:, :, None] + pair, dim=1).sum(1)
    log_qz_x = log_normal(z, mu, logvar).sum(1)
    log_pz = log_normal(z, torch.zeros_like(z), torch.zeros_like(z)).sum(1)
    return {
        "mi": (log_qz_x - log_qz).mean(),
        "tc": (log_qz - log_prod_qzd).mean(),
        "dim_kl": (log_prod_qzd - log_pz).mean(),
    }


MMD_KERNELS = ("imq", "rbf")


def mmd(x: torch.Tensor, y: torch.Tensor, kernel: str = "imq", scale: float = 1.0) -> torch.Tensor:
    """Unbiased estimate of MMD^2 between samples ``x`` and ``y`` ``(n, D)``.

    Kernels with ``c = 2 D scale^2`` (Tolstikhin et al. 2018): ``imq`` ``c / (c + |a - b|^2)``,
    ``rbf`` ``exp(-|a - b|^2 / c)``.
    """
    if kernel not in MMD_KERNELS:
        raise ValueError(f"unknown MMD kernel {kernel!r}; choose one of {MMD_KERNELS}")
    n, dim = x.shape
    c = 2.0 * dim * scale**2

    def k(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        d2 = torch.cdist(a, b).pow(2)
        return c / (c + d2) if kernel == "imq" else torch.exp(-d2 / c)

    off = 1.0 - torch.eye(n, device=x.device, dtype=x.dtype)
    within = ((k(x, x) + k(y, y)) * off).sum() / (n * (n - 1))
    return within - 2.0 * k(x, y).mean()


def permute_dims(z: torch.Tensor) -> torch.Tensor:
    """Each latent dimension shuffled across the batch on its own (FactorVAE's product of marginals)."""
    b, d = z.shape
    order = torch.argsort(torch.rand(b, d, device=z.device), dim=0)
    return torch.gather(z, 0, order)
