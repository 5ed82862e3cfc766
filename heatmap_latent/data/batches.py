"""Batches for Lightning's own ``DataLoader``, sliced straight from in-memory tensors.

The dataset answers a whole batch of indices at once (``__getitems__``, which PyTorch's fetcher
calls instead of one ``__getitem__`` per sample), so there is no per-sample collate. Because the
loaders are plain ``DataLoader``s with a ``RandomSampler`` (training) or a ``SequentialSampler``,
Lightning recognises them: ``overfit_batches`` turns shuffling off, ``limit_*_batches`` counts
batches, and DDP swaps in its ``DistributedSampler``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler

Batch = dict[str, torch.Tensor | dict[str, torch.Tensor]]


class InMemoryImages(Dataset):
    """``images[indices]`` with their factors; a list of positions gives a whole batch at once."""

    def __init__(self, images: torch.Tensor, factors: dict[str, torch.Tensor], indices: torch.Tensor) -> None:
        self.images, self.factors, self.indices = images, factors, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, position: int) -> Batch:
        i = self.indices[position]
        return {"image": self.images[i], "factors": {k: v[i] for k, v in self.factors.items()}}

    def __getitems__(self, positions: Sequence[int]) -> Batch:
        idx = self.indices[torch.as_tensor(positions)]
        return {"image": self.images[idx], "factors": {k: v[idx] for k, v in self.factors.items()}}  # (B, C, S, S)


def already_batched(batch: Batch) -> Batch:
    """``collate_fn`` for :class:`InMemoryImages`: ``__getitems__`` has already built the batch."""
    return batch


class EpochShuffle(RandomSampler):
    """A ``RandomSampler`` whose order is a function of ``seed + epoch`` alone.

    Lightning calls :meth:`set_epoch` before every training epoch (with the restored epoch after a
    resume), so a resumed run sees the same orders as an uninterrupted one. Used outside a trainer,
    each iteration moves on to the next epoch's order.
    """

    def __init__(self, data_source: Dataset, seed: int = 0) -> None:
        super().__init__(data_source)
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        self.epoch += 1
        yield from torch.randperm(len(self.data_source), generator=generator).tolist()


def image_loader(
    images: torch.Tensor,
    factors: dict[str, torch.Tensor],
    indices: torch.Tensor,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    pin_memory: bool = False,
    num_workers: int = 0,
) -> DataLoader:
    """A ``DataLoader`` of ``{"image": (B, C, S, S), "factors": {name: (B,)}}`` over ``indices``; with
    ``num_workers``, that many processes (kept for the whole fit) build the batches the sampler here
    orders, so the batches are the same with any number of them."""
    dataset = InMemoryImages(images, factors, indices)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=EpochShuffle(dataset, seed) if shuffle else None,
        collate_fn=already_batched,
        pin_memory=pin_memory,
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
        # its own generator: creating an iterator draws a base seed, which must not move the global
        # RNG (the VAE's sampling noise, reseeded every epoch by EpochSeed) differently after a resume
        generator=torch.Generator().manual_seed(seed),
    )
