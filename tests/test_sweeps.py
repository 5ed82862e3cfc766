"""Sweeps that survive: job records, resume=true, failing jobs isolated, the sweep summary, Optuna."""

import csv
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import yaml
from omegaconf import OmegaConf, open_dict

from heatmap_latent.sweeps.optuna_study import open_storage
from heatmap_latent.sweeps.records import config_hash, read_record
from heatmap_latent.training import train
from tests.conftest import ROOT, TINY_DATA


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def journal(sweep):
    """The search's study storage: the journal file in its sweep directory."""
    return open_storage(str(sweep / "optuna.journal"))


def checkpoint_digests(job):
    return {p.name: digest(p) for p in sorted((job / "checkpoints").glob("*.ckpt"))}


def train_py(*args, check=True, timeout=600):
    lead = [a for a in args[:1] if a == "-m"]
    cmd = [sys.executable, "train.py", *lead, *TINY_DATA, *args[len(lead) :]]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


# --- in-process: the record and resume=true -------------------------------------------------------
def test_a_completed_job_is_not_trained_again_with_resume(make_cfg, tmp_path):
    first = train(make_cfg("model=ae", "trainer.max_epochs=2", "logger=none"))
    record = read_record(tmp_path)
    assert record["status"] == "completed" and record["metrics"]["val/loss"] == pytest.approx(first["val/loss"])
    before = checkpoint_digests(tmp_path)
    again = train(make_cfg("model=ae", "trainer.max_epochs=2", "logger=none", "resume=true"))
    assert again == pytest.approx(first) and "fit_seconds" in again
    assert checkpoint_digests(tmp_path) == before  # nothing retrained, nothing rewritten


def test_a_changed_config_is_not_taken_for_a_finished_one(make_cfg, tmp_path):
    train(make_cfg("model=ae", "trainer.max_epochs=1", "logger=none"))
    cfg = make_cfg("model=ae", "trainer.max_epochs=2", "logger=none", "resume=true")
    assert read_record(tmp_path)["config_hash"] != config_hash(cfg)
    metrics = train(cfg)  # resumes from last.ckpt (epoch 1) to epoch 2
    assert metrics["epochs"] == 2
    assert read_record(tmp_path)["config_hash"] == config_hash(cfg)


def test_the_hash_ignores_resume_and_paths(make_cfg):
    a, b = make_cfg("model=ae"), make_cfg("model=ae", "resume=true")
    with open_dict(b):
        b.paths.output_dir = "/elsewhere"
    assert config_hash(a) == config_hash(b) != config_hash(make_cfg("model=ae", "seed=1"))
    # loader processes draw the same batches: more of them on another machine, or a run from before
    # the key existed, is the same job
    old = OmegaConf.to_container(make_cfg("model=ae"), resolve=False)
    del old["data"]["num_workers"]
    c = OmegaConf.create(old)
    assert config_hash(a) == config_hash(make_cfg("model=ae", "data.num_workers=4")) == config_hash(c)
    assert config_hash(a) != config_hash(make_cfg("model=ae", "data.batch_size=8"))


