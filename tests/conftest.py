"""Composed-config fixtures: the real conf/ tree, a tiny image grid, outputs in tmp_path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, open_dict

import heatmap_latent.training  # noqa: F401  (registers the config schemas and resolvers that conf/ uses)

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = ROOT / "conf"

# 5 variances x 5 variances x 4 correlations = 100 images of 12 x 12; on so few images the tests
# validate on the test split (the seed study's protocol: 80 training images, 5 batches of 16)
TINY_DATA = ["data.grid.size=12", "data.var.step=1.0", "data.rho.step=0.5", "data.batch_size=16", "data.val_fraction=0"]


def compose_train(tmp_path: Path, *overrides: str, tiny: bool = True) -> DictConfig:
    """``conf/train.yaml`` composed with ``overrides``, writing under ``tmp_path``."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=[*(TINY_DATA if tiny else []), *overrides])
    with open_dict(cfg):
        cfg.paths.output_dir = str(tmp_path)
        cfg.paths.log_dir = str(tmp_path)
    return cfg


@pytest.fixture
def make_cfg(tmp_path):
    def make(*overrides: str, tiny: bool = True) -> DictConfig:
        return compose_train(tmp_path, *overrides, tiny=tiny)

    return make


def train_cmd(*args: str, tiny: bool = True) -> list[str]:
    """``python train.py [-m] <tiny grid> *args`` as an argument list."""
    lead = [a for a in args[:1] if a == "-m"]
    return [sys.executable, "train.py", *lead, *(TINY_DATA if tiny else []), *args[len(lead) :]]


def run_train(*args: str, tiny: bool = True, timeout: int = 600) -> subprocess.CompletedProcess:
    """``python train.py [-m] <tiny grid> *args`` from the repository root; asserts it succeeded."""
    done = subprocess.run(train_cmd(*args, tiny=tiny), cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory) -> Path:
    """Two real train.py runs on a small grid (800 images of 12x12) in one folder:
    ``0`` = VAE on student_t, ``1`` = AE on gaussian."""
    root = tmp_path_factory.mktemp("tiny_runs")
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
    return root
