"""``data=mpi3d``: MPI3D read from its published file, nothing downloaded.

The files (``mpi3d_toy.npz``, ``mpi3d_realistic.npz``, ``mpi3d_real.npz``,
github.com/rr-learning/disentanglement_dataset) hold one array, ``images`` (N x 64 x 64 x 3, uint8),
and no labels: the images are every combination of the factors in C order (the dataset's README:
``images.reshape([6, 6, 2, 3, 3, 40, 40, 64, 64, 3])``), so the factors are read from the layout,
which the length gives: 1,036,800 images for the published files (object_color 6, object_shape 6,
object_size 2, camera_height 3, background_color 3, horizontal_axis 40, vertical_axis 40), 460,800
for the earlier challenge release (colour and shape 4 each). ``factor_sizes`` names another layout
(a subset written in the same order). Each factor's values are its class indices, as
disentanglement_lib reads them. An ``images`` stored uncompressed in the .npz is memory-mapped
(nothing read until used); a compressed one is read whole (12.7 GB for 1,036,800 images).
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from heatmap_latent.core import checks
from heatmap_latent.core.errors import UserError
from heatmap_latent.data.factors import Factor, FactorDeclaration, Kind
from heatmap_latent.data.file_images import FileDataModule

PUBLISHED = (
    "https://github.com/rr-learning/disentanglement_dataset (mpi3d_toy.npz, mpi3d_realistic.npz, mpi3d_real.npz)"
)
NAMES = (
    "object_color",
    "object_shape",
    "object_size",
    "camera_height",
    "background_color",
    "horizontal_axis",
    "vertical_axis",
)
# the layout of each published length (the dataset's README; the NeurIPS 2019 challenge's release)
LAYOUTS = {1_036_800: (6, 6, 2, 3, 3, 40, 40), 460_800: (4, 4, 2, 3, 3, 40, 40)}
CATEGORICAL = ("object_color", "object_shape", "background_color")


def _stored_member(path: Path, key: str) -> np.ndarray | None:
    """``key`` of an .npz memory-mapped, when the archive stores it uncompressed; else None. Written
    here because ``np.load(mmap_mode=...)`` maps only a bare .npy, never a member of an .npz."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(f"{key}.npy")
        if info.compress_type != zipfile.ZIP_STORED:
            return None
        with archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            read_header = (
                np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = read_header(member)
            header = member.tell()
    with open(path, "rb") as f:  # the member's data start: its local header, then the .npy header
        f.seek(info.header_offset + 26)
        name_len, extra_len = np.frombuffer(f.read(4), "<u2")
    start = info.header_offset + 30 + int(name_len) + int(extra_len) + header
    return np.memmap(path, dtype=dtype, mode="r", offset=start, shape=shape, order="F" if fortran else "C")


def read_mpi3d(path: Path) -> np.ndarray:
    """The ``images`` of an MPI3D file; a missing or malformed file is one :class:`UserError` naming
    the file, what was expected and where the dataset is published."""
    where = f"{path} (data.path)"
    if not path.is_file():
        raise UserError(f"{where}: no such file; MPI3D is published at {PUBLISHED}")
    try:
        with np.load(path) as npz:
            if "images" not in npz.files:
                raise UserError(f"{where}: not an MPI3D file: no images (it has {npz.files})")
        images = _stored_member(path, "images")
        if images is None:
            with np.load(path) as npz:
                images = npz["images"]
    except UserError:
        raise
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as err:
        raise UserError(f"{where}: not a readable .npz file ({err}); MPI3D is published at {PUBLISHED}") from err
    if not (images.dtype == np.uint8 and images.ndim == 4 and images.shape[3] == 3):
        raise UserError(f"{where}: expected images (N, 64, 64, 3) uint8; got {images.shape} {images.dtype}")
    return images


def layout(n_images: int, factor_sizes: Sequence[int] | None, where: str) -> tuple[int, ...]:
    """The factor sizes of a file of ``n_images``: ``factor_sizes`` when given, else the published
    layout of that length."""
    if factor_sizes:
        sizes = tuple(int(s) for s in factor_sizes)
        if len(sizes) != len(NAMES) or int(np.prod(sizes)) != n_images:
            raise UserError(
                f"{where}: data.factor_sizes {list(sizes)} (one per factor of {', '.join(NAMES)}) do not "
                f"multiply to its {n_images:,} images"
            )
        return sizes
    if n_images not in LAYOUTS:
        known = "; ".join(f"{n:,} (factor sizes {list(s)})" for n, s in LAYOUTS.items())
        raise UserError(
            f"{where}: {n_images:,} images, not a published MPI3D length: {known}; or set data.factor_sizes"
        )
    return LAYOUTS[n_images]


class MPI3DFileDataModule(FileDataModule):
    """MPI3D from its file (``path``): seven factors read from the layout, RGB images."""

    name = "mpi3d"
    scale = 255.0

    def __init__(
        self,
        path: str = "mpi3d_toy.npz",
        image_size: int = 64,
        image_channels: int = 3,
        factor_sizes: Sequence[int] | None = None,
        **split: Any,
    ) -> None:
        """``image_size`` and ``image_channels`` are the file's (64, 3), which the config passes on to
        the model; ``factor_sizes``: None reads the layout from the file's length."""
        super().__init__(path, image_size, **split)
        if checks.integer("data.image_channels", image_channels, 1) != 3:
            raise ValueError(f"data.image_channels: MPI3D is RGB (3), got {image_channels}")
        self.factor_sizes = list(factor_sizes) if factor_sizes else None

    def read(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        images = read_mpi3d(self.path)
        sizes = layout(len(images), self.factor_sizes, f"{self.path} (data.path)")
        grid = np.indices(sizes, dtype=np.int32).reshape(len(sizes), -1)  # C order, as the images lie
        return images, {n: grid[i].astype(np.float64) for i, n in enumerate(NAMES)}

    @cached_property
    def declaration(self) -> FactorDeclaration:
        """Colour, shape and background categorical; size, camera height and the two axes ordered."""
        factors = tuple(
            Factor(n, tuple(float(x) for x in np.unique(v)), Kind.CATEGORICAL if n in CATEGORICAL else Kind.CONTINUOUS)
            for n, v in self.factor_values().items()
        )
        return FactorDeclaration(factors, render=self.render)
