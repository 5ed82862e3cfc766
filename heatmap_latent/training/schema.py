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


@dataclass
class TCVAESchema(VAESchema):
    beta: float = 6.0
    alpha: float = 1.0
    gamma: float = 1.0
    estimator: str = "mss"
    dataset_size: Optional[int] = None  # noqa: UP045


@dataclass
class MMDVAESchema(VAESchema):
    beta: float = 0.0
    mmd_weight: float = 100.0
    kernel: str = "imq"
    kernel_scale: float = 1.0


@dataclass
class CapacityVAESchema(VAESchema):
    gamma: float = 100.0
    capacity_max: float = 15.0
    capacity_steps: int = 5000


@dataclass
class FactorVAESchema(VAESchema):
    gamma: float = 10.0
    disc_hidden: list[int] = field(default_factory=lambda: [256, 256])
    disc_lr: float = 1e-4


@dataclass
class TrainSchema:
    """The top-level keys of ``conf/train.yaml``; the groups' own schemas type their nodes."""

    seed: int = 42
    test: bool = True
    ckpt_path: Optional[str] = None  # noqa: UP045
    resume: bool = False
    optimized_metric: str = "best_val_loss"
    log_latents_every_n_epochs: int = 5
    paths: dict[str, Any] = field(default_factory=dict)
    data: Any = None
    model: Any = None
    trainer: Any = None
    callbacks: Any = None
    logger: Any = None


def register_schemas() -> None:
    store = ConfigStore.instance()
    store.store(name="_train_schema", node=TrainSchema)
    store.store(group="data", name="_schema", node=DataSchema)
    store.store(group="model", name="_schema_ae", node=ModelSchema)
    store.store(group="model", name="_schema_vae", node=VAESchema)
    store.store(group="model", name="_schema_tcvae", node=TCVAESchema)
    store.store(group="model", name="_schema_mmd_vae", node=MMDVAESchema)
    store.store(group="model", name="_schema_capacity_vae", node=CapacityVAESchema)
    store.store(group="model", name="_schema_factor_vae", node=FactorVAESchema)
