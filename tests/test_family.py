"""The VAE family's loss terms against independent computations on small tensors."""

from __future__ import annotations

import math

import pytest
import torch
from omegaconf import OmegaConf

from heatmap_latent.models import MMDVAE, TCVAE, CapacityVAE, FactorVAE
from heatmap_latent.models.losses import log_importance_weights, mmd, permute_dims, tc_decomposition

SMALL = {"image_size": 12, "latent_dim": 3, "channels": [4], "hidden_dims": [8]}


def normal_pdf(x: float, mu: float, var: float) -> float:
    return math.exp(-0.5 * (x - mu) ** 2 / var) / math.sqrt(2 * math.pi * var)


def brute_force_tc(z, mu, logvar, n_data, estimator):
    """The same estimator with explicit loops over samples, posteriors and dimensions."""
    b, d = len(z), len(z[0])
    var = [[math.exp(v) for v in row] for row in logvar]
    m = b - 1
    mi = tc = dim_kl = 0.0

    def weight(i, j):
        if estimator == "mws":
            return 1.0 / (n_data * b)
        if j == i:
            return 1.0 / n_data
        if j == (i + 1) % b:
            return (n_data - m) / (n_data * m)
        return 1.0 / m

    for i in range(b):
        q_joint = sum(
            weight(i, j) * math.prod(normal_pdf(z[i][k], mu[j][k], var[j][k]) for k in range(d)) for j in range(b)
        )
        q_marg = [sum(weight(i, j) * normal_pdf(z[i][k], mu[j][k], var[j][k]) for j in range(b)) for k in range(d)]
        log_qzx = sum(math.log(normal_pdf(z[i][k], mu[i][k], var[i][k])) for k in range(d))
        log_pz = sum(math.log(normal_pdf(z[i][k], 0.0, 1.0)) for k in range(d))
        log_prod = sum(math.log(q) for q in q_marg)
        mi += log_qzx - math.log(q_joint)
        tc += math.log(q_joint) - log_prod
        dim_kl += log_prod - log_pz
    return {"mi": mi / b, "tc": tc / b, "dim_kl": dim_kl / b}


@pytest.mark.parametrize("estimator", ["mss", "mws"])
def test_tc_decomposition_equals_a_brute_force_evaluation(estimator):
    torch.manual_seed(0)
    mu, logvar = torch.randn(6, 3, dtype=torch.float64), 0.3 * torch.randn(6, 3, dtype=torch.float64)
    z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
    got = tc_decomposition(z, mu, logvar, dataset_size=50, estimator=estimator)
    want = brute_force_tc(z.tolist(), mu.tolist(), logvar.tolist(), 50, estimator)
    for key in ("mi", "tc", "dim_kl"):
        assert got[key].item() == pytest.approx(want[key], rel=1e-9, abs=1e-9), key
    # the three terms add up to the estimated KL(q(z|x) || p(z)) averaged over the batch
    log_w = log_importance_weights(6, 50, estimator)
    assert log_w.exp().sum(1).tolist() == pytest.approx([1.0] * 6 if estimator == "mss" else [1 / 50] * 6)


def test_tc_is_near_zero_for_independent_codes_and_the_true_mi_for_duplicated_ones():
    torch.manual_seed(1)
    b, s = 2048, 0.5  # posterior std: z = mu + s * eps, mu ~ N(0, I)
    mu = torch.randn(b, 3, dtype=torch.float64)
    logvar = torch.full_like(mu, 2 * math.log(s))
    independent = tc_decomposition(mu + s * torch.randn_like(mu), mu, logvar, 100_000, "mss")
    assert abs(independent["tc"].item()) < 0.05
    dup = mu.clone()
    dup[:, 1] = dup[:, 0]  # dimension 1 copies dimension 0
    duplicated = tc_decomposition(dup + s * torch.randn_like(dup), dup, logvar, 100_000, "mss")
    rho = 1 / (1 + s**2)  # correlation of z0 and z1
    assert duplicated["tc"].item() == pytest.approx(-0.5 * math.log(1 - rho**2), abs=0.05)
    # mws carries a constant offset; it still sees the dependence
    mws = [tc_decomposition(x + s * torch.randn_like(x), x, logvar, 100_000, "mws")["tc"].item() for x in (mu, dup)]
    assert mws[1] - mws[0] > 0.3


def brute_force_mmd(x, y, kernel):
    n, d = len(x), len(x[0])
    c = 2.0 * d

    def k(a, b):
        d2 = sum((a[i] - b[i]) ** 2 for i in range(d))
        return c / (c + d2) if kernel == "imq" else math.exp(-d2 / c)

    xx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(n) for j in range(n)) / (n * n)
    return xx + yy - 2 * xy


