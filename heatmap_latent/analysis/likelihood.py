"""The importance-weighted estimate of log p(x) (Burda et al. 2016, IWAE's bound; pythae's
``VAE.get_nll``): for each image, K codes drawn from the posterior q(z|x) weigh the decoder's
likelihood p(x|z) and the prior p(z) against q,

    log p(x) ~ logsumexp_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)] - log K,

a lower bound in expectation that tightens as K grows (K = 1 is the ELBO). p(x|z) is the model's own
likelihood, the one its reconstruction loss is the negative log of: ``bce`` a Bernoulli per pixel
(a density on binary images; on grey levels a cross-entropy, not a normalised density), ``mse`` a
Gaussian of variance 1/2 per pixel (the variance under which a sum of squared errors is the negative
log-likelihood up to its constant, which is added here). In nats per image.
"""

from __future__ import annotations

import math

import torch

from heatmap_latent.models.losses import log_normal, reconstruction_loss

DENSITY = {
    "bce": "Bernoulli per pixel: a density on binary images, a cross-entropy bound on grey levels",
    "mse": "Gaussian per pixel, variance 1/2 (the variance its squared error is the log-likelihood of)",
}


def log_likelihood_given_code(model, logits: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """log p(x|z) per image, ``(B,)``, under the model's reconstruction loss (``DENSITY``)."""
    kind = model.hparams.recon_loss
    nll = reconstruction_loss(logits, images, kind)
    if kind == "mse":  # N(x; mean, 1/2): -(x - mean)^2 - log(pi) / 2 per pixel
        nll = nll + 0.5 * math.log(math.pi) * images[0].numel()
    return -nll


@torch.no_grad()
def importance_weighted_log_px(
    model, images: torch.Tensor, k: int, seed: int = 0, batch_codes: int = 4096
) -> torch.Tensor:
    """The estimate of log p(x) for each image, ``(N,)``, with ``k`` posterior samples each, drawn by a
    generator seeded with ``seed`` (the same estimate on every call). ``model`` is a VAE (``posterior``
    gives the mean and log-variance); ``batch_codes`` bounds the decodes held at once."""
    if k < 1:
        raise ValueError(f"the likelihood's k must be at least 1, got {k}")
    was_training = model.training
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    per_batch = max(1, batch_codes // k)
    out = []
    try:
        for x in images.split(per_batch):
            x = x.to(model.device, model.dtype)
            mu, logvar = model.posterior(x)
            b, d = mu.shape
            eps = torch.randn((b, k, d), generator=generator, dtype=torch.float64).to(mu)
            z = mu[:, None] + eps * (0.5 * logvar).exp()[:, None]  # (b, k, d)
            logits = model.decoder(z.reshape(b * k, d))
            targets = x.repeat_interleave(k, dim=0)
            log_px_z = log_likelihood_given_code(model, logits, targets).reshape(b, k)
            log_pz = log_normal(z, torch.zeros_like(z), torch.zeros_like(z)).sum(-1)
            log_qz = log_normal(z, mu[:, None], logvar[:, None]).sum(-1)
            log_w = (log_px_z + log_pz - log_qz).double()
            out.append((torch.logsumexp(log_w, dim=1) - math.log(k)).cpu())
    finally:
        model.train(was_training)
    return torch.cat(out)
