"""Nothing lost when the disk fills, a job trained by one process at a time, and a tampered run
directory refused in one line before anything in it runs."""

import contextlib
import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import time

import lightning.pytorch as pl
import pytest
import torch
from omegaconf import OmegaConf

from heatmap_latent.analysis import RunLoadError, load_run
from heatmap_latent.core.atomic import write_atomic
from heatmap_latent.core.errors import UserError, WriteError
from heatmap_latent.sweeps.lock import LOCK, JobLock, JobLocked, read_holder
from heatmap_latent.sweeps.records import sweep_rows
from heatmap_latent.training import train
from tests.conftest import ROOT, TINY_DATA, run_analyze
from tests.golden import GOLDEN_RUN

SMALL = ["model.channels=[4,8]", "model.hidden_dims=[16]", "logger=none", "trainer.max_epochs=3"]


# --- a full disk -------------------------------------------------------------------------------------
@contextlib.contextmanager
def small_disk(path, size="3m"):
    """A tmpfs of ``size`` at ``path`` (root, as CI is); where mounting is refused, ``None``."""
    path.mkdir()
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
        ).returncode
        == 0
    )
    try:
        yield path if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], check=False)


class FillDisk(pl.Callback):
    """After the first epoch's checkpoints: fill the run's filesystem, leaving ``leave`` bytes."""

    def __init__(self, directory, leave):
        self.directory, self.leave = directory, leave

    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch != 1:
            return
        with open(self.directory / "filler", "wb") as f:
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
        os.truncate(self.directory / "filler", max(0, os.path.getsize(self.directory / "filler") - self.leave))


class FullAfterFirstEpoch(pl.Callback):
    """Where no tmpfs can be mounted: from the second epoch on, the writer's rename fails as on a full
    disk (the job record still fits when ``leave`` > 0)."""

    def __init__(self, monkeypatch, leave):
        self.full, self.leave = False, leave
        real = os.replace

        def replace(src, dst):
            if self.full and not (self.leave and str(dst).endswith("job.json")):
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(src, dst)

        monkeypatch.setattr("heatmap_latent.core.atomic.os.replace", replace)

    def on_train_epoch_start(self, trainer, pl_module):
        self.full = trainer.current_epoch >= 1


@pytest.mark.parametrize("leave", [16_384, 0], ids=["job.json fits", "nothing fits"])
def test_a_disk_that_fills_during_a_checkpoint_loses_nothing(make_cfg, tmp_path, monkeypatch, leave):
    with small_disk(tmp_path / "disk") as disk:
        root = disk or tmp_path / "plain"
        run = root / "run"
        cfg = make_cfg(*SMALL)
        cfg.paths.output_dir = str(run)
        for cb in ("model_checkpoint", "latest_checkpoint", "interrupt_checkpoint"):
            cfg.callbacks[cb].dirpath = str(run / "checkpoints")
        filler = FillDisk(root, leave) if disk else FullAfterFirstEpoch(monkeypatch, leave)
        with pytest.raises(UserError) as err:
            train(cfg, extra_callbacks=[filler])
        line = str(err.value)
        assert "\n" not in line and f"no space left on device writing {run / 'checkpoints'}/" in line
        good = line.rsplit("; the last good checkpoint is ", 1)[1]
        assert good in (str(run / "checkpoints" / "epoch_000.ckpt"), str(run / "checkpoints" / "last.ckpt")), line
        names = sorted(p.name for p in (run / "checkpoints").iterdir())
        assert names == ["epoch_000.ckpt", "last.ckpt"], names  # epoch 1's never appeared, no temporary left
        for name in names:  # each loads whole
            assert torch.load(run / "checkpoints" / name, map_location="cpu", weights_only=True)["epoch"] == 0
        if leave:
            record = json.loads((run / "job.json").read_text())
            assert record["status"] == "failed" and record["error"] == line
        else:
            assert not (run / "job.json").exists()  # it did not fit, and no part of it is left
        assert not [p for p in run.rglob("*") if p.name.endswith(".tmp")]


