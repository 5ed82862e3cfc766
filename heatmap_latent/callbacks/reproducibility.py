"""Callbacks that keep runs reproducible and recoverable: per-epoch seeding, finite-loss guard,
and a checkpoint on interruption."""

from __future__ import annotations

import os
from pathlib import Path

import lightning.pytorch as pl
import torch
from lightning.pytorch.utilities import rank_zero_info

from heatmap_latent.errors import NonFiniteLossError


class EpochSeed(pl.Callback):
    """Reseed every RNG at the start of each training epoch from ``seed + epoch``.

    The VAE's sampling noise then depends only on the seed and the epoch, so a run resumed from a
    checkpoint continues exactly as the uninterrupted run would have.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        pl.seed_everything(self.seed + trainer.current_epoch, workers=True, verbose=False)


class FiniteLossGuard(pl.Callback):
    """Stop with :class:`NonFiniteLossError` (naming epoch and step) when the training loss is NaN or inf.

    The check is folded into a device tensor every step and read on the host only every
    ``check_every_n_steps`` steps and at the end of each epoch, so it adds no per-step sync.
    Checkpoints already written are left as they are.
    """

    def __init__(self, check_every_n_steps: int = 50) -> None:
        self.check_every_n_steps = check_every_n_steps
        self._first_bad: torch.Tensor | None = None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if loss is None:
            return
        step = torch.tensor(trainer.global_step - 1, device=loss.device)  # the optimizer step has already counted
        if self._first_bad is None:
            self._first_bad = torch.full((), -1, dtype=torch.long, device=loss.device)
        bad = ~torch.isfinite(loss.detach()) & (self._first_bad < 0)
        self._first_bad = torch.where(bad, step, self._first_bad)
        if (batch_idx + 1) % self.check_every_n_steps == 0:
            self._check(trainer)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._check(trainer)

    def _check(self, trainer: pl.Trainer) -> None:
        if self._first_bad is None or int(self._first_bad) < 0:
            return
        raise NonFiniteLossError(
            f"the training loss became NaN or inf at epoch {trainer.current_epoch}, step {int(self._first_bad)}; "
            "training stopped, checkpoints already written are untouched (try a lower model.optimizer.lr)"
        )


class InterruptCheckpoint(pl.Callback):
    """On Ctrl-C or SIGTERM, write ``last.ckpt`` (atomically) so that ``ckpt_path=last`` resumes."""

    def __init__(self, dirpath: str, filename: str = "last.ckpt") -> None:
        self.path = Path(dirpath) / filename

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        if not isinstance(exception, KeyboardInterrupt | SystemExit) and type(exception).__name__ != "SIGTERMException":
            return
        if trainer.global_rank != 0 or trainer.sanity_checking:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        trainer.save_checkpoint(tmp)
        os.replace(tmp, self.path)
        rank_zero_info(
            f"interrupted at epoch {trainer.current_epoch}, step {trainer.global_step}: saved {self.path}; "
            f"resume with: python train.py ckpt_path={self.path}"
        )
