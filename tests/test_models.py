import math

import lightning.pytorch as pl
import pytest
import torch
from hydra.utils import instantiate
from torch.distributions import Normal, kl_divergence
from torch.utils.data import DataLoader

from heatmap_latent.core.conf import CONF_DIR
from heatmap_latent.models import AE, MMDVAE, TCVAE, VAE, CapacityVAE, FactorVAE
from heatmap_latent.models.backbone import Decoder, Encoder
from heatmap_latent.models.losses import frobenius_error, gaussian_kl, reconstruction_loss


@pytest.mark.parametrize(
    "image_size, channels, stride, pool",
    [(36, [16, 32], 1, 2), (24, [8, 16, 32], 1, 2), (12, [4, 8], 1, 2), (36, [8], 2, 3), (36, [8, 16], 1, 3)],
)
@torch.no_grad()
def test_backbone_round_trip_shapes(image_size, channels, stride, pool):
    enc = Encoder(image_size, channels, [64], stride=stride, pool=pool)
    dec = Decoder(image_size, 3, channels, [64], stride=stride, pool=pool)
    h = enc(torch.rand(5, 1, image_size, image_size))
    assert h.shape == (5, enc.out_dim) == (5, 64)
    assert dec(torch.randn(5, 3)).shape == (5, 1, image_size, image_size)


def test_decoder_rejects_a_size_it_cannot_rebuild():
    with pytest.raises(ValueError, match=r"cannot rebuild a 36x36 image \(data.grid.size\) with 3 upsampling blocks"):
        Decoder(36, 3, [8, 16, 32], [64])


@pytest.mark.parametrize("cls", [AE, VAE])
@pytest.mark.parametrize("latent_dim", [1, 3, 8])
@torch.no_grad()
def test_named_methods_shapes_and_range(cls, latent_dim):
    model = cls(image_size=12, latent_dim=latent_dim, channels=[4, 8], hidden_dims=[32])
    x = torch.rand(6, 1, 12, 12)
    z = model.encode(x)
    assert z.shape == (6, latent_dim)
    recon = model.reconstruct(x)
    assert recon.shape == x.shape and recon.min() >= 0 and recon.max() <= 1
    torch.testing.assert_close(model.embed(x, batch_size=4), z)


@torch.no_grad()
def test_vae_encode_is_the_posterior_mean_and_deterministic():
    model = VAE(image_size=12, channels=[4, 8], hidden_dims=[32]).train()
    x = torch.rand(4, 1, 12, 12)
    mu, logvar = model.posterior(x)
    assert torch.equal(model.encode(x), mu) and torch.equal(model.encode(x), model.encode(x))


@pytest.mark.parametrize("cls", [AE, VAE, TCVAE, MMDVAE, CapacityVAE, FactorVAE])
@torch.no_grad()
def test_validation_error_reuses_the_loss_forward_and_equals_the_deterministic_reconstruction(cls):
    """val/frobenius is the error of ``reconstruct(x)`` (posterior mean for a VAE, not the sampled z
    of the loss), computed from the loss's own forward pass."""
    extra = {"dataset_size": 100} if cls is TCVAE else {}
    model = cls(image_size=12, channels=[4, 8], hidden_dims=[32], **extra).eval()
    x = torch.rand(6, 1, 12, 12)
    terms = model.loss_terms(x)
    torch.testing.assert_close(model.reconstruct_from_terms(x, terms), model.reconstruct(x), rtol=0, atol=0)
    if "z" in terms:  # the sampled code decodes to something else
        assert not torch.equal(model.decode(terms["z"]), model.reconstruct(x))


@pytest.mark.parametrize("cls", [AE, VAE])
def test_validation_runs_the_encoder_once_per_batch(cls):
    model = cls(image_size=12, channels=[4, 8], hidden_dims=[32])
    calls = []
    model.encoder.register_forward_hook(lambda *args: calls.append(1))
    batches = DataLoader([{"image": torch.rand(1, 12, 12)} for _ in range(8)], batch_size=4)
    trainer = pl.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False)
    metrics = trainer.validate(model, batches, verbose=False)[0]
    assert len(calls) == 2 and metrics["val/frobenius"] > 0


