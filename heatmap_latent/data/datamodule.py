"""LightningDataModules for the Gaussian and Student-t heatmap datasets."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader

from heatmap_latent.core import checks
from heatmap_latent.data.batches import heatmap_loader
from heatmap_latent.data.factors import Factor, FactorDeclaration, Kind
from heatmap_latent.data.heatmaps import (
    DF_VALUES,
    Range,
    factor_grid,
    gaussian_heatmaps,
    split_indices,
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


class HeatmapDataModule(pl.LightningDataModule):
    """Builds every image of the factor grid in memory and serves seeded train/val/test splits.

    After :meth:`setup` the whole dataset is public: ``images`` (float32, ``(N, 1, S, S)``),
    ``factors`` (name -> numpy array aligned with ``images``), ``train_idx``, ``val_idx`` and
    ``test_idx``. By default ``val_fraction`` (0.1) of the training split is held out for
    validation (early stopping, the best checkpoint, the LR scheduler), so the test split is touched
    only by the final evaluation and the analysis. ``val_fraction=0`` is the seed study's protocol:
    validation on the test split.
    """

    name: str = "heatmaps"

    def __init__(
        self,
        grid: Mapping,
        var: Mapping,
        rho: Mapping,
        train_fraction: float = 0.8,
        val_fraction: float = 0.1,
        batch_size: int = 64,
        eval_batch_size: int = 256,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.grid = _grid(grid)
        self.var, self.rho = _range("data.var", var), _range("data.rho", rho)
        if self.var.start <= 0:
            raise ValueError(f"data.var.start must be > 0 (variances are positive), got {self.var.start}")
        if self.rho.start <= -1 or self.rho.stop > 1:
            raise ValueError(f"data.rho must lie inside (-1, 1), got {dict(rho)}")
        if not 0.0 < checks.number("data.train_fraction", train_fraction) < 1.0:
            raise ValueError(f"data.train_fraction must lie in (0, 1), got {train_fraction}")
        if not 0.0 <= checks.number("data.val_fraction", val_fraction) < 1.0:
            raise ValueError(f"data.val_fraction must lie in [0, 1), got {val_fraction}")
        checks.integer("data.batch_size", batch_size, 1)
        checks.integer("data.eval_batch_size", eval_batch_size, 1)
        checks.integer("data.seed", seed)
        self.train_fraction = train_fraction
        self.val_fraction = val_fraction
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.seed = seed
        self.images: torch.Tensor | None = None
        self.factors: dict[str, np.ndarray] = {}

    @property
    def image_size(self) -> int:
        return int(self.grid["size"])

    def factor_values(self) -> dict[str, np.ndarray]:
        """Every combination of the configured factors, as flat arrays (the dataset's rows)."""
        return factor_grid(self.var, self.rho)

    def render(self, factors: Mapping[str, np.ndarray]) -> np.ndarray:
        """The images ``(N, 1, S, S)`` of ``factors`` on this module's pixel grid; subclasses choose the density."""
        raise NotImplementedError

    def build(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Return ``(images (N, S, S) float32, factors)``: the renderer over every factor combination."""
        factors = self.factor_values()
        return self.render(factors)[:, 0], factors

    @cached_property
    def declaration(self) -> FactorDeclaration:
        """The heatmaps' factors: both variances and the correlation, continuous, on the configured grid;
        ``var_x - var_y`` as an extra colouring; a renderer (no inverse: the study's realism fit is one)."""
        return FactorDeclaration(
            (
                Factor("var_x", tuple(self.var.values().tolist())),
                Factor("var_y", tuple(self.var.values().tolist())),
                Factor("rho", tuple(self.rho.values().tolist())),
                *self._extra_factors(),
            ),
            colourings={"var_x-var_y": lambda f: np.asarray(f["var_x"]) - np.asarray(f["var_y"])},
            render=self.render,
        )

    def _extra_factors(self) -> tuple[Factor, ...]:
        return ()

    def setup(self, stage: str | None = None) -> None:
        if self.images is not None:
            return
        images, factors = self.build()
        self.images = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).unsqueeze(1)  # (N, 1, S, S)
        self.factors = factors
        train_idx, self.test_idx = split_indices(len(images), self.train_fraction, self.seed)
        if self.val_fraction > 0:
            n_val = int(round(self.val_fraction * len(train_idx)))
            perm = np.random.default_rng(self.seed + 1).permutation(train_idx)
            self.val_idx, self.train_idx = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        else:
            self.train_idx, self.val_idx = train_idx, self.test_idx
        self._factor_tensors = {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in factors.items()}

    def _loader(self, indices: np.ndarray, batch_size: int, shuffle: bool) -> DataLoader:
        return heatmap_loader(
            self.images,
            self._factor_tensors,
            torch.from_numpy(indices),
            batch_size,
            shuffle=shuffle,
            seed=self.seed,
            pin_memory=torch.cuda.is_available(),
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_idx, self.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_idx, self.eval_batch_size, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_idx, self.eval_batch_size, shuffle=False)


class GaussianHeatmapDataModule(HeatmapDataModule):
    """``data=gaussian``: max-normalised bivariate normal densities."""

    name = "gaussian"

    def render(self, factors: Mapping[str, np.ndarray]) -> np.ndarray:
        return gaussian_heatmaps(factors["var_x"], factors["var_y"], factors["rho"], **self.grid)[:, None]


class StudentTHeatmapDataModule(HeatmapDataModule):
    """``data=student_t``: bivariate t densities with ``df`` in {2, 200} by SPEC's seeded rule."""

    name = "student_t"

    def factor_values(self) -> dict[str, np.ndarray]:
        factors = super().factor_values()
        factors["df"] = student_t_df(factors["var_x"], factors["var_y"], self.seed)
        return factors

    def render(self, factors: Mapping[str, np.ndarray]) -> np.ndarray:
        f = factors
        return student_t_heatmaps(f["var_x"], f["var_y"], f["rho"], f["df"], **self.grid)[:, None]

    def _extra_factors(self) -> tuple[Factor, ...]:
        return (Factor("df", tuple(float(v) for v in DF_VALUES), Kind.CATEGORICAL),)


def split_protocol(val_fraction: float) -> str:
    """How a run chose its checkpoint, in words for the report."""
    if val_fraction > 0:
        return f"validation on {val_fraction:.0%} of the training split, held out"
    return "validation on the test split (the seed study's protocol)"
