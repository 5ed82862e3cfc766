"""Checks of config values, raising ``ValueError`` with the config key and the problem in one line."""

from __future__ import annotations

import math
from typing import Any


def integer(key: str, value: Any, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{key} must be >= {minimum}, got {value}")
    return value


def number(key: str, value: Any, minimum: float | None = None, strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{key} must be a finite number, got {value!r}")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        raise ValueError(f"{key} must be {'>' if strict else '>='} {minimum}, got {value}")
    return float(value)


def integers(key: str, values: Any, minimum: int, allow_empty: bool = False) -> list[int]:
    if not isinstance(values, list | tuple) or (not values and not allow_empty):
        raise ValueError(f"{key} must be a {'' if allow_empty else 'non-empty '}list of integers, got {values!r}")
    return [integer(f"{key}[{i}]", v, minimum) for i, v in enumerate(values)]


def choice(key: str, value: Any, options: tuple[str, ...] | list[str]) -> str:
    if value not in options:
        raise ValueError(f"{key} must be one of {list(options)}, got {value!r}")
    return value