@pytest.mark.parametrize("kernel", ["imq", "rbf"])
def test_mmd_equals_a_direct_double_sum_and_vanishes_for_one_distribution(kernel):
    torch.manual_seed(2)
    x, y = torch.randn(7, 3, dtype=torch.float64), torch.randn(7, 3, dtype=torch.float64) + 0.5
    assert mmd(x, y, kernel).item() == pytest.approx(brute_force_mmd(x.tolist(), y.tolist(), kernel), rel=1e-9)
    same = mmd(torch.randn(1000, 3), torch.randn(1000, 3), kernel).item()
    shifted = mmd(torch.randn(1000, 3), torch.randn(1000, 3) + 1.0, kernel).item()
    assert abs(same) < 0.005 and shifted > 20 * max(abs(same), 1e-4)


def test_capacity_rises_linearly_then_stays():
    model = CapacityVAE(capacity_max=20.0, capacity_steps=100, **SMALL)
    assert [model.capacity(s) for s in (0, 25, 50, 100, 1000)] == [0.0, 5.0, 10.0, 20.0, 20.0]


def test_permutation_keeps_each_marginal_and_breaks_the_dependence():
    torch.manual_seed(3)
    z = torch.randn(4000, 1).repeat(1, 3) + 0.1 * torch.randn(4000, 3)  # three nearly equal dimensions
    shuffled = permute_dims(z)
    assert torch.equal(shuffled.sort(0).values, z.sort(0).values)  # the same values in every column
    assert torch.corrcoef(z.T)[0, 1] > 0.99 and abs(torch.corrcoef(shuffled.T)[0, 1]) < 0.05


def test_factor_vae_discriminator_learns_to_tell_dependent_codes_from_permuted():
    torch.manual_seed(4)
    model = FactorVAE(disc_hidden=[32, 32], disc_lr=1e-3, **SMALL)
    opt = torch.optim.Adam(model.discriminator.parameters(), lr=1e-3, betas=(0.5, 0.9))
    accuracies = []
    for _ in range(300):
        base = torch.randn(256, 1)
        z = base.repeat(1, 3) + 0.1 * torch.randn(256, 3)  # strongly dependent dimensions: a large TC
        _, logs = model.regulariser({"z": z, "kl": torch.tensor(0.0)})  # the term and what it logs
        opt.zero_grad()
        logs["disc_loss"].backward()
        opt.step()
        accuracies.append(logs["disc_accuracy"].item())
    assert accuracies[0] < 0.7 and min(accuracies[-20:]) > 0.9
    assert logs["tc"].item() > 1.0  # the TC estimate E[logit_0 - logit_1] is large


def test_family_models_encode_decode_and_validate_their_knobs():
    for cls, bad, message in (
        (TCVAE, {"estimator": "exact"}, "model.estimator"),
        (MMDVAE, {"kernel": "cosine"}, "model.kernel"),
        (CapacityVAE, {"capacity_steps": 0}, "model.capacity_steps"),
        (FactorVAE, {"disc_lr": 0.0}, "model.disc_lr"),
    ):
        model = cls(**SMALL)
        x = torch.rand(4, 1, 12, 12)
        assert model.encode(x).shape == (4, 3) and model.decode(model.encode(x)).shape == (4, 1, 12, 12)
        with pytest.raises(ValueError, match=message):
            cls(**bad, **SMALL)


@pytest.mark.parametrize("model", ["tcvae", "mmd_vae", "capacity_vae", "factor_vae"])
def test_family_checkpoints_load_with_weights_only_and_are_analysed(make_cfg, tmp_path, model):
    from heatmap_latent.analysis.loading import load_run
    from heatmap_latent.analysis.pipeline import analyze_run
    from heatmap_latent.study.steps import STEPS
    from heatmap_latent.training import train

    train(make_cfg(f"model={model}", "trainer.max_epochs=1", "logger=none", "~callbacks.embedding_projector"))
    (tmp_path / ".hydra").mkdir()
    (tmp_path / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(make_cfg(f"model={model}")))
    run = load_run(tmp_path)  # load_from_checkpoint(weights_only=True) of the run's own class
    classes = {"tcvae": TCVAE, "mmd_vae": MMDVAE, "capacity_vae": CapacityVAE, "factor_vae": FactorVAE}
    assert type(run.model) is classes[model]
    analysis = analyze_run(run, steps=[s for s in STEPS if s.name in ("reconstruction", "realism")])
    assert analysis.metrics["realism"]["prior_source"] == "N(0, I)"  # a VAE-family prior
    assert analysis.metrics["reconstruction"]["mean"] > 0


def test_factor_vae_tc_trains_the_encoder_and_not_the_discriminator():
    model = FactorVAE(**SMALL)
    terms = model.loss_terms(torch.rand(8, 1, 12, 12))
    terms["loss"].backward()
    assert all(p.grad is None for p in model.discriminator.parameters())
    assert model.bottleneck.weight.grad.abs().sum() > 0
    model.zero_grad()
    terms = model.loss_terms(torch.rand(8, 1, 12, 12))
    terms["disc_loss"].backward()
    assert model.bottleneck.weight.grad is None or model.bottleneck.weight.grad.abs().sum() == 0
    assert all(p.grad is not None for p in model.discriminator.parameters())
