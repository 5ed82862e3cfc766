"""Composed-config fixtures: the real conf/ tree, a tiny image grid, outputs in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, open_dict

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = ROOT / "conf"

# 5 variances x 5 variances x 4 correlations = 100 images of 12 x 12
TINY_DATA = ["data.grid.size=12", "data.var.step=1.0", "data.rho.step=0.5", "data.batch_size=16"]


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
