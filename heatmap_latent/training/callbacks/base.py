"""The shared schedule and logger lookup of the callbacks that log the latent space."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only, rank_zero_warn
from torch.utils.tensorboard import SummaryWriter

from heatmap_latent.core.subsample import evenly_spaced
from heatmap_latent.data.factors import FactorDeclaration, declaration_of, infer_declaration
from heatmap_latent.training.callbacks.image_sinks import ImageSink, image_sinks


@dataclass
class ValidationCodes:
    """Validation images, their factors, codes and reconstructions at one training step."""

    images: torch.Tensor  # (N, 1, S, S)
    factors: dict[str, np.ndarray]
    latents: torch.Tensor  # (N, D)
    recons: torch.Tensor  # (N, 1, S, S)
    decode: Callable[[torch.Tensor], torch.Tensor] | None = None  # the model's batched decode at that step
    declaration: FactorDeclaration | None = None  # the dataset's factors (names, kinds, colourings)

    def colour_by(self) -> dict[str, np.ndarray]:
        """The colourings of the latent plots: the declared factors and derived colourings."""
        return (self.declaration or infer_declaration(self.factors)).colour_by(self.factors)


def validation_codes(trainer: pl.Trainer, pl_module: pl.LightningModule, max_points: int) -> ValidationCodes:
    """Encode and reconstruct up to ``max_points`` evenly spaced validation images.

    Reads the data module's public ``images``, ``factors`` and ``val_idx`` (see FactorImageDataModule).
    """
    dm = trainer.datamodule
    if dm is None or getattr(dm, "images", None) is None:
        raise RuntimeError("latent callbacks need a FactorImageDataModule that has been set up")
    idx = np.asarray(dm.val_idx)
    if len(idx) > max_points:
        idx = idx[evenly_spaced(len(idx), max_points)]
    images = dm.images[torch.from_numpy(idx)]
    latents = pl_module.embed(images)
    recons = pl_module.decode_batched(latents)
    factors = {k: np.asarray(v)[idx] for k, v in dm.factors.items()}
    return ValidationCodes(images, factors, latents, recons, pl_module.decode_batched, declaration_of(dm))


# per trainer: its latest logging step and that step's validation codes by max_points (see shared_codes)
_VALIDATION_CODES: weakref.WeakKeyDictionary[pl.Trainer, tuple[int, dict[int, ValidationCodes]]] = (
    weakref.WeakKeyDictionary()
)


def shared_codes(trainer: pl.Trainer, pl_module: pl.LightningModule, max_points: int) -> ValidationCodes:
    """:func:`validation_codes`, computed once per training step and ``max_points`` for all the
    latent callbacks of a trainer: they log at the same epochs, and each encoding and decoding the
    same images again is time spent twice (docs/performance.md). The weights cannot change within a step, so
    the shared codes are the ones each would compute; only the latest step's are kept."""
    step, by_points = _VALIDATION_CODES.get(trainer, (None, {}))
    if step != trainer.global_step:
        by_points = {}
        _VALIDATION_CODES[trainer] = (trainer.global_step, by_points)
    if max_points not in by_points:
        by_points[max_points] = validation_codes(trainer, pl_module, max_points)
    return by_points[max_points]


class LatentCallback(pl.Callback):
    """Runs :meth:`log_to` every ``every_n_epochs`` validation epochs and once at the end of training.

    ``log_to`` gets a :class:`LatentLog`. A callback that draws images (``needs = "images"``) logs to
    every image-capable logger (TensorBoard, MLflow, W&B); histograms and the projector need
    TensorBoard (``needs = "tensorboard"``). Without such a logger it warns once and does nothing.
    Rank zero only.
    """

    needs = "images"

    def __init__(self, every_n_epochs: int = 5, max_points: int = 2000) -> None:
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1, got {every_n_epochs}")
        self.every_n_epochs = every_n_epochs
        self.max_points = max_points
        self._warned = False
        self._last_step: int | None = None

    def _log(self, trainer: pl.Trainer) -> LatentLog | None:
        writer = next((lg.experiment for lg in trainer.loggers if isinstance(lg, TensorBoardLogger)), None)
        sinks = image_sinks(trainer.loggers)
        if writer if self.needs == "tensorboard" else sinks:
            return LatentLog(writer, sinks)
        if not self._warned and not trainer.fast_dev_run:  # fast_dev_run drops loggers by design
            what = (
                "a TensorBoard logger"
                if self.needs == "tensorboard"
                else "an image logger (tensorboard, mlflow, wandb)"
            )
            rank_zero_warn(f"{type(self).__name__} needs {what}; it will log nothing.")
            self._warned = True
        return None

    def log_to(self, log: LatentLog, codes: ValidationCodes, step: int) -> None:
        raise NotImplementedError

    @rank_zero_only
    def _maybe_log(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or trainer.global_step == self._last_step:
            return
        log = self._log(trainer)
        if log is None:
            return
        self.log_to(log, shared_codes(trainer, pl_module, self.max_points), trainer.global_step)
        if log.writer is not None:
            log.writer.flush()
        self._last_step = trainer.global_step

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if (trainer.current_epoch + 1) % self.every_n_epochs == 0:
            self._maybe_log(trainer, pl_module)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._maybe_log(trainer, pl_module)


@dataclass
class LatentLog:
    """The run's TensorBoard writer (or None) and its image sinks."""

    writer: SummaryWriter | None
    sinks: list[ImageSink]

    def image(self, tag: str, rgb: np.ndarray, step: int) -> None:
        for sink in self.sinks:
            sink(tag, rgb, step)
