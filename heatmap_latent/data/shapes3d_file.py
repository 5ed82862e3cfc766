"""``data=shapes3d``: 3dshapes read from its published file, nothing downloaded.

The file (``3dshapes.h5``, github.com/google-deepmind/3d-shapes) holds ``images`` (480,000 x 64 x 64
x 3, uint8) and ``labels`` (480,000 x 6, float64): floor_hue, wall_hue, object_hue (10 values each in
[0, 1)), scale (8, 0.75 to 1.25), shape (4: cube, cylinder, sphere, capsule as 0-3) and orientation
(15, -30 to 30 degrees), in that order (the file names none: these are the dataset's README's). The
images stay uint8 in memory (5.9 GB for the whole file) and become float per batch. Needs h5py
(``pip install -e ".[datasets]"``).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from heatmap_latent.core import checks
from heatmap_latent.core.errors import UserError
from heatmap_latent.data.factors import Factor, FactorDeclaration, Kind
from heatmap_latent.data.file_images import FileDataModule

PUBLISHED = "https://github.com/google-deepmind/3d-shapes (3dshapes.h5)"
NAMES = ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")


def read_shapes3d(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)`` of a 3dshapes file; a missing or malformed file is one :class:`UserError`
    naming the file, what was expected and where the dataset is published."""
    where = f"{path} (data.path)"
    if not path.is_file():
        raise UserError(f"{where}: no such file; 3dshapes is published at {PUBLISHED}")
    try:
        import h5py  # noqa: PLC0415 (an optional extra: only this dataset needs it)
    except ImportError as err:
        raise UserError(f'data=shapes3d reads HDF5 with h5py: pip install -e ".[datasets]" ({err})') from err
    try:
        with h5py.File(path, "r") as f:
            missing = [k for k in ("images", "labels") if k not in f]
            if missing:
                raise UserError(f"{where}: not a 3dshapes file: no {', '.join(missing)} (it has {sorted(f)})")
            images, labels = f["images"][()], f["labels"][()]
    except UserError:
        raise
    except (OSError, ValueError, KeyError) as err:
        raise UserError(f"{where}: not a readable HDF5 file ({err}); 3dshapes is published at {PUBLISHED}") from err
    if not (
        images.dtype == np.uint8 and images.ndim == 4 and images.shape[3] == 3 and labels.shape == (len(images), 6)
    ):
        raise UserError(
            f"{where}: expected images (N, 64, 64, 3) uint8 and labels (N, 6); got images {images.shape} "
            f"{images.dtype}, labels {labels.shape}"
        )
    return images, labels


class Shapes3DFileDataModule(FileDataModule):
    """3dshapes from its file (``path``): six factors, RGB images."""

    name = "shapes3d"
    scale = 255.0

    def __init__(self, path: str = "3dshapes.h5", image_size: int = 64, image_channels: int = 3, **split: Any) -> None:
        """``image_size`` and ``image_channels`` are the file's (64, 3), which the config passes on to the
        model; a file of another side is refused when read."""
        super().__init__(path, image_size, **split)
        if checks.integer("data.image_channels", image_channels, 1) != 3:
            raise ValueError(f"data.image_channels: 3dshapes is RGB (3), got {image_channels}")

    def read(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        images, labels = read_shapes3d(self.path)
        return images, {n: labels[:, i].astype(np.float64) for i, n in enumerate(NAMES)}

    @cached_property
    def declaration(self) -> FactorDeclaration:
        """shape is categorical, the hues continuous (as disentanglement_lib scores them: discrete
        classes of every factor), scale and orientation continuous."""
        factors = tuple(
            Factor(n, tuple(float(x) for x in np.unique(v)), Kind.CATEGORICAL if n == "shape" else Kind.CONTINUOUS)
            for n, v in self.factor_values().items()
        )
        return FactorDeclaration(factors, render=self.render)
