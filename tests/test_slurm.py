"""Sweeps on a real SLURM cluster (tests/slurm.py starts one for the session): real sbatch job
arrays through Hydra's submitit launcher, a job failing among others, twin sweeps, a job requeued
mid-training, Optuna workers as a job array, and a GPU profile refused by a CPU-only cluster.

Marked ``slurm``: deselected unless ``-m`` names it (``.ci/run``: ``pytest -m slurm -n 0``), so the
README's ``pytest`` keeps its time. They skip with the reason where slurm-wlm is not installed,
and fail instead where ``HEATMAP_LATENT_REQUIRE_SLURM=1`` (CI) says a cluster must start."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time

import pytest

from heatmap_latent.sweeps.optuna_study import open_storage
from heatmap_latent.sweeps.records import read_record
from tests import slurm
from tests.conftest import ROOT, train_cmd

pytestmark = pytest.mark.slurm

TINY_RUN = ["logger=none", "~callbacks.embedding_projector"]


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    why = slurm.missing()
    if why:
        if os.environ.get("HEATMAP_LATENT_REQUIRE_SLURM") == "1":
            pytest.fail(f"no SLURM cluster can start: {why}")
        pytest.skip(f"no SLURM cluster: {why}")
    started = slurm.start(tmp_path_factory.mktemp("slurm"))
    print(f"SLURM cluster ({started.cpus} CPUs, {started.memory_mb} MB) started in {started.started_s:.1f} s")
    yield started
    started.stop()


def sweep(cluster, *args: str, wait: bool = True) -> subprocess.CompletedProcess | subprocess.Popen:
    cmd = train_cmd("-m", "hydra/launcher=slurm_local", *TINY_RUN, *args)
    if not wait:
        return subprocess.Popen(
            cmd, cwd=ROOT, env=cluster.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    return subprocess.run(cmd, cwd=ROOT, env=cluster.env, capture_output=True, text=True, timeout=600)


def sacct(cluster, *job_ids: str) -> dict[str, dict[str, str]]:
    """sacct's allocations (no steps), once every one has ended: job id -> name, State, ExitCode.

    slurmctld reports to slurmdbd after the job's process has ended, so a sweep can return while
    sacct still lists its job as RUNNING (CI saw it): poll until no allocation is still live."""
    live = ("PENDING", "RUNNING", "COMPLETING", "REQUEUED", "CONFIGURING", "RESIZING", "SUSPENDED")

    def ended():
        out = cluster.run("sacct", "-X", "-n", "-P", "-o", "JobID,JobName,State,ExitCode", "-j", ",".join(job_ids))
        rows = [line.split("|") for line in out.stdout.splitlines() if line.strip()]
        jobs = {r[0]: {"name": r[1], "state": r[2], "exit": r[3]} for r in rows}
        listed = all(any(j == i or j.startswith(f"{i}_") for j in jobs) for i in job_ids)  # an array's: <id>_<task>
        return jobs if listed and not any(j["state"].startswith(live) for j in jobs.values()) else None

    return slurm.wait_for(ended, 60, f"end of jobs {job_ids} in sacct")


def submitted_ids(sweep_dir) -> list[str]:
    """The SLURM jobs (arrays, or a single job) submitit submitted for a sweep: its folders under
    .submitit/ (an array's tasks also have their own, <array>_<task>)."""
    return sorted(p.name for p in (sweep_dir / ".submitit").iterdir() if p.is_dir() and "_" not in p.name)


def test_a_sweep_runs_as_slurm_jobs_and_a_failing_job_is_recorded_while_the_others_finish(cluster, tmp_path):
    out = tmp_path / "sweep"
    # the third job's learning rate makes its loss infinite at once: it fails in training
    done = sweep(cluster, "trainer.max_epochs=1", "model.optimizer.lr=1e-3,2e-3,1e30", f"hydra.sweep.dir={out}")
    assert done.returncode != 0
    assert "1 of 3 jobs failed" in done.stderr.strip().splitlines()[-1], done.stderr[-3000:]
    records = {p.name: read_record(p) for p in sorted(out.iterdir()) if (p / "job.json").is_file()}
    assert [r["status"] for r in records.values()] == ["completed", "completed", "failed"]
    assert "NaN or inf" in records["2"]["error"]
    assert all(r["slurm"]["restarts"] == 0 and r["sweep_id"] for r in records.values())
    # every job trained from its frozen config and ran as a SLURM job of one array that sacct lists
    assert sorted(p.name for p in (out / "frozen").glob("job_*.yaml")) == ["job_0.yaml", "job_1.yaml", "job_2.yaml"]
    (array,) = submitted_ids(out)
    jobs = sacct(cluster, array)
    assert len(jobs) == 3 and all(j["state"] == "COMPLETED" for j in jobs.values()), jobs
    assert {r["slurm"]["job_id"] for r in records.values()} == set(jobs)
    summary = (out / "summary.md").read_text()
    assert summary.count("| completed |") == 2 and summary.count("| failed |") == 1


def test_twin_sweeps_on_slurm_train_every_job_once(cluster, tmp_path):
    out = tmp_path / "sweep"
    args = ("trainer.max_epochs=1", "seed=1,2", f"hydra.sweep.dir={out}")
    first, second = sweep(cluster, *args, wait=False), sweep(cluster, *args, wait=False)
    outs = [p.communicate(timeout=600)[0] for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, "\n".join(o[-2000:] for o in outs)
    for job in ("0", "1"):
        assert read_record(out / job)["status"] == "completed"
        assert (out / job / "train.log").read_text().count("metrics: {") == 1  # trained once
    submitted = [i for i in submitted_ids(out)]
    assert len(submitted) == 2 and len(sacct(cluster, *submitted)) == 4  # two arrays of two jobs each


def test_a_requeued_job_resumes_from_its_interrupt_checkpoint_to_the_same_final_epoch(cluster, tmp_path):
    out, epochs = tmp_path / "sweep", 30
    running = sweep(cluster, f"trainer.max_epochs={epochs}", "seed=1", f"hydra.sweep.dir={out}", wait=False)
    slurm.wait_for(lambda: (out / "0" / "checkpoints" / "last.ckpt").is_file(), 120, "first checkpoint")
    (job_id,) = submitted_ids(out)
    t0 = time.perf_counter()
    cluster.run("scontrol", "requeue", job_id)  # SIGTERM, then SIGKILL after KillWait
    # SLURM holds a requeued job for 120 s (its BeginTime) before it may start again: once it is
    # pending again, start it now
    pending = ("JobState=PENDING", "Restarts=1")
    show = lambda: cluster.run("scontrol", "show", "job", job_id).stdout  # noqa: E731
    slurm.wait_for(lambda: all(p in show() for p in pending), 60, "the job pending again")
    cluster.run("scontrol", "update", f"JobId={job_id}", "StartTime=now")
    output = running.communicate(timeout=600)[0]
    assert running.returncode == 0, output[-3000:]
    record = read_record(out / "0")
    assert record["status"] == "completed" and record["metrics"]["epochs"] == epochs
    assert record["resumed_from"] == str(out / "0" / "checkpoints" / "last.ckpt")
    assert record["slurm"] == {"job_id": job_id, "restarts": 1}
    log = (out / "0" / "train.log").read_text()
    assert f"requeued by SLURM (job {job_id}, restart 1): continuing from" in log
    stderr = (out / ".submitit" / job_id / f"{job_id}_0_log.err").read_text()
    assert "interrupted at epoch" in stderr and "saved" in stderr  # the SIGTERM's checkpoint
    assert sacct(cluster, job_id)[job_id]["state"] == "COMPLETED"
    print(f"requeue to completion: {time.perf_counter() - t0:.1f} s")


def test_optuna_workers_as_a_job_array_ask_every_trial_once_and_retry_a_killed_workers_trial(cluster, tmp_path):
    import optuna

    out = tmp_path / "search"
    cmd = shlex.join(
        train_cmd(
            "-m", "hparams_search=optuna", *TINY_RUN, "trainer.max_epochs=12", "hydra.sweeper.n_trials=6",
            "hydra.sweeper.max_trials=5", f"hydra.sweep.dir={out}",
        )
    )  # fmt: skip
    submitted = cluster.run(
        "sbatch", "--parsable", "--array=0-1", "-c", "1", "--mem=2G", f"--chdir={ROOT}",
        f"--output={tmp_path}/worker_%a.out", f"--wrap=OMP_NUM_THREADS=1 {cmd}",
    )  # fmt: skip
    array = submitted.stdout.strip()
    storage = open_storage(str(out / "optuna.journal"))

    def running_trial():
        try:
            study = optuna.load_study(study_name="heatmap_latent", storage=storage)
        except KeyError:  # not created yet
            return None
        return next((t for t in study.trials if t.state.name == "RUNNING"), None)

    victim = slurm.wait_for(running_trial, 180, "a running trial")
    pid = int(victim.user_attrs["worker"].rpartition(":")[2])
    # "Slurm JobId=12 ends at ...": the task's own job id; cancel that task of the array, not the array
    owner = re.search(r"JobId=(\d+)", cluster.run("scontrol", "pidinfo", str(pid)).stdout).group(1)
    task = re.search(r"ArrayTaskId=(\d+)", cluster.run("scontrol", "show", "job", owner).stdout).group(1)
    cluster.run("scancel", "--signal=KILL", f"{array}_{task}")  # killed at once, mid-trial
    slurm.wait_for(lambda: not cluster.run("squeue", "-h", "-j", array).stdout.strip(), 300, "both workers done")
    trials = optuna.load_study(study_name="heatmap_latent", storage=storage).trials
    counted = [t for t in trials if not t.user_attrs.get("abandoned")]
    assert len(counted) == 5 and all(t.state.name == "COMPLETE" for t in counted), [
        (t.number, t.state.name, t.user_attrs) for t in trials
    ]
    # the trial the killed worker was running then (the one seen running, or its next if it had just
    # finished that one): failed, and asked again by the worker still alive
    (abandoned,) = [t for t in trials if t.user_attrs.get("abandoned")]
    assert abandoned.user_attrs["worker"] == victim.user_attrs["worker"] and abandoned.state.name == "FAIL"
    (retry,) = [t for t in trials if t.user_attrs.get("retry_of") == abandoned.number]
    assert retry.state.name == "COMPLETE" and retry.params == abandoned.params
    assert retry.user_attrs["worker"] != abandoned.user_attrs["worker"]
    assert len({tuple(sorted(t.params.items())) for t in counted}) == 5  # no trial run twice
    states = sacct(cluster, array)
    assert sorted(s["state"] for s in states.values()) == ["CANCELLED by 0", "COMPLETED"], states


def test_a_gpu_profile_on_a_cpu_only_cluster_fails_at_submission_in_one_line(cluster, tmp_path):
    done = subprocess.run(
        train_cmd("-m", "hydra/launcher=slurm", *TINY_RUN, "trainer.max_epochs=1", f"hydra.sweep.dir={tmp_path}/s"),
        cwd=ROOT, env=cluster.env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert last.startswith("train.py: error: the launcher could not run the jobs: sbatch: error:")
    assert "hydra.launcher.gpus_per_node=1" in last and "hydra/launcher=slurm_local" in last
