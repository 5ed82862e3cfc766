"""Typed schemas of the project's own config groups, in Hydra's ConfigStore.

Each ``conf/model/*.yaml`` and ``conf/data/*.yaml`` names its schema first in its defaults list, so a
value of the wrong type (``model.latent_dim=three``) or an unknown key fails when the config is
composed, before anything is built. Ranges are not here: each is checked once, by the constructor
that owns the value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


@dataclass
class GridSchema:
    low: float = -3.0
    high: float = 3.0
    size: int = 36


@dataclass
class RangeSchema:
    start: float = MISSING
    stop: float = MISSING
    step: float = MISSING


@dataclass
class DataSchema:
    _target_: str = MISSING
    grid: GridSchema = field(default_factory=GridSchema)
    var: RangeSchema = field(default_factory=RangeSchema)
    rho: RangeSchema = field(default_factory=RangeSchema)
    train_fraction: float = 0.8
    val_fraction: float = 0.0
    batch_size: int = 64
    eval_batch_size: int = 256
    seed: int = 0


@dataclass
class ModelSchema:
    _target_: str = MISSING
    _recursive_: bool = False
    image_size: int = 36
    latent_dim: int = 3
    channels: list[int] = field(default_factory=lambda: [16, 32])
    hidden_dims: list[int] = field(default_factory=lambda: [128])
    kernel_size: int = 3
    stride: int = 1
    pool: int = 2
    activation: str = "relu"
    recon_loss: str = "bce"
    channels_last: bool = True
    optimizer: dict[str, Any] = field(default_factory=dict)
    scheduler: Optional[dict[str, Any]] = None  # noqa: UP045 (OmegaConf reads typing.Optional)


@dataclass
class VAESchema(ModelSchema):
    beta: float = 1.0


def register() -> None:
    store = ConfigStore.instance()
    store.store(group="data", name="_schema", node=DataSchema)
    store.store(group="model", name="_schema_ae", node=ModelSchema)
    store.store(group="model", name="_schema_vae", node=VAESchema)


register()
