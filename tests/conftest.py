"""Composed-config fixtures: the real conf/ tree, a tiny image grid, outputs in tmp_path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf, open_dict

# nothing here imports torch or Lightning at module level: pytest-xdist's controller loads this file
# before it starts the workers, and those imports take 10 s on a slow CPU (the test modules import them)

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = ROOT / "conf"

# 5 variances x 5 variances x 4 correlations = 100 images of 12 x 12; on so few images the tests
# validate on the test split (the original study's protocol: 80 training images, 5 batches of 16)
TINY_DATA = ["data.grid.size=12", "data.var.step=1.0", "data.rho.step=0.5", "data.batch_size=16", "data.val_fraction=0"]


MAX_WORKERS = 8  # each worker holds torch, Lightning and a browser: about 1 GiB


def pytest_xdist_auto_num_workers(config) -> int:
    """``-n auto``: one worker per CPU (``os.cpu_count``), at most ``MAX_WORKERS``."""
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def pytest_collection_modifyitems(config, items) -> None:
    """The SLURM tests (marker ``slurm``) start a cluster and submit real jobs: they run only when
    ``-m`` names them (``.ci/run``'s own step), never inside the README's ``pytest``."""
    if "slurm" in (config.getoption("markexpr") or ""):
        return
    kept, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("slurm") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_configure(config) -> None:
    """Under pytest-xdist each worker gets its share of the CPUs for torch's threads, and so do the
    train.py processes it starts (``OMP_NUM_THREADS``): two workers that each spin threads on every
    core slow each other far more than 2x."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        import torch

        threads = max(1, (os.cpu_count() or 1) // workers)
        os.environ["OMP_NUM_THREADS"] = str(threads)
        torch.set_num_threads(threads)


def shared_once(tmp_path_factory, name: str, build) -> Path:
    """``build(folder)`` once per test session, whatever the number of xdist workers: the first worker
    builds ``folder`` under the session's shared temporary root, the others wait on its lock and reuse it
    (pytest-xdist's documented recipe for session fixtures)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the root all workers' temporary folders share
    folder, done = base / name, base / f"{name}.done"
    with FileLock(str(base / f"{name}.lock")):
        if not done.exists():
            folder.mkdir(parents=True, exist_ok=True)
            build(folder)
            done.touch()
    return folder


def compose_train(tmp_path: Path, *overrides: str, tiny: bool = True) -> DictConfig:
    """``conf/train.yaml`` composed with ``overrides``, writing under ``tmp_path``."""
    import heatmap_latent  # noqa: F401  (registers the config schemas and resolvers that conf/ uses)

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=[*(TINY_DATA if tiny else []), *overrides])
    with open_dict(cfg):
        cfg.paths.output_dir = str(tmp_path)
        cfg.paths.log_dir = str(tmp_path)
    return cfg


def in_process_run(run_dir: Path, *overrides: str, tiny: bool = True) -> Path:
    """A run trained by ``train()`` in this process (on the tiny grid unless ``tiny=False``), with the
    ``.hydra`` files that ``analyze.py`` reads: no ``train.py`` process, so none of its 10 s of imports
    on a slow CPU."""
    from heatmap_latent.training import train

    overrides = (*(TINY_DATA if tiny else ()), *overrides)
    cfg = compose_train(run_dir, *overrides, tiny=False)
    train(cfg)
    (run_dir / ".hydra").mkdir(parents=True, exist_ok=True)
    (run_dir / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(cfg))
    # as Hydra writes it: each key once, the last value given
    last = {o.partition("=")[0]: o for o in overrides}
    (run_dir / ".hydra" / "overrides.yaml").write_text(OmegaConf.to_yaml(list(last.values())))
    return run_dir


@pytest.fixture
def make_cfg(tmp_path):
    def make(*overrides: str, tiny: bool = True) -> DictConfig:
        return compose_train(tmp_path, *overrides, tiny=tiny)

    return make


def train_cmd(*args: str, tiny: bool = True) -> list[str]:
    """``python train.py [-m] <tiny grid> *args`` as an argument list."""
    lead = [a for a in args[:1] if a == "-m"]
    return [sys.executable, "train.py", *lead, *(TINY_DATA if tiny else []), *args[len(lead) :]]


def run_analyze(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """``python analyze.py *args`` from the repository root (or ``cwd``); the caller checks the outcome."""
    return subprocess.run([sys.executable, "analyze.py", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def run_train(*args: str, tiny: bool = True, timeout: int = 600) -> subprocess.CompletedProcess:
    """``python train.py [-m] <tiny grid> *args`` from the repository root; asserts it succeeded."""
    done = subprocess.run(train_cmd(*args, tiny=tiny), cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory) -> Path:
    """Two real train.py runs on a small grid (800 images of 12x12) in one folder:
    ``0`` = VAE on student_t, ``1`` = AE on gaussian."""
    return shared_once(tmp_path_factory, "tiny_runs", _train_tiny_runs)


def _train_tiny_runs(root: Path) -> None:
    # both at once: each process spends most of its time importing torch and Lightning
    procs = [
        subprocess.Popen(
            train_cmd(
                f"model={model}",
                f"data={data}",
                "data.var.step=0.5",
                "data.rho.step=0.25",
                "trainer.max_epochs=4",
                "logger=none",
                f"hydra.run.dir={root / str(job)}",
            ),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for job, (model, data) in enumerate((("vae", "student_t"), ("ae", "gaussian")))
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]


def analyze_in_process(out_dir: Path, *overrides: str) -> dict:
    """``analyze.py`` in this process: its config composed with ``overrides``, written to ``out_dir``;
    returns metrics.json's content."""
    from heatmap_latent.analyze import analyze

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("analyze", overrides=[f"output_dir={out_dir}", *overrides])
    return analyze(cfg)
