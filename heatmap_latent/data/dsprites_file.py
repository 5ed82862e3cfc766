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

from heatmap_latent.core.errors import UserError
from heatmap_latent.data.factors import Factor, FactorDeclaration, Kind
from heatmap_latent.data.file_images import FileDataModule

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


class DSpritesFileDataModule(FileDataModule):
    """dSprites from its file (``path``); factors and values as the file has them."""

    name = "dsprites_file"

    def __init__(
        self, path: str = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz", image_size: int = 64, **split: Any
    ) -> None:
        """``image_size`` is the file's side (64), which the config passes on to the model; a file of
        another side is refused when read."""
        super().__init__(path, image_size, **split)

    def read(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        imgs, values, _, metadata = read_dsprites(self.path)
        names = metadata["latents_names"]
        columns = {n: values[:, i].astype(np.float64) for i, n in enumerate(names)}
        return imgs, {n: v for n, v in columns.items() if len(np.unique(v)) > 1}

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
