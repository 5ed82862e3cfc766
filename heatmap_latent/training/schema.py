"""Typed schemas of the config groups, in Hydra's ConfigStore, made from the constructors.

Each ``conf/model/*.yaml`` and ``conf/data/*.yaml`` names its schema first in its defaults list, so a
value of the wrong type (``model.latent_dim=three``) or an unknown key fails when the config is
composed, before anything is built.

One source per default: a model's or data module's hyperparameters and their defaults are its
constructor's signature. The schemas are derived from the signatures here (names, types, defaults),
and the YAML sets only what the constructor cannot know: the ``_target_``, interpolations
(``image_size`` from the data), the injected optimizer and scheduler, and the values that make
an option what it is (``beta_vae``'s ``beta: 4``). ``tests/test_defaults.py`` holds all three to
that. Ranges are not here: each is checked once, by the constructor that owns the value.
``train.yaml``'s own top-level keys have their values in ``train.yaml`` and their types here.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import inspect
import types
import typing
from typing import Any, Optional, Union

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from heatmap_latent import models
from heatmap_latent.data import (
    DSpritesFileDataModule,
    HeatmapDataModule,
    MPI3DFileDataModule,
    Shapes3DFileDataModule,
    SpriteDataModule,
)


def _config_type(hint: Any) -> Any:
    """An annotation as a type OmegaConf can hold: sequences as lists, mappings as dicts."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        wrapped = _config_type(inner[0]) if len(inner) == 1 else Any
        return Optional[wrapped] if type(None) in args else wrapped  # noqa: UP045 (OmegaConf reads Optional)
    if origin in (list, tuple, collections.abc.Sequence):
        return list[_config_type(args[0])] if args else list[Any]
    if origin in (dict, collections.abc.Mapping) or hint is collections.abc.Mapping:
        return dict[str, Any]
    return hint if hint in (int, float, str, bool) else Any


def constructor_defaults(cls: type) -> dict[str, inspect.Parameter]:
    """Every keyword a class's constructor takes, through ``**kwargs`` up its bases: the most
    derived class's parameter wins (``TCVAE``'s ``beta=6`` over ``VAE``'s ``beta=1``)."""
    params: dict[str, inspect.Parameter] = {}
    for klass in reversed(cls.__mro__):
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        hints = typing.get_type_hints(init)
        for name, p in inspect.signature(init).parameters.items():
            if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                params[name] = p.replace(annotation=hints.get(name, Any))
    return params


def _default_field(value: Any) -> dataclasses.Field:
    if value is inspect.Parameter.empty:
        return dataclasses.field(default=MISSING)
    if isinstance(value, list | tuple | dict):
        return dataclasses.field(default_factory=lambda v=value: type(v)(v) if isinstance(v, dict) else list(v))
    return dataclasses.field(default=value)


def schema_of(cls: type, name: str, recursive: bool | None = None, nested: dict[str, type] | None = None) -> type:
    """A dataclass named ``name`` with one field per constructor keyword of ``cls`` (and ``_target_``);
    ``nested`` gives some keywords a schema of their own."""
    nested = nested or {}
    fields: list[tuple[str, Any, dataclasses.Field]] = [("_target_", str, dataclasses.field(default=MISSING))]
    if recursive is not None:
        # the module builds its optimizer and scheduler itself (not recursive), from plain dicts and
        # lists (_convert_: all), so that save_hyperparameters stores only primitive values
        fields.append(("_recursive_", bool, dataclasses.field(default=recursive)))
        fields.append(("_convert_", str, dataclasses.field(default="all")))
    for key, p in constructor_defaults(cls).items():
        if key in nested:
            fields.append((key, nested[key], dataclasses.field(default_factory=nested[key])))
        else:
            fields.append((key, _config_type(p.annotation), _default_field(p.default)))
    return dataclasses.make_dataclass(name, fields)


# the model classes the package exports, by schema name (``_schema_<KIND>``, which each conf/model
# file names first; ``<Class>Schema`` is the name a wrong key's error message shows)
MODEL_CLASSES = tuple(
    cls
    for cls in vars(models).values()
    if isinstance(cls, type) and issubclass(cls, models.LatentAutoencoder) and cls is not models.LatentAutoencoder
)
MODEL_SCHEMAS = {f"_schema_{cls.KIND}": (cls, f"{cls.__name__}Schema") for cls in MODEL_CLASSES}


@dataclasses.dataclass
class TrainSchema:
    """The top-level keys of ``conf/train.yaml`` (their values are there); the groups' schemas type their nodes."""

    seed: int = MISSING
    test: bool = MISSING
    ckpt_path: Optional[str] = MISSING  # noqa: UP045 (OmegaConf reads typing.Optional)
    resume: bool = MISSING
    break_lock: bool = MISSING
    optimized_metric: Any = MISSING  # a key of train()'s metrics, or a list of keys (a multi-objective search)
    log_latents_every_n_epochs: int = MISSING
    paths: dict[str, Any] = dataclasses.field(default_factory=dict)
    data: Any = None
    model: Any = None
    trainer: Any = None
    callbacks: Any = None
    logger: Any = None


def register_schemas() -> None:
    store = ConfigStore.instance()
    store.store(name="_train_schema", node=TrainSchema)
    # the heatmaps' grid and factor ranges are typed nodes their data module declares; their values are
    # the YAML's (conf/data/gaussian.yaml)
    nested = HeatmapDataModule.config_nodes
    store.store(group="data", name="_schema", node=schema_of(HeatmapDataModule, "DataSchema", nested=nested))
    store.store(group="data", name="_schema_sprites", node=schema_of(SpriteDataModule, "SpriteDataSchema"))
    store.store(
        group="data", name="_schema_dsprites_file", node=schema_of(DSpritesFileDataModule, "DSpritesFileDataSchema")
    )
    store.store(group="data", name="_schema_shapes3d", node=schema_of(Shapes3DFileDataModule, "Shapes3DFileDataSchema"))
    store.store(group="data", name="_schema_mpi3d", node=schema_of(MPI3DFileDataModule, "MPI3DFileDataSchema"))
    for name, (cls, schema_name) in MODEL_SCHEMAS.items():
        store.store(group="model", name=name, node=schema_of(cls, schema_name, recursive=False))
