"""A loaded run encoded once: codes, factors, splits, and the decodes several steps share."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import torch
from scipy.spatial import cKDTree

from heatmap_latent.analysis.density import latent_density
from heatmap_latent.analysis.instruments import instrument
from heatmap_latent.analysis.loading import LoadedRun
from heatmap_latent.core.pixels import displayed
from heatmap_latent.core.ties import snap_near_ties
from heatmap_latent.data.factors import FactorDeclaration, declaration_of
from heatmap_latent.models.losses import frobenius_error


class TestReconstruction(NamedTuple):
    """The test split's images and their reconstructions (both displayed, ``core/pixels.py``) and the
    per-image Frobenius errors."""

    images: np.ndarray
    recons: np.ndarray
    errors: np.ndarray


class Density(NamedTuple):
    """Density figures of the standardised codes and the probe points far from every code."""

    figures: dict[str, float]
    empty: np.ndarray  # (n, D), in the original latent coordinates


@dataclass
class EncodedRun:
    """Every image's code (posterior mean) with its factors; shared work is computed on first use."""

    run: LoadedRun
    latents: np.ndarray  # (N, D)
    factors: dict[str, np.ndarray]
    n_path: int = 40
    n_strip: int = 10
    seed: int = 0
    scores: Any = None  # analyze.yaml's ``scores``: which disentanglement scores, with what settings
    instruments: Any = None  # analyze.yaml's ``instruments`` (None: the file's, ``analysis/instruments.py``)

    model: Any = None  # the run's model in float64 (``encode``): what every step encodes and decodes with

    @classmethod
    def encode(cls, run: LoadedRun, **kwargs: Any) -> EncodedRun:
        """Every image's code, computed in float64. Two CPUs' float32 kernels (AVX2, AVX-512) give the
        same code to within a few units in the last place, and a collapsed model's codes lie that close
        together, so a float32 analysis ranks, bins and splits them by each CPU's rounding; in float64
        those differences are 1e-16, and the codes closer than a few float32 ulps are made one code."""
        model = copy.deepcopy(run.model).double().eval()
        dm = run.datamodule
        latents = snap_near_ties(model.embed(dm.images).numpy())
        factors = {k: np.asarray(v, dtype=np.float64) for k, v in dm.factors.items()}
        return cls(run, latents, factors, model=model, **kwargs)

    def instrument(self, name: str) -> Any:
        """One constant of this analysis's ``instruments`` (``conf/analyze.yaml``)."""
        return instrument(name, given=self.instruments)

    @property
    def name(self) -> str:
        return self.run.name

    @property
    def train_idx(self) -> np.ndarray:
        return np.asarray(self.run.datamodule.train_idx)

    @property
    def test_idx(self) -> np.ndarray:
        return np.asarray(self.run.datamodule.test_idx)

    @cached_property
    def declaration(self) -> FactorDeclaration:
        """What the run's dataset declares about its factors (names, kinds, colourings, capabilities)."""
        return declaration_of(self.run.datamodule)

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Images decoded from ``(N, D)`` codes (the model's one batched decode), displayed:
        ``(N, S, S)``, or ``(N, S, S, C)`` for colour (``core/pixels.py``)."""
        return displayed(self.model.decode_batched(z))

    @cached_property
    def tree(self) -> cKDTree:
        return cKDTree(self.latents)

    @cached_property
    def test_reconstruction(self) -> TestReconstruction:
        """Test images, their reconstructions and per-image Frobenius errors."""
        images = self.run.datamodule.images[torch.from_numpy(self.test_idx)]
        recons = self.model.decode_batched(self.latents[self.test_idx])
        errors = frobenius_error(recons, images).numpy()
        return TestReconstruction(displayed(images), displayed(recons), errors)

    @cached_property
    def density(self) -> Density:
        """Density figures of the standardised codes and the empty probe points."""
        figures, empty = latent_density(
            self.latents,
            self.instrument("n_probe"),
            self.instrument("far_factor"),
            self.seed,
            self.instrument("trimmed_hull"),
        )
        return Density(figures, empty)
