"""Learning-rate schedules beyond torch's own, chosen by ``_target_`` (``conf/model/scheduler/``).

``model/scheduler=plateau`` is torch's ``ReduceLROnPlateau``; ``model/scheduler=warmup_cosine`` is
:class:`WarmupCosine` here. A model config's ``scheduler`` node is a partial (``_partial_: true``)
that the module calls with its optimizer, plus the ``monitor`` Lightning steps a plateau schedule on.
"""

from __future__ import annotations

import math

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


def warmup_cosine_factor(epoch: int, warmup_epochs: int, max_epochs: int, min_lr_ratio: float) -> float:
    """LR multiplier: linear from ``1 / (warmup + 1)`` to 1 over the warm-up, then cosine to ``min_lr_ratio``."""
    if epoch < warmup_epochs:
        return (epoch + 1) / (warmup_epochs + 1)
    span = max(1, max_epochs - warmup_epochs)
    progress = min(1.0, (epoch - warmup_epochs) / span)
    return min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


class WarmupCosine(LambdaLR):
    """Linear warm-up over ``warmup_epochs``, then cosine decay to ``min_lr_ratio`` x lr at
    ``max_epochs``; stepped once per epoch."""

    def __init__(
        self, optimizer: Optimizer, max_epochs: int, warmup_epochs: int = 2, min_lr_ratio: float = 0.02
    ) -> None:
        # a plain function, as LambdaLR keeps it out of its state (a resumed run rebuilds it from the config)
        super().__init__(optimizer, lambda e: warmup_cosine_factor(e, warmup_epochs, max_epochs, min_lr_ratio))
