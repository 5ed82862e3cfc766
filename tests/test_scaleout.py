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
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        local = compose("train", overrides=["hydra/launcher=slurm_local"], return_hydra_config=True).hydra.launcher
    assert get_class(local._target_).__name__ == "SlurmLauncher"
    assert (local.gpus_per_node, local.cpus_per_task, local.mem_gb) == (0, 1, 2)


def test_a_requeued_slurm_job_knows_its_restart_and_takes_over_its_earlier_starts_lock(monkeypatch, tmp_path):
    from heatmap_latent.sweeps.lock import Holder
    from heatmap_latent.sweeps.slurm import SlurmJob, slurm_job

    for key in ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_RESTART_COUNT"):
        monkeypatch.delenv(key, raising=False)
    assert slurm_job() is None
    monkeypatch.setenv("SLURM_JOB_ID", "17")
    monkeypatch.setenv("SLURM_ARRAY_JOB_ID", "15")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "2")
    assert slurm_job() == SlurmJob("15_2", 0)
    first = Holder.this_process()
    assert (first.slurm_job, first.slurm_restarts) == ("15_2", 0)
    elsewhere = Holder("another-node", 1, "t", 0.0, "15_2", 0)  # its first start, on another node
    assert not elsewhere.is_stale()  # not checkable from here while this is the same start
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    assert slurm_job() == SlurmJob("15_2", 1)
    assert elsewhere.is_stale()  # SLURM killed the first start before starting this one
    assert not Holder("another-node", 1, "t", 0.0, "16_0", 0).is_stale()  # another job's lock


def test_a_launcher_that_cannot_submit_is_one_line_that_says_what_to_set():
    from omegaconf import OmegaConf

    from heatmap_latent.sweeps.slurm import launch_failed

    gres = RuntimeError("sbatch: error: Invalid generic resource (gres) specification\n")
    line = launch_failed(gres, OmegaConf.create({"gpus_per_node": 1}))
    assert "\n" not in line and line.startswith("the launcher could not run the jobs: sbatch: error: Invalid")
    assert "hydra/launcher=slurm_local" in line
    other = launch_failed(RuntimeError("sbatch: error: invalid partition specified: gpu"), {"gpus_per_node": 0})
    assert other == "the launcher could not run the jobs: sbatch: error: invalid partition specified: gpu"


def test_fast_trainer_trains_in_the_fastest_native_precision_with_channels_last(make_cfg):
    from heatmap_latent.core.precision import fastest_precision

    cfg = make_cfg("trainer=fast", "trainer.max_epochs=1", "logger=none", "callbacks=none")
    assert cfg.trainer.precision == fastest_precision("auto").precision and cfg.model.channels_last is True
    metrics = train(cfg)
    assert metrics["val/loss"] > 0 and metrics["test/frobenius"] > 0
