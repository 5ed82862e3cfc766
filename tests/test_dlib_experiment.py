"""experiment=dlib: disentanglement_lib's unsupervised study (its unsupervised_study_v1) as a sweep per
method: the network, likelihood, latents, batch, optimiser and step budget theirs, each method's
hyperparameters as their sweep lists them."""

from __future__ import annotations

import json

import pytest
from omegaconf import OmegaConf

from heatmap_latent.core.conf import compose_config
from tests.conftest import run_train

# disentanglement_lib's unsupervised_study_v1 sweeps
SWEEPS = {
    "beta_vae": ("heatmap_latent.models.VAE", "model.beta", "1,2,4,6,8,16"),
    "annealed_vae": ("heatmap_latent.models.CapacityVAE", "model.capacity_max", "5,10,25,50,75,100"),
    "factor_vae": ("heatmap_latent.models.FactorVAE", "model.gamma", "10,20,30,40,50,100"),
    "beta_tc_vae": ("heatmap_latent.models.TCVAE", "model.beta", "1,2,4,6,8,10"),
}


@pytest.mark.parametrize("method", SWEEPS)
def test_each_method_is_its_sweep_on_disentanglement_libs_recipe(method):
    cfg = compose_config("train", ["experiment=dlib", f"dlib={method}", "data=sprites"], hydra_config=True)
    target, key, values = SWEEPS[method]
    assert cfg.model._target_ == target
    assert OmegaConf.to_container(cfg.hydra.sweeper.params) == {"seed": "${seed}", key: values}
    m = cfg.model
    assert (list(m.channels), list(m.hidden_dims), m.kernel_size, m.stride, m.pool, m.padding) == (
        [32, 32, 64, 64],
        [256],
        4,
        2,
        1,
        1,
    )
    assert m.latent_dim == 10 and m.recon_loss == "bce" and m.scheduler is None
    assert m.optimizer._target_ == "torch.optim.Adam" and m.optimizer.lr == 1e-4
    # their 300,000 steps are batches; Lightning counts the FactorVAE's two optimizer steps a batch
    batches = 300_000 * (2 if method == "factor_vae" else 1)
    assert cfg.data.batch_size == 64 and cfg.trainer.max_steps == batches and cfg.trainer.max_epochs == -1
    assert cfg.callbacks.early_stopping is None
    if method == "annealed_vae":
        assert m.gamma == 1000 and m.capacity_steps == 100_000


@pytest.mark.slow
def test_a_dlib_sweep_trains_by_steps(tmp_path):
    """Two jobs of the beta-VAE sweep, 3 steps each: the budget is steps, not epochs."""
    sweep = tmp_path / "sweep"
    run_train(
        "-m",
        "experiment=dlib",
        "data=sprites",
        "model.beta=1,16",
        "seed=1",
        "trainer.max_steps=3",
        "logger=none",
        "callbacks=none",
        f"hydra.sweep.dir={sweep}",
        tiny=False,
    )
    records = [json.loads((sweep / str(i) / "job.json").read_text()) for i in (0, 1)]
    assert [r["status"] for r in records] == ["completed", "completed"]
    assert [r["overrides"][1] for r in records] == ["model.beta=1", "model.beta=16"]
    assert [r["metrics"]["steps"] for r in records] == [3.0, 3.0]  # 3 steps, not the epoch of 6,912 images
    assert [r["metrics"]["batches"] for r in records] == [3.0, 3.0]  # one optimizer step a batch
    assert all(r["metrics"]["epochs"] == 1.0 for r in records)


def test_a_factor_vae_run_records_two_of_lightnings_steps_a_batch_and_its_batches(tmp_path):
    """Why conf/dlib/factor_vae.yaml doubles the budget: 3 batches are 6 of Lightning's steps; job.json
    records both, so the benchmark's table (analysis/anchors.py) reads the batches, not a rule of thumb."""
    from tests.conftest import in_process_run

    run = in_process_run(
        tmp_path / "run", "model=factor_vae", "trainer.max_steps=6", "logger=none", "callbacks=none", "test=false"
    )
    metrics = json.loads((run / "job.json").read_text())["metrics"]
    assert (metrics["steps"], metrics["batches"]) == (6.0, 3.0)
