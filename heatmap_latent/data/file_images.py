"""What the datasets read from their published files share: their images held as the file has them
(uint8, made float per batch: the files are 3 to 13 GB as uint8, four times that as float32), a
renderer that is the file itself, and the data module that puts these together (``FileDataModule``;
``dsprites_file.py`` and ``shapes3d_file.py`` say only how to read their file)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch

from heatmap_latent.core import checks
from heatmap_latent.core.errors import UserError
from heatmap_latent.data.factor_images import FactorImageDataModule


class RowImages:
    """Images made when indexed: ``images[idx]`` (a tensor, array or slice of rows) is a float32
    tensor ``(n, C, H, W)``. A subclass sets ``shape`` and ``__getitem__``; the rest is shared."""

    shape: torch.Size

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: Any) -> torch.Tensor:
        raise NotImplementedError

    def split(self, batch_size: int) -> Iterator[torch.Tensor]:
        """Consecutive chunks, as ``torch.Tensor.split`` gives (what ``model.embed`` iterates), each made
        when reached: a list of them would hold every image at once (12 GB of float32 for dSprites)."""
        return (self[slice(i, i + batch_size)] for i in range(0, len(self), batch_size))

    def numpy(self) -> np.ndarray:
        return self[slice(None)].numpy()


class Uint8Images(RowImages):
    """uint8 images ``(N, H, W)`` or ``(N, H, W, C)`` held as they are; ``images[idx]`` is a float32
    tensor ``(n, C, H, W)`` in [0, 1] (``scale``: what 1.0 is in the file: 1 for dSprites' 0/1, 255)."""

    def __init__(self, pixels: np.ndarray, scale: float) -> None:
        self.pixels, self.scale = pixels, float(scale)
        n, h, w = pixels.shape[:3]
        self.shape = torch.Size([n, pixels.shape[3] if pixels.ndim == 4 else 1, h, w])

    def __getitem__(self, index: Any) -> torch.Tensor:
        rows = self.pixels[np.asarray(index) if not isinstance(index, slice) else index]
        rows = rows[:, None] if rows.ndim == 3 else np.moveaxis(rows, -1, 1)
        return torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float32) / np.float32(self.scale))


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


class FileDataModule(FactorImageDataModule):
    """A dataset read from its file (``path``): ``read`` gives its uint8 images and its factors (name ->
    one value per image); the images stay uint8 in memory, the renderer is the file (a row of factors
    gives the file's image at their nearest values), and a file of another side than ``image_size``
    (which the config passes on to the model) is refused in one line."""

    scale = 1.0  # what 1.0 is in the file's pixels (255 for 8-bit colour)

    def __init__(self, path: str, image_size: int, **split: Any) -> None:
        super().__init__(**split)
        self.path = Path(path).expanduser()
        self.expected_size = checks.integer("data.image_size", image_size, 1)

    def read(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        raise NotImplementedError

    @cached_property
    def _file(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        images, factors = self.read()
        side = images.shape[1]
        if side != self.expected_size:
            raise UserError(
                f"{self.path} (data.path) holds {side}x{side} images, not data.image_size={self.expected_size}"
            )
        return images, factors

    def factor_values(self) -> dict[str, np.ndarray]:
        return self._file[1]

    @cached_property
    def _rows(self) -> Callable[[Mapping[str, np.ndarray]], np.ndarray]:
        return nearest_rows(self.factor_values())

    def render(self, factors: Mapping[str, np.ndarray]) -> np.ndarray:
        """The file's image of each row of ``factors``, each factor at its nearest value in the file."""
        return Uint8Images(self._file[0], self.scale)[self._rows(factors)].numpy()

    def build(self) -> tuple[Any, dict[str, np.ndarray]]:
        return Uint8Images(self._file[0], self.scale), self.factor_values()
