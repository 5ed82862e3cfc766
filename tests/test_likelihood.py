"""The importance-weighted log p(x) against its known answer: a VAE with a 2-D latent, whose
log p(x) = log of the integral of p(x|z) p(z) over z is computed by quadrature on a fine grid. The
estimate lies below it (in the mean over images: a lower bound in expectation) and approaches it as
k grows; k = 1 is the ELBO."""

from __future__ import annotations

import math

import pytest
import torch
from hydra.utils import instantiate

from heatmap_latent.analysis.likelihood import importance_weighted_log_px, log_likelihood_given_code


def trained_vae(make_cfg, recon_loss: str):
    """A VAE with a 2-D latent on the tiny grid, fitted for 200 Adam steps: a posterior narrow enough
    that one sample misses much of p(x), as a trained model's does."""
    torch.manual_seed(0)
    cfg = make_cfg("model=vae", "model.latent_dim=2", f"model.recon_loss={recon_loss}", "model.hidden_dims=[32]")
    data, model = instantiate(cfg.data), instantiate(cfg.model)
    data.setup()
    images = data.images[torch.from_numpy(data.train_idx)]
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _step in range(200):
        batch = images[torch.randint(len(images), (64,))]
        terms = model.loss_terms(batch)
        (terms["recon"] + terms["kl"]).backward()
        optimizer.step()
        optimizer.zero_grad()
    return model.double().eval(), data.images[torch.from_numpy(data.test_idx[:6])].double()


@torch.no_grad()
def quadrature_log_px(model, images: torch.Tensor, half_width: float = 7.0, n: int = 321) -> torch.Tensor:
    """log of the sum over an n x n grid of z in [-w, w]^2 of p(x|z) p(z) dz, per image."""
    axis = torch.linspace(-half_width, half_width, n, dtype=torch.float64)
    grid = torch.cartesian_prod(axis, axis)  # (n^2, 2)
    log_pz = -0.5 * grid.pow(2).sum(1) - math.log(2 * math.pi)
    log_cell = 2 * math.log(float(axis[1] - axis[0]))
    out = []
    logits = torch.cat([model.decoder(z) for z in grid.split(8192)])
    for x in images:
        log_px_z = log_likelihood_given_code(model, logits, x.expand(len(grid), *x.shape))
        out.append(torch.logsumexp(log_px_z + log_pz, dim=0) + log_cell)
    return torch.stack(out)


def mean_gap(model, images, exact, k: int, repeats: int = 8) -> float:
    """The mean over images and over ``repeats`` seeds of log p(x) - its estimate with ``k`` samples:
    the estimator's bias, with its noise averaged down."""
    estimates = torch.stack([importance_weighted_log_px(model, images, k, seed=s) for s in range(repeats)])
    return (exact - estimates.mean(0)).mean().item()


@pytest.mark.parametrize("recon_loss", ["bce", pytest.param("mse", marks=pytest.mark.slow)])
def test_the_importance_weighted_log_px_lies_below_the_quadrature_and_approaches_it(make_cfg, recon_loss):
    model, images = trained_vae(make_cfg, recon_loss)
    exact = quadrature_log_px(model, images)
    # the grid is fine enough: halving its spacing moves the answer by far less than the gaps below
    assert torch.allclose(quadrature_log_px(model, images, n=161), exact, atol=2e-3)
    gaps = {k: mean_gap(model, images, exact, k) for k in (1, 10, 1000)}
    assert gaps[1] > gaps[10] > gaps[1000] > -0.005, gaps  # below in expectation, tightening with k
    assert gaps[1] > 0.02 and abs(gaps[1000]) < 0.01, gaps  # the ELBO's gap is real; 1,000 samples close it
    again = importance_weighted_log_px(model, images, 100, seed=1)
    assert torch.equal(again, importance_weighted_log_px(model, images, 100, seed=1))  # seeded


def test_the_likelihood_refuses_no_samples():
    with pytest.raises(ValueError, match="at least 1"):
        importance_weighted_log_px(None, torch.zeros(1, 1, 4, 4), 0)
