"""``data=sprites`` and ``data=dsprites``: the procedural sprites of ``data/sprites.py`` as a data
module of the framework (its factors declared, its renderer and inverse), held in memory when small
and drawn batch by batch when not (dSprites' 737,280 images would be 12 GB of float32)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from itertools import product
from typing import Any

import numpy as np
import torch

from heatmap_latent.core import checks
from heatmap_latent.data.factor_images import FactorImageDataModule
from heatmap_latent.data.factors import Factor, FactorDeclaration, Kind
from heatmap_latent.data.file_images import RowImages
from heatmap_latent.data.sprites import PALETTE, SHAPES, read_sprites, sprites

FACTORS = ("shape", "scale", "orientation", "pos_x", "pos_y")
# the factors' names and shape values of each convention: the procedural sprites' own, and dSprites'
# file's (dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz: posX, posY; shape 1, 2, 3), so that a
# data=dsprites run and a data=dsprites_file run name and number their factors alike
CONVENTIONS = {"sprites": ({}, 0.0), "dsprites": ({"pos_x": "posX", "pos_y": "posY"}, 1.0)}
IN_MEMORY_BUDGET = 2**28  # float32 values (1 GiB) a data module holds; above it, images are drawn per batch


def _linspace(key: str, spec: Mapping, low: float, high: float) -> np.ndarray:
    """``spec``: ``{size, low?, high?, endpoint?}`` -> ``np.linspace(low, high, size, endpoint)``."""
    unknown = set(spec) - {"size", "low", "high", "endpoint"}
    if unknown or "size" not in spec:
        raise ValueError(f"{key} takes size (and low, high, endpoint), got {sorted(spec)}")
    size = checks.integer(f"{key}.size", spec["size"], 1)
    lo, hi = (checks.number(f"{key}.{k}", spec.get(k, d)) for k, d in (("low", low), ("high", high)))
    if hi < lo or (size > 1 and hi == lo):
        raise ValueError(f"{key} needs low < high, got {lo} .. {hi}")
    return np.linspace(lo, hi, size, endpoint=bool(spec.get("endpoint", True)))


class LazySprites(RowImages):
    """The images of a factor table drawn when indexed: ``images[idx]`` (a tensor, array or slice of
    rows) is a float32 tensor ``(n, C, S, S)``, the same pixels as drawing them all at once."""

    def __init__(self, draw: Any, factors: Mapping[str, np.ndarray], channels: int, size: int) -> None:
        self.draw, self.factors = draw, factors
        self.shape = torch.Size([len(next(iter(factors.values()))), channels, size, size])

    def __getitem__(self, index: Any) -> torch.Tensor:
        rows = np.arange(len(self))[np.asarray(index) if not isinstance(index, slice) else index]
        return torch.from_numpy(self.draw({k: v[rows] for k, v in self.factors.items()}))


class SpriteDataModule(FactorImageDataModule):
    """White shapes on black (dSprites' generating process, drawn procedurally): factors ``shape``
    (square, ellipse, heart), ``scale``, ``orientation`` (radians), ``pos_x``, ``pos_y`` and, with
    ``colour``, ``hue`` (one of ``PALETTE``'s colours, on 3 channels)."""

    name = "sprites"

    def __init__(
        self,
        image_size: int = 32,
        shapes: Sequence[str] = SHAPES,
        scale: Mapping = {"low": 0.5, "high": 1.0, "size": 4},  # noqa: B006 (read, never changed)
        orientation: Mapping = {"low": 0.0, "high": 2 * np.pi, "size": 9, "endpoint": False},  # noqa: B006
        position: Mapping = {"low": 0.0, "high": 1.0, "size": 8},  # noqa: B006
        colour: bool = False,
        supersample: int = 4,
        image_channels: int | None = None,
        conventions: str = "sprites",
        **split: Any,
    ) -> None:
        """Each factor's values are ``np.linspace(low, high, size, endpoint)`` of its mapping (both
        positions share ``position``); ``image_channels``, if given, must be what ``colour`` draws (the
        config passes it on to the model); ``conventions``: the factors' names and shape values
        (``CONVENTIONS``). ``split``: the splits and loaders of :class:`FactorImageDataModule`."""
        super().__init__(**split)
        if conventions not in CONVENTIONS:
            raise ValueError(f"data.conventions must be one of {', '.join(CONVENTIONS)}, got {conventions}")
        self.names, self.shape_base = CONVENTIONS[conventions]
        self.image_size = checks.integer("data.image_size", image_size, 8)
        unknown = [s for s in shapes if s not in SHAPES]
        if unknown or not shapes:
            raise ValueError(f"data.shapes must be some of {', '.join(SHAPES)}, got {list(shapes)}")
        self.shapes = tuple(float(SHAPES.index(s)) for s in shapes)
        self.scale = _linspace("data.scale", scale, 0.5, 1.0)
        if self.scale.min() <= 0:
            raise ValueError(f"data.scale must be positive, got {self.scale.min()}")
        self.orientation = _linspace("data.orientation", orientation, 0.0, 2 * np.pi)
        self.position = _linspace("data.position", position, 0.0, 1.0)
        if self.position.min() < 0 or self.position.max() > 1:
            raise ValueError(f"data.position must lie in [0, 1], got {self.position.min()} .. {self.position.max()}")
        self.colour = bool(colour)
        self.channels = 3 if self.colour else 1
        if image_channels is not None and image_channels != self.channels:
            raise ValueError(
                f"data.image_channels is {image_channels} but data.colour={str(self.colour).lower()} draws "
                f"{self.channels}; leave data.image_channels to the config"
            )
        self.supersample = checks.integer("data.supersample", supersample, 1)

    def _public(self, factors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Factors under the drawing's names -> under the convention's (names, shape values)."""
        return {
            self.names.get(k, k): (np.asarray(v) + self.shape_base if k == "shape" else v) for k, v in factors.items()
        }

    def _drawn(self, factors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The inverse of ``_public``: what ``data/sprites.py`` draws from."""
        back = {v: k for k, v in self.names.items()}
        return {
            back.get(k, k): (np.asarray(v) - self.shape_base if back.get(k, k) == "shape" else v)
            for k, v in factors.items()
        }

    @property
    def grid(self) -> dict[str, np.ndarray]:
        """Each factor's values, under the convention's names."""
        return self._public(self._drawn_grid)

    @property
    def _drawn_grid(self) -> dict[str, np.ndarray]:
        values = {
            "shape": np.asarray(self.shapes),
            "scale": self.scale,
            "orientation": self.orientation,
            "pos_x": self.position,
            "pos_y": self.position,
        }
        if self.colour:
            values["hue"] = np.arange(len(PALETTE), dtype=np.float64)
        return values

    def factor_values(self) -> dict[str, np.ndarray]:
        grid = self.grid
        rows = np.array(list(product(*grid.values())), dtype=np.float64)  # the last factor varies fastest
        return {name: rows[:, i] for i, name in enumerate(grid)}

    def render(self, factors: Mapping[str, np.ndarray]) -> np.ndarray:
        return sprites(self._drawn(factors), self.image_size, self.supersample, self.colour)

    def invert(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """The grid factors of each image ``(N, C, S, S)`` (``data/sprites.py`` ``read_sprites``)."""
        read = read_sprites(images, self._drawn_grid, self.image_size, self.supersample, self.colour)
        return self._public(read)

    @cached_property
    def declaration(self) -> FactorDeclaration:
        """Shape and hue are categorical; orientation is continuous with period 2 pi (the square's and
        the ellipse's symmetries make more turns draw the same image: see docs/sprites.md)."""
        grid = self.grid
        kinds = {"shape": Kind.CATEGORICAL, "hue": Kind.CATEGORICAL}
        periods = {"orientation": 2 * np.pi}
        return FactorDeclaration(
            tuple(
                Factor(name, tuple(float(v) for v in values), kinds.get(name, Kind.CONTINUOUS), periods.get(name))
                for name, values in grid.items()
            ),
            render=self.render,
            invert=self.invert,
        )

    def build(self) -> tuple[Any, dict[str, np.ndarray]]:
        factors = self.factor_values()
        n = len(factors["shape"])
        if n * self.channels * self.image_size**2 > IN_MEMORY_BUDGET:
            return LazySprites(self.render, factors, self.channels, self.image_size), factors
        return super().build()
