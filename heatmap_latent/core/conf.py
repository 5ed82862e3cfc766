"""Where the project's Hydra configs are, for code that composes them outside an entry point.

``train.py`` and ``analyze.py`` name ``conf`` relative to themselves, as Hydra intends; the
preflight checks, the benchmarks and the tests compose the same tree from here.
"""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

# the repository root holds conf/ beside train.py (an editable install, as the README sets up)
CONF_DIR = Path(__file__).resolve().parents[2] / "conf"


def compose_config(name: str, overrides: list[str] | tuple[str, ...] = (), hydra_config: bool = False) -> DictConfig:
    """``conf/<name>.yaml`` composed with ``overrides``, as Hydra composes it for an entry point."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(name, overrides=list(overrides), return_hydra_config=hydra_config)
