"""``data=dsprites_file``: dSprites read from its published file, nothing downloaded.

The file (``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz``, github.com/deepmind/dsprites-dataset)
holds ``imgs`` (737,280 x 64 x 64, uint8, 0 or 1), ``latents_values`` and ``latents_classes``
(737,280 x 6: color, shape, scale, orientation, posX, posY) and ``metadata``, a dict pickled under
Python 2 (read here with ``encoding="latin1"``) naming the factors and their sizes. The images stay
uint8 in memory (3 GB for the whole file) and become float32 per batch (``Uint8Images``); the factors
are the file's values under the file's names, each factor with more than one value (color has one).
"""

from __future__ import annotations

import pickle
import zipfile
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from heatmap_latent.core import checks
from heatmap_latent.core.errors import UserError
from heatmap_latent.data.factor_images import FactorImageDataModule
from heatmap_latent.data.factors import Factor, FactorDeclaration, Kind
from heatmap_latent.data.file_images import Uint8Images, nearest_rows

PUBLISHED = "https://github.com/deepmind/dsprites-dataset (dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz)"
KEYS = ("imgs", "latents_values", "latents_classes", "metadata")


def read_dsprites(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """``(imgs, latents_values, latents_classes, metadata)`` of a dSprites file; a missing or malformed
    file is one :class:`UserError` naming the file, what was expected and where the dataset is published."""
    where = f"{path} (data.path)"
    if not path.is_file():
        raise UserError(f"{where}: no such file; dSprites is published at {PUBLISHED}")
    try:
        with np.load(path, allow_pickle=True, encoding="latin1") as npz:
            missing = [k for k in KEYS if k not in npz.files]
            if missing:
                raise UserError(f"{where}: not a dSprites file: no {', '.join(missing)} (it has {npz.files})")
            imgs, values, classes = npz["imgs"], npz["latents_values"], npz["latents_classes"]
            metadata = npz["metadata"][()]
    except UserError:
        raise
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, pickle.UnpicklingError) as err:
        raise UserError(f"{where}: not a readable .npz file ({err}); dSprites is published at {PUBLISHED}") from err
    names = tuple(str(n) for n in (metadata.get("latents_names", ()) if isinstance(metadata, dict) else ()))
    expected = (
        imgs.dtype == np.uint8
        and imgs.ndim == 3
        and values.ndim == 2
        and classes.shape == values.shape
        and len(values) == len(imgs)
        and len(names) == values.shape[1]
    )
    if not expected:
        raise UserError(
            f"{where}: expected imgs (N, 64, 64) uint8, latents_values and latents_classes (N, 6) and "
            f"metadata naming 6 latents; got imgs {imgs.shape} {imgs.dtype}, latents_values {values.shape}, "
            f"latents_classes {classes.shape}, latents_names {names}"
        )
    return imgs, values, classes, {**metadata, "latents_names": names}


class DSpritesFileDataModule(FactorImageDataModule):
    """dSprites from its file (``path``); factors and values as the file has them."""

    name = "dsprites_file"

    def __init__(
        self, path: str = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz", image_size: int = 64, **split: Any
    ) -> None:
        """``image_size`` is the file's side (64), which the config passes on to the model; a file of
        another side is refused when read."""
        super().__init__(**split)
        self.path = Path(path).expanduser()
        self.expected_size = checks.integer("data.image_size", image_size, 1)

    @cached_property
    def _file(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        return read_dsprites(self.path)

    @property
    def image_size(self) -> int:
        side = int(self._file[0].shape[1])
        if side != self.expected_size:
            raise UserError(
                f"{self.path} (data.path) holds {side}x{side} images, not data.image_size={self.expected_size}"
            )
        return side

    def factor_values(self) -> dict[str, np.ndarray]:
        _, values, _, metadata = self._file
        names = metadata["latents_names"]
        return {n: values[:, i].astype(np.float64) for i, n in enumerate(names) if len(np.unique(values[:, i])) > 1}

    @cached_property
    def _rows(self):
        return nearest_rows(self.factor_values())

    def render(self, factors: dict[str, np.ndarray]) -> np.ndarray:
        """The file's image of each row of ``factors``, each factor at its nearest value in the file."""
        return Uint8Images(self._file[0], 1.0)[self._rows(factors)].numpy()

    @cached_property
    def declaration(self) -> FactorDeclaration:
        """shape is categorical (the file's 1, 2, 3: square, ellipse, heart), orientation periodic
        (0 to 2 pi, both ends in the file), the others continuous."""
        kinds, periods = {"shape": Kind.CATEGORICAL}, {"orientation": 2 * np.pi}
        factors = tuple(
            Factor(n, tuple(float(x) for x in np.unique(v)), kinds.get(n, Kind.CONTINUOUS), periods.get(n))
            for n, v in self.factor_values().items()
        )
        return FactorDeclaration(factors, render=self.render)

    def build(self) -> tuple[Any, dict[str, np.ndarray]]:
        self.image_size  # noqa: B018 (refuses a file of another side)
        return Uint8Images(self._file[0], 1.0), self.factor_values()
