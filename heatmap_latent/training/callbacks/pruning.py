"""Optuna's pruner inside training: each validation epoch's loss reported to the trial."""

from __future__ import annotations

import logging
from typing import Any

import lightning.pytorch as pl
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate

from heatmap_latent.sweeps.optuna_study import current_trial
from heatmap_latent.sweeps.records import JobPruned

log = logging.getLogger(__name__)


class OptunaPruning(pl.Callback):
    """Reports ``monitor`` after every validation epoch to the Optuna trial this job runs (when an
    Optuna search launched it; otherwise it does nothing) and stops the job with :class:`JobPruned`
    when the study's pruner (``hydra.sweeper.pruner``) says so. Optuna's own Lightning callback
    (optuna-integration) takes the trial object, which lives in the sweeper's process; this one opens
    the trial from the study's storage, so it works under every launcher."""

    def __init__(self, monitor: str = "val/loss") -> None:
        self.monitor = monitor
        self.trial: Any = None

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if stage != "fit" or not HydraConfig.initialized() or not trainer.is_global_zero:
            return
        hydra = HydraConfig.get()
        pruner = hydra.sweeper.get("pruner")
        self.trial = current_trial(
            hydra.sweeper.get("study_name"),
            hydra.sweeper.get("storage"),
            hydra.sweep.dir,
            instantiate(pruner) if pruner else None,
        )

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.trial is None or trainer.sanity_checking or self.monitor not in trainer.callback_metrics:
            return
        epoch, value = trainer.current_epoch, float(trainer.callback_metrics[self.monitor])
        self.trial.report(value, step=epoch)
        if self.trial.should_prune():
            raise JobPruned(
                f"trial {self.trial.number} pruned by the study's pruner at epoch {epoch} ({self.monitor}={value:.6g})"
            )
