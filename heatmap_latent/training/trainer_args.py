"""Check ``trainer.*`` config values against Lightning's own ``Trainer`` signature.

Lightning checks some arguments when the ``Trainer`` is built and others only deep inside
``fit`` (``max_epochs=[1]`` fails in the fit loop with a traceback). This module checks every
configured argument's name and type against ``Trainer.__init__``'s annotations, and the ranges
Lightning documents for the counting arguments, so a bad value is one line before anything runs.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal, Union

import lightning.pytorch as pl

# the smallest value each counting argument accepts (-1: "no limit")
MINIMUM = {
    "max_epochs": -1,
    "min_epochs": 0,
    "max_steps": -1,
    "min_steps": 0,
    "check_val_every_n_epoch": 1,
    "log_every_n_steps": 1,
    "accumulate_grad_batches": 1,
    "num_nodes": 1,
    "num_sanity_val_steps": -1,
    "reload_dataloaders_every_n_epochs": 0,
}


def _matches(value: Any, hint: Any) -> bool:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    if origin is Union:
        return any(_matches(value, a) for a in args)
    if origin is Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if origin in (list, tuple, typing.Sequence):
        return isinstance(value, list | tuple) and all(_matches(v, args[0]) for v in value) if args else True
    if origin is dict:
        return isinstance(value, Mapping)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is timedelta:
        return False  # only as a string or dict in a config
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def _describe(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Union:
        return " or ".join(dict.fromkeys(_describe(a) for a in args if a is not timedelta))
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if hint is type(None):
        return "null"
    if origin is not None:
        return f"a {origin.__name__}"
    return getattr(hint, "__name__", str(hint))


def check_trainer_args(args: Mapping[str, Any], prefix: str = "trainer") -> None:
    """Raise ``ValueError`` naming ``trainer.<key>`` for an unknown argument, a wrong type or range."""
    params = inspect.signature(pl.Trainer.__init__).parameters
    hints = typing.get_type_hints(pl.Trainer.__init__)
    for key, value in args.items():
        if key.startswith("_"):
            continue
        if key not in params:
            raise ValueError(f"{prefix}.{key} is not an argument of lightning's Trainer")
        hint = hints.get(key, Any)
        if not _matches(value, hint):
            raise ValueError(f"{prefix}.{key} must be {_describe(hint)}, got {value!r}")
        if key in MINIMUM and isinstance(value, int) and not isinstance(value, bool) and value < MINIMUM[key]:
            raise ValueError(f"{prefix}.{key} must be >= {MINIMUM[key]}, got {value}")