def test_a_write_that_fails_keeps_the_old_file(tmp_path, monkeypatch):
    target = write_atomic(tmp_path / "summary.md", "old")

    def fail(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("heatmap_latent.core.atomic.os.fsync", fail)
    with pytest.raises(WriteError, match=f"no space left on device writing {target}"):
        write_atomic(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["summary.md"]


# --- one process per job directory ------------------------------------------------------------------
def dead_pid():
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def write_lock(job_dir, host, pid):
    job_dir.mkdir(parents=True, exist_ok=True)
    (job_dir / LOCK).write_text(json.dumps({"host": host, "pid": pid, "token": "theirs", "since": time.time()}))


def test_a_live_holder_keeps_its_lock_and_a_dead_ones_is_taken_over(tmp_path):
    write_lock(tmp_path / "a", socket.gethostname(), os.getppid())  # alive: the process that started pytest
    with pytest.raises(JobLocked, match=rf"is being trained by {socket.gethostname()}:{os.getppid()}"):
        JobLock(tmp_path / "a").acquire()
    assert read_holder(tmp_path / "a").token == "theirs"
    write_lock(tmp_path / "b", socket.gethostname(), dead_pid())
    with JobLock(tmp_path / "b"):
        assert read_holder(tmp_path / "b").pid == os.getpid()
    assert not (tmp_path / "b" / LOCK).exists()  # released on exit
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == []  # the stale lock moved aside and gone


def test_another_hosts_lock_is_reported_and_broken_only_on_request(tmp_path):
    write_lock(tmp_path, "node-17", 4242)
    with pytest.raises(JobLocked, match="node-17:4242.*break_lock=true"):
        JobLock(tmp_path).acquire()
    with JobLock(tmp_path, force=True):
        assert read_holder(tmp_path).host == socket.gethostname()


def test_the_summary_lists_a_locked_job_as_running_elsewhere(tmp_path):
    job = tmp_path / "0"
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text("- model=ae\n")
    write_lock(job, socket.gethostname(), os.getppid())
    (row,) = sweep_rows(tmp_path, "best_val_loss")
    assert row["status"] == "running elsewhere" and f"{socket.gethostname()}:{os.getppid()}" in row["error"]


@pytest.mark.slow  # two train.py processes
def test_a_single_run_into_a_locked_directory_stops_with_one_line(tmp_path):
    write_lock(tmp_path / "run", socket.gethostname(), os.getppid())
    done = subprocess.run(
        [sys.executable, "train.py", *TINY_DATA, *SMALL, f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("train.py: error: ") and "is being trained by" in line
    assert not (tmp_path / "run" / "checkpoints").exists()


@pytest.mark.slow  # two sweeps at once
def test_two_sweeps_into_one_directory_train_each_job_once(tmp_path):
    cmd = [
        sys.executable,
        "train.py",
        "-m",
        *TINY_DATA,
        *SMALL,
        "model=vae,ae",
        "trainer.max_epochs=6",
        f"hydra.sweep.dir={tmp_path}",
        "resume=true",
    ]
    first = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outs = [p.communicate(timeout=600) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, [o[1][-2000:] for o in outs]
    for job in ("0", "1"):
        log = (tmp_path / job / "train.log").read_text()
        assert log.count("] - metrics: ") == 1, log  # trained by exactly one of the two
        names = sorted(p.name for p in (tmp_path / job / "checkpoints").iterdir())
        assert len(names) == 2 and names[1] == "last.ckpt" and names[0].startswith("epoch_"), names  # no -v1 twin
        assert json.loads((tmp_path / job / "job.json").read_text())["status"] == "completed"
        assert not (tmp_path / job / LOCK).exists()
    said = "".join(out + err for out, err in outs)  # Hydra logs to stdout
    assert "skipping this job" in said or "already completed this config" in said, said[-3000:]


# --- a tampered or foreign run directory ------------------------------------------------------------
TAMPERED = {
    "model target": ("model", {"_target_": "os.system", "_args_": ["touch {marker}"]}),
    "data target with args": ("data", {"_target_": "os.system", "_args_": ["touch {marker}"]}),
    "data target without args": ("data", {"_target_": "shutil.rmtree", "path": "{victim}"}),
    "project function as data": (
        "data",
        {"_target_": "heatmap_latent.core.atomic.write_atomic", "_args_": ["{marker}", "x"]},
    ),
    "a callback": ("callbacks.evil", {"_target_": "os.system", "_args_": ["touch {marker}"]}),
}


@pytest.mark.parametrize("case", list(TAMPERED))
def test_a_tampered_config_is_refused_in_one_line_and_runs_nothing(tmp_path, case):
    run = tmp_path / "run"
    shutil.copytree(GOLDEN_RUN, run)
    victim = tmp_path / "victim"
    victim.mkdir()
    marker = tmp_path / "marker"
    key, node = TAMPERED[case]
    text = json.dumps(node).replace("{marker}", str(marker)).replace("{victim}", str(victim))
    cfg = OmegaConf.load(run / ".hydra" / "config.yaml")
    OmegaConf.update(cfg, key, OmegaConf.create(json.loads(text)), merge=False, force_add=True)
    OmegaConf.save(cfg, run / ".hydra" / "config.yaml")
    with pytest.raises(RunLoadError) as err:
        load_run(run)
    line = str(err.value)
    assert "\n" not in line and str(run / ".hydra" / "config.yaml") in line and "not a class this project" in line
    assert not marker.exists() and victim.is_dir()


def test_a_config_missing_its_model_target_is_one_line(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(GOLDEN_RUN, run)
    cfg = OmegaConf.load(run / ".hydra" / "config.yaml")
    del cfg.model["_target_"]
    OmegaConf.save(cfg, run / ".hydra" / "config.yaml")
    with pytest.raises(RunLoadError, match=r"config.yaml: model._target_ is missing"):
        load_run(run)


def test_a_config_with_a_wrong_type_is_one_line(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(GOLDEN_RUN, run)
    cfg = OmegaConf.load(run / ".hydra" / "config.yaml")
    cfg.data.grid.size = "twelve"
    OmegaConf.save(cfg, run / ".hydra" / "config.yaml")
    with pytest.raises(RunLoadError) as err:
        load_run(run)
    assert "\n" not in str(err.value) and "config.yaml: data: data.grid.size must be an integer" in str(err.value)


@pytest.mark.slow  # analyze.py in a subprocess
def test_analyze_py_refuses_a_tampered_run_in_one_line(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(GOLDEN_RUN, run)
    cfg = OmegaConf.load(run / ".hydra" / "config.yaml")
    cfg.model = {"_target_": "os.system", "_args_": [f"touch {tmp_path / 'marker'}"]}
    OmegaConf.save(cfg, run / ".hydra" / "config.yaml")
    done = run_analyze(f"run={run}", f"output_dir={tmp_path / 'out'}")
    assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1, done.stderr[-2000:]
    assert done.stderr.startswith("analyze.py: error: ") and "model._target_=os.system" in done.stderr
    assert not (tmp_path / "marker").exists()
