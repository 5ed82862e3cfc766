"""``train(cfg)``: build everything from a composed Hydra config, fit, test, return the metrics."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import lightning.pytorch as pl
from hydra.utils import instantiate
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)

BEST_VAL_METRIC = "hp/best_val_loss"


def instantiate_named(nodes: DictConfig | None) -> list[Any]:
    """Instantiate each ``_target_`` node of a dict of named nodes; ``null`` entries are dropped."""
    if not nodes:
        return []
    return [instantiate(node) for node in nodes.values() if node is not None]


def _as_float(value: Any) -> float:
    return float(value.item() if hasattr(value, "item") else value)


def train(cfg: DictConfig) -> dict[str, float]:
    """Fit the configured model on the configured data; test the best checkpoint.

    Returns every logged metric as a float, plus ``best_val_loss`` and ``fit_seconds``.
    """
    pl.seed_everything(cfg.seed, workers=True)
    datamodule: pl.LightningDataModule = instantiate(cfg.data)
    model: pl.LightningModule = instantiate(cfg.model)
    loggers = instantiate_named(cfg.get("logger"))
    callbacks = instantiate_named(cfg.get("callbacks"))
    if not loggers:
        callbacks = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
    trainer: pl.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)

    for logger in loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True), {BEST_VAL_METRIC: math.nan})

    start = time.perf_counter()
    trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    fit_seconds = time.perf_counter() - start
    metrics = {k: _as_float(v) for k, v in trainer.callback_metrics.items()}

    checkpoint = trainer.checkpoint_callback
    best_path = checkpoint.best_model_path if isinstance(checkpoint, ModelCheckpoint) else ""
    if cfg.get("test"):
        results = trainer.test(model, datamodule=datamodule, ckpt_path=best_path or None, verbose=False)
        metrics.update({k: _as_float(v) for k, v in results[0].items()})
    if best_path and checkpoint.best_model_score is not None:
        metrics["best_val_loss"] = _as_float(checkpoint.best_model_score)
        log.info("best checkpoint: %s", best_path)
    elif "val/loss" in metrics:
        metrics["best_val_loss"] = metrics["val/loss"]
    metrics["fit_seconds"] = fit_seconds
    metrics["epochs"] = float(trainer.current_epoch)
    log.info("metrics: %s", {k: round(v, 5) for k, v in sorted(metrics.items())})
    return metrics