# --- real sweeps ------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_sweep_stopped_by_sigterm_resumes_without_retraining(tmp_path):
    sweep = tmp_path / "sweep"
    args = ["seed=1,2,3", "trainer.max_epochs=40", "~callbacks.early_stopping", "logger=none"]
    cmd = [sys.executable, "train.py", "-m", *TINY_DATA, *args, f"hydra.sweep.dir={sweep}"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second_last = sweep / "1" / "checkpoints" / "last.ckpt"
    deadline = time.time() + 300
    while not second_last.exists() and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode != 0
    assert "stopped by SIGTERM" in err and "resume=true" in err.strip().splitlines()[-1]
    assert read_record(sweep / "0")["status"] == "completed"
    assert read_record(sweep / "1") is None and second_last.is_file()
    assert not (sweep / "2").exists()
    first_job = checkpoint_digests(sweep / "0")

    done = train_py("-m", *args, f"hydra.sweep.dir={sweep}", "resume=true")
    log = done.stdout + done.stderr
    assert checkpoint_digests(sweep / "0") == first_job  # job 0: not retrained
    assert "already completed this config" in (sweep / "0" / "train.log").read_text()
    assert f"Restoring states from the checkpoint path at {second_last}" in log  # job 1: resumed
    assert all(read_record(sweep / j)["status"] == "completed" for j in "012")  # job 2: trained
    with open(sweep / "summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["status"] for r in rows] == ["completed"] * 3


@pytest.mark.slow
def test_a_failing_job_does_not_stop_the_sweep(tmp_path):
    sweep = tmp_path / "sweep"
    done = train_py(
        "-m",
        "model=ae",
        "model._target_=heatmap_latent.models.AE,tests.faulty_models.NaNAfterAE,heatmap_latent.models.AE",
        "trainer.max_epochs=3",
        "callbacks.finite_loss.check_every_n_steps=1",
        "logger=none",
        f"hydra.sweep.dir={sweep}",
        check=False,
    )
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("train.py: error: 1 of 3 jobs failed (job 1: the training loss became NaN or inf")
    assert [read_record(sweep / j)["status"] for j in "012"] == ["completed", "failed", "completed"]
    with open(sweep / "summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["status"] for r in rows] == ["completed", "failed", "completed"]
    assert "NaNAfterAE" in rows[1]["overrides"] and "NaN or inf" in rows[1]["error"]
    assert float(rows[0]["best_val_loss"]) > 0 and rows[1]["best_val_loss"] == ""
    md = (sweep / "summary.md").read_text().splitlines()
    assert md[0].startswith("| job | overrides | status") and len(md) == 5


@pytest.mark.slow
def test_optuna_continues_the_study_stored_in_the_sweep_dir(tmp_path):
    import optuna

    sweep = tmp_path / "search"
    common = ["hparams_search=optuna", "trainer.max_epochs=1", "logger=none", f"hydra.sweep.dir={sweep}"]
    train_py("-m", *common, "hydra.sweeper.n_trials=2")
    storage = journal(sweep)
    assert len(optuna.load_study(study_name="heatmap_latent", storage=storage).trials) == 2
    train_py("-m", *common, "hydra.sweeper.n_trials=1")
    trials = optuna.load_study(study_name="heatmap_latent", storage=storage).trials
    assert len(trials) == 3 and all(t.state.name == "COMPLETE" for t in trials)
    jobs = [p for p in sweep.iterdir() if (p / "job.json").is_file()]
    assert len(jobs) == 3  # one directory per trial: the continued search overwrote none
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 3  # no proposal replayed
    # the search minimises the validation loss train() returns, over every trial of the study
    result = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert result["name"] == "optuna" and set(result["best_params"]) >= {"model.optimizer.lr", "model.hidden_dims"}
    losses = [json.loads((job / "job.json").read_text())["metrics"]["best_val_loss"] for job in jobs]
    assert result["best_value"] == pytest.approx(min(losses), rel=1e-4)
    summary = (sweep / "summary.csv").read_text()
    assert summary.count(",completed,") == 3  # the summary covers every job of the sweep dir
    assert json.loads((jobs[0] / "job.json").read_text())["status"] == "completed"


def faulty_optuna_search(sweep, model_class: str):
    """A 2-trial Optuna search of a model from tests/faulty_models.py whose loss turns NaN."""
    return train_py(
        "-m",
        "hparams_search=optuna",
        "hydra.sweeper.n_trials=2",
        "model=ae",
        f"model._target_=tests.faulty_models.{model_class}",
        "callbacks.finite_loss.check_every_n_steps=1",
        "trainer.max_epochs=3",
        "logger=none",
        f"hydra.sweep.dir={sweep}",
        check=False,
    )


@pytest.mark.slow
def test_optuna_marks_a_failed_trial_and_goes_on(tmp_path):
    import optuna

    sweep = tmp_path / "search"
    done = faulty_optuna_search(sweep, "FirstOneFailsAE")
    assert done.returncode != 0 and "1 of 2 jobs failed" in done.stderr.strip().splitlines()[-1]
    storage = journal(sweep)
    trials = optuna.load_study(study_name="heatmap_latent", storage=storage).trials
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE"]


@pytest.mark.slow
def test_optuna_search_where_every_trial_fails_ends_with_its_summary(tmp_path):
    import optuna

    sweep = tmp_path / "search"
    done = faulty_optuna_search(sweep, "NaNAfterAE")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "2 of 2 jobs failed" in done.stderr.strip().splitlines()[-1]
    assert (sweep / "summary.md").is_file() and (sweep / "summary.csv").read_text().count("failed") == 2
    storage = journal(sweep)
    assert [t.state.name for t in optuna.load_study(study_name="heatmap_latent", storage=storage).trials] == [
        "FAIL",
        "FAIL",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["joblib", "submitit_local"])
def test_parallel_launchers_run_a_sweep_and_resume_it(tmp_path, launcher):
    sweep = tmp_path / "sweep"
    args = ["-m", f"hydra/launcher={launcher}", "model=vae,ae", "trainer.max_epochs=1", "logger=none"]
    args += ["~callbacks.embedding_projector", f"hydra.sweep.dir={sweep}"]
    args.append("hydra.launcher.n_jobs=2" if launcher == "joblib" else "hydra.launcher.timeout_min=10")
    train_py(*args)
    jobs = sorted(p for p in sweep.iterdir() if (p / "job.json").is_file())
    assert len(jobs) == 2 and all((j / "checkpoints" / "last.ckpt").is_file() for j in jobs)
    assert all(read_record(j)["status"] == "completed" for j in jobs)
    if launcher != "joblib":
        return  # a job decides to resume inside itself (sweeps/records.py): one launcher's workers show it
    before = {j.name: checkpoint_digests(j) for j in jobs}
    train_py(*args, "resume=true")
    assert {j.name: checkpoint_digests(j) for j in jobs} == before
    assert all(read_record(j)["status"] == "completed" for j in jobs)


@pytest.mark.slow
def test_two_workers_share_one_journal_study_and_a_pruned_trial_shows_as_pruned(tmp_path):
    import optuna

    sweep = tmp_path / "search"
    common = ["hparams_search=optuna", "trainer.max_epochs=2", "logger=none", f"hydra.sweep.dir={sweep}"]
    # n_jobs=2: this process and one more, each asking for its next trial when it finishes one
    # (trials of 15 epochs: the second worker starts, imports and checks the config in about 15 s)
    search = ["hydra.sweeper.n_jobs=2", "hydra.sweeper.n_trials=8", "hydra.sweeper.max_trials=8"]
    done = train_py("-m", *common, "trainer.max_epochs=15", *search)
    if "OMP_NUM_THREADS" not in os.environ:  # the two workers share the CPUs out
        assert re.search(r"2 workers: \d+ thread\(s\) each", done.stdout + done.stderr), done.stdout[-2000:]
    trials = optuna.load_study(study_name="heatmap_latent", storage=journal(sweep)).trials
    assert len(trials) == 8 and all(t.state.name == "COMPLETE" for t in trials)
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 8  # no trial run twice
    workers = [t.user_attrs["worker"] for t in trials]
    assert len(set(workers)) == 2 and min(workers.count(w) for w in set(workers)) >= 2  # both busy
    assert len([p for p in sweep.iterdir() if (p / "job.json").is_file()]) == 8

    # a pruner that prunes at the first report: the trial is pruned, not failed, and the search ends well
    pruned = tmp_path / "pruned"
    done = train_py(
        "-m",
        *common[:-1],
        f"hydra.sweep.dir={pruned}",
        "hydra.sweeper.n_trials=1",
        "hydra.sweeper.pruner._target_=optuna.pruners.ThresholdPruner",
        "~hydra.sweeper.pruner.n_startup_trials",
        "~hydra.sweeper.pruner.n_warmup_steps",
        "+hydra.sweeper.pruner.upper=0.0",
    )
    (trial,) = optuna.load_study(study_name="heatmap_latent", storage=journal(pruned)).trials
    assert trial.state.name == "PRUNED" and list(trial.intermediate_values) == [0]
    (job,) = [p for p in pruned.iterdir() if (p / "job.json").is_file()]
    assert (
        read_record(job)["status"] == "pruned"
        and "pruned by the study's pruner at epoch 0" in read_record(job)["error"]
    )
    assert ",pruned," in (pruned / "summary.csv").read_text()
    assert done.returncode == 0
