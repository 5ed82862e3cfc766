"""Checkpoints written whole or not at all, through Lightning's own ``CheckpointIO`` seam.

Lightning's ``TorchCheckpointIO`` writes through an fsspec transaction whose temporary file lives
in the system's temporary directory; committing it copies across filesystems, and a full disk then
leaves a truncated file under the checkpoint's name. Here the checkpoint is serialised in memory
and written by the project's one atomic writer, beside its target, so a failed write leaves the
previous checkpoints as they were and no partial file. Remote paths (``s3://``) keep Lightning's way.
"""

from __future__ import annotations

import io
from typing import Any

import torch
from lightning.pytorch.plugins import TorchCheckpointIO

from heatmap_latent.core.atomic import write_atomic


class AtomicCheckpointIO(TorchCheckpointIO):
    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None or "://" in str(path):
            return super().save_checkpoint(checkpoint, path, storage_options)
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        write_atomic(path, buffer.getvalue())
