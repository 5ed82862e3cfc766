"""Callbacks that keep runs reproducible and recoverable: per-epoch seeding, finite-loss guard,
and a checkpoint on interruption."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import lightning.pytorch as pl
import torch
from lightning.pytorch.utilities import rank_zero_info
from lightning.pytorch.utilities.exceptions import SIGTERMException

from heatmap_latent.core.atomic import atomic_path
from heatmap_latent.core.errors import NonFiniteLossError


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
    """On Ctrl-C or SIGTERM, write ``last.ckpt`` (atomically) so that ``ckpt_path=last`` resumes.

    While fitting, the first Ctrl-C only sets a flag, and the ``KeyboardInterrupt`` is raised at the
    next batch end (as Lightning does with SIGTERM). Python raises a signal's exception wherever
    the interpreter happens to be: inside a ``__del__`` or a GC callback it is printed and dropped,
    and training carries on. A second Ctrl-C interrupts at once.

    Not Lightning's ``OnExceptionCheckpoint``: that one saves on every exception (the NaN guard's
    included, which would replace ``last.ckpt`` by diverged weights) and removes its file at teardown.
    """

    def __init__(self, dirpath: str, filename: str = "last.ckpt") -> None:
        self.path = Path(dirpath) / filename
        self._previous_handler = None
        self._fitting = self._interrupted = False

    def _on_sigint(self, signum, frame) -> None:
        # outside fitting, or a second Ctrl-C: what the handler before ours would do, at once.
        # (Lightning's signal connector puts this handler back when it tears down, so it must
        # behave like the default one once fitting has ended.)
        if not self._fitting or self._interrupted:
            previous = self._previous_handler
            if callable(previous) and previous is not self._on_sigint:
                return previous(signum, frame)
            if previous != signal.SIG_IGN:
                raise KeyboardInterrupt
            return None
        self._interrupted = True

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._fitting, self._interrupted = True, False
        if threading.current_thread() is threading.main_thread():
            self._previous_handler = signal.signal(signal.SIGINT, self._on_sigint)

    def _raise_if_interrupted(self) -> None:
        if self._fitting and self._interrupted:
            self._fitting = False
            raise KeyboardInterrupt

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._raise_if_interrupted()

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        self._raise_if_interrupted()

    def _restore_handler(self) -> None:
        self._fitting = False
        if self._previous_handler is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._previous_handler)

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self._restore_handler()

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        try:  # Lightning calls no callback's teardown after an interruption
            self._save_on_interrupt(trainer, exception)
        finally:
            self._restore_handler()

    def _save_on_interrupt(self, trainer: pl.Trainer, exception: BaseException) -> None:
        if not isinstance(exception, KeyboardInterrupt | SystemExit | SIGTERMException):
            return
        if trainer.global_rank != 0 or trainer.sanity_checking:
            return
        with atomic_path(self.path) as tmp:
            trainer.save_checkpoint(tmp)
        rank_zero_info(
            f"interrupted at epoch {trainer.current_epoch}, step {trainer.global_step}: saved {self.path}; "
            f"resume with: python train.py ckpt_path={self.path}"
        )
