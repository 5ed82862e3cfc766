"""Batches sliced straight from in-memory tensors: no per-sample collate."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch

Batch = dict[str, torch.Tensor | dict[str, torch.Tensor]]


class TensorBatches:
    """Iterates ``{"image": (B, 1, H, W), "factors": {name: (B,)}}`` over ``indices``.

    Shuffling draws a fresh permutation each epoch from ``seed + epoch``, where the epoch comes
    from ``epoch_source`` (the trainer's epoch, so a resumed run sees the same orders) or, without
    one, from a count of the iterations so far. With ``world_size > 1``
    each rank takes an equal share of every epoch's permutation (ranks see the same number of
    batches, so distributed steps stay in lockstep).
    """

    def __init__(
        self,
        images: torch.Tensor,
        factors: dict[str, torch.Tensor],
        indices: torch.Tensor,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        epoch_source: Callable[[], int] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.images = images
        self.factors = factors
        self.indices = indices
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.epoch_source = epoch_source
        self._iterations = 0

    def _epoch_indices(self) -> torch.Tensor:
        indices = self.indices
        if self.shuffle:
            epoch = self.epoch_source() if self.epoch_source is not None else self._iterations
            generator = torch.Generator().manual_seed(self.seed + epoch)
            indices = indices[torch.randperm(len(indices), generator=generator)]
        if self.world_size > 1:
            per_rank = len(indices) // self.world_size
            indices = indices[self.rank * per_rank : (self.rank + 1) * per_rank]
        return indices

    def __len__(self) -> int:
        per_rank = len(self.indices) // self.world_size
        return -(-per_rank // self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        indices = self._epoch_indices()
        self._iterations += 1
        for start in range(0, len(indices), self.batch_size):
            idx = indices[start : start + self.batch_size]
            yield {"image": self.images[idx], "factors": {k: v[idx] for k, v in self.factors.items()}}
