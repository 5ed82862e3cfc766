"""Scale-out configs run as a user runs them: DDP on CPU, parallel launchers, Optuna, the fast path."""

import json

import pytest
import yaml
from hydra.utils import get_class

from heatmap_latent.training import train
from tests.conftest import ROOT, run_train


@pytest.mark.slow
@pytest.mark.parametrize("model", ["vae", "factor_vae"])  # factor_vae: two optimizers stepped by hand
def test_ddp_on_cpu_with_two_gloo_processes_logs_once(tmp_path, model):
    run = tmp_path / "ddp"
    done = run_train(
        f"model={model}",
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "trainer.max_epochs=2",
        f"hydra.run.dir={run}",
    )
    assert "distributed_backend=gloo" in done.stderr + done.stdout
    assert "MEMBER: 2/2" in done.stderr + done.stdout
    events = list((run / "tensorboard").glob("events.out.tfevents.*"))
    assert events and len({e.name.split(".")[-2] for e in events}) == 1  # one writer process: rank zero
    assert {"last.ckpt"} < {p.name for p in (run / "checkpoints").iterdir()}
    assert not list(tmp_path.glob("**/version_*"))


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["joblib", "submitit_local"])
def test_parallel_launchers_run_a_sweep(tmp_path, launcher):
    extra = ["hydra.launcher.n_jobs=2"] if launcher == "joblib" else ["hydra.launcher.timeout_min=10"]
    run_train(
        "-m",
        f"hydra/launcher={launcher}",
        *extra,
        "model=vae,ae",
        "trainer.max_epochs=1",
        "logger=none",
        f"hydra.sweep.dir={tmp_path}",
    )
    for job in ("0", "1"):
        assert (tmp_path / job / "checkpoints" / "last.ckpt").is_file()


@pytest.mark.slow
def test_optuna_search_minimises_the_returned_validation_loss(tmp_path):
    run_train(
        "-m",
        "hparams_search=optuna",
        "hydra.sweeper.n_trials=3",
        "trainer.max_epochs=1",
        "logger=none",
        f"hydra.sweep.dir={tmp_path}",
    )
    result = yaml.safe_load((tmp_path / "optimization_results.yaml").read_text())
    assert result["name"] == "optuna" and set(result["best_params"]) >= {"model.optimizer.lr", "model.hidden_dims"}
    jobs = [p for p in tmp_path.iterdir() if p.name.startswith("trial_")]
    losses = [json.loads((job / "job.json").read_text())["metrics"]["best_val_loss"] for job in jobs]
    assert len(losses) == 3 and result["best_value"] == pytest.approx(min(losses), rel=1e-4)


def test_slurm_profile_targets_the_submitit_slurm_launcher():
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=["hydra/launcher=slurm"], return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert get_class(launcher._target_).__name__ == "SlurmLauncher"
    assert launcher.gpus_per_node == 1 and launcher.timeout_min == 240


def test_fast_trainer_trains_in_the_fastest_native_precision_with_channels_last(make_cfg):
    from heatmap_latent.core.precision import fastest_precision

    cfg = make_cfg("trainer=fast", "trainer.max_epochs=1", "logger=none", "callbacks=none")
    assert cfg.trainer.precision == fastest_precision("auto").precision and cfg.model.channels_last is True
    metrics = train(cfg)
    assert metrics["val/loss"] > 0 and metrics["test/frobenius"] > 0
