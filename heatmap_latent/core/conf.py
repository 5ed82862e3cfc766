"""Where the project's Hydra configs are, for code that composes them outside an entry point.

``train.py`` and ``analyze.py`` name ``conf`` relative to themselves, as Hydra intends; the
preflight checks, the benchmarks and the tests compose the same tree from here.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, ListConfig, OmegaConf

# the repository root holds conf/ beside train.py (an editable install, as the README sets up)
CONF_DIR = Path(__file__).resolve().parents[2] / "conf"


def compose_config(name: str, overrides: list[str] | tuple[str, ...] = (), hydra_config: bool = False) -> DictConfig:
    """``conf/<name>.yaml`` composed with ``overrides``, as Hydra composes it for an entry point."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(name, overrides=list(overrides), return_hydra_config=hydra_config)


def config_targets(node: Any, where: str = "") -> list[tuple[str, str]]:
    """Every ``(dotted key, _target_)`` in a config tree, without resolving anything."""
    found = []
    if isinstance(node, DictConfig):
        for key in node:
            if key == "_target_":
                found.append((f"{where}_target_", str(node._get_node(key)._value())))
            elif OmegaConf.is_config(node._get_node(key)):
                found += config_targets(node[key], f"{where}{key}.")
    elif isinstance(node, ListConfig):
        for i, item in enumerate(node._content or []):
            if OmegaConf.is_config(item):
                found += config_targets(item, f"{where}{i}.")
    return found


@functools.cache  # read once per process: a study's analysis checks every run against it
def configured_targets() -> frozenset[str]:
    """Every ``_target_`` that a file of ``conf/`` names."""
    return frozenset(t for path in CONF_DIR.rglob("*.yaml") for _, t in config_targets(OmegaConf.load(path)))
