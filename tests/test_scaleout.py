"""Scale-out configs run as a user runs them: DDP on CPU, parallel launchers, Optuna, the fast path."""

import pytest
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