def test_elbo_matches_hand_computation():
    torch.manual_seed(0)
    model = VAE(image_size=12, channels=[4, 8], hidden_dims=[32], beta=2.5)
    x = torch.rand(3, 1, 12, 12)
    torch.manual_seed(1)
    terms = model.loss_terms(x)
    # redo the same sample by hand
    mu, logvar = model.posterior(x)
    torch.manual_seed(1)
    eps = torch.randn_like(mu)
    p = torch.sigmoid(model.decoder(mu + eps * torch.exp(0.5 * logvar)))
    bce = -(x * torch.log(p) + (1 - x) * torch.log(1 - p))
    recon = bce.sum(dim=(1, 2, 3)).mean()
    std = torch.exp(0.5 * logvar)
    kl_dims = kl_divergence(Normal(mu, std), Normal(torch.zeros_like(mu), torch.ones_like(std))).mean(0)
    torch.testing.assert_close(terms["recon"], recon, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(terms["kl_per_dim"], kl_dims, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(terms["loss"], recon + 2.5 * kl_dims.sum(), rtol=1e-5, atol=1e-4)


def test_ae_loss_is_reconstruction_only_and_mse_selectable():
    model = AE(image_size=12, channels=[4, 8], hidden_dims=[32], recon_loss="mse")
    x = torch.rand(3, 1, 12, 12)
    terms = model.loss_terms(x)
    assert set(terms) == {"loss", "recon", "logits"}
    expected = ((model.reconstruct(x) - x) ** 2).sum(dim=(1, 2, 3)).mean()
    torch.testing.assert_close(terms["loss"], expected)


def test_loss_pieces_on_known_values():
    assert torch.allclose(gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 3)), torch.zeros(2, 3))
    assert math.isclose(gaussian_kl(torch.tensor([[1.0]]), torch.tensor([[0.0]])).item(), 0.5)
    target = torch.zeros(1, 1, 2, 2)
    assert math.isclose(frobenius_error(torch.full((1, 1, 2, 2), 0.5), target).item(), 1.0)
    with pytest.raises(ValueError, match="unknown reconstruction loss 'l1'"):
        reconstruction_loss(target, target, "l1")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"latent_dim": 0}, "model.latent_dim must be >= 1"),
        ({"optimizer": {"_target_": "torch.optim.Adam", "_partial_": True, "lr": -1.0}}, "model.optimizer.lr"),
        ({"beta": -1.0}, "model.beta"),
        ({"recon_loss": "l1"}, "model.recon_loss"),
        ({"activation": "tanhh"}, "model.activation must be one of"),
        ({"latent_dim": "3"}, "model.latent_dim must be an integer"),
        ({"channels": []}, "model.channels"),
        ({"kernel_size": 4}, "model.kernel_size"),
    ],
)
def test_bad_hyperparameters_fail_with_the_key_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VAE(image_size=12, channels=kwargs.pop("channels", [4, 8]), **kwargs)


def test_decode_batched_is_eval_mode_decode_in_chunks_and_keeps_the_mode():
    model = VAE(image_size=12, latent_dim=3, channels=[4], hidden_dims=[8])
    model.train()
    z = torch.randn(37, 3)
    out = model.decode_batched(z.numpy(), batch_size=8)  # numpy in, five chunks
    assert model.training  # the caller's mode is restored
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(out, model.decode(z), rtol=0, atol=1e-6)  # chunking changes rounding only
    assert out.shape == (37, 1, 12, 12) and out.dtype == torch.float32 and not out.requires_grad
    assert model.decode_batched(torch.zeros(0, 3)).shape == (0, 1, 12, 12)


def test_evenly_spaced_keeps_both_ends():
    from heatmap_latent.core.subsample import evenly_spaced

    assert evenly_spaced(10, 4).tolist() == [0, 3, 6, 9]
    assert evenly_spaced(3, 10).tolist() == [0, 1, 2]  # never more than there are
    assert evenly_spaced(0, 5).tolist() == []


@pytest.mark.parametrize("config", sorted(p.stem for p in (CONF_DIR / "model").glob("[!_]*.yaml")))
def test_each_model_config_builds_the_kind_its_file_is_named_for(make_cfg, config):
    # a study's roles are the models' kinds: today's config names and the kinds must agree
    assert instantiate(make_cfg(f"model={config}").model).kind == config


def test_the_kind_is_what_the_model_is_whatever_config_chose_it():
    size = {"image_size": 12, "channels": [4], "hidden_dims": [8]}
    assert (AE(**size).kind, VAE(**size).kind, VAE(beta=4.0, **size).kind) == ("ae", "vae", "beta_vae")
    assert TCVAE(beta=1.0, **size).kind == "tcvae"  # the family names its own kind at any beta
