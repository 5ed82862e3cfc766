"""What a dataset declares about its generating factors: each factor's name, values and kind, the
colourings its plots use, and the optional capabilities (render factors to images, invert images to
factors). The generic layers (callbacks, analysis steps, the explorer) read factors from here only."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np


class Kind(str, Enum):
    CONTINUOUS = "continuous"
    ORDINAL = "ordinal"
    CATEGORICAL = "categorical"


@dataclass(frozen=True)
class Factor:
    """One generating factor: its ``name``, the ``values`` it takes on the grid, its ``kind``, and for a
    periodic one (an angle) its ``period``: distances between its values are taken around the circle."""

    name: str
    values: tuple[float, ...]
    kind: Kind = Kind.CONTINUOUS
    period: float | None = None

    def distance(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``|a - b|``, or around the circle for a periodic factor."""
        gap = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
        return gap if self.period is None else np.minimum(gap % self.period, self.period - gap % self.period)

    @property
    def ordered(self) -> bool:
        """Continuous and ordinal factors have an order (a rank correlation, a regression make sense)."""
        return self.kind is not Kind.CATEGORICAL


Renderer = Callable[[Mapping[str, np.ndarray]], np.ndarray]  # factors (N each) -> images (N, C, H, W)
Inverse = Callable[[np.ndarray], dict[str, np.ndarray]]  # images (N, C, H, W) -> factors (N each)


@dataclass(frozen=True)
class FactorDeclaration:
    """A dataset's factors, in order, with its derived colourings and its optional capabilities."""

    factors: tuple[Factor, ...]
    # name -> f(factors) -> values: extra colourings for the latent plots (the heatmaps' var_x - var_y)
    colourings: Mapping[str, Callable[[Mapping[str, np.ndarray]], np.ndarray]] = field(default_factory=dict)
    render: Renderer | None = None
    invert: Inverse | None = None
    # the factor the plots lead with: the report's overview projection and the explorer's first
    # colouring (None: no overview, the explorer colours by the first factor)
    lead: str | None = None
    # the explorer's JavaScript twin of ``render`` and ``invert``: ``{"domain": <a name that a script
    # registers in window.heatmapLatentDomains (explorer/domain_*.js)>, ...its parameters}``, which the
    # page data carries as they are (None: a small dataset's own images, or no renderer in the page)
    page_domain: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        names = [f.name for f in self.factors]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"a dataset declares one or more factors with distinct names, got {names}")
        if self.lead is not None and self.lead not in names:
            raise ValueError(f"the lead factor {self.lead!r} is none of the declared {names}")
        clash = set(self.colourings) & set(names)
        if clash:
            raise ValueError(f"colourings {sorted(clash)} reuse factor names")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.factors)

    def of_kind(self, *kinds: Kind) -> tuple[str, ...]:
        return tuple(f.name for f in self.factors if f.kind in kinds)

    @property
    def ordered(self) -> tuple[str, ...]:
        """The factors with an order: what recoverability probes and rank correlations are about."""
        return tuple(f.name for f in self.factors if f.ordered)

    def __getitem__(self, name: str) -> Factor:
        for f in self.factors:
            if f.name == name:
                return f
        raise KeyError(f"no factor {name!r}; the dataset declares {', '.join(self.names)}")

    def colour_by(self, factors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Every factor and every declared colouring, by name, for the latent plots."""
        out = {name: np.asarray(factors[name]) for name in self.names}
        out.update({name: np.asarray(f(factors)) for name, f in self.colourings.items()})
        return out

    def missing(self, capability: str) -> str | None:
        """None if the dataset has ``capability`` (``render`` or ``invert``), else the one-line reason."""
        if getattr(self, capability) is not None:
            return None
        verb = {"render": "no renderer (factors -> image)", "invert": "no inverse (image -> factors)"}[capability]
        return f"the dataset declares {verb}"


def infer_declaration(factors: Mapping[str, np.ndarray]) -> FactorDeclaration:
    """A declaration for a data module that declares none: every factor continuous, its values the
    distinct values it takes, no colourings and no capabilities."""
    return FactorDeclaration(tuple(Factor(k, tuple(np.unique(np.asarray(v)).tolist())) for k, v in factors.items()))


def declaration_of(datamodule: object) -> FactorDeclaration:
    """The data module's ``declaration``, or one inferred from its ``factors`` if it declares none."""
    declared = getattr(datamodule, "declaration", None)
    return declared if isinstance(declared, FactorDeclaration) else infer_declaration(datamodule.factors)
