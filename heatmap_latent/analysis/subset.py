"""The images an analysis reads: every image of a run's dataset, or a seeded uniform subset of them
where the dataset has more than ``analyze.yaml``'s ``max_images`` (dSprites' 737,280 images, MPI3D's
1,036,800: each is encoded in float64 and every measure reads the codes). The subset keeps each image's
split (an image of the training split stays one), and ``metrics.json`` says how many were read."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from heatmap_latent.core.subsample import random_subset
from heatmap_latent.data.file_images import RowImages


class SubsetImages(RowImages):
    """Rows ``rows`` (sorted) of ``images`` (a tensor or a :class:`RowImages`), made when indexed."""

    def __init__(self, images: Any, rows: np.ndarray) -> None:
        self.images, self.rows = images, rows
        self.shape = torch.Size([len(rows), *images.shape[1:]])

    def __getitem__(self, index: Any) -> torch.Tensor:
        if isinstance(index, torch.Tensor):
            index = index.numpy()
        return self.images[torch.from_numpy(np.atleast_1d(self.rows[index]))]


class SubsetDataModule:
    """A set-up data module seen through ``rows`` of its images: ``images``, ``factors`` and the splits'
    indices are the subset's (renumbered), every other attribute (name, declaration, renderer) the
    module's own."""

    def __init__(self, datamodule: Any, rows: np.ndarray) -> None:
        self.datamodule, self.rows = datamodule, rows
        self.n_total = len(datamodule.images)
        self.images = SubsetImages(datamodule.images, rows)
        self.factors = {k: np.asarray(v)[rows] for k, v in datamodule.factors.items()}
        position = np.full(self.n_total, -1, dtype=np.int64)
        position[rows] = np.arange(len(rows))
        for split in ("train_idx", "val_idx", "test_idx"):
            kept = position[np.asarray(getattr(datamodule, split))]
            setattr(self, split, kept[kept >= 0])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["datamodule"], name)


def images_read(datamodule: Any, max_images: int | None, seed: int) -> Any:
    """``datamodule`` itself when it has at most ``max_images`` images (None: no cap), else a
    :class:`SubsetDataModule` of ``max_images`` of them drawn uniformly with ``seed``."""
    n = len(datamodule.images)
    if max_images is None or n <= max_images:
        return datamodule
    return SubsetDataModule(datamodule, random_subset(n, int(max_images), seed))


def images_record(datamodule: Any) -> dict[str, Any]:
    """What ``metrics.json`` says of the images read: how many, of how many, and how chosen."""
    if isinstance(datamodule, SubsetDataModule):
        return {"read": len(datamodule.rows), "of": datamodule.n_total, "chosen": "uniform random subset"}
    n = len(datamodule.images)
    return {"read": n, "of": n, "chosen": "all"}
