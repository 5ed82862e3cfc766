"""The data module every dataset of the framework is: images of known generating factors, held in
memory, split by a seed. A dataset subclasses :class:`FactorImageDataModule` and says three things:
its factors' values (``factor_values``), how factors become images (``render``) and, optionally, its
:class:`FactorDeclaration` (kinds, colourings, an inverse). ``docs/architecture.md`` shows one.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader

from heatmap_latent.core import checks
from heatmap_latent.data.batches import image_loader
from heatmap_latent.data.factors import FactorDeclaration, infer_declaration
from heatmap_latent.data.splits import split_indices


class FactorImageDataModule(pl.LightningDataModule):
    """Renders every row of the factor table once, in memory, and serves seeded train/val/test splits.

    After :meth:`setup` the whole dataset is public: ``images`` (float32, ``(N, C, H, W)``),
    ``factors`` (name -> numpy array aligned with ``images``), ``train_idx``, ``val_idx`` and
    ``test_idx``. By default ``val_fraction`` (0.1) of the training split is held out for
    validation (early stopping, the best checkpoint, the LR scheduler), so the test split is touched
    only by the final evaluation and the analysis. ``val_fraction=0`` is the original study's
    protocol: validation on the test split.
    """

    name: str = "images"

    def __init__(
        self,
        train_fraction: float = 0.8,
        val_fraction: float = 0.1,
        batch_size: int = 64,
        eval_batch_size: int = 256,
        seed: int = 0,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        if not 0.0 < checks.number("data.train_fraction", train_fraction) < 1.0:
            raise ValueError(f"data.train_fraction must lie in (0, 1), got {train_fraction}")
        if not 0.0 <= checks.number("data.val_fraction", val_fraction) < 1.0:
            raise ValueError(f"data.val_fraction must lie in [0, 1), got {val_fraction}")
        checks.integer("data.batch_size", batch_size, 1)
        checks.integer("data.eval_batch_size", eval_batch_size, 1)
        checks.integer("data.seed", seed)
        checks.integer("data.num_workers", num_workers, 0)
        self.train_fraction = train_fraction
        self.val_fraction = val_fraction
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.seed = seed
        # loader processes that draw the batches: worth it for images drawn per batch (data=dsprites),
        # not for images held in memory; the order of batches is the same with any number
        self.num_workers = num_workers
        self.images: torch.Tensor | None = None
        self.factors: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ what a dataset says
    def factor_values(self) -> dict[str, np.ndarray]:
        """The dataset's rows: one flat array per factor, all of one length."""
        raise NotImplementedError

    def render(self, factors: Mapping[str, np.ndarray]) -> np.ndarray:
        """The images ``(N, C, H, W)`` (values in [0, 1]) of ``factors`` (N each)."""
        raise NotImplementedError

    @cached_property
    def declaration(self) -> FactorDeclaration:
        """The factors' names, values, kinds and capabilities; by default every factor continuous,
        with its distinct values, and this module's renderer. Override to give kinds, colourings or
        an inverse."""
        inferred = infer_declaration(self.factor_values())
        return FactorDeclaration(inferred.factors, render=self.render)

    # ------------------------------------------------------------------ what the framework does with it
    def build(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(images (N, C, H, W) float32, factors)``: the renderer over every row of the factor table."""
        factors = self.factor_values()
        images = np.asarray(self.render(factors), dtype=np.float32)
        n = {len(np.asarray(v)) for v in factors.values()}
        if images.ndim != 4 or n != {len(images)}:
            raise ValueError(
                f"{type(self).__name__}.render must give (N, C, H, W) images for N factor rows, "
                f"got {images.shape} for {sorted(n)} rows"
            )
        return images, factors

    def setup(self, stage: str | None = None) -> None:
        if self.images is not None:
            return
        images, factors = self.build()
        # a dataset too large to hold may build an indexable that draws rows when asked (data/sprites_datamodule.py)
        self.images = (
            torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
            if isinstance(images, np.ndarray)
            else images
        )
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
        return image_loader(
            self.images,
            self._factor_tensors,
            torch.from_numpy(indices),
            batch_size,
            shuffle=shuffle,
            seed=self.seed,
            pin_memory=torch.cuda.is_available(),
            num_workers=self.num_workers,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_idx, self.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_idx, self.eval_batch_size, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_idx, self.eval_batch_size, shuffle=False)


def split_protocol(val_fraction: float) -> str:
    """How a run chose its checkpoint, in words for the report."""
    if val_fraction > 0:
        return f"validation on {val_fraction:.0%} of the training split, held out"
    return "validation on the test split (the original study's protocol)"
