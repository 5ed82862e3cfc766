"""Images read from a dataset's file, held as the file has them (uint8) and made float per batch:
the published datasets are 3 to 13 GB as uint8, four times that as float32."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch


class Uint8Images:
    """uint8 images ``(N, H, W)`` or ``(N, H, W, C)`` held as they are; ``images[idx]`` is a float32
    tensor ``(n, C, H, W)`` in [0, 1] (``scale``: what 1.0 is in the file: 1 for dSprites' 0/1, 255)."""

    def __init__(self, pixels: np.ndarray, scale: float) -> None:
        self.pixels, self.scale = pixels, float(scale)
        n, h, w = pixels.shape[:3]
        self.shape = torch.Size([n, pixels.shape[3] if pixels.ndim == 4 else 1, h, w])

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: Any) -> torch.Tensor:
        rows = self.pixels[np.asarray(index) if not isinstance(index, slice) else index]
        rows = rows[:, None] if rows.ndim == 3 else np.moveaxis(rows, -1, 1)
        return torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float32) / np.float32(self.scale))

    def split(self, batch_size: int) -> list[torch.Tensor]:
        return [self[slice(i, i + batch_size)] for i in range(0, len(self), batch_size)]

    def numpy(self) -> np.ndarray:
        return self[slice(None)].numpy()


def nearest_rows(table: Mapping[str, np.ndarray]) -> Callable[[Mapping[str, np.ndarray]], np.ndarray]:
    """For a file whose rows are a grid of factor values (``table``: name -> one value per row): a
    function from requested factors (name -> values) to the row of each request, every factor taken at
    its nearest value in the file. What a file's declaration renders with: the file's own images."""
    grids = {n: np.unique(v) for n, v in table.items()}
    positions = (np.searchsorted(grids[n], v).tolist() for n, v in table.items())
    index = {key: r for r, key in enumerate(zip(*positions))}

    def rows(factors: Mapping[str, np.ndarray]) -> np.ndarray:
        picks = [np.abs(np.asarray(factors[n], dtype=np.float64)[:, None] - g).argmin(1) for n, g in grids.items()]
        return np.asarray([index[key] for key in zip(*(p.tolist() for p in picks))])

    return rows
