"""The learning-rate schedules a model config can choose (``model.scheduler.kind``).

One factory with every knob, so a recipe switches the schedule by one key
(``model.scheduler.kind=warmup_cosine``) instead of replacing a config node.
"""

from __future__ import annotations

import math

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR, LRScheduler, ReduceLROnPlateau

SCHEDULES = ("plateau", "warmup_cosine")


def warmup_cosine_factor(epoch: int, warmup_epochs: int, max_epochs: int, min_lr_ratio: float) -> float:
    """LR multiplier: linear from ``1 / (warmup + 1)`` to 1 over the warm-up, then cosine to ``min_lr_ratio``."""
    if epoch < warmup_epochs:
        return (epoch + 1) / (warmup_epochs + 1)
    span = max(1, max_epochs - warmup_epochs)
    progress = min(1.0, (epoch - warmup_epochs) / span)
    return min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def lr_scheduler(
    optimizer: Optimizer,
    kind: str = "plateau",
    mode: str = "min",
    factor: float = 0.5,
    patience: int = 3,
    warmup_epochs: int = 2,
    max_epochs: int = 100,
    min_lr_ratio: float = 0.02,
) -> LRScheduler | ReduceLROnPlateau:
    """``plateau``: ReduceLROnPlateau on the monitored metric (the study's); ``warmup_cosine``: per epoch."""
    if kind == "plateau":
        return ReduceLROnPlateau(optimizer, mode=mode, factor=factor, patience=patience)
    if kind == "warmup_cosine":
        return LambdaLR(optimizer, lambda e: warmup_cosine_factor(e, warmup_epochs, max_epochs, min_lr_ratio))
    raise ValueError(f"model.scheduler.kind must be one of {SCHEDULES}, got {kind!r}")
