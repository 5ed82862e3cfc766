"""The heatmap datasets' data modules (SPEC.md): Gaussian and Student-t densities on a factor grid."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from omegaconf import MISSING

from heatmap_latent.core import checks
from heatmap_latent.data.factor_images import FactorImageDataModule
from heatmap_latent.data.factors import Factor, FactorDeclaration, Kind
from heatmap_latent.data.heatmap_fit import realism_distance
from heatmap_latent.data.heatmaps import (
    DF_VALUES,
    Range,
    factor_grid,
    gaussian_heatmaps,
    student_t_df,
    student_t_heatmaps,
)


def _grid(grid: Mapping) -> dict:
    if set(grid) != {"low", "high", "size"}:
        raise ValueError(f"data.grid must have exactly the keys low, high, size; got {sorted(grid)}")
    low, high = checks.number("data.grid.low", grid["low"]), checks.number("data.grid.high", grid["high"])
    if high <= low:
        raise ValueError(f"data.grid.high must exceed data.grid.low, got {low} .. {high}")
    return {"low": low, "high": high, "size": checks.integer("data.grid.size", grid["size"], 2)}


def _range(key: str, spec: Mapping) -> Range:
    if set(spec) != {"start", "stop", "step"}:
        raise ValueError(f"{key} must have exactly the keys start, stop, step; got {sorted(spec)}")
    values = {k: checks.number(f"{key}.{k}", spec[k]) for k in ("start", "stop", "step")}
    if values["step"] <= 0 or values["stop"] <= values["start"]:
        raise ValueError(f"{key} must have step > 0 and stop > start, got {dict(spec)}")
    return Range(**values)


@dataclass
class GridSchema:
    """``data.grid``: the pixel grid, ``size`` points from ``low`` to ``high`` on both axes."""

    low: float = MISSING
    high: float = MISSING
    size: int = MISSING


@dataclass
class RangeSchema:
    """``data.var``, ``data.rho``: a factor's values, ``arange(start, stop, step)``."""

    start: float = MISSING
    stop: float = MISSING
    step: float = MISSING


class HeatmapDataModule(FactorImageDataModule):
    """The heatmaps' factor grid: both variances on ``var``, the correlation on ``rho``, each image a
    density on the pixel ``grid`` (SPEC.md); subclasses choose the density."""

    name: str = "heatmaps"
    # the typed nodes of its config (training/schema.py builds the rest from the constructor)
    config_nodes: ClassVar[dict[str, type]] = {"grid": GridSchema, "var": RangeSchema, "rho": RangeSchema}

    def __init__(self, grid: Mapping, var: Mapping, rho: Mapping, **split: Any) -> None:
        """``split``: the splits and loaders of :class:`FactorImageDataModule` (``train_fraction``,
        ``val_fraction``, ``batch_size``, ``eval_batch_size``, ``seed``)."""
        self.grid = _grid(grid)
        self.var, self.rho = _range("data.var", var), _range("data.rho", rho)
        if self.var.start <= 0:
            raise ValueError(f"data.var.start must be > 0 (variances are positive), got {self.var.start}")
        if self.rho.start <= -1 or self.rho.stop > 1:
            raise ValueError(f"data.rho must lie inside (-1, 1), got {dict(rho)}")
        super().__init__(**split)

    @property
    def image_size(self) -> int:
        return int(self.grid["size"])

    def factor_values(self) -> dict[str, np.ndarray]:
        """Every combination of the configured factors, as flat arrays (the dataset's rows)."""
        return factor_grid(self.var, self.rho)

    @cached_property
    def declaration(self) -> FactorDeclaration:
        """The heatmaps' factors: both variances and the correlation, continuous, on the configured grid;
        ``var_x - var_y`` as an extra colouring; a renderer and an inverse (the fit of ``data/heatmap_fit.py``)."""
        return FactorDeclaration(
            (
                Factor("var_x", tuple(self.var.values().tolist())),
                Factor("var_y", tuple(self.var.values().tolist())),
                Factor("rho", tuple(self.rho.values().tolist())),
                *self._extra_factors(),
            ),
            colourings={"var_x-var_y": lambda f: np.asarray(f["var_x"]) - np.asarray(f["var_y"])},
            render=self.render,
            invert=self.invert,
            lead="rho",  # the study's first finding: rho is the factor most easily read from a code
            # explorer/domain_heatmaps.js: the renderer and the fit on this pixel grid, over these df
            page_domain={
                "domain": "heatmaps",
                "grid": {"low": float(self.grid["low"]), "high": float(self.grid["high"])},
                "dfs": list(self.dfs) if self.dfs is not None else None,
            },
        )

    dfs: tuple[float, ...] | None = None  # the candidate df of the inverse's fit (None: Gaussian)

    def invert(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """The factors fitted to each image ``(N, 1, S, S)``: exact for an exact heatmap."""
        return realism_distance(images, self.grid["low"], self.grid["high"], self.dfs)[1]

    def _extra_factors(self) -> tuple[Factor, ...]:
        return ()


class GaussianHeatmapDataModule(HeatmapDataModule):
    """``data=gaussian``: max-normalised bivariate normal densities."""

    name = "gaussian"

    def render(self, factors: Mapping[str, np.ndarray]) -> np.ndarray:
        return gaussian_heatmaps(factors["var_x"], factors["var_y"], factors["rho"], **self.grid)[:, None]


class StudentTHeatmapDataModule(HeatmapDataModule):
    """``data=student_t``: bivariate t densities with ``df`` in {2, 200} by SPEC's seeded rule."""

    name = "student_t"
    dfs = tuple(float(v) for v in DF_VALUES)

    def factor_values(self) -> dict[str, np.ndarray]:
        factors = super().factor_values()
        factors["df"] = student_t_df(factors["var_x"], factors["var_y"], self.seed)
        return factors

    def render(self, factors: Mapping[str, np.ndarray]) -> np.ndarray:
        f = factors
        return student_t_heatmaps(f["var_x"], f["var_y"], f["rho"], f["df"], **self.grid)[:, None]

    def _extra_factors(self) -> tuple[Factor, ...]:
        return (Factor("df", tuple(float(v) for v in DF_VALUES), Kind.CATEGORICAL),)
