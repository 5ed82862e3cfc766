"""The two layouts an image takes: stored ``(N, C, S, S)`` (what models and data modules exchange)
and displayed ``(N, S, S)`` for one channel or ``(N, S, S, C)`` for colour (what matplotlib, Pillow
and TensorBoard's HWC images take), so that the figures of a grey dataset keep their shapes."""

from __future__ import annotations

import numpy as np
import torch


def displayed(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """``(N, C, S, S)`` as ``(N, S, S)`` (one channel) or ``(N, S, S, C)``."""
    x = images.numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    return x[:, 0] if x.shape[1] == 1 else np.moveaxis(x, 1, -1)


def stored(images: np.ndarray) -> np.ndarray:
    """:func:`displayed`'s inverse: ``(N, S, S)`` or ``(N, S, S, C)`` as ``(N, C, S, S)``."""
    x = np.asarray(images)
    return x[:, None] if x.ndim == 3 else np.moveaxis(x, -1, 1)


def rgb8(image: np.ndarray) -> np.ndarray:
    """A displayed ``(H, W)`` or ``(H, W, 3)`` image in [0, 1] as ``(H, W, 3)`` uint8."""
    pixels = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
    return np.repeat(pixels[..., None], 3, axis=2) if pixels.ndim == 2 else pixels
